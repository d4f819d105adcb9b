//! The job queue: retries with backoff, dead jobs, rescue of jobs whose worker died,
//! claims that never overlap, and `launchpad worker` processes killed mid-job.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dbkit::jobs::{self, NewJob};
use launchpad::jobs::{archive_log, purge_trash, remove_files};
use migration::Migrator;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestDb};

both_backends! {
    a_failing_job_is_retried_after_a_doubling_backoff_then_dead_after_its_last_attempt => super::retries_then_dead,
    a_job_that_fails_once_succeeds_on_its_retry => super::retry_succeeds,
    jobs_of_a_worker_that_died_are_rescued_or_dead_when_out_of_attempts => super::rescue,
    workers_killed_at_random_moments_lose_no_job_and_remove_every_file_once => super::kill_workers,
    the_daily_purge_is_queued_once_however_many_instances_schedule_it_and_runs_when_due => super::daily_purge,
}

/// A job row as stored.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub status: String,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// Jobs of `kind`.
pub fn kind(kind: &str) -> Expr {
    Expr::col(Alias::new("kind")).eq(kind)
}

/// Waits until every job `which` selects has succeeded (the server's workers run them);
/// their number.
pub async fn jobs_done(app: &TestApp, which: Expr) -> usize {
    for _ in 0..300 {
        let jobs = job_rows(&app.db, Some(which.clone())).await;
        if !jobs.is_empty() && jobs.iter().all(|(_, j)| j.status == "succeeded") {
            return jobs.len();
        }
        assert!(jobs.iter().all(|(_, j)| j.status != "dead"), "{jobs:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the jobs did not run within 15 s");
}

/// Every job row, or those matching `filter`.
pub async fn job_rows(db: &DatabaseConnection, filter: Option<Expr>) -> Vec<(Uuid, JobRow)> {
    let mut select = Query::select();
    select
        .columns(
            [
                "id",
                "status",
                "attempts",
                "run_at",
                "updated_at",
                "last_error",
            ]
            .map(Alias::new),
        )
        .from(Alias::new("jobs"));
    if let Some(filter) = filter {
        select.and_where(filter);
    }
    db.query_all(&select)
        .await
        .expect("read jobs")
        .iter()
        .map(|r| {
            let e = "a jobs column";
            let row = JobRow {
                status: r.try_get("", "status").expect(e),
                attempts: r.try_get("", "attempts").expect(e),
                run_at: r.try_get("", "run_at").expect(e),
                updated_at: r.try_get("", "updated_at").expect(e),
                last_error: r.try_get("", "last_error").expect(e),
            };
            (r.try_get("", "id").expect(e), row)
        })
        .collect()
}

async fn job_row(db: &DatabaseConnection, id: Uuid) -> JobRow {
    let mut rows = job_rows(db, Some(col("id").eq(id))).await;
    rows.pop().expect("the job exists").1
}

/// Polls the job until `done` holds (10 s at most).
async fn wait_for(
    db: &DatabaseConnection,
    id: Uuid,
    what: &str,
    done: impl Fn(&JobRow) -> bool,
) -> JobRow {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = job_row(db, id).await;
        if done(&row) {
            return row;
        }
        assert!(Instant::now() < deadline, "job never {what}: {row:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sets columns of one job directly: the test plays the clock or a worker that died.
async fn set_job(db: &DatabaseConnection, id: Uuid, values: Vec<(&str, sea_orm::Value)>) {
    let mut update = Query::update();
    update.table(Alias::new("jobs")).and_where(col("id").eq(id));
    for (column, value) in values {
        update.value(Alias::new(column), value);
    }
    db.execute(&update).await.expect("update the job");
}

/// Makes a pending job due now instead of after its backoff.
async fn make_due(db: &DatabaseConnection, id: Uuid) {
    set_job(db, id, vec![("run_at", dbkit::time::now().into())]).await;
}

async fn enqueue(db: &DatabaseConnection, job: NewJob) -> Uuid {
    jobs::enqueue(db, job)
        .await
        .expect("enqueue")
        .expect("not a duplicate")
}

/// A server whose workers poll every 20 ms.
async fn fast_workers(backend: Backend, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--job-poll-interval-ms", "20"];
    flags.extend_from_slice(extra);
    let app = TestApp::spawn_with(backend, &flags).await;
    std::fs::create_dir_all(&app.upload_dir).expect("upload dir");
    app
}

fn storage_key() -> String {
    Uuid::now_v7().simple().to_string()
}

async fn retries_then_dead(backend: Backend) {
    let app = fast_workers(backend, &[]).await;
    let key = storage_key();
    // A directory where the stored file should be: removing it fails every time.
    std::fs::create_dir(app.upload_dir.join(&key)).expect("obstacle");
    let id = enqueue(
        &app.db,
        remove_files::job(std::slice::from_ref(&key)).max_attempts(3),
    )
    .await;

    let first = wait_for(&app.db, id, "failed once", |j| {
        j.status == "pending" && j.attempts == 1
    })
    .await;
    let error = first.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("cannot remove stored file") && error.contains(&key),
        "{first:?}"
    );
    assert_eq!(
        (first.run_at - first.updated_at).num_seconds(),
        10,
        "first backoff: {first:?}"
    );

    make_due(&app.db, id).await;
    let second = wait_for(&app.db, id, "failed twice", |j| {
        j.status == "pending" && j.attempts == 2
    })
    .await;
    assert_eq!(
        (second.run_at - second.updated_at).num_seconds(),
        20,
        "doubled: {second:?}"
    );

    make_due(&app.db, id).await;
    let dead = wait_for(&app.db, id, "died", |j| j.status == "dead").await;
    assert_eq!(dead.attempts, 3, "{dead:?}");
    assert!(
        dead.last_error.is_some_and(|e| e.contains(&key)),
        "the last error is kept"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        job_row(&app.db, id).await.attempts,
        3,
        "a dead job is not claimed again"
    );
}

async fn retry_succeeds(backend: Backend) {
    let app = fast_workers(backend, &[]).await;
    let key = storage_key();
    let path = app.upload_dir.join(&key);
    std::fs::create_dir(&path).expect("obstacle");
    let id = enqueue(&app.db, remove_files::job(std::slice::from_ref(&key))).await;
    wait_for(&app.db, id, "failed once", |j| {
        j.status == "pending" && j.attempts == 1
    })
    .await;

    // The obstacle is cleared and the file is there: the retry removes it.
    std::fs::remove_dir(&path).expect("clear the obstacle");
    std::fs::write(&path, b"bytes").expect("the stored file");
    make_due(&app.db, id).await;
    let done = wait_for(&app.db, id, "succeeded", |j| j.status == "succeeded").await;
    assert_eq!(done.attempts, 2, "{done:?}");
    assert!(!path.exists(), "the retry removed the file");
}

async fn rescue(backend: Backend) {
    let app = fast_workers(backend, &["--job-lock-timeout", "1"]).await;
    let later = dbkit::time::now() + chrono::Duration::days(1);
    let long_ago = dbkit::time::now() - chrono::Duration::hours(1);
    // Queued for tomorrow, so that no worker claims them before they are set up.
    let queue = async |max_attempts| {
        let job = remove_files::job(&[storage_key()])
            .run_at(later)
            .max_attempts(max_attempts);
        enqueue(&app.db, job).await
    };
    let (orphan, last_chance, alive) = (queue(5).await, queue(3).await, queue(5).await);
    let running = |attempts: i32, locked_at: DateTime<Utc>, by: &str| {
        vec![
            ("status", "running".into()),
            ("attempts", attempts.into()),
            ("locked_at", locked_at.into()),
            ("locked_by", by.to_owned().into()),
        ]
    };
    set_job(&app.db, orphan, running(1, long_ago, "pid1-gone")).await;
    set_job(&app.db, last_chance, running(3, long_ago, "pid2-gone")).await;
    // A worker still holding its lock: a lock dated tomorrow never goes stale here.
    set_job(&app.db, alive, running(1, later, "pid3-alive")).await;

    let rescued = wait_for(&app.db, orphan, "rescued and run", |j| {
        j.status == "succeeded"
    })
    .await;
    assert_eq!(rescued.attempts, 2, "{rescued:?}");
    assert!(
        rescued
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("lock expired: worker pid1-gone")),
        "{rescued:?}"
    );
    let dead = wait_for(&app.db, last_chance, "dead", |j| j.status == "dead").await;
    assert_eq!(dead.attempts, 3, "{dead:?}");
    assert!(dead.last_error.is_some_and(|e| e.contains("pid2-gone")));
    let held = job_row(&app.db, alive).await;
    assert_eq!(
        (held.status.as_str(), held.attempts),
        ("running", 1),
        "{held:?}"
    );
}

async fn daily_purge(backend: Backend) {
    // A 1 s lock timeout: maintenance (rescue, scheduling) every half second.
    let app = fast_workers(backend, &["--job-lock-timeout", "1"]).await;
    let purges = || job_rows(&app.db, Some(col("kind").eq(purge_trash::KIND)));
    let deadline = Instant::now() + Duration::from_secs(10);
    let (id, queued) = loop {
        if let Some(row) = purges().await.pop() {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the server's workers queued no purge"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let tomorrow = (dbkit::time::now() + chrono::Duration::days(1)).date_naive();
    assert_eq!(
        queued.run_at,
        tomorrow.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    );
    // The log's archiving is queued beside it, for the same midnight.
    let archives = job_rows(&app.db, Some(col("kind").eq(archive_log::KIND))).await;
    assert_eq!(archives.len(), 1, "{archives:?}");
    assert_eq!(archives[0].1.run_at, queued.run_at);

    // Four more instances scheduling at once queue nothing more.
    let others = (0..4)
        .map(|_| {
            let url = app.database_url().to_owned();
            tokio::spawn(async move {
                let pool = dbkit::connect(&crate::helpers::settings(&url, &[]).db())
                    .await
                    .expect("a pool of its own");
                jobs::enqueue(&pool, purge_trash::daily(dbkit::time::now()))
                    .await
                    .expect("enqueue")
            })
        })
        .collect::<Vec<_>>();
    assert!(
        join_all(others).await.iter().all(Option::is_none),
        "a duplicate purge was queued"
    );
    assert_eq!(purges().await.len(), 1);

    // Due: a worker runs it, and the next day's is queued. The trash is empty, so the
    // run deletes nothing and logs nothing (a run that changes nothing leaves no trace).
    make_due(&app.db, id).await;
    wait_for(&app.db, id, "ran", |j| j.status == "succeeded").await;
    assert!(app.activity("trash.purge").await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !purges().await.iter().any(|(_, j)| j.status == "pending") {
        assert!(Instant::now() < deadline, "the next purge was not queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_backends! {
    async fn concurrent_claimers_each_take_every_job_exactly_once(testdb: TestDb) {
        let db = testdb.connect().await;
        dbkit::migrate::up::<Migrator>(&db, None).await.expect("migrate");
        let tx = db.begin().await.expect("begin");
        let mut ids = Vec::new();
        for _ in 0..200 {
            ids.push(jobs::enqueue(&tx, remove_files::job(&[storage_key()])).await.expect("enqueue").expect("new"));
        }
        tx.commit().await.expect("commit");

        let started = Instant::now();
        // Every claimer connects first, then they all start together.
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
        let claimers = (0..4).map(|n| {
            let (testdb_url, start) = (testdb.url.clone(), start.clone());
            tokio::spawn(async move {
                let pool = dbkit::connect(&crate::helpers::settings(&testdb_url, &[]).db())
                    .await
                    .expect("a pool of its own");
                start.wait().await;
                let worker = format!("claimer-{n}");
                let mut mine = Vec::new();
                loop {
                    let claimed = jobs::claim(&pool, &worker, &[remove_files::KIND], 3)
                        .await
                        .expect("claim");
                    if claimed.is_empty() {
                        break mine;
                    }
                    for job in claimed {
                        assert!(jobs::complete(&pool, &job).await.expect("complete"));
                        mine.push(job.id);
                    }
                }
            })
        })
        .collect::<Vec<_>>();
        let per_worker: Vec<Vec<Uuid>> = tokio::time::timeout(Duration::from_secs(30), join_all(claimers))
            .await
            .expect("the claimers finish within 30 s");
        let mut claimed: Vec<Uuid> = per_worker.iter().flatten().copied().collect();
        claimed.sort_unstable();
        let total = claimed.len();
        claimed.dedup();
        assert_eq!(total, claimed.len(), "a job was claimed twice");
        ids.sort_unstable();
        assert_eq!(claimed, ids, "every job was claimed");
        let rows = job_rows(&db, None).await;
        assert!(rows.iter().all(|(_, j)| j.status == "succeeded" && j.attempts == 1), "{rows:?}");
        let counts: Vec<usize> = per_worker.iter().map(Vec::len).collect();
        println!("200 jobs, 4 claimers: {counts:?} in {:?}", started.elapsed());
    }
}

/// Awaits tasks already spawned (spawn them all before calling: a lazy iterator would
/// start each only once the previous one ended).
async fn join_all<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

/// `launchpad worker` on `url`, storing files in `upload_dir`, logging to `log`.
fn worker(url: &str, upload_dir: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("worker log");
    Command::new(env!("CARGO_BIN_EXE_launchpad"))
        .current_dir(upload_dir)
        .args([
            "--database-url",
            url,
            "--log-level",
            "warn",
            "--db-pool-size",
            "1",
        ])
        .args(["--upload-dir", &upload_dir.display().to_string()])
        .args([
            "--job-poll-interval-ms",
            "20",
            "--job-lock-timeout",
            "1",
            "--job-concurrency",
            "2",
        ])
        .arg("worker")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("launchpad worker starts")
}

/// A small xorshift: random enough for kill timings, no dependency.
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        Self(Uuid::now_v7().as_u128() as u64 | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Files to remove per job in the kill test.
const KEYS_PER_JOB: usize = 5;

/// Queues `n` removal jobs, each for `KEYS_PER_JOB` stored files it creates; their keys.
async fn queue_removals(db: &DatabaseConnection, dir: &Path, n: usize) -> Vec<String> {
    let mut all = Vec::new();
    let tx = db.begin().await.expect("begin");
    for _ in 0..n {
        let keys: Vec<String> = (0..KEYS_PER_JOB).map(|_| storage_key()).collect();
        for key in &keys {
            std::fs::write(dir.join(key), b"stored bytes").expect("a stored file");
        }
        jobs::enqueue(&tx, remove_files::job(&keys))
            .await
            .expect("enqueue");
        all.extend(keys);
    }
    tx.commit().await.expect("commit");
    all
}

async fn unfinished(db: &DatabaseConnection) -> usize {
    let filter = col("kind")
        .eq(remove_files::KIND)
        .and(col("status").ne("succeeded"));
    job_rows(db, Some(filter)).await.len()
}

async fn kill_workers(backend: Backend) {
    const WORKERS: usize = 3;
    const KILLS: usize = 15;
    let started = Instant::now();
    let testdb = TestDb::new(backend).await;
    let db = testdb.connect().await;
    dbkit::migrate::up::<Migrator>(&db, None)
        .await
        .expect("migrate");
    let dir = TempDir::new("kill");
    let log = dir.0.join("workers.log");
    // Files no job names: they must all survive.
    let bystanders: Vec<String> = (0..50).map(|_| storage_key()).collect();
    for key in &bystanders {
        std::fs::write(dir.0.join(key), b"keep me").expect("a stored file");
    }
    let mut removed = queue_removals(&db, &dir.0, 300).await;
    let mut workers: Vec<Child> = (0..WORKERS)
        .map(|_| worker(&testdb.url, &dir.0, &log))
        .collect();

    // SIGKILL a random worker at a random moment, restart it; keep work queued meanwhile.
    let mut dice = Dice::new();
    for _ in 0..KILLS {
        if unfinished(&db).await < 100 {
            removed.extend(queue_removals(&db, &dir.0, 200).await);
        }
        tokio::time::sleep(Duration::from_millis(50 + dice.below(200))).await;
        let victim = usize::try_from(dice.below(WORKERS as u64)).expect("index");
        workers[victim].kill().await.expect("SIGKILL a worker");
        workers[victim] = worker(&testdb.url, &dir.0, &log);
    }

    // The survivors finish; jobs of killed workers come back after the 1 s lock timeout.
    let deadline = started + Duration::from_secs(50);
    while unfinished(&db).await > 0 {
        assert!(
            Instant::now() < deadline,
            "jobs left unfinished; log: {}",
            read(&log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for child in &mut workers {
        stop(child).await;
    }

    let rows = job_rows(&db, Some(col("kind").eq(remove_files::KIND))).await;
    assert_eq!(
        rows.len() * KEYS_PER_JOB,
        removed.len(),
        "every queued job is there"
    );
    assert!(
        rows.iter().all(|(_, j)| j.status == "succeeded"),
        "{rows:?}"
    );
    // Re-running an interrupted job found some files gone already: never an error.
    let errors: Vec<&Option<String>> = rows
        .iter()
        .map(|(_, j)| &j.last_error)
        .filter(|e| e.as_deref().is_some_and(|e| !e.starts_with("lock expired")))
        .collect();
    assert!(errors.is_empty(), "a job failed: {errors:?}");
    let interrupted = rows.iter().filter(|(_, j)| j.attempts > 1).count();
    let rescued = rows
        .iter()
        .filter(|(_, j)| {
            j.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("lock expired"))
        })
        .count();
    let left: Vec<&String> = removed.iter().filter(|k| dir.0.join(k).exists()).collect();
    assert!(left.is_empty(), "{} stored files not removed", left.len());
    let lost = bystanders
        .iter()
        .filter(|k| !dir.0.join(k).exists())
        .count();
    assert_eq!(lost, 0, "files no job named were removed");
    assert!(
        rescued >= 1,
        "no kill interrupted a job ({KILLS} kills); log: {}",
        read(&log)
    );
    println!(
        "kill test ({backend:?}): {} jobs, {} files, {WORKERS} workers, {KILLS} kills, \
         {interrupted} jobs interrupted, {rescued} rescued, in {:.1} s",
        rows.len(),
        removed.len(),
        started.elapsed().as_secs_f64()
    );
}

/// SIGTERM, then the worker must exit 0 within 10 s.
async fn stop(child: &mut Child) {
    let pid = child.id().expect("running").to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("a worker exits within 10 s of SIGTERM")
        .expect("wait");
    assert!(status.success(), "worker exit: {status}");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A directory of its own, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("launchpad-{tag}-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
