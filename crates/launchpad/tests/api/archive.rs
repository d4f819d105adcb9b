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
async fn backdate(db: &DatabaseConnection, seqs: &[i64]) {
    let old = dbkit::time::now() - chrono::Duration::days(100);
    let backdate = Query::update()
        .table(Alias::new("activity_logs"))
        .value(Alias::new("created_at"), old)
        .and_where(Expr::col(Alias::new("seq")).is_in(seqs.iter().copied()))
        .to_owned();
    db.execute(&backdate).await.expect("backdate");
    let mut unchain = Query::update();
    unchain.table(Alias::new("activity_logs"));
    for column in ["seq", "prev_hash", "hash", "subject", "personal_hash"] {
        unchain.value(Alias::new(column), Expr::cust("NULL"));
    }
    db.execute(&unchain).await.expect("unchain");
    let reset = Query::update()
        .table(Alias::new("audit_chain"))
        .value(Alias::new("head_seq"), 0)
        .value(Alias::new("head_hash"), chain::hash::GENESIS)
        .to_owned();
    db.execute(&reset).await.expect("reset the head");
    chain::seal_unchained(db).await.expect("rechain");
}

/// The lines of a gzip JSON-lines file, decoded independently of the code that wrote it.
fn read_archive(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).expect("open the archive");
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("a line")).expect("a JSON line"))
        .collect()
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
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&files[0]).expect("rewrite"),
            flate2::Compression::default(),
        );
        for line in &lines {
            std::io::Write::write_all(&mut encoder, format!("{line}\n").as_bytes()).expect("write");
        }
        encoder.finish().expect("finish");
        let verify = run(&app, &dir, &["verify", "--archive"]).await;
        assert_eq!(verify.code, Some(1), "{verify}");
        assert!(verify.stdout.contains("archive: FAIL: row seq 2"), "{verify}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
