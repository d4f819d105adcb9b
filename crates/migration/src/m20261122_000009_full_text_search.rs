//! Full-text search on projects and ideas (title and description).
//!
//! - PostgreSQL: a generated `search_vector tsvector` column (`simple` configuration: no
//!   stemming, no stop words) with a GIN index.
//! - SQLite: an FTS5 external-content table per searched table (`<table>_fts`, default
//!   `unicode61` tokenizer) whose rowid is the table's rowid, filled from the existing
//!   rows and kept in sync by insert, update and delete triggers.
//!
//! The list query (`dbkit::list::FullText`) matches every word of the search as a
//! prefix on either side.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The searched tables: (table, FTS5 table / index stem).
const TABLES: &[(&str, &str)] = &[
    ("projects", "projects"),
    ("idea_generation_history", "ideas"),
];

fn postgres_up(table: &str, stem: &str) -> [String; 2] {
    [
        format!(
            "ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
             (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))) \
             STORED"
        ),
        format!("CREATE INDEX ix_{stem}_search ON {table} USING GIN (search_vector)"),
    ]
}

fn postgres_down(table: &str, stem: &str) -> [String; 2] {
    [
        format!("DROP INDEX ix_{stem}_search"),
        format!("ALTER TABLE {table} DROP COLUMN search_vector"),
    ]
}

fn sqlite_up(table: &str, stem: &str) -> [String; 5] {
    let fts = format!("{stem}_fts");
    let delete_old = format!(
        "INSERT INTO {fts} ({fts}, rowid, title, description) \
         VALUES ('delete', old.rowid, old.title, old.description);"
    );
    let insert_new = format!(
        "INSERT INTO {fts} (rowid, title, description) \
         VALUES (new.rowid, new.title, new.description);"
    );
    [
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5(title, description, \
             content='{table}', content_rowid='rowid')"
        ),
        format!("INSERT INTO {fts} ({fts}) VALUES ('rebuild')"),
        format!("CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN {insert_new} END"),
        format!("CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN {delete_old} END"),
        format!(
            "CREATE TRIGGER {fts}_after_update AFTER UPDATE OF title, description ON {table} \
             BEGIN {delete_old} {insert_new} END"
        ),
    ]
}

fn sqlite_down(stem: &str) -> [String; 4] {
    let fts = format!("{stem}_fts");
    [
        format!("DROP TRIGGER {fts}_after_update"),
        format!("DROP TRIGGER {fts}_after_delete"),
        format!("DROP TRIGGER {fts}_after_insert"),
        format!("DROP TABLE {fts}"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, stem) in TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => common::run(manager, postgres_up(table, stem)).await?,
                _ => common::run(manager, sqlite_up(table, stem)).await?,
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, stem) in TABLES.iter().rev() {
            match manager.get_database_backend() {
                DbBackend::Postgres => common::run(manager, postgres_down(table, stem)).await?,
                _ => common::run(manager, sqlite_down(stem)).await?,
            }
        }
        Ok(())
    }
}
