//! The activity log the kit's migration creates: every write chains one row, concurrent
//! writers never chain onto the same row, tampering is found, and the log cannot be
//! rolled away once it holds a row.

use dbkit::audit::{Actor, Event};
use dbkit::testing::TestDb;
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

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql);
}

dbkit::both_backends! {
    async fn concurrent_writers_chain_every_row_once_and_the_chain_verifies(db: TestDb) {
        let conn = migrated(&db).await;
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let conn = conn.clone();
                tokio::spawn(async move { record(&conn, 10).await })
            })
            .collect();
        for w in writers {
            w.await.expect("writer");
        }
        let report = chain::verify(&conn).await.expect("verify");
        assert_eq!(report.problem, None);
        assert_eq!((report.rows, report.head.seq), (80, 80));
    }

    async fn an_edited_row_is_found_at_its_seq(db: TestDb) {
        let conn = migrated(&db).await;
        record(&conn, 3).await;
        exec(&conn, "UPDATE activity_logs SET action = 'thing.delete' WHERE seq = 2").await;
        let problem = chain::verify(&conn).await.expect("verify").problem.expect("a problem");
        assert_eq!(problem.seq, Some(2), "{problem}");
    }

    async fn a_row_inserted_behind_the_chains_back_is_found(db: TestDb) {
        let conn = migrated(&db).await;
        record(&conn, 2).await;
        let mut row = chain::Row::new(Uuid::now_v7(), "thing.forge", None, serde_json::json!({}), dbkit::time::now());
        row.seq = Some(3);
        chain::insert_sealed(&conn, vec![row]).await.expect("insert");
        assert!(chain::verify(&conn).await.expect("verify").problem.is_some());
    }

    async fn the_log_refuses_to_roll_back_once_it_holds_a_row(db: TestDb) {
        let conn = migrated(&db).await;
        // Empty, it rolls back and forward again.
        dbkit::migrate::down::<crate::schema::Migrator>(&conn, 3).await.expect("down while empty");
        dbkit::migrate::up::<crate::schema::Migrator>(&conn, None).await.expect("up again");
        record(&conn, 1).await;
        let refused = dbkit::migrate::down::<crate::schema::Migrator>(&conn, 3).await;
        let message = refused.expect_err("refused").to_string();
        assert!(message.contains("refusing to roll back"), "{message}");
        assert_eq!(chain::verify(&conn).await.expect("verify").rows, 1);
    }
}
