//! Twin columns ([`crate::fold`]) on tables that already hold rows: added, filled from
//! those rows, removed again on the way down; and text columns put in byte order on
//! PostgreSQL, as the twins are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::fold::{Form, refill_table};

/// A twin column a migration adds: `column` holds `form` of `source`, NULL where the
/// source is NULL (a NOT NULL source gets a NOT NULL twin on PostgreSQL; SQLite cannot add
/// one to a table with rows, and the entity's non-optional field refuses a NULL there).
#[derive(Debug, Clone, Copy)]
pub struct TwinColumn {
    /// The twin.
    pub column: &'static str,
    /// The free-text column it derives from.
    pub source: &'static str,
    /// What it holds.
    pub form: Form,
    /// Whether the source may be NULL.
    pub nullable: bool,
}

/// The SQL type of a twin: compared and ordered byte by byte on both backends
/// (`COLLATE "C"` on PostgreSQL whatever the database's collation; SQLite's `BINARY`).
fn twin_type(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "text COLLATE \"C\"",
        _ => "TEXT",
    }
}

/// Adds `twins` to `table` and fills them from its rows, in the migration's transaction.
pub async fn add_twins(
    manager: &SchemaManager<'_>,
    table: &str,
    twins: &[TwinColumn],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let ty = twin_type(backend);
    let added: Vec<String> = twins
        .iter()
        .map(|t| format!("ALTER TABLE {table} ADD COLUMN {} {ty}", t.column))
        .collect();
    super::run(manager, added).await?;
    let names: Vec<(&str, &str, Form)> =
        twins.iter().map(|t| (t.source, t.column, t.form)).collect();
    refill_table(manager.get_connection(), table, &names, true).await?;
    if backend == DbBackend::Postgres {
        let required: Vec<String> = twins
            .iter()
            .filter(|t| !t.nullable)
            .map(|t| format!("ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL", t.column))
            .collect();
        super::run(manager, required).await?;
    }
    Ok(())
}

/// Drops `twins` from `table` (their indexes must be gone first).
pub async fn drop_twins(
    manager: &SchemaManager<'_>,
    table: &str,
    twins: &[TwinColumn],
) -> Result<(), DbErr> {
    let dropped: Vec<String> = twins
        .iter()
        .rev()
        .map(|t| format!("ALTER TABLE {table} DROP COLUMN {}", t.column))
        .collect();
    super::run(manager, dropped).await
}

/// PostgreSQL: compares and orders `table.column` byte by byte (`COLLATE "C"`), as SQLite
/// does, whatever collation the database was created with; its indexes are rebuilt.
/// SQLite: nothing to do. `byte_order = false` gives the column back the database's
/// default (the way down).
pub async fn byte_order(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    byte_order: bool,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let collation = if byte_order { "\"C\"" } else { "\"default\"" };
    // The column keeps its type (`varchar(20)`, say); only the collation changes.
    let sql = format!(
        "DO $$ BEGIN EXECUTE format('ALTER TABLE {table} ALTER COLUMN {column} TYPE %s \
         COLLATE {collation}', (SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = '{table}'::regclass AND attname = '{column}')); END $$"
    );
    super::run(manager, [sql]).await
}
