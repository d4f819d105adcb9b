//! The activity log the kit's migration creates: every write chains one row (on
//! PostgreSQL by the sealer, right after the commit), concurrent writers never chain onto
//! the same row, tampering is found, a row left unsealed too long is reported, and the
//! log cannot be rolled away once it holds a row.

use dbkit::audit::{Actor, Event};
use dbkit::testing::{Backend, TestDb};
use dbkit::{Writer, chain};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use uuid::Uuid;

use crate::migrated;

async fn record(db: &DatabaseConnection, n: usize) {
    for _ in 0..n {
        let writer = Writer::begin(db, &Actor::system()).await.expect("begin");
        writer
            .commit(Event::new("thing.create", "thing", Uuid::now_v7()))
            .await
            .expect("commit");
    }
}

/// Seals what the writes left (on PostgreSQL; nothing waits on SQLite).
async fn seal(db: &DatabaseConnection) -> u64 {
    chain::seal::seal(db).await.expect("seal")
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql);
}

dbkit::both_backends! {
    async fn concurrent_writers_chain_every_row_once_and_the_chain_verifies(db: TestDb) {
        let conn = migrated(&db).await;
        // Two sealers, as two nodes would run, sealing while the writers write.
        let sealers = [chain::Sealer::start(&conn), chain::Sealer::start(&conn)];
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let conn = conn.clone();
                tokio::spawn(async move { record(&conn, 10).await })
            })
            .collect();
        for w in writers {
            w.await.expect("writer");
        }
        for sealer in sealers {
            sealer.finish().await;
        }
        let report = chain::verify(&conn).await.expect("verify");
        assert_eq!(report.problem, None);
        assert_eq!((report.rows, report.head.seq, report.pending), (80, 80, 0));
    }

    async fn rows_wait_for_the_sealer_only_on_postgres_and_too_long_a_wait_is_reported(db: TestDb) {
        let conn = migrated(&db).await;
        record(&conn, 2).await;
        let report = chain::verify(&conn).await.expect("verify");
        assert_eq!(report.problem, None, "a row waiting within the window is no problem");
        let waiting = match db.backend {
            Backend::Postgres => 2,
            Backend::Sqlite => 0,
        };
        assert_eq!((report.pending, report.rows), (waiting, 2 - waiting));
        if db.backend == Backend::Postgres {
            // The sealer has not come for longer than it may take.
            exec(&conn, "UPDATE activity_logs SET created_at = created_at - INTERVAL '11 seconds'").await;
            let problem = chain::verify(&conn).await.expect("verify").problem.expect("a problem");
            assert!(problem.to_string().contains("not chained after 11 s"), "{problem}");
            assert_eq!(seal(&conn).await, 2);
        }
        let report = chain::verify(&conn).await.expect("verify");
        assert_eq!((report.problem, report.pending, report.rows), (None, 0, 2));
    }

    async fn an_edited_row_is_found_at_its_seq(db: TestDb) {
        let conn = migrated(&db).await;
        record(&conn, 3).await;
        seal(&conn).await;
        exec(&conn, "UPDATE activity_logs SET action = 'thing.delete' WHERE seq = 2").await;
        let problem = chain::verify(&conn).await.expect("verify").problem.expect("a problem");
        assert_eq!(problem.seq, Some(2), "{problem}");
    }

    async fn a_row_inserted_behind_the_chains_back_is_found(db: TestDb) {
        let conn = migrated(&db).await;
        record(&conn, 2).await;
        seal(&conn).await;
        let mut row = chain::Row::new(Uuid::now_v7(), "thing.forge", None, serde_json::json!({}), dbkit::time::now());
        row.seq = Some(3);
        chain::insert_sealed(&conn, vec![row]).await.expect("insert");
        assert!(chain::verify(&conn).await.expect("verify").problem.is_some());
    }

    async fn the_log_refuses_to_roll_back_once_it_holds_a_row(db: TestDb) {
        let conn = migrated(&db).await;
        // Every migration but the users table's: the log's and those after it.
        let steps = past_the_log();
        // Empty, it rolls back and forward again.
        dbkit::migrate::down::<crate::schema::Migrator>(&conn, steps).await.expect("down while empty");
        dbkit::migrate::up::<crate::schema::Migrator>(&conn, None).await.expect("up again");
        record(&conn, 1).await;
        // Refused while the row waits for the sealer, and once it is chained.
        let refused = dbkit::migrate::down::<crate::schema::Migrator>(&conn, steps).await;
        assert!(refused.is_err(), "an unsealed row is the record too");
        seal(&conn).await;
        let refused = dbkit::migrate::down::<crate::schema::Migrator>(&conn, steps).await;
        let message = refused.expect_err("refused").to_string();
        assert!(message.contains("refusing to roll back"), "{message}");
        assert_eq!(chain::verify(&conn).await.expect("verify").rows, 1);
    }
}

/// Steps that roll the test app back to its users table, past the log's migration.
fn past_the_log() -> u32 {
    use sea_orm_migration::MigratorTrait;
    u32::try_from(crate::schema::Migrator::migrations().len() - 1).expect("a few migrations")
}

/// PostgreSQL writers commit in any order: a row written first but committed last is
/// chained after the rows that committed before it, and the chain still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_chained_in_commit_order() {
    let db = TestDb::new(Backend::Postgres).await;
    let conn = migrated(&db).await;
    let first = Writer::begin(&conn, &Actor::system()).await.expect("begin");
    let first_id = Uuid::now_v7();
    dbkit::audit::insert(
        first.tx(),
        first.actor(),
        Event::new("thing.create", "thing", first_id),
    )
    .await
    .expect("the first row, written");
    let other = Writer::begin(&conn, &Actor::system()).await.expect("begin");
    other
        .commit(Event::new("other.create", "thing", Uuid::now_v7()))
        .await
        .expect("the other, committed");
    assert_eq!(seal(&conn).await, 1, "only the committed row is sealed");
    first
        .commit(Event::new("thing.update", "thing", first_id))
        .await
        .expect("commit the first");
    assert_eq!(seal(&conn).await, 2);
    let report = chain::verify(&conn).await.expect("verify");
    assert_eq!((report.problem, report.rows), (None, 3));
    let in_order = |by: &'static str| {
        let conn = conn.clone();
        async move {
            let sql = format!("SELECT action FROM activity_logs ORDER BY {by}");
            conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .expect("read")
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).expect("action"))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        in_order("seq").await,
        ["other.create", "thing.create", "thing.update"]
    );
    assert_eq!(
        in_order("created_at").await,
        ["thing.create", "other.create", "thing.update"]
    );
}
