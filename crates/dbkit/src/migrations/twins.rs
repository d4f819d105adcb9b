//! Twin columns ([`crate::fold`]) on tables that already hold rows: added, filled from
//! those rows, removed again on the way down; and text columns put in byte order on
//! PostgreSQL, as the twins are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crate::fold::Form;

/// Rows filled per round trip when a twin is added to a table that has rows.
const FILL_BATCH: u64 = 500;

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
    fill_twins(manager, table, twins).await?;
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

/// Fills the twins of every row of `table`, a batch of rows at a time in `id` order: the
/// fold is Rust's ([`crate::fold`]), so it cannot be one SQL statement.
async fn fill_twins(
    manager: &SchemaManager<'_>,
    table: &str,
    twins: &[TwinColumn],
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = Query::select();
        select
            .column("id")
            .columns(twins.iter().map(|t| t.source))
            .from(Alias::new(table))
            .order_by("id", Order::Asc)
            .limit(FILL_BATCH);
        if let Some(last) = after {
            select.and_where(Expr::col("id").gt(last));
        }
        let rows = conn.query_all(&select).await?;
        for row in &rows {
            let id: Uuid = row.try_get_by_index(0)?;
            let mut update = Query::update();
            update
                .table(Alias::new(table))
                .and_where(Expr::col("id").eq(id));
            for (i, twin) in twins.iter().enumerate() {
                let source: Option<String> = row.try_get_by_index(i + 1)?;
                let value = twin.form.of_value(&Value::String(source));
                update.value(Alias::new(twin.column), value);
            }
            conn.execute(&update).await?;
            after = Some(id);
        }
        if (rows.len() as u64) < FILL_BATCH {
            return Ok(());
        }
    }
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
