//! Erasure (`POST /api/admin/users/{id}/erase`): the user's personal data goes from live
//! and trashed rows, files and the activity log, their tokens stop working, another
//! user's data stays, and the hash chain still verifies (and still catches edits).

use reqwest::StatusCode;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Put into everything the victim writes (and their user agent); must vanish.
const MARK: &str = "zqxv";
/// Put into everything the bystander writes; must stay.
const KEEP: &str = "kplw";

/// Tables that can hold what a user wrote; every text column of each is searched (the
/// twins the lists search by included), with what else can hold text.
const TEXT: &[(&str, &[&str])] = &[
    ("users", &[]),
    ("projects", &[]),
    ("synopsis", &[]),
    ("meetings", &[]),
    ("admin_requests", &[]),
    ("chatbot_history", &[]),
    ("idea_generation_history", &[]),
    ("files", &[]),
    ("activity_logs", &["CAST(details AS TEXT)"]),
];

/// The text columns of `table`.
async fn text_columns(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = \
             current_schema() AND table_name = '{table}' AND data_type IN ('text', 'character varying')"
        ),
        _ => format!(
            "SELECT name FROM pragma_table_info('{table}') \
             WHERE upper(type) LIKE '%TEXT%' OR upper(type) LIKE '%CHAR%'"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("columns");
    let columns: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).expect("a name"))
        .collect();
    assert!(!columns.is_empty(), "{table} has no text column");
    columns
}

/// Rows (live or trashed) of each table where `marker` appears, tables with none left out.
async fn rows_with(db: &DatabaseConnection, marker: &str) -> Vec<(&'static str, i64)> {
    let mut found = Vec::new();
    for (table, extra) in TEXT {
        let mut columns = text_columns(db, table).await;
        columns.extend(extra.iter().map(|c| c.to_string()));
        let condition = columns
            .iter()
            .map(|c| format!("lower(coalesce({c}, '')) LIKE '%{marker}%'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
        let n: i64 = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("a row")
            .try_get_by_index(0)
            .expect("a number");
        if n > 0 {
            found.push((*table, n));
        }
    }
    found
}

/// Registers a student who then writes one of everything, a trashed project included.
pub async fn active_student(app: &TestApp, marker: &str) -> Session {
    let register = app
        .client
        .post(format!("{}/api/auth/register", app.address))
        .header("user-agent", format!("Browser/{marker}"))
        .json(&json!({"email": format!("{marker}@example.com"), "password": "Passw0rd!", "name": format!("{marker} Person")}))
        .send()
        .await
        .expect("register sent");
    let r = crate::helpers::Response::read(register).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut s = app
        .login(&format!("{marker}@example.com"), "Passw0rd!")
        .await;
    s.user_id = r.body["user"]["id"].as_str().and_then(|id| id.parse().ok());
    let t = s.token();
    let ok = |r: crate::helpers::Response| {
        assert!(r.status.is_success(), "{}", r.body);
        r.body
    };
    ok(app
        .patch("/api/users/me", t, json!({"phone": "+91 98765 43210"}))
        .await);
    let project = ok(app.post("/api/projects", t, json!({"title": format!("{marker} thesis"), "description": format!("{marker} at home")})).await);
    let project = project["id"].as_str().expect("project id").to_owned();
    let trashed = ok(app
        .post(
            "/api/projects",
            t,
            json!({"title": format!("{marker} old plan")}),
        )
        .await);
    let trashed = trashed["id"].as_str().expect("project id").to_owned();
    ok(app.delete(&format!("/api/projects/{trashed}"), t).await);
    ok(app
        .post(
            "/api/meetings",
            t,
            json!({"topic": format!("{marker} meeting")}),
        )
        .await);
    ok(app
        .post(
            "/api/requests",
            t,
            json!({"request_type": "help", "message": format!("{marker} needs help")}),
        )
        .await);
    ok(app
        .post(
            "/api/chatbot/messages",
            t,
            json!({"message_type": "user", "message": format!("I am {marker}")}),
        )
        .await);
    ok(app
        .post(
            "/api/ideas",
            t,
            json!({"title": format!("{marker} idea"), "tech_stack": [], "complexity": "beginner"}),
        )
        .await);
    let file = crate::files::upload(
        app,
        t,
        &project,
        "project",
        crate::files::pdf(),
        &format!("{marker}.pdf"),
    )
    .await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
    s
}

both_backends! {
    async fn erasure_removes_personal_data_everywhere_ends_sessions_and_keeps_the_chain(app: TestApp) {
        let admin = app.admin().await;
        let victim = active_student(&app, MARK).await;
        let bystander = active_student(&app, KEEP).await;
        let victim_id = victim.user_id.expect("victim id");
        let before = rows_with(&app.db, MARK).await;
        assert_eq!(before.len(), TEXT.len() - 1, "the victim wrote everywhere but synopsis: {before:?}");
        let kept = rows_with(&app.db, KEEP).await;
        let files_before = crate::files::stored(&app);
        assert_eq!(files_before.len(), 2, "{files_before:?}");

        // Students may not erase; an admin may not erase themselves; unknown ids are 404.
        let path = format!("/api/admin/users/{victim_id}/erase");
        app.post(&path, bystander.token(), json!({})).await.assert_error(StatusCode::FORBIDDEN);
        let me = app.get("/api/users/me", admin.token()).await.body;
        let own = format!("/api/admin/users/{}/erase", me["id"].as_str().expect("admin id"));
        app.post(&own, admin.token(), json!({})).await.assert_error(StatusCode::CONFLICT);
        let unknown = format!("/api/admin/users/{}/erase", uuid::Uuid::now_v7());
        app.post(&unknown, admin.token(), json!({})).await.assert_error(StatusCode::NOT_FOUND);

        let started = std::time::Instant::now();
        let r = app.post(&path, admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        println!("erasure: {} in {:?}", r.body, started.elapsed());
        assert_eq!(r.body["files"], 1, "{}", r.body);
        assert_eq!(r.body["rows"]["projects"], 2, "the trashed project too: {}", r.body);
        assert!(r.body["log_rows"].as_u64().unwrap_or(0) >= 10, "{}", r.body);

        // Nothing of the victim left in any table, the bystander untouched.
        assert_eq!(rows_with(&app.db, MARK).await, vec![], "personal data left behind");
        assert_eq!(rows_with(&app.db, KEEP).await, kept, "the bystander's data changed");
        let ips = format!(
            "SELECT COUNT(*) FROM activity_logs WHERE (ip_address IS NOT NULL OR user_agent IS NOT NULL) \
             AND subject = '{}'",
            dbkit::chain::hash::subject(victim_id)
        );
        let left: i64 = app.db
            .query_one_raw(Statement::from_string(app.db.get_database_backend(), ips))
            .await.expect("count").expect("row").try_get_by_index(0).expect("n");
        assert_eq!(left, 0, "IP addresses or user agents of the victim left in the log");
        // The bytes go by a job queued with the erasure, run by the server's worker.
        assert_eq!(crate::jobs::jobs_done(&app, crate::jobs::kind("files.remove")).await, 1);
        let files_after = crate::files::stored(&app);
        assert_eq!(files_after.len(), 1, "the victim's file bytes are still stored: {files_after:?}");
        assert!(files_before.contains(&files_after[0]));

        // Every session ends; the password no longer works.
        app.get("/api/users/me", victim.token(), ).await.assert_error(StatusCode::UNAUTHORIZED);
        app.post("/api/auth/refresh", None, json!({"refresh_token": victim.refresh}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED);
        let login = json!({"email": format!("{MARK}@example.com"), "password": "Passw0rd!"});
        app.post("/api/auth/login", None, login).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/users/me", bystander.token()).await.status, StatusCode::OK);
        assert_eq!(app.activity("user.erase").await.len(), 1);

        // The chain verifies: the blanked rows are covered by the erasure event ...
        let report = dbkit::chain::verify(&app.db).await.expect("verify");
        assert_eq!(report.problem, None);
        // ... and only blanking is: writing something else into an erased row is caught.
        let forged = Query::update()
            .table(Alias::new("activity_logs"))
            .value(Alias::new("details"), json!({"forged": true}))
            .and_where(Expr::col(Alias::new("subject")).eq(dbkit::chain::hash::subject(victim_id)))
            .and_where(Expr::col(Alias::new("action")).eq("project.create"))
            .to_owned();
        assert!(app.db.execute(&forged).await.expect("forge").rows_affected() >= 1);
        let report = dbkit::chain::verify(&app.db).await.expect("verify");
        let problem = report.problem.expect("the forged row is caught");
        assert!(problem.what.contains("edited"), "{problem}");
    }
}
