//! Crash safety: the server is SIGKILLed while 200 writes are in flight, then restarted
//! on the same database. Every write it acknowledged must be there, with its activity-log
//! row; writes it never acknowledged may or may not have landed, but never without their
//! log row. Figures go to stderr (`cargo test crash -- --nocapture`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use launchpad::entity::{activity_logs, projects};
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Statement,
};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::{Backend, TestDb};
use crate::process::Server;

/// Writes started at once in each round.
const WRITES: usize = 200;
/// The kill is sent once this many writes have been acknowledged.
const KILL_AFTER_ACKS: usize = 100;
const ROUNDS: usize = 3;
const STUDENTS: usize = 4;
/// A pool big enough for real concurrency (the tests' default is 1 + 4).
const SERVER_FLAGS: &[&str] = &["--db-pool-size", "4", "--db-max-overflow", "8"];

/// How each write of a round ended, as its client saw it.
#[derive(Default)]
struct Round {
    /// Titles answered 201.
    acknowledged: HashSet<String>,
    /// Titles whose connection died before an answer.
    unanswered: HashSet<String>,
    /// Other answers (status, title): a 5xx here other than 503 is a bug.
    refused: Vec<(StatusCode, String)>,
}

/// What the database holds after the crash.
struct Landed {
    /// Title → id of every project of the round.
    projects: HashMap<String, Uuid>,
    /// Ids with a `project.create` log row.
    logged: HashSet<Uuid>,
}

both_backends! {
    async fn acknowledged_writes_survive_sigkill_with_their_log_rows(testdb: TestDb) {
        let backend = if testdb.url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let mut server = Server::start(&testdb.url, &[&["--auto-migrate", "true"][..], SERVER_FLAGS].concat()).await;
        let mut tokens = Vec::new();
        for i in 0..STUDENTS {
            tokens.push(server.register(&format!("crash{i}@example.com")).await);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut unanswered_total = 0;
        for round in 0..ROUNDS {
            let started = Instant::now();
            let outcome = write_until_killed(&client, server, &tokens, round).await;
            let killed_after = started.elapsed();
            if backend == Backend::Sqlite {
                assert_sqlite_intact(&testdb).await;
            }
            let db = testdb.connect().await;
            let landed = landed(&db, round).await;
            db.close().await.expect("close");

            let lost: Vec<&String> = outcome
                .acknowledged
                .iter()
                .filter(|t| !landed.projects.contains_key(*t))
                .collect();
            let unlogged: Vec<&String> = landed
                .projects
                .iter()
                .filter(|(_, id)| !landed.logged.contains(*id))
                .map(|(t, _)| t)
                .collect();
            let unanswered_landed = outcome
                .unanswered
                .iter()
                .filter(|t| landed.projects.contains_key(*t))
                .count();
            let restart = Instant::now();
            server = Server::start(&testdb.url, SERVER_FLAGS).await;
            eprintln!(
                "crash {backend:?} round {round}: {} acknowledged, {} acknowledged and lost, \
                 {} unanswered of which {unanswered_landed} landed, {} refused {:?}, \
                 {} landed without a log row, kill after {killed_after:?}, \
                 restart to healthy {:?}{}",
                outcome.acknowledged.len(),
                lost.len(),
                outcome.unanswered.len(),
                outcome.refused.len(),
                outcome.refused.iter().map(|(s, _)| s.as_u16()).collect::<HashSet<_>>(),
                unlogged.len(),
                restart.elapsed(),
                if backend == Backend::Sqlite { ", integrity_check ok, foreign_key_check empty" } else { "" },
            );
            assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
            assert!(unlogged.is_empty(), "landed without a log row: {unlogged:?}");
            assert!(
                outcome.refused.iter().all(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE),
                "{:?}",
                outcome.refused
            );
            assert!(outcome.acknowledged.len() >= KILL_AFTER_ACKS);
            assert_eq!(
                outcome.acknowledged.len() + outcome.unanswered.len() + outcome.refused.len(),
                WRITES
            );
            unanswered_total += outcome.unanswered.len();
        }
        assert!(unanswered_total > 0, "the kills never caught a write in flight");

        // The restarted server reads and writes.
        let created = client
            .post(format!("{}/api/projects", server.base))
            .bearer_auth(&tokens[0])
            .json(&json!({"title": "after the crash"}))
            .send()
            .await
            .expect("create after restart");
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = created.json::<serde_json::Value>().await.expect("JSON")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let read = client
            .get(format!("{}/api/projects/{id}", server.base))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .expect("read after restart");
        assert_eq!(read.status(), StatusCode::OK);
    }
}

/// Starts [`WRITES`] project creations at once, SIGKILLs the server after
/// [`KILL_AFTER_ACKS`] acknowledgements, and waits for every client to finish.
async fn write_until_killed(
    client: &reqwest::Client,
    server: Server,
    tokens: &[String],
    round: usize,
) -> Round {
    let (acks, mut acked) = watch::channel(0usize);
    let acks = Arc::new(acks);
    let writes: Vec<_> = (0..WRITES)
        .map(|i| {
            let title = format!("crash r{round} w{i}");
            let request = client
                .post(format!("{}/api/projects", server.base))
                .bearer_auth(&tokens[i % tokens.len()])
                .json(&json!({ "title": title }));
            let acks = acks.clone();
            tokio::spawn(async move {
                let status = request.send().await.map(|r| r.status()).ok();
                if status == Some(StatusCode::CREATED) {
                    acks.send_modify(|n| *n += 1);
                }
                (title, status)
            })
        })
        .collect();
    // Once every client is done, the counter closes: a round short of acknowledgements
    // fails instead of waiting forever.
    drop(acks);
    let enough = acked.wait_for(|n| *n >= KILL_AFTER_ACKS).await.is_ok();
    assert!(
        enough,
        "fewer than {KILL_AFTER_ACKS} writes acknowledged:\n{}",
        server.log()
    );
    server.kill().await;

    let mut round = Round::default();
    for write in writes {
        match write.await.expect("join") {
            (title, Some(StatusCode::CREATED)) => {
                round.acknowledged.insert(title);
            }
            (title, None) => {
                round.unanswered.insert(title);
            }
            (title, Some(status)) => round.refused.push((status, title)),
        }
    }
    round
}

/// The round's projects and which of them have their `project.create` log row.
async fn landed(db: &DatabaseConnection, round: usize) -> Landed {
    let projects: HashMap<String, Uuid> = projects::Entity::find()
        .filter(projects::Column::Title.starts_with(format!("crash r{round} ")))
        .all(db)
        .await
        .expect("read projects")
        .into_iter()
        .map(|p| (p.title, p.id))
        .collect();
    let logged = activity_logs::Entity::find()
        .filter(activity_logs::Column::Action.eq("project.create"))
        .filter(activity_logs::Column::EntityId.is_in(projects.values().copied()))
        .all(db)
        .await
        .expect("read the activity log")
        .into_iter()
        .filter_map(|row| row.entity_id)
        .collect();
    Landed { projects, logged }
}

/// `PRAGMA integrity_check` says ok and `PRAGMA foreign_key_check` finds nothing, on the
/// file exactly as the crash left it.
async fn assert_sqlite_intact(testdb: &TestDb) {
    let db = testdb.connect().await;
    let pragma = |sql: &str| Statement::from_string(db.get_database_backend(), sql);
    let integrity = db
        .query_all_raw(pragma("PRAGMA integrity_check"))
        .await
        .expect("integrity_check");
    let verdicts: Vec<String> = integrity
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a verdict"))
        .collect();
    assert_eq!(verdicts, ["ok"]);
    let dangling = db
        .query_all_raw(pragma("PRAGMA foreign_key_check"))
        .await
        .expect("foreign_key_check");
    assert!(
        dangling.is_empty(),
        "{} dangling foreign keys",
        dangling.len()
    );
    db.close().await.expect("close");
}
