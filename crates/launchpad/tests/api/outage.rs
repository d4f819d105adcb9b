//! PostgreSQL outages under load, on a private cluster (never the shared server): every
//! answer is a 2xx or a 503 with `Retry-After` — no 500, no hang past the acquire timeout —
//! `/health` says the database is down, and the server recovers by itself when it is back.
//! Figures go to stderr (`cargo test outage -- --nocapture`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use launchpad::startup::{Application, StartupError};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use tokio::task::JoinHandle;
use webkit::cli::ConnectError;

use crate::helpers::{Backend, TestApp, TestDb, settings};
use crate::private_pg::{PrivatePg, StopMode};

/// `DB_POOL_TIMEOUT` of the servers under test.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Slack on top of the acquire timeout for a 503 (scheduling on a busy machine).
const SLACK: Duration = Duration::from_secs(2);
/// Clients hammering the server.
const WORKERS: usize = 6;
/// Consecutive 2xx that count as "recovered".
const STABLE: usize = 20;
/// Times every server connection is terminated in the kill test.
const KILL_ROUNDS: usize = 5;

/// One answer seen by a client.
#[derive(Debug, Clone)]
struct Sample {
    /// When the answer arrived.
    at: Instant,
    took: Duration,
    /// `None`: no answer (a transport error or the client's timeout).
    status: Option<StatusCode>,
    retry_after: bool,
    error_shape: bool,
}

impl Sample {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.is_success())
    }

    fn unavailable(&self) -> bool {
        self.status == Some(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// A 2xx, or a well-formed 503 with `Retry-After` within the acquire timeout.
    fn acceptable(&self) -> bool {
        self.ok()
            || (self.unavailable()
                && self.retry_after
                && self.error_shape
                && self.took <= ACQUIRE_TIMEOUT + SLACK)
    }
}

/// Students creating and listing projects in a loop until stopped.
struct Load {
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    async fn start(app: &TestApp) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let token = app.register(&format!("load{w}@example.com")).await.access;
            let (client, base) = (client.clone(), app.address.clone());
            let (samples, stop) = (samples.clone(), stop.clone());
            workers.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let request = if i.is_multiple_of(2) {
                        client
                            .post(format!("{base}/api/projects"))
                            .json(&json!({ "title": format!("load w{w} n{i}") }))
                    } else {
                        client.get(format!("{base}/api/projects?per_page=5"))
                    };
                    let sample = send(request.bearer_auth(&token)).await;
                    samples.lock().expect("samples").push(sample);
                    i += 1;
                }
            }));
        }
        Self {
            samples,
            stop,
            workers,
        }
    }

    fn since(&self, t: Instant) -> Vec<Sample> {
        let all = self.samples.lock().expect("samples");
        all.iter().filter(|s| s.at >= t).cloned().collect()
    }

    /// Polls until `done` holds for the samples answered since `t`; panics after `limit`.
    async fn wait_until(
        &self,
        t: Instant,
        limit: Duration,
        what: &str,
        done: impl Fn(&[Sample]) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        while !done(&self.since(t)) {
            assert!(Instant::now() < deadline, "no {what} within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the clients; returns every sample.
    async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.expect("worker");
        }
        std::mem::take(&mut *self.samples.lock().expect("samples"))
    }
}

async fn send(request: reqwest::RequestBuilder) -> Sample {
    let started = Instant::now();
    let (status, retry_after, error_shape) = match request.send().await {
        Ok(r) => {
            let status = r.status();
            let retry_after = r.headers().contains_key("retry-after");
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (Some(status), retry_after, body["error"].is_string())
        }
        Err(_) => (None, false, false),
    };
    Sample {
        at: Instant::now(),
        took: started.elapsed(),
        status,
        retry_after,
        error_shape,
    }
}

/// The first 2xx in `samples`, and `STABLE` in a row at the end.
fn recovered(samples: &[Sample]) -> bool {
    samples.len() >= STABLE && samples[samples.len() - STABLE..].iter().all(Sample::ok)
}

/// A server on a private cluster, with the cluster.
async fn server_on_private_cluster() -> (PrivatePg, TestApp) {
    let pg = PrivatePg::start_new().await;
    let timeout = ACQUIRE_TIMEOUT.as_secs().to_string();
    let app = TestApp::spawn_on(
        TestDb::existing(pg.url()),
        Backend::Postgres,
        &["--db-pool-timeout", &timeout],
    )
    .await;
    (pg, app)
}

/// `/health` answers 503 naming the database as unreachable, within the acquire timeout.
async fn assert_health_down(app: &TestApp) {
    let started = Instant::now();
    let r = app.get("/health", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["status"], "unavailable", "{}", r.body);
    assert_eq!(r.body["database"], "unreachable", "{}", r.body);
    assert!(
        started.elapsed() <= ACQUIRE_TIMEOUT + SLACK,
        "{:?}",
        started.elapsed()
    );
}

/// Stops PostgreSQL under load (and, unless `restart`, waits until clients and `/health`
/// see the outage), starts it again, and checks every answer and the recovery.
async fn outage_under_load(name: &str, mode: StopMode, restart: bool) {
    let (mut pg, app) = server_on_private_cluster().await;
    let load = Load::start(&app).await;
    let began = Instant::now();
    load.wait_until(
        began,
        Duration::from_secs(10),
        "2xx before the outage",
        |s| s.iter().filter(|s| s.ok()).count() >= 2 * WORKERS,
    )
    .await;

    let stopped = Instant::now();
    pg.stop(mode).await;
    if !restart {
        load.wait_until(
            stopped,
            Duration::from_secs(15),
            "503s in the outage",
            |s| s.iter().filter(|s| s.unavailable()).count() >= 2 * WORKERS,
        )
        .await;
        assert_health_down(&app).await;
    }
    let down_for = stopped.elapsed();
    pg.start().await;
    let back = Instant::now();
    load.wait_until(back, Duration::from_secs(20), "recovery", recovered)
        .await;
    let samples = load.finish().await;

    let after_back: Vec<&Sample> = samples.iter().filter(|s| s.at >= back).collect();
    let first_ok = after_back.iter().find(|s| s.ok()).map(|s| s.at - back);
    let outage: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= stopped && s.at < back)
        .collect();
    let unavailable: Vec<&Sample> = samples.iter().filter(|s| s.unavailable()).collect();
    let slowest_503 = unavailable.iter().map(|s| s.took).max().unwrap_or_default();
    let bad: Vec<&Sample> = samples.iter().filter(|s| !s.acceptable()).collect();
    eprintln!(
        "outage {name}: {} requests, {} during the {down_for:?} outage, {} answered 503 \
         (slowest {slowest_503:?}), {} other answers; first 2xx {first_ok:?} after PostgreSQL \
         was back, {STABLE} in a row by {:?}",
        samples.len(),
        outage.len(),
        unavailable.len(),
        bad.len(),
        samples.last().map(|s| s.at - back),
    );
    assert!(
        bad.is_empty(),
        "not 2xx nor a prompt 503 with Retry-After: {bad:?}"
    );
    assert!(!unavailable.is_empty(), "the outage was never seen");
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_fast_under_load_answers_503_and_recovers() {
    outage_under_load("stop -m fast", StopMode::Fast, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_immediate_under_load_answers_503_and_recovers() {
    outage_under_load("stop -m immediate", StopMode::Immediate, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_answers_503_and_recovers() {
    outage_under_load("restart -m fast", StopMode::Fast, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_while_postgres_is_down_and_recovers_unless_it_must_migrate() {
    let mut pg = PrivatePg::start_new().await;
    let migrated = TestDb::existing(pg.url()).connect().await;
    dbkit::migrate::up::<migration::Migrator>(&migrated, None)
        .await
        .expect("migrate");
    migrated.close().await.expect("close");
    pg.stop(StopMode::Fast).await;
    let timeout = ACQUIRE_TIMEOUT.as_secs().to_string();

    // Migrating needs the database: start-up stops, saying why, within the acquire timeout.
    let started = Instant::now();
    let flags = [
        "--db-pool-timeout",
        timeout.as_str(),
        "--auto-migrate",
        "true",
    ];
    let refused = Application::build(settings(&pg.url(), &flags)).await;
    let refused_after = started.elapsed();
    assert!(
        matches!(
            &refused,
            Err(StartupError::Connect(ConnectError::Unreachable(_)))
        ),
        "{:?}",
        refused.as_ref().err()
    );
    assert!(
        refused_after <= ACQUIRE_TIMEOUT + SLACK,
        "{refused_after:?}"
    );
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();

    // Without migrations to run, it starts, says it is unhealthy and answers 503. With
    // the default 5 s acquire timeout: `/health` bounds its own ping (1 s), so it still
    // answers within `assert_health_down`'s bound.
    let app = TestApp::spawn_on(
        TestDb::existing(pg.url()),
        Backend::Postgres,
        &["--db-pool-timeout", "5", "--auto-migrate", "false"],
    )
    .await;
    assert_health_down(&app).await;
    let r = app.get("/api/plans", None).await;
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers.contains_key("retry-after"));

    pg.start().await;
    let back = Instant::now();
    let deadline = back + Duration::from_secs(15);
    while app.get("/health", None).await.status != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "not healthy 15 s after PostgreSQL started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let healthy_after = back.elapsed();
    app.register("late@example.com").await;
    eprintln!(
        "outage at start-up: with AUTO_MIGRATE start-up failed after {refused_after:?} \
         (\"{message}\"); without, it served 503 and was healthy {healthy_after:?} after \
         PostgreSQL started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_mid_query_answer_503_and_are_replaced() {
    let (pg, app) = server_on_private_cluster().await;
    let load = Load::start(&app).await;
    let began = Instant::now();
    load.wait_until(
        began,
        Duration::from_secs(10),
        "2xx before the kills",
        |s| s.iter().filter(|s| s.ok()).count() >= 2 * WORKERS,
    )
    .await;

    // What `pg_terminate_backend` does to the server's connections is what a failover or
    // an operator's kill does: "terminating connection due to administrator command".
    let admin = TestDb::existing(pg.url()).connect().await;
    let mut killed = 0;
    for _ in 0..KILL_ROUNDS {
        let round = Instant::now();
        let rows = admin
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
            ))
            .await
            .expect("terminate the server's connections");
        killed += rows.len();
        load.wait_until(
            round,
            Duration::from_secs(10),
            "answers after a kill",
            |s| s.len() >= 2 * WORKERS,
        )
        .await;
    }
    admin.close().await.expect("close");
    let back = Instant::now();
    load.wait_until(back, Duration::from_secs(20), "recovery", recovered)
        .await;
    let samples = load.finish().await;

    let unavailable = samples.iter().filter(|s| s.unavailable()).count();
    let bad: Vec<&Sample> = samples.iter().filter(|s| !s.acceptable()).collect();
    eprintln!(
        "killed connections: {killed} server connections terminated in {KILL_ROUNDS} rounds \
         under load; {} requests, {unavailable} answered 503, {} other answers",
        samples.len(),
        bad.len()
    );
    assert!(killed > 0, "no connection was killed");
    assert!(
        bad.is_empty(),
        "not 2xx nor a prompt 503 with Retry-After: {bad:?}"
    );
}
