//! The migrations and dbkit's migration tools, straight on a database (no server).

use std::collections::BTreeSet;

use dbkit::migrate::{self, Direction};
use dbkit::schema::{self, Snapshot};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::both_backends;
use crate::helpers::{TestDb, settings};

/// Every migration's name, oldest first.
fn names() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

async fn snapshot(db: &DatabaseConnection) -> Snapshot {
    schema::snapshot(db).await.expect("read the schema")
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn assert_same_schema(expected: &Snapshot, live: &Snapshot, context: &str) {
    assert!(
        expected == live,
        "{context}: {:#?}",
        Snapshot::diff(expected, live)
    );
}

/// Applies every migration and returns the pool.
async fn migrated(testdb: &TestDb) -> DatabaseConnection {
    let db = testdb.connect().await;
    assert_eq!(
        migrate::up::<Migrator>(&db, None).await.expect("up"),
        names()
    );
    db
}

/// The `ux_…` and `ck_…` names in a snapshot.
fn constraint_names(snapshot: &Snapshot) -> BTreeSet<String> {
    snapshot
        .0
        .iter()
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|token| token.starts_with("ux_") || token.starts_with("ck_"))
        .map(str::to_owned)
        .collect()
}

both_backends! {
    async fn down_all_then_up_again_rebuilds_the_identical_schema(testdb: TestDb) {
        let all = names();
        let db = migrated(&testdb).await;
        let first = snapshot(&db).await;
        assert!(first.0.iter().any(|l| l.contains("users")), "no users table after up: {first:#?}");

        let rolled_back = migrate::down::<Migrator>(&db, all.len() as u32).await.expect("down");
        assert_eq!(rolled_back, all.iter().rev().cloned().collect::<Vec<_>>(), "newest first");
        let emptied = snapshot(&db).await;
        assert!(!emptied.0.is_empty(), "the bookkeeping table should remain");
        for line in &emptied.0 {
            assert!(line.contains("seaql_migrations"), "left behind by a full down: {line}");
            assert!(!line.contains("users"), "left behind by a full down: {line}");
        }
        assert_eq!(migrate::pending::<Migrator>(&db).await.expect("pending"), all);
        assert_eq!(migrate::current::<Migrator>(&db).await.expect("current"), None);

        assert_eq!(migrate::up::<Migrator>(&db, None).await.expect("up again"), all);
        assert_same_schema(&first, &snapshot(&db).await, "up → down → up changed the schema");
    }

    async fn up_two_applies_exactly_the_first_two_migrations(testdb: TestDb) {
        let all = names();
        let db = testdb.connect().await;
        assert_eq!(migrate::up::<Migrator>(&db, Some(2)).await.expect("up 2"), all[..2]);

        let status = migrate::status::<Migrator>(&db).await.expect("status");
        assert_eq!(status.iter().map(|m| &m.name).collect::<Vec<_>>(), all.iter().collect::<Vec<_>>());
        let applied: Vec<bool> = status.iter().map(|m| m.applied_at.is_some()).collect();
        let mut expected = vec![false; all.len()];
        expected[..2].fill(true);
        assert_eq!(applied, expected, "{status:#?}");

        assert_eq!(migrate::current::<Migrator>(&db).await.expect("current").as_ref(), Some(&all[1]));
        let history: Vec<String> =
            migrate::history::<Migrator>(&db).await.expect("history").into_iter().map(|m| m.name).collect();
        assert_eq!(history, all[..2]);
        assert_eq!(migrate::pending::<Migrator>(&db).await.expect("pending"), all[2..]);
    }

    async fn check_reports_added_columns_dropped_indexes_and_pending_migrations(testdb: TestDb) {
        let db = migrated(&testdb).await;
        let settings = settings(&testdb.url, &[]).db();
        let check = || async { migrate::check::<Migrator>(&db, &settings).await.expect("check") };

        let report = check().await;
        assert!(report.is_clean(), "freshly migrated: {report:#?}");

        execute(&db, "ALTER TABLE plans ADD COLUMN rogue INTEGER").await;
        let report = check().await;
        assert!(!report.is_clean());
        assert!(report.pending.is_empty() && report.unknown.is_empty(), "{report:#?}");
        assert!(report.drift.unexpected.iter().any(|l| l.contains("rogue")), "{report:#?}");

        execute(&db, "DROP INDEX ix_plans_created_live").await;
        let report = check().await;
        assert!(report.drift.missing.iter().any(|l| l.contains("ix_plans_created_live")), "{report:#?}");
        assert!(!report.drift.unexpected.iter().any(|l| l.contains("ix_plans_created_live")), "{report:#?}");

        migrate::down::<Migrator>(&db, 1).await.expect("down 1");
        let report = check().await;
        assert_eq!(report.pending, names()[names().len() - 1..], "{report:#?}");
        assert!(report.unknown.is_empty(), "{report:#?}");
    }

    async fn printing_the_sql_of_a_rollback_leaves_the_database_alone(testdb: TestDb) {
        let db = migrated(&testdb).await;
        let settings = settings(&testdb.url, &[]).db();
        let before = snapshot(&db).await;
        let status_before = migrate::status::<Migrator>(&db).await.expect("status");

        let last = migrate::sql::<Migrator>(&db, &settings, Direction::Down, Some(1)).await.expect("sql");
        let two = migrate::sql::<Migrator>(&db, &settings, Direction::Down, Some(2)).await.expect("sql");
        // Rolling back drops what the migrations made (and rebuilds what they replaced);
        // two steps print the last migration's statements and then the one before's,
        // each under its name.
        let names = names();
        assert_eq!(last.len(), 1, "{last:#?}");
        assert_eq!(last[0].0, names[names.len() - 1]);
        // (The last drops a PostgreSQL trigger: nothing on SQLite, hence both steps here.)
        assert!(two.iter().flat_map(|(_, s)| s).any(|s| s.contains("DROP")), "{two:#?}");
        assert_eq!(two.len(), 2, "{two:#?}");
        assert!(two.starts_with(&last), "{two:#?}");
        assert_eq!(two[1].0, names[names.len() - 2]);

        assert_same_schema(&before, &snapshot(&db).await, "printing SQL changed the schema");
        assert_eq!(migrate::status::<Migrator>(&db).await.expect("status"), status_before);
    }

    async fn every_named_unique_index_and_check_is_explained(testdb: TestDb) {
        let db = migrated(&testdb).await;
        let live = constraint_names(&snapshot(&db).await);
        let explained: BTreeSet<String> =
            launchpad::constraints::CONSTRAINTS.iter().map(|c| c.name.to_owned()).collect();
        assert!(live.contains("ux_users_email_live") && live.contains("ck_jobs_status"), "scan found: {live:#?}");
        let unexplained: Vec<_> = live.difference(&explained).collect();
        assert!(unexplained.is_empty(), "not in launchpad::constraints::CONSTRAINTS: {unexplained:?}");
        let stale: Vec<_> = explained.difference(&live).collect();
        assert!(stale.is_empty(), "in CONSTRAINTS but not in the schema: {stale:?}");
    }
}
