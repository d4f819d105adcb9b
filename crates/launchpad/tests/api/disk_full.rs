//! A full disk loses nothing that was acknowledged. The real binary runs with its
//! database (SQLite's file; PostgreSQL's tablespace) and its uploads on a small tmpfs
//! this test mounts; the disk is filled while students keep writing, then freed:
//! every 201 is in the database afterwards, nothing answers a 5xx other than 503/507,
//! `/health` says `storage_full` while it lasts, writes resume by themselves, and the
//! database checks clean. Mounting needs root: elsewhere the test says so and skips.
//!
//! And the cause, on its own: a connection whose `COMMIT` failed, or whose transaction
//! the database ended behind the driver's back (SQLite does on some `SQLITE_FULL` /
//! `SQLITE_IOERR`), must not be handed out again to run later "transactions" inside one
//! that never commits.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use dbkit::audit::Event;
use dbkit::{Actor, Writer};
use reqwest::StatusCode;
use reqwest::multipart::Form;
use sea_orm::{ConnectionTrait, Database, DbBackend};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::files::{file_part, png};
use crate::helpers::{Backend, cli, settings};
use crate::private_pg::PrivatePg;
use crate::process::{Server, signal};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts `size_mib` of tmpfs; `None` when this process may not mount (not root). As
    /// root a failure to mount is a failure of the test.
    fn mount(size_mib: u32) -> Option<Self> {
        if !is_root() {
            eprintln!("skipped: mounting a small filesystem needs root");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("launchpad-full-{}", Uuid::now_v7().simple()));
        std::fs::create_dir(&dir).expect("create the mount point");
        let options = format!("size={size_mib}m,mode=0755");
        let status = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed as root");
        Some(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn is_root() -> bool {
    StdCommand::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Writes zeros to `path` until the filesystem has no space left.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("create the filler");
    let block = vec![0_u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    // The last bytes of a block that did not fit.
    while file.write_all(&block[..512]).is_ok() {}
    let _ = file.sync_all();
}

/// The URL of the server's database: SQLite's file on the small disk, or a PostgreSQL
/// database whose tablespace is on it, in a cluster of the test's own (a cluster whose
/// files vanish under it must not be the shared server). Its WAL stays on the big disk.
async fn database_on(disk: &Tmpfs, pg: Option<&PrivatePg>) -> String {
    let Some(pg) = pg else {
        return format!("sqlite://{}/launchpad.db", disk.path().display());
    };
    let location = disk.path().join("pg");
    std::fs::create_dir(&location).expect("tablespace dir");
    let chown = StdCommand::new("chown")
        .arg(postgres_owner())
        .arg(&location)
        .status()
        .expect("chown");
    assert!(chown.success());
    let admin = Database::connect(pg.url())
        .await
        .expect("the private cluster");
    for sql in [
        format!("CREATE TABLESPACE small LOCATION '{}'", location.display()),
        "CREATE DATABASE launchpad TABLESPACE small".to_owned(),
    ] {
        admin.execute_unprepared(&sql).await.expect(&sql);
    }
    let url = pg.url();
    let (server, _) = url.rsplit_once('/').expect("a database in the URL");
    format!("{server}/launchpad")
}

/// The tablespace directory must exist, empty and owned by the server's user.
fn postgres_owner() -> String {
    let id = |flag: &str| {
        let out = StdCommand::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    format!("{}:{}", id("-u"), id("-g"))
}

struct Outcome {
    acknowledged: Vec<String>,
    statuses: Vec<u16>,
}

/// `writers` students' worth of concurrent project creates, `each` apiece.
async fn write_concurrently(base: &str, token: &str, writers: usize, each: usize) -> Outcome {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (base, token) = (base.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut seen = Vec::new();
            for i in 0..each {
                seen.push(create_project(&client, &base, &token, &format!("w{w} n{i}")).await);
            }
            seen
        }));
    }
    let mut outcome = Outcome {
        acknowledged: Vec::new(),
        statuses: Vec::new(),
    };
    for task in tasks {
        for (status, id) in task.await.expect("writer") {
            outcome.statuses.push(status);
            outcome.acknowledged.extend(id);
        }
    }
    outcome
}

/// Creates a project: the status (599 for a 5xx without `Retry-After`) and, on 201, its id.
async fn create_project(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    title: &str,
) -> (u16, Option<String>) {
    let response = client
        .post(format!("{base}/api/projects"))
        .bearer_auth(token)
        .json(&json!({"title": format!("Project {title}"), "description": "x".repeat(4000)}))
        .send()
        .await
        .expect("create a project");
    let status = response.status();
    let retry_after = response.headers().get("retry-after").is_some();
    let body: Value = response.json().await.unwrap_or_default();
    if status.is_server_error() && !retry_after {
        // Reported as a status no check allows.
        return (599, None);
    }
    let id = (status == StatusCode::CREATED).then(|| body["id"].as_str().expect("id").to_owned());
    (status.as_u16(), id)
}

async fn health(base: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}/health"))
        .await
        .expect("health");
    let status = response.status();
    (status, response.json().await.expect("health JSON"))
}

/// Uploads a PNG to `project`; the status and the names the upload directory holds after.
async fn upload(base: &str, token: &str, project: &str, uploads: &Path) -> (u16, Vec<String>) {
    let form = Form::new()
        .text("kind", "project")
        .part("file", file_part(png(), "shot.png", "image/png"));
    let status = reqwest::Client::new()
        .post(format!("{base}/api/projects/{project}/files"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .status()
        .as_u16();
    let names = std::fs::read_dir(uploads)
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    (status, names)
}

async fn ids_in(url: &str, table: &str) -> Vec<String> {
    let db = dbkit::connect(&settings(url, &[]).db())
        .await
        .expect("connect");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM {table}"),
        ))
        .await
        .expect("read ids");
    rows.iter()
        .map(|r| {
            r.try_get::<Uuid>("", "id")
                .map(|u| u.to_string())
                .or_else(|_| r.try_get::<String>("", "id"))
                .expect("an id")
        })
        .collect()
}

crate::both_backends! {
    async fn a_full_disk_loses_no_acknowledged_write_and_writes_resume_when_it_is_freed(
        backend: Backend
    ) {
        // PostgreSQL copies its template database (~8 MiB) into the tablespace.
        let size = if backend == Backend::Postgres { 40 } else { 8 };
        let Some(disk) = Tmpfs::mount(size) else {
            return;
        };
        // Declared after the disk, so the cluster stops before the disk goes.
        let pg = match backend {
            Backend::Postgres => Some(PrivatePg::start_new().await),
            Backend::Sqlite => None,
        };
        let url = database_on(&disk, pg.as_ref()).await;
        let uploads = disk.path().join("uploads");
        let upload_dir = uploads.display().to_string();
        let server = Server::start(
            &url,
            &["--auto-migrate", "true", "--upload-dir", &upload_dir],
        )
        .await;
        let base = server.base.clone();
        let token = server.register("writer@test.com").await;
        let client = reqwest::Client::new();
        let (status, project) = create_project(&client, &base, &token, "before").await;
        assert_eq!(status, 201, "{}", server.log());
        let project = project.expect("id");
        let mut acknowledged = vec![project.clone()];

        // What went wrong is gathered, not asserted at once: a lost write only shows
        // after the server has stopped.
        let mut problems = Vec::new();
        let filler = disk.path().join("filler");
        fill(&filler);
        let full = write_concurrently(&base, &token, 4, 10).await;
        acknowledged.extend(full.acknowledged);
        let refused = full.statuses.iter().filter(|s| **s != 201).count();
        if !full.statuses.iter().all(|s| matches!(s, 201 | 503 | 507)) {
            problems.push(format!("statuses on a full disk: {:?}", full.statuses));
        }
        if !full.statuses.contains(&507) {
            problems.push(format!("no 507 on a full disk: {:?}", full.statuses));
        }
        let (status, body) = health(&base).await;
        if status != StatusCode::SERVICE_UNAVAILABLE || body["storage"] != "full" {
            problems.push(format!("health on a full disk: {status} {body}"));
        }
        let reads = client
            .get(format!("{base}/api/projects"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list");
        if reads.status() != StatusCode::OK {
            problems.push(format!("reads on a full disk: {}", reads.status()));
        }
        let (status, names) = upload(&base, &token, &project, &uploads).await;
        if !matches!(status, 503 | 507) || !names.is_empty() {
            problems.push(format!("upload on a full disk: {status}, files left {names:?}"));
        }

        std::fs::remove_file(&filler).expect("free the disk");
        let deadline = Instant::now() + Duration::from_secs(15);
        let after = loop {
            let (status, id) = create_project(&client, &base, &token, "after").await;
            if status == 201 {
                break id;
            }
            if Instant::now() > deadline {
                problems.push(format!("writes did not resume: {status}"));
                break None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        acknowledged.extend(after);
        let (status, body) = health(&base).await;
        if status != StatusCode::OK || body["storage"] != "ok" {
            problems.push(format!("health after the disk was freed: {status} {body}"));
        }
        let (status, names) = upload(&base, &token, &project, &uploads).await;
        if status != 201 || names.len() != 1 {
            problems.push(format!("upload after the disk was freed: {status}, files {names:?}"));
        }
        let log = server.log();
        let log = &log[log.floor_char_boundary(log.len().saturating_sub(3000))..];

        signal(server.pid(), "TERM").await;
        let (exit, _) = server.exited_within(Duration::from_secs(20)).await;
        if !exit.success() {
            problems.push(format!("serve stopped with {exit}"));
        }
        let stored = ids_in(&url, "projects").await;
        let lost = acknowledged.iter().filter(|id| !stored.contains(id)).count();
        if lost > 0 {
            problems.push(format!("{lost} of {} acknowledged projects lost", acknowledged.len()));
        }
        assert!(problems.is_empty(), "{problems:#?}\n{log}");
        eprintln!(
            "{backend:?}: {} writes acknowledged, {refused} refused on the full disk, 0 lost",
            acknowledged.len()
        );
        if backend == Backend::Sqlite {
            let db = dbkit::connect(&settings(&url, &[]).db()).await.expect("connect");
            let check = db
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA integrity_check",
                ))
                .await
                .expect("integrity_check")
                .expect("a row");
            assert_eq!(check.try_get::<String>("", "integrity_check").expect("text"), "ok");
        }
        let files = ids_in(&url, "files").await;
        assert_eq!(files.len(), 1, "one file row, for the one stored file: {files:?}");
        let verify = cli(&url, &["verify"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
    }

    async fn a_connection_whose_commit_failed_or_whose_transaction_ended_is_never_reused_inside_it(
        app: TestApp
    ) {
        // One connection, so that every transaction below runs on the same one.
        let url = app.database_url().to_owned();
        let one = settings(&url, &["--db-pool-size", "1", "--db-max-overflow", "0"]);
        let db = dbkit::connect(&one.db()).await.expect("connect");
        db.execute_unprepared("CREATE TABLE probe (id VARCHAR(36) PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .expect("create table");
        db.execute_unprepared(
            "CREATE TABLE probe_child (id VARCHAR(36) PRIMARY KEY, parent VARCHAR(36) \
             REFERENCES probe (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .expect("create table");
        let actor = Actor::system();

        // A COMMIT fails (a deferred foreign key), leaving the transaction open.
        let writer = Writer::begin(&db, &actor).await.expect("begin");
        writer
            .tx()
            .execute_unprepared("INSERT INTO probe_child (id, parent) VALUES ('c', 'missing')")
            .await
            .expect("deferred until the commit");
        let failed = writer
            .commit(Event::new("probe.write", "probe", Uuid::now_v7()))
            .await;
        assert!(failed.is_err(), "the COMMIT failed");
        // The database ends the transaction by itself, as SQLite may on a full disk.
        let writer = Writer::begin(&db, &actor).await.expect("begin");
        writer.tx().execute_unprepared("ROLLBACK").await.expect("end it");
        drop(writer);
        // A statement fails in the next transaction on that connection, which is dropped.
        let writer = Writer::begin(&db, &actor).await.expect("begin");
        let refused = writer
            .tx()
            .execute_unprepared("INSERT INTO probe (id, v) VALUES ('x', NULL)")
            .await;
        assert!(refused.is_err(), "NOT NULL refused the row");
        drop(writer);
        // A write that reports success.
        let id = Uuid::now_v7();
        let writer = Writer::begin(&db, &actor).await.expect("begin");
        writer
            .tx()
            .execute_unprepared(&format!("INSERT INTO probe (id, v) VALUES ('{id}', 'landed')"))
            .await
            .expect("insert");
        writer
            .commit(Event::new("probe.write", "probe", id))
            .await
            .expect("commit");

        // Another pool sees it, and can write: nobody holds a transaction open.
        let other = dbkit::connect(&settings(&url, &[]).db()).await.expect("connect");
        let seen = ids_in(&url, "probe").await;
        assert_eq!(seen, vec![id.to_string()], "the committed row is durable and visible");
        let started = Instant::now();
        other
            .execute_unprepared("INSERT INTO probe (id, v) VALUES ('other', 'v')")
            .await
            .expect("another connection can write");
        assert!(started.elapsed() < Duration::from_secs(2), "the write lock was free");
        db.close().await.expect("close");
    }
}
