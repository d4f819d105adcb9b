//! `dbkit` on its own, on SQLite and PostgreSQL: an app of a few lines (a users table, the
//! kit's activity log and job queue, a tree of soft-deletable tables) built only on the
//! kit's migrations, and what the kit promises about each.

mod attempts;
mod chain;
mod connect;
mod jobs;
mod schema;
mod soft_delete;

use dbkit::testing::TestDb;
use sea_orm::DatabaseConnection;

/// A fresh database of the test app, migrated.
pub async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = db.connect().await;
    dbkit::migrate::up::<schema::Migrator>(&conn, None)
        .await
        .expect("migrate");
    conn
}
