//! `launchpad purge`, the activity-log half: rows older than the retention leave for a
//! gzip JSON-lines file, the live chain still verifies from its new anchor, the files
//! verify up to it, a second run does nothing and a dry run changes nothing.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use dbkit::chain;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

use crate::audit_chain::log_rows;
use crate::both_backends;
use crate::helpers::{CliRun, TestApp, cli};
use crate::jobs::{TempDir, jobs_done, kind};
use dbkit::jobs::NewJob;
use launchpad::jobs::{archive_log, erase_archived};
use reqwest::StatusCode;

/// `launchpad <args>` with this test's archive directory and the default 90-day retention.
async fn run(app: &TestApp, dir: &Path, args: &[&str]) -> CliRun {
    let dir = dir.display().to_string();
    let mut all = vec![
        "--archive-dir",
        dir.as_str(),
        "--activity-log-retention-days",
        "90",
    ];
    all.extend_from_slice(args);
    cli(app.database_url(), &all).await
}

/// Makes the rows at `seqs` 100 days old, then rebuilds the chain as migration 012 would
/// for rows written before it (the hashes cover `created_at`: backdating alone is tampering).
/// In one transaction that takes the head first, as the server's sealer does: it must not
/// chain the unchained rows in between.
pub async fn backdate(db: &DatabaseConnection, seqs: &[i64]) {
    let tx = dbkit::write::begin_write(db).await.expect("begin");
    chain::head(&tx, true).await.expect("lock the head");
    let old = dbkit::time::now() - chrono::Duration::days(100);
    let backdate = Query::update()
        .table(Alias::new("activity_logs"))
        .value(Alias::new("created_at"), old)
        .and_where(Expr::col(Alias::new("seq")).is_in(seqs.iter().copied()))
        .to_owned();
    tx.execute(&backdate).await.expect("backdate");
    let mut unchain = Query::update();
    unchain.table(Alias::new("activity_logs"));
    for column in ["seq", "prev_hash", "hash", "subject", "personal_hash"] {
        unchain.value(Alias::new(column), Expr::cust("NULL"));
    }
    tx.execute(&unchain).await.expect("unchain");
    let reset = Query::update()
        .table(Alias::new("audit_chain"))
        .value(Alias::new("head_seq"), 0)
        .value(Alias::new("head_hash"), chain::hash::GENESIS)
        .to_owned();
    tx.execute(&reset).await.expect("reset the head");
    chain::seal_pending(&tx).await.expect("rechain");
    tx.commit().await.expect("commit");
}

/// The lines of a gzip JSON-lines file, decoded independently of the code that wrote it.
fn read_archive(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).expect("open the archive");
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("a line")).expect("a JSON line"))
        .collect()
}

/// Replaces an archive file with `lines`, behind the service's back.
fn write_archive(path: &Path, lines: &[Value]) {
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("rewrite"),
        flate2::Compression::default(),
    );
    for line in lines {
        std::io::Write::write_all(&mut encoder, format!("{line}\n").as_bytes()).expect("write");
    }
    encoder.finish().expect("finish");
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

both_backends! {
    async fn purge_archives_the_old_prefix_of_the_log_and_the_chain_still_verifies(app: TestApp) {
        let dir = std::env::temp_dir().join(format!("launchpad-archive-{}", uuid::Uuid::now_v7().simple()));
        for i in 0..4 {
            app.register(&format!("archive-{i}@example.com")).await;
        }
        let rows = log_rows(&app.db).await;
        let total = rows.len() as i64;
        assert!(total >= 5, "{total} rows");
        // Rows 1..4 are old, the rest are not.
        backdate(&app.db, &[1, 2, 3, 4]).await;
        let rows = log_rows(&app.db).await;
        assert_eq!(chain::verify(&app.db).await.expect("verify").problem, None);

        // Dry run: says what would go, changes nothing, creates nothing.
        let dry = run(&app, &dir, &["purge", "--dry-run"]).await;
        assert_eq!(dry.code, Some(0), "{dry}");
        assert!(dry.stdout.contains("would archive 4 rows (seq 1..4"), "{dry}");
        assert_eq!(log_rows(&app.db).await, rows);
        assert!(!dir.exists(), "a dry run created {}", dir.display());

        let started = std::time::Instant::now();
        let purge = run(&app, &dir, &["purge"]).await;
        assert_eq!(purge.code, Some(0), "{purge}");
        println!("purge: {} in {:?}", purge.stdout.trim(), started.elapsed());
        assert!(purge.stdout.contains("archived 4 rows (seq 1..4"), "{purge}");
        let files = files_in(&dir);
        assert_eq!(files.len(), 1, "{files:?}");
        let archived = read_archive(&files[0]);
        assert_eq!(archived.len(), 4);
        for (line, row) in archived.iter().zip(&rows) {
            assert_eq!(line["seq"], json!(row.seq));
            assert_eq!(line["id"], json!(row.id));
            assert_eq!(line["hash"], json!(row.hash));
            assert_eq!(line["action"], json!(row.action));
        }
        // The live log: the rest, plus the archiving event itself (the trash purge, with
        // nothing to delete, wrote nothing).
        let live = log_rows(&app.db).await;
        assert_eq!(live.len() as i64, total - 4 + 1);
        assert_eq!(live[0].seq, Some(5));
        assert_eq!(live.last().map(|r| r.action.as_str()), Some("activity_log.archive"));
        let verify = run(&app, &dir, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
        assert!(verify.stdout.contains("anchor at seq 4"), "{verify}");
        assert!(verify.stdout.contains("archive: ok, 4 rows"), "{verify}");

        // A second run finds nothing due (row 5 is young) and changes nothing.
        let again = run(&app, &dir, &["purge"]).await;
        assert_eq!(again.code, Some(0), "{again}");
        assert!(again.stdout.contains("nothing"), "{again}");
        assert_eq!(log_rows(&app.db).await, live);
        assert_eq!(files_in(&dir), files);

        // A damaged archive file is caught against the anchor.
        let mut lines = archived.clone();
        lines[1]["action"] = json!("user.forged");
        write_archive(&files[0], &lines);
        let verify = run(&app, &dir, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(1), "{verify}");
        assert!(verify.stdout.contains("archive: FAIL: row seq 2"), "{verify}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The archive's rows (every file) whose text holds `marker`.
fn archived_with(dir: &Path, marker: &str) -> usize {
    files_in(dir)
        .iter()
        .flat_map(|f| read_archive(f))
        .filter(|row| row.to_string().to_lowercase().contains(marker))
        .count()
}

/// The archive's rows about `user` (written by them, or about their account) that still
/// hold a personal part: details, an IP address or a user agent.
fn personal_rows(dir: &Path, user: uuid::Uuid) -> usize {
    let subject = json!(dbkit::chain::hash::subject(user));
    files_in(dir)
        .iter()
        .flat_map(|f| read_archive(f))
        .filter(|r| {
            r["subject"] == subject || (r["entity_type"] == "user" && r["entity_id"] == json!(user))
        })
        .filter(|r| {
            r["details"] != json!({})
                || !Value::is_null(&r["ip_address"])
                || !Value::is_null(&r["user_agent"])
        })
        .count()
}

/// Erasure and the trash purge reach rows already archived: the erased (or purged)
/// user's details, IP address and user agent leave the archive files by a job queued with
/// the erasure, other users' stay, and `verify --archive` still passes.
mod erasure_and_purge_blank_the_archive_too {
    use super::*;
    use crate::erasure::active_student;
    use crate::helpers::Backend;

    async fn body(backend: Backend) {
        let dir = TempDir::new("archive-erase");
        let dir_arg = dir.0.display().to_string();
        let app = TestApp::spawn_with(
            backend,
            &["--archive-dir", &dir_arg, "--job-poll-interval-ms", "50"],
        )
        .await;
        let admin = app.admin().await;
        let victim = active_student(&app, "zqxv").await;
        let purged = active_student(&app, "pgmk").await;
        let bystander = active_student(&app, "kplw").await;
        // Everything so far is archived.
        let seqs: Vec<i64> = log_rows(&app.db)
            .await
            .iter()
            .filter_map(|r| r.seq)
            .collect();
        backdate(&app.db, &seqs).await;
        // By the server's own worker, as the daily job would.
        let archive = NewJob::new(archive_log::KIND, json!({}));
        let id = dbkit::jobs::enqueue(&app.db, archive).await.expect("queue");
        let id = id.expect("queued");
        assert_eq!(jobs_done(&app, Expr::col(Alias::new("id")).eq(id)).await, 1);
        assert_eq!(files_in(&dir.0).len(), 1, "{:?}", files_in(&dir.0));
        let before = [
            archived_with(&dir.0, "zqxv"),
            archived_with(&dir.0, "pgmk"),
            archived_with(&dir.0, "kplw"),
        ];
        assert!(
            before.iter().all(|&n| n >= 1),
            "every student's marker archived: {before:?}"
        );
        let ids = [&victim, &purged, &bystander].map(|s| s.user_id.expect("id"));
        let personal = ids.map(|id| personal_rows(&dir.0, id));
        assert!(
            personal.iter().all(|&n| n >= 8),
            "every student's rows archived: {personal:?}"
        );

        // Erasure: the victim's archived rows are blanked once its job has run.
        let victim_id = victim.user_id.expect("victim id");
        let r = app
            .post(
                &format!("/api/admin/users/{victim_id}/erase"),
                admin.token(),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(jobs_done(&app, kind(erase_archived::KIND)).await, 1);
        assert_eq!(
            archived_with(&dir.0, "zqxv"),
            0,
            "the erased user is still in the archive"
        );
        assert_eq!(personal_rows(&dir.0, ids[0]), 0);
        assert_eq!(personal_rows(&dir.0, ids[2]), personal[2]);
        assert_eq!(archived_with(&dir.0, "pgmk"), before[1]);
        assert_eq!(archived_with(&dir.0, "kplw"), before[2]);
        let logged = app.activity("activity_log.erase").await;
        assert_eq!(logged.len(), 1);
        println!("archive erasure: {}", logged[0].details);
        assert_eq!(logged[0].details["files"], 1);
        assert_eq!(
            logged[0].details["rows"], personal[0],
            "{}",
            logged[0].details
        );
        let verify = run(&app, &dir.0, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");

        // Again: nothing left to blank, nothing written, nothing logged.
        let file = &files_in(&dir.0)[0];
        let bytes = std::fs::read(file).expect("read");
        let area = launchpad::storage::Area::local(&dir.0).expect("the archive's area");
        let again =
            launchpad::retention::audit_archive::erase_users(&app.db, &area, vec![victim_id])
                .await
                .expect("erase again");
        assert_eq!((again.files, again.rows), (0, 0));
        assert_eq!(std::fs::read(file).expect("read"), bytes);
        assert_eq!(app.activity("activity_log.erase").await.len(), 1);

        // A trash purge that deletes an account blanks its archived rows the same way.
        assert_eq!(
            app.delete("/api/users/me", purged.token()).await.status,
            StatusCode::NO_CONTENT
        );
        let long_ago = dbkit::time::now() - chrono::Duration::days(40);
        let expire = Query::update()
            .table(Alias::new("users"))
            .value(Alias::new("deleted_at"), long_ago)
            .and_where(Expr::col(Alias::new("id")).eq(purged.user_id.expect("id")))
            .to_owned();
        app.db.execute(&expire).await.expect("expire");
        let purge = run(&app, &dir.0, &["purge"]).await;
        assert_eq!(purge.code, Some(0), "{purge}");
        assert!(purge.stdout.contains("users: 1"), "{purge}");
        assert_eq!(jobs_done(&app, kind(erase_archived::KIND)).await, 2);
        assert_eq!(
            archived_with(&dir.0, "pgmk"),
            0,
            "the purged user is still in the archive"
        );
        assert_eq!(personal_rows(&dir.0, ids[1]), 0);
        assert_eq!(personal_rows(&dir.0, ids[2]), personal[2]);
        assert_eq!(archived_with(&dir.0, "kplw"), before[2]);
        let verify = run(&app, &dir.0, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");

        // Only blanking is covered: writing into an erased archived row is still caught.
        let mut lines = read_archive(file);
        let subject = dbkit::chain::hash::subject(victim_id);
        let forged = lines
            .iter_mut()
            .find(|l| l["subject"] == json!(subject))
            .expect("a victim row");
        forged["details"] = json!({"forged": true});
        write_archive(file, &lines);
        let verify = run(&app, &dir.0, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(1), "{verify}");
        assert!(verify.stdout.contains("edited"), "{verify}");
        assert_eq!(
            app.get("/api/users/me", bystander.token()).await.status,
            StatusCode::OK
        );
    }

    crate::both_backends!(@tests body);
}
