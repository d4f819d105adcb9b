//! An app that names the kit's tables, tag and locks its own way (its own process: the
//! names are process-wide) gets the same guarantees under those names.

use dbkit::audit::{Actor, Event};
use dbkit::migrations::{ActivityLog, Jobs};
use dbkit::testing::TestDb;
use dbkit::{Names, Writer, chain, jobs};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use uuid::Uuid;

const NAMES: Names = Names {
    audit_tag: "example.audit.v1",
    lock_prefix: "example",
    log_table: "audit_log",
    head_table: "audit_head",
    jobs_table: "queue",
    user_entity: "account",
    erasing_actions: &["account.erase"],
};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ActivityLog::named("m1_000001_log")),
            Box::new(Jobs::named("m1_000002_queue")),
        ]
    }
}

fn name_the_kit() {
    dbkit::configure(NAMES).expect("names");
}

dbkit::both_backends! {
    setup = name_the_kit;

    async fn the_log_and_queue_live_under_the_apps_names(db: TestDb) {
        let conn = db.connect().await;
        dbkit::migrate::up::<Migrator>(&conn, None).await.expect("migrate");
        let schema = dbkit::schema::snapshot(&conn).await.expect("snapshot").0;
        for table in ["audit_log", "audit_head", "queue"] {
            assert!(schema.iter().any(|line| line.contains(table)), "{table} missing: {schema:?}");
        }
        assert!(!schema.iter().any(|line| line.contains("activity_logs")), "{schema:?}");

        for _ in 0..3 {
            let writer = Writer::begin(&conn, &Actor::system()).await.expect("begin");
            writer.commit(Event::new("thing.create", "thing", Uuid::now_v7())).await.expect("commit");
        }
        // Sealed under the app's names too (on PostgreSQL the rows wait for it).
        chain::seal::seal(&conn).await.expect("seal");
        let report = chain::verify(&conn).await.expect("verify");
        assert_eq!((report.rows, report.problem), (3, None));
        assert!(jobs::enqueue(&conn, jobs::NewJob::new("k", serde_json::json!({}))).await.expect("enqueue").is_some());
    }

    async fn other_names_cannot_be_configured_once_in_use(_backend: dbkit::testing::Backend) {
        assert!(dbkit::configure(NAMES).is_ok(), "the same names again are fine");
        assert!(dbkit::configure(Names::DEFAULT).is_err());
        assert_eq!(dbkit::names().log_table, "audit_log");
    }
}
