//! Building blocks of an app's migrations, and the migrations of the tables `dbkit`
//! itself writes, for the app to include in its own list:
//!
//! - [`ActivityLog`]: the activity log with its hash chain and the chain's head row
//!   ([`crate::audit`], [`crate::chain`]);
//! - [`Jobs`]: the job queue ([`crate::jobs`]);
//! - [`RefreshTokens`]: the refresh tokens of signed-in sessions ([`crate::sessions`]);
//! - [`AttemptBudgets`]: budgets of attempts shared by every process ([`crate::attempts`]);
//! - [`WriteMarks`]: where each user's last write is in the WAL ([`crate::replicas`]);
//! - [`soft_delete`] adds the columns [`crate::soft_delete`] needs to a table, and
//!   [`trash_indexes`] the indexes that list and restore its trash;
//! - [`add_twins`] adds the twins of free-text columns ([`crate::fold`]) to a table and
//!   fills them; [`byte_order`] makes a PostgreSQL text column compare as SQLite's do.
//!
//! Each kit migration takes its name from the app, so that it sorts where the app puts it
//! (after the users table its foreign keys point to):
//!
//! ```
//! use dbkit::migrations::{ActivityLog, Jobs};
//! use sea_orm_migration::{MigrationTrait, MigratorTrait};
//!
//! struct Migrator;
//! impl MigratorTrait for Migrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         vec![
//!             // Box::new(m20260101_000001_create_users::Migration),
//!             Box::new(ActivityLog::named("m20260101_000002_activity_log").users("users")),
//!             Box::new(Jobs::named("m20260101_000003_jobs")),
//!         ]
//!     }
//! }
//! assert_eq!(Migrator::migrations().len(), 2);
//! ```

mod activity_log;
mod attempts;
mod jobs;
mod sessions;
mod twins;
mod write_marks;

pub use activity_log::{ActivityLog, start_chain};
pub use attempts::AttemptBudgets;
pub use jobs::Jobs;
pub use sessions::RefreshTokens;
pub use twins::{TwinColumn, add_twins, byte_order, drop_twins};
pub use write_marks::WriteMarks;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

/// `id`: a UUIDv7 primary key (native `uuid` on PostgreSQL, a blob on SQLite).
pub fn id() -> ColumnDef {
    ColumnDef::new("id")
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}

/// `created_at` and `updated_at`, UTC, set by the application.
pub fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new("created_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new("updated_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
}

/// `deleted_at`, `deleted_by` (→ `users`.id, SET NULL) and `delete_batch_id`: what
/// [`crate::soft_delete`] needs on the table `name`.
pub fn soft_delete<'t>(
    table: &'t mut TableCreateStatement,
    name: &'static str,
    users: &'static str,
) -> &'t mut TableCreateStatement {
    table
        .col(
            ColumnDef::new("deleted_at")
                .timestamp_with_time_zone()
                .null(),
        )
        .col(ColumnDef::new("deleted_by").uuid().null())
        .col(ColumnDef::new("delete_batch_id").uuid().null())
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_deleted_by"))
                .from(name, "deleted_by")
                .to(users, "id")
                .on_delete(ForeignKeyAction::SetNull),
        )
}

/// A foreign key named `fk_<table>_<column>` to `<to>.id`.
pub fn fk(
    table: &'static str,
    column: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

/// A named CHECK.
pub fn check(name: &str, sql: &str) -> (String, Expr) {
    (name.to_owned(), Expr::cust(sql.to_owned()))
}

/// Indexes for the trash of a soft-deletable table: listing it and restoring a batch.
pub fn trash_indexes(table: &str) -> [String; 2] {
    [
        format!(
            "CREATE INDEX ix_{table}_trash ON {table} (deleted_at) WHERE deleted_at IS NOT NULL"
        ),
        format!(
            "CREATE INDEX ix_{table}_delete_batch ON {table} (delete_batch_id) \
             WHERE delete_batch_id IS NOT NULL"
        ),
    ]
}

/// Runs raw statements that read the same on both backends (indexes, mostly).
///
/// Through `execute_raw`, not `execute_unprepared`: only the former reaches the
/// connection's statement callback, which is how `migrate --dry-run` records the SQL.
pub async fn run(
    manager: &SchemaManager<'_>,
    statements: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for sql in statements {
        conn.execute_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.as_ref(),
        ))
        .await?;
    }
    Ok(())
}

/// Drops tables, children first.
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).to_owned())
            .await?;
    }
    Ok(())
}

/// Refuses to roll back while `count_sql` (one `COUNT(*)`) finds rows: a down that would
/// destroy what the up cannot rebuild — and so silently weaken a guarantee — does not run.
/// `what` names those rows and why they matter, for the operator.
pub async fn refuse_down_while(
    manager: &SchemaManager<'_>,
    count_sql: &str,
    what: &str,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let n: i64 = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            count_sql,
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or_default();
    if n > 0 {
        return Err(DbErr::Migration(format!(
            "refusing to roll back: {n} {what}"
        )));
    }
    Ok(())
}
