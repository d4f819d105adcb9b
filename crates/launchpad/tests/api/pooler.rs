//! Serving through PgBouncer in transaction mode (`DB_TRANSACTION_POOLER=true`,
//! `DATABASE_DIRECT_URL` for migrations, session locks and `LISTEN`): two nodes, eight
//! users at once over two server connections — every answer right, nothing lost, the
//! log verifies, `migrate down` still sees the servers. Without the setting, the same
//! pooler breaks requests at once.

use std::sync::Arc;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDb, cli};
use crate::pgbouncer::PgBouncer;

const USERS: usize = 8;
const ROUNDS: usize = 10;

/// A user's journey, alternating nodes: create a project, read it and the list on the
/// other node, rename it. The answers that were not what they should be.
async fn journey(nodes: [Arc<TestApp>; 2], n: usize) -> Vec<String> {
    let mut wrong = Vec::new();
    let me = nodes[n % 2]
        .register(&format!("pooled{n}@example.com"))
        .await;
    for round in 0..ROUNDS {
        let (here, there) = (&nodes[(n + round) % 2], &nodes[(n + round + 1) % 2]);
        let title = format!("User {n} project {round}");
        let created = here
            .post("/api/projects", me.token(), json!({ "title": title }))
            .await;
        if created.status != StatusCode::CREATED {
            wrong.push(format!("create: {} {}", created.status, created.body));
            continue;
        }
        let id = created.body["id"].as_str().unwrap_or_default().to_owned();
        let read = there.get(&format!("/api/projects/{id}"), me.token()).await;
        if read.status != StatusCode::OK || read.body["title"] != title.as_str() {
            wrong.push(format!("read: {} {}", read.status, read.body));
        }
        let list = there.get("/api/projects?per_page=100", me.token()).await;
        if list.status != StatusCode::OK || list.body["meta"]["total"] != round + 1 {
            wrong.push(format!("list: {} {}", list.status, list.body));
        }
        let renamed = here
            .patch(
                &format!("/api/projects/{id}"),
                me.token(),
                json!({ "title": format!("{title}!") }),
            )
            .await;
        if renamed.status != StatusCode::OK {
            wrong.push(format!("rename: {} {}", renamed.status, renamed.body));
        }
    }
    wrong
}

async fn count(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql)
        .expect("a row");
    let n = row.try_get_by_index::<i64>(0).expect("a count");
    db.close().await.expect("close");
    n
}

#[tokio::test]
async fn two_nodes_through_pgbouncer_in_transaction_mode_answer_everything_right() {
    crate::helpers::configure_kits();
    let bouncer = PgBouncer::start(2).await;
    let (pooled, direct) = (bouncer.url(), bouncer.direct_url());
    let flags = [
        "--database-url",
        &pooled,
        "--database-direct-url",
        &direct,
        "--db-transaction-pooler",
        "true",
        "--db-pool-size",
        "2",
    ];
    let a = Arc::new(
        TestApp::spawn_on(TestDb::existing(pooled.clone()), Backend::Postgres, &flags).await,
    );
    let b = Arc::new(a.another_node(&flags).await);
    let began = std::time::Instant::now();
    let journeys: Vec<_> = (0..USERS)
        .map(|n| tokio::spawn(journey([a.clone(), b.clone()], n)))
        .collect();
    let mut wrong = Vec::new();
    for j in journeys {
        wrong.extend(j.await.expect("a journey"));
    }
    let requests = USERS * (1 + ROUNDS * 4);
    println!(
        "through pgbouncer (transaction mode, 2 server connections): {requests} requests from \
         {USERS} users over 2 nodes in {:.1} s, {} wrong",
        began.elapsed().as_secs_f64(),
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} wrong answers, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(3)]
    );
    let stored = count(
        &direct,
        "SELECT count(*) FROM projects WHERE title LIKE '%!'",
    )
    .await;
    assert_eq!(
        stored,
        (USERS * ROUNDS) as i64,
        "renamed projects on the server"
    );

    // The servers hold the in-use lock on the server itself, not on a lent connection.
    let down = cli(&direct, &["migrate", "down", "--yes"]).await;
    assert_eq!(down.code, Some(2), "{down}");
    assert!(down.stderr.contains("is using this database"), "{down}");
    a.seal().await;
    let verified = cli(&direct, &["verify"]).await;
    assert_eq!(verified.code, Some(0), "{verified}");

    // The same pooler without the setting (and without a statement timeout, whose
    // startup option the pooler refuses outright): requests fail.
    let plain = a
        .another_node(&[
            "--database-url",
            &pooled,
            "--database-direct-url",
            &direct,
            "--db-statement-timeout",
            "0",
        ])
        .await;
    let me = a.register("plain@example.com").await;
    let mut failed = 0;
    for _ in 0..30 {
        failed +=
            usize::from(plain.get("/api/projects", me.token()).await.status != StatusCode::OK);
    }
    assert!(
        failed > 0,
        "a pool with a statement cache worked through a transaction pooler"
    );
    println!("without DB_TRANSACTION_POOLER: {failed} of 30 reads failed");
}

/// The setting needs PostgreSQL and the server's own URL: otherwise start-up stops,
/// naming what is missing.
#[tokio::test]
async fn a_transaction_pooler_needs_postgres_and_the_servers_own_url() {
    crate::helpers::configure_kits();
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let postgres = TestDb::new(Backend::Postgres).await;
    for (url, extra, named) in [
        (
            &sqlite.url,
            vec!["--database-direct-url", sqlite.url.as_str()],
            "DB_TRANSACTION_POOLER",
        ),
        (&postgres.url, vec![], "DATABASE_DIRECT_URL"),
        (
            &postgres.url,
            vec!["--database-direct-url", "sqlite://x.db"],
            "DATABASE_DIRECT_URL",
        ),
    ] {
        let mut flags = vec!["--db-transaction-pooler", "true"];
        flags.extend(extra);
        let refused = launchpad::startup::Application::build(crate::helpers::settings(url, &flags))
            .await
            .err()
            .unwrap_or_else(|| panic!("not refused: {named} {flags:?}"))
            .to_string();
        assert!(refused.contains(named), "{refused}");
    }
}
