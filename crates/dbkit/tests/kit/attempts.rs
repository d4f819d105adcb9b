//! Budgets of attempts shared through the database: processes racing on one key take
//! exactly its budget between them, the refusal says how long to wait, and a key's
//! budget is its own.

use std::num::NonZeroU32;

use dbkit::attempts::{self, Verdict};
use dbkit::testing::TestDb;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::migrated;

const FIVE: NonZeroU32 = NonZeroU32::new(5).expect("five");

async fn allowed(conns: &[DatabaseConnection], key: &'static str, tries: usize) -> usize {
    let racers: Vec<_> = (0..tries)
        .map(|i| {
            let conn = conns[i % conns.len()].clone();
            tokio::spawn(async move { attempts::spend(&conn, key, FIVE).await.expect("spend") })
        })
        .collect();
    let mut allowed = 0;
    for racer in racers {
        if racer.await.expect("racer") == Verdict::Allowed {
            allowed += 1;
        }
    }
    allowed
}

dbkit::both_backends! {
    async fn processes_racing_on_a_key_take_exactly_its_budget(db: TestDb) {
        // Two pools: two processes, as far as the database can tell.
        let conns = [migrated(&db).await, db.connect().await];
        assert_eq!(allowed(&conns, "ip:192.0.2.1", 20).await, 5);
        match attempts::spend(&conns[1], "ip:192.0.2.1", FIVE).await.expect("spend") {
            // One attempt comes back every 12 s.
            Verdict::Refused { retry_after } => {
                assert!((11..=12).contains(&retry_after.as_secs()), "{retry_after:?}");
            }
            Verdict::Allowed => panic!("a sixth attempt within the minute"),
        }
        // Another key has its own budget.
        assert_eq!(allowed(&conns, "ip:192.0.2.2", 5).await, 5);
    }

    async fn a_budget_refills_with_time_and_stores_no_key_in_clear(db: TestDb) {
        let conn = migrated(&db).await;
        assert_eq!(allowed(std::slice::from_ref(&conn), "account:someone@example.com", 6).await, 5);
        // Twelve seconds ago, every attempt would have been spent one interval earlier.
        let backdate = format!("UPDATE {} SET tat = tat - 12000000", attempts::TABLE);
        conn.execute_raw(Statement::from_string(conn.get_database_backend(), backdate))
            .await
            .expect("backdate");
        assert_eq!(allowed(std::slice::from_ref(&conn), "account:someone@example.com", 2).await, 1);
        let keys = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT key_hash FROM {}", attempts::TABLE),
            ))
            .await
            .expect("keys");
        let key: String = keys[0].try_get("", "key_hash").expect("key_hash");
        assert_eq!((keys.len(), key.len()), (1, 64));
        assert!(!key.contains("someone"));
    }
}
