//! `launchpad purge [--dry-run]`: trash older than SOFT_DELETE_RETENTION_DAYS goes for
//! good, with what it owns and its stored files; recent trash and live rows stay; a plan
//! an order still needs stays and is reported.

use std::process::Stdio;

use dbkit::sessions::refresh_token as refresh_tokens;
use launchpad::entity::{files as file_rows, plans, users};
use launchpad::tables::REGISTRY;
use reqwest::StatusCode;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::files::{pdf, png, project, upload};
use crate::helpers::{Session, TestApp};
use crate::jobs::{TempDir, job_rows};

/// `launchpad purge <args>` on the app's database and upload directory; (stdout, stderr).
async fn purge(app: &TestApp, args: &[&str]) -> String {
    let cwd = TempDir::new("purge");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_launchpad"))
        .current_dir(&cwd.0)
        .args(["--database-url", app.database_url(), "--log-level", "warn"])
        .args(["--upload-dir", &app.upload_dir.display().to_string()])
        .arg("purge")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("launchpad purge runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    stdout
}

/// Rows per soft-deletable table, deleted ones included, and refresh tokens.
async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut tables: Vec<&'static str> = REGISTRY.0.iter().map(|t| t.table).collect();
    tables.push("refresh_tokens");
    let mut counts = Vec::new();
    for table in tables {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = app
            .db
            .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("a row");
        counts.push((table, row.try_get::<i64>("", "n").expect("n")));
    }
    counts
}

/// Moves every row of these delete batches 40 days back in time (retention is 30).
async fn age(app: &TestApp, batches: &[Uuid]) {
    let long_ago = dbkit::time::now() - chrono::Duration::days(40);
    for table in REGISTRY.0 {
        let update = Query::update()
            .table(Alias::new(table.table))
            .value(Alias::new("deleted_at"), long_ago)
            .and_where(Expr::col(Alias::new("delete_batch_id")).is_in(batches.iter().copied()))
            .to_owned();
        app.db.execute(&update).await.expect("backdate");
    }
}

async fn uploaded(
    app: &TestApp,
    who: &Session,
    project: &str,
    bytes: Vec<u8>,
    name: &str,
) -> (Uuid, String) {
    let r = upload(app, who.token(), project, "project", bytes, name).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id: Uuid = r.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let row = file_rows::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("row");
    (id, row.storage_key)
}

async fn seeded_plans(app: &TestApp) -> Vec<Uuid> {
    let r = app.get("/api/plans", None).await;
    r.body["data"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| p["id"].as_str().and_then(|s| s.parse().ok()).expect("id"))
        .collect()
}

async fn batch_of_plan(app: &TestApp, id: Uuid) -> Uuid {
    let plan = plans::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("plan");
    plan.delete_batch_id.expect("deleted")
}

both_backends! {
    async fn purge_removes_only_old_trash_with_its_dependents_and_files_and_a_second_run_nothing(app: TestApp) {
        let admin = app.admin().await;
        let plan_ids = seeded_plans(&app).await;
        // Goes: an account deleted 40 days ago, with its project, files and order.
        let gone = app.register("gone@example.com").await;
        let gone_id = gone.user_id.expect("id");
        let gone_project = project(&app, gone.token(), "Doomed project").await;
        let (_, gone_pdf) = uploaded(&app, &gone, &gone_project, pdf(), "a.pdf").await;
        let (_, gone_png) = uploaded(&app, &gone, &gone_project, png(), "b.png").await;
        let r = app.post("/api/orders", gone.token(), json!({"plan_id": plan_ids[2]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // Stays: a project deleted just now, and a live account's project and file.
        let recent = app.register("recent@example.com").await;
        let recent_project = project(&app, recent.token(), "Recent trash").await;
        let (_, recent_file) = uploaded(&app, &recent, &recent_project, pdf(), "c.pdf").await;
        assert_eq!(app.delete(&format!("/api/projects/{recent_project}"), recent.token()).await.status, StatusCode::NO_CONTENT);
        let live = app.register("live@example.com").await;
        let live_project = project(&app, live.token(), "Live project").await;
        let (_, live_file) = uploaded(&app, &live, &live_project, png(), "d.png").await;
        // A plan deleted long ago that a live order still needs (RESTRICT), and one nobody needs.
        let r = app.post("/api/orders", live.token(), json!({"plan_id": plan_ids[0]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        for plan in &plan_ids[..2] {
            let r = app.delete(&format!("/api/admin/plans/{plan}"), admin.token()).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        }
        assert_eq!(app.delete("/api/users/me", gone.token()).await.status, StatusCode::NO_CONTENT);
        let gone_batch = users::Entity::find_by_id(gone_id).one(&app.db).await.expect("read").expect("user")
            .delete_batch_id.expect("deleted");
        let batches = [gone_batch, batch_of_plan(&app, plan_ids[0]).await, batch_of_plan(&app, plan_ids[1]).await];
        age(&app, &batches).await;
        let before = row_counts(&app).await;
        let kept = format!("kept plan {}: still referenced", plan_ids[0]);
        let expected: [&str; 7] = [
            "  files: 2", "  orders: 1", "  plans: 1", "  projects: 1", "  users: 1", "  stored files: 2", &kept,
        ];

        let dry = purge(&app, &["--dry-run"]).await;
        assert!(dry.starts_with("trash purge: would delete (dry run, nothing changed)"), "{dry}");
        for line in expected {
            assert!(dry.contains(line), "{line:?} missing:\n{dry}");
        }
        assert_eq!(row_counts(&app).await, before, "the dry run changed rows");
        for key in [&gone_pdf, &gone_png] {
            assert!(app.upload_dir.join(key).exists(), "the dry run removed a stored file");
        }
        assert!(app.activity("trash.purge").await.is_empty(), "a dry run is not logged");
        let removals = Expr::col(Alias::new("kind")).eq("files.remove");
        assert!(job_rows(&app.db, Some(removals)).await.is_empty(), "a dry run queues nothing");

        let first = purge(&app, &[]).await;
        assert!(first.starts_with("trash purge: deleted: rows deleted before"), "{first}");
        for line in expected {
            assert!(first.contains(line), "{line:?} missing:\n{first}");
        }
        assert!(users::Entity::find_by_id(gone_id).one(&app.db).await.expect("read").is_none());
        let tokens = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::UserId.eq(gone_id))
            .all(&app.db)
            .await
            .expect("read");
        assert!(tokens.is_empty(), "the account's sessions cascaded: {tokens:?}");
        let after = row_counts(&app).await;
        let dropped: Vec<(&str, i64)> = before.iter().zip(&after)
            .filter(|(b, a)| b.1 != a.1)
            .map(|(b, a)| (b.0, b.1 - a.1))
            .collect();
        assert_eq!(
            dropped,
            [("users", 1), ("plans", 1), ("projects", 1), ("orders", 1), ("files", 2), ("refresh_tokens", 1)],
            "exactly the old trash went"
        );
        // The removal job may be run by the command or by the server's workers: poll.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while [&gone_pdf, &gone_png].iter().any(|k| app.upload_dir.join(k).exists()) {
            assert!(std::time::Instant::now() < deadline, "stored files of purged rows remain");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        for key in [&recent_file, &live_file] {
            assert!(app.upload_dir.join(key).exists(), "a kept row's file was removed");
        }
        let logged = app.activity("trash.purge").await;
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].details["report"]["deleted"]["users"], 1, "{}", logged[0].details);
        assert_eq!(logged[0].details["report"]["kept"][0]["id"], plan_ids[0].to_string());

        // The purged account's log rows lost their user_id: the chain must still verify.
        assert_eq!(app.activity("user.purge").await.len(), 1);
        let verified = crate::helpers::cli(app.database_url(), &["verify"]).await;
        assert_eq!(verified.code, Some(0), "{verified}");

        let second = purge(&app, &[]).await;
        assert!(!second.lines().any(|l| l.starts_with("  ") && !l.contains("stored files: 0")), "{second}");
        assert!(second.contains(&format!("kept plan {}", plan_ids[0])), "{second}");
        assert_eq!(row_counts(&app).await, after, "a second run deleted rows");
    }
}
