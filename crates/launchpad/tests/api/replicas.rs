//! Read replicas (`DATABASE_REPLICA_URL`) on a real streaming replica: a primary and a hot
//! standby of the test's own (`pg_basebackup -R`). Reads go to the replica when it has
//! what the reader wrote; a lagging or stopped replica hands its reads to the primary,
//! without one failed request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, TestDb, settings};
use crate::private_pg::{PrivatePg, StopMode};

/// A primary, its standby, and a server reading from it with `max_lag_ms`.
struct Cluster {
    app: Arc<TestApp>,
    standby: PrivatePg,
    // Declared last: the server stops before its primary does.
    _primary: PrivatePg,
}

async fn cluster(max_lag_ms: &str) -> Cluster {
    let primary = PrivatePg::start_new().await;
    let standby = PrivatePg::standby_of(&primary).await;
    let app = TestApp::spawn_on(
        TestDb::existing(primary.url()),
        Backend::Postgres,
        &replica_flags(&standby, max_lag_ms),
    )
    .await;
    let cluster = Cluster {
        app: Arc::new(app),
        standby,
        _primary: primary,
    };
    cluster.until_replica(&cluster.app, "streaming").await;
    cluster
}

fn replica_flags<'a>(standby: &'a PrivatePg, max_lag_ms: &'a str) -> [&'a str; 4] {
    // The URL outlives the flags: leaked once per test, a few bytes.
    let url: &'static str = Box::leak(standby.url().into_boxed_str());
    [
        "--database-replica-url",
        url,
        "--database-replica-max-lag-ms",
        max_lag_ms,
    ]
}

impl Cluster {
    /// `app`'s view of the replica, from `/health`.
    async fn replica(&self, app: &TestApp) -> Value {
        let health = app.get("/health", None).await.body;
        health["replicas"][0].clone()
    }

    /// Waits (30 s at most) until `app` sees the replica in `state`; how long it took.
    async fn until_replica(&self, app: &TestApp, state: &str) -> Duration {
        let began = Instant::now();
        loop {
            let replica = self.replica(app).await;
            if replica["state"] == state {
                return began.elapsed();
            }
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "the replica never became {state}: {replica}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reads the replica served so far, as `app` counts them.
    async fn replica_reads(&self, app: &TestApp) -> u64 {
        self.replica(app).await["reads"].as_u64().expect("reads")
    }

    async fn on_standby(&self, sql: &str) {
        let db: DatabaseConnection = Database::connect(self.standby.url())
            .await
            .expect("connect to the standby");
        db.execute_unprepared(sql).await.expect(sql);
        db.close().await.expect("close");
    }
}

async fn project(app: &TestApp, s: &Session, title: &str) -> String {
    let r = app
        .post("/api/projects", s.token(), json!({ "title": title }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

fn titles(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect()
}

#[tokio::test]
async fn a_write_reads_back_at_once_on_another_node_while_others_read_the_lagging_replica() {
    crate::helpers::configure_kits();
    let c = cluster("30000").await;
    let a = &c.app;
    let student = a.register("writer@example.com").await;
    let admin = a.admin().await;
    // Node B reads from the same replica; node C allows no lag at all.
    let b = a.another_node(&replica_flags(&c.standby, "30000")).await;
    let strict = a.another_node(&replica_flags(&c.standby, "1")).await;
    c.until_replica(&b, "streaming").await;
    project(a, &student, "Before the pause").await;
    // Everything so far is on the replica (the admin, who wrote nothing, reads it there).
    let began = Instant::now();
    loop {
        let page = b
            .get("/api/projects?per_page=100", admin.token())
            .await
            .body;
        if titles(&page).contains(&"Before the pause") {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "never replicated: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    c.on_standby("SELECT pg_wal_replay_pause()").await;
    let id = project(a, &student, "Written on A").await;
    // The writer reads it at once on B: their read goes to the primary.
    let served = c.replica_reads(&b).await;
    let r = b.get(&format!("/api/projects/{id}"), student.token()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["title"], "Written on A");
    let page = b
        .get("/api/projects?per_page=100", student.token())
        .await
        .body;
    assert_eq!(titles(&page).len(), 2, "{page}");
    assert_eq!(
        c.replica_reads(&b).await,
        served,
        "the writer's reads went to the replica"
    );
    // The admin, who wrote nothing, reads the paused replica on B (within 30 s of lag)…
    let page = b
        .get("/api/projects?per_page=100", admin.token())
        .await
        .body;
    assert_eq!(titles(&page), ["Before the pause"], "{page}");
    assert_eq!(c.replica_reads(&b).await, served + 1);
    // …and the primary on the node that allows no lag, which calls the replica lagging.
    c.until_replica(&strict, "lagging").await;
    let page = strict
        .get("/api/projects?per_page=100", admin.token())
        .await
        .body;
    assert_eq!(titles(&page).len(), 2, "{page}");
    let metrics = strict
        .client
        .get(format!("{}/metrics", strict.address))
        .send()
        .await;
    let metrics = metrics.expect("metrics").text().await.expect("text");
    let value = |name: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{replica=\"")));
        let value = line.and_then(|l| l.rsplit(' ').next()?.parse().ok());
        value.unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    assert_eq!(value("launchpad_db_replica_up"), 0.0);
    assert!(value("launchpad_db_replica_lag_seconds") > 0.0);

    c.on_standby("SELECT pg_wal_replay_resume()").await;
    c.until_replica(&strict, "streaming").await;
    // Replayed: the writer's reads go to the replica again, and find their write.
    let began = Instant::now();
    loop {
        let served = c.replica_reads(&b).await;
        let r = b.get(&format!("/api/projects/{id}"), student.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if c.replica_reads(&b).await > served {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "reads never came back to the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A mark only moves forward: two writes of one user may record theirs in either order.
    let far = i64::MAX / 2;
    let mark = || async {
        let sql = "SELECT w.lsn FROM write_marks w JOIN users u ON u.id = w.user_id \
                   WHERE u.email = 'writer@example.com'";
        let row =
            a.db.query_one_raw(Statement::from_string(a.db.get_database_backend(), sql));
        let row = row.await.expect("read the mark").expect("a mark");
        row.try_get_by_index::<i64>(0).expect("lsn")
    };
    a.db.execute_unprepared(&format!("UPDATE write_marks SET lsn = {far}"))
        .await
        .expect("move the mark ahead");
    project(a, &student, "After the far mark").await;
    assert_eq!(mark().await, far, "a later write moved the mark back");
}

/// Readers keep reading while the replica is stopped and started again: every answer a
/// 200, reads moving to the primary and back.
#[tokio::test]
async fn a_replica_stopped_and_restarted_costs_no_read() {
    crate::helpers::configure_kits();
    let mut c = cluster("1000").await;
    let app = c.app.clone();
    let s = app.register("reader@example.com").await;
    project(&app, &s, "Read me").await;
    c.until_replica(&app, "streaming").await;
    // Past the writer's mark: their reads are the replica's.
    let began = Instant::now();
    while c.replica_reads(&app).await == 0 {
        let r = app.get("/api/projects", s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "no read reached the replica"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (requests, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (app, token) = (app.clone(), s.token().map(str::to_owned));
            let (stop, requests, failures) = (stop.clone(), requests.clone(), failures.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let r = app.get("/api/projects", token.as_deref()).await;
                    requests.fetch_add(1, Ordering::Relaxed);
                    if r.status != StatusCode::OK || titles(&r.body) != ["Read me"] {
                        failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("{}: {}", r.status, r.body);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.standby.stop(StopMode::Fast).await;
    let fell_back = c.until_replica(&app, "unreachable").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = requests.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        requests.load(Ordering::Relaxed) > during,
        "reads stopped with the replica"
    );
    c.standby.start().await;
    let returned = c.until_replica(&app, "streaming").await;
    let served = c.replica_reads(&app).await;
    let began = Instant::now();
    while c.replica_reads(&app).await == served {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "reads never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("reader");
    }
    let (requests, failures) = (
        requests.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    println!(
        "replica stop/start: {requests} reads, {failures} failed; unreachable seen in \
         {fell_back:?}, streaming again {returned:?} after the restart"
    );
    assert_eq!(failures, 0, "{failures} of {requests} reads failed");
    assert!(requests > 20, "{requests} reads");
}

/// Replicas need a PostgreSQL primary, and PostgreSQL URLs: anything else stops start-up
/// naming the setting.
#[tokio::test]
async fn replicas_of_sqlite_or_of_another_kind_are_refused_at_start() {
    crate::helpers::configure_kits();
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let on_sqlite = settings(
        &sqlite.url,
        &[
            "--database-replica-url",
            "postgres://postgres@127.0.0.1:1/postgres",
        ],
    );
    let postgres = TestDb::new(Backend::Postgres).await;
    let not_postgres = settings(
        &postgres.url,
        &["--database-replica-url", "sqlite://replica.db"],
    );
    for bad in [on_sqlite, not_postgres] {
        let refused = launchpad::startup::Application::build(bad)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(refused.contains("DATABASE_REPLICA_URL"), "{refused}");
    }
    // Empty names none: a server starts as if it were unset.
    let none = settings(&sqlite.url, &["--database-replica-url", ""]);
    launchpad::startup::Application::build(none)
        .await
        .expect("an empty DATABASE_REPLICA_URL is no replica");
}
