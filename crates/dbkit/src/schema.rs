//! A normalised description of the live schema, for drift checks and migration tests.
//!
//! Two databases migrated the same way give the same [`Snapshot`]; any difference in a
//! table, column, type, default, nullability, index (with its predicate), foreign key or
//! check shows up as a line that one side has and the other lacks.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// One line per schema object, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(pub BTreeSet<String>);

/// What one snapshot has that the other lacks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drift {
    /// In the expected schema, missing from the live one.
    pub missing: Vec<String>,
    /// In the live schema, not expected.
    pub unexpected: Vec<String>,
}

impl Drift {
    /// No difference.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

impl Snapshot {
    /// The differences between what was expected and what is live.
    pub fn diff(expected: &Snapshot, live: &Snapshot) -> Drift {
        Drift {
            missing: expected.0.difference(&live.0).cloned().collect(),
            unexpected: live.0.difference(&expected.0).cloned().collect(),
        }
    }
}

/// Reads the schema of the database (on PostgreSQL, of the current schema).
pub async fn snapshot(db: &impl ConnectionTrait) -> Result<Snapshot, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => snapshot_postgres(db).await,
        _ => snapshot_sqlite(db).await,
    }
}

async fn rows(db: &impl ConnectionTrait, sql: &str) -> Result<Vec<Vec<String>>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|row| {
            (0..)
                .map_while(|i| row.try_get_by_index::<Option<String>>(i).ok())
                .map(|v| Ok(v.unwrap_or_default()))
                .collect()
        })
        .collect()
}

async fn snapshot_sqlite(db: &impl ConnectionTrait) -> Result<Snapshot, DbErr> {
    // SQLite keeps each object's defining SQL, rewritten by every ALTER: it is the schema.
    let sql = "SELECT type, name, tbl_name, sql FROM sqlite_master \
               WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL";
    Ok(Snapshot(
        rows(db, sql)
            .await?
            .into_iter()
            .map(|r| r.join(" | "))
            .collect(),
    ))
}

async fn snapshot_postgres(db: &impl ConnectionTrait) -> Result<Snapshot, DbErr> {
    let schema = rows(db, "SELECT current_schema()::text").await?;
    let schema = schema
        .first()
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or_default();
    let queries = [
        "SELECT 'column', table_name::text, column_name::text, data_type::text, udt_name::text, \
         is_nullable::text, coalesce(column_default, ''), coalesce(generation_expression, '') \
         FROM information_schema.columns WHERE table_schema = current_schema()",
        "SELECT 'constraint', conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
        "SELECT 'index', tablename::text, indexname::text, indexdef \
         FROM pg_indexes WHERE schemaname = current_schema()",
    ];
    let mut lines = BTreeSet::new();
    for sql in queries {
        for row in rows(db, sql).await? {
            // Index definitions name the schema; two copies of one schema must compare equal.
            let line = row
                .join(" | ")
                .replace(&format!("\"{schema}\"."), "")
                .replace(&format!("{schema}."), "");
            lines.insert(line);
        }
    }
    Ok(Snapshot(lines))
}
