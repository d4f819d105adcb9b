//! Search and sort that ignore accents and case, alike on both backends
//! (`dbkit::fold`, docs/API-DESIGN.md):
//!
//! - every free-text column a list searches or sorts gets a twin holding its fold
//!   (`<column>_fold`, byte-ordered: `COLLATE "C"` on PostgreSQL), filled here from the
//!   rows already there and by the application on every write;
//! - projects and ideas get twins holding their title's and description's words
//!   (`<column>_words`), and the full-text indexes of migration 000009 are rebuilt over
//!   them — a `tsvector` of exactly those words on PostgreSQL, an FTS5 table with the
//!   `ascii` tokenizer on SQLite — so neither database's tokenizer decides what a word is;
//! - the code columns lists sort by (`status`, `kind`) compare byte by byte on PostgreSQL
//!   too, whatever the database's default collation;
//! - indexes serve every list sorted by a twin, for its owner and for an admin.

use dbkit::fold::Form;
use dbkit::migrations::{TwinColumn, add_twins, byte_order, drop_twins};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

const fn fold(column: &'static str, source: &'static str, nullable: bool) -> TwinColumn {
    TwinColumn {
        column,
        source,
        form: Form::Fold,
        nullable,
    }
}

const fn words(column: &'static str, source: &'static str, nullable: bool) -> TwinColumn {
    TwinColumn {
        column,
        source,
        form: Form::Words,
        nullable,
    }
}

/// Each table's twins.
const TWINS: &[(&str, &[TwinColumn])] = &[
    (
        "users",
        &[
            fold("email_fold", "email", false),
            fold("name_fold", "name", false),
        ],
    ),
    (
        "plans",
        &[
            fold("name_fold", "name", false),
            fold("description_fold", "description", true),
        ],
    ),
    (
        "services",
        &[
            fold("name_fold", "name", false),
            fold("description_fold", "description", true),
        ],
    ),
    (
        "files",
        &[fold("original_name_fold", "original_name", false)],
    ),
    (
        "orders",
        &[fold("payment_reference_fold", "payment_reference", true)],
    ),
    ("synopsis", &[fold("title_fold", "title", false)]),
    (
        "meetings",
        &[
            fold("topic_fold", "topic", false),
            fold("notes_fold", "notes", true),
        ],
    ),
    (
        "admin_requests",
        &[
            fold("request_type_fold", "request_type", false),
            fold("message_fold", "message", false),
        ],
    ),
    ("projects", FULL_TEXT_TWINS),
    ("idea_generation_history", FULL_TEXT_TWINS),
];

const FULL_TEXT_TWINS: &[TwinColumn] = &[
    fold("title_fold", "title", false),
    words("title_words", "title", false),
    words("description_words", "description", true),
];

/// The full-text tables: (table, FTS5 table / index stem), as in migration 000009.
const FULL_TEXT: &[(&str, &str)] = &[
    ("projects", "projects"),
    ("idea_generation_history", "ideas"),
];

/// Code columns lists sort by: byte order on PostgreSQL.
const CODES: &[(&str, &str)] = &[
    ("projects", "status"),
    ("orders", "status"),
    ("meetings", "status"),
    ("admin_requests", "status"),
    ("user_services", "status"),
    ("synopsis", "status"),
    ("files", "kind"),
];

/// (name, table, columns), all over live rows: a list sorted by a twin walks one, for
/// its owner (the first column) or for an admin.
const INDEXES: &[(&str, &str, &str)] = &[
    ("ix_users_email_fold_live", "users", "email_fold, id"),
    ("ix_users_name_fold_live", "users", "name_fold, id"),
    ("ix_plans_name_fold_live", "plans", "name_fold, id"),
    ("ix_services_name_fold_live", "services", "name_fold, id"),
    (
        "ix_files_project_name_fold_live",
        "files",
        "project_id, original_name_fold, id",
    ),
    (
        "ix_synopsis_user_title_fold_live",
        "synopsis",
        "user_id, title_fold, id",
    ),
    ("ix_synopsis_title_fold_live", "synopsis", "title_fold, id"),
    (
        "ix_admin_requests_user_type_fold_live",
        "admin_requests",
        "user_id, request_type_fold, id",
    ),
    (
        "ix_admin_requests_type_fold_live",
        "admin_requests",
        "request_type_fold, id",
    ),
    (
        "ix_projects_user_title_fold_live",
        "projects",
        "user_id, title_fold, id",
    ),
    ("ix_projects_title_fold_live", "projects", "title_fold, id"),
    (
        "ix_ideas_user_title_fold_live",
        "idea_generation_history",
        "user_id, title_fold, id",
    ),
    (
        "ix_ideas_title_fold_live",
        "idea_generation_history",
        "title_fold, id",
    ),
];

/// PostgreSQL: the `tsvector` of migration 000009, now of the words twins, taken as they
/// are (`array_to_tsvector`: no parser, no dictionary).
fn postgres_full_text(table: &str, stem: &str) -> [String; 4] {
    [
        format!("DROP INDEX ix_{stem}_search"),
        format!("ALTER TABLE {table} DROP COLUMN search_vector"),
        format!(
            "ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
             (array_to_tsvector(array_remove(string_to_array(\
             title_words || ' ' || coalesce(description_words, ''), ' '), ''))) STORED"
        ),
        format!("CREATE INDEX ix_{stem}_search ON {table} USING GIN (search_vector)"),
    ]
}

/// PostgreSQL, down: migration 000009's `tsvector`.
fn postgres_full_text_down(table: &str, stem: &str) -> [String; 4] {
    [
        format!("DROP INDEX ix_{stem}_search"),
        format!("ALTER TABLE {table} DROP COLUMN search_vector"),
        format!(
            "ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
             (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))) \
             STORED"
        ),
        format!("CREATE INDEX ix_{stem}_search ON {table} USING GIN (search_vector)"),
    ]
}

/// SQLite: an FTS5 table over `columns` of `table` (external content, kept in sync by
/// triggers), filled from the rows there.
fn sqlite_full_text(table: &str, stem: &str, columns: [&str; 2], tokenizer: &str) -> Vec<String> {
    let fts = format!("{stem}_fts");
    let [a, b] = columns;
    let delete_old = format!(
        "INSERT INTO {fts} ({fts}, rowid, {a}, {b}) VALUES ('delete', old.rowid, old.{a}, old.{b});"
    );
    let insert_new =
        format!("INSERT INTO {fts} (rowid, {a}, {b}) VALUES (new.rowid, new.{a}, new.{b});");
    vec![
        format!("DROP TRIGGER {fts}_after_update"),
        format!("DROP TRIGGER {fts}_after_delete"),
        format!("DROP TRIGGER {fts}_after_insert"),
        format!("DROP TABLE {fts}"),
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({a}, {b}, content='{table}', \
             content_rowid='rowid', tokenize='{tokenizer}')"
        ),
        format!("INSERT INTO {fts} ({fts}) VALUES ('rebuild')"),
        format!("CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN {insert_new} END"),
        format!("CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN {delete_old} END"),
        format!(
            "CREATE TRIGGER {fts}_after_update AFTER UPDATE OF {a}, {b} ON {table} \
             BEGIN {delete_old} {insert_new} END"
        ),
    ]
}

async fn full_text(manager: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    for (table, stem) in FULL_TEXT {
        let sql: Vec<String> = match (manager.get_database_backend(), up) {
            (DbBackend::Postgres, true) => postgres_full_text(table, stem).into(),
            (DbBackend::Postgres, false) => postgres_full_text_down(table, stem).into(),
            (_, true) => {
                sqlite_full_text(table, stem, ["title_words", "description_words"], "ascii")
            }
            (_, false) => sqlite_full_text(table, stem, ["title", "description"], "unicode61"),
        };
        common::run(manager, sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, twins) in TWINS {
            add_twins(manager, table, twins).await?;
        }
        full_text(manager, true).await?;
        for (table, column) in CODES {
            byte_order(manager, table, column, true).await?;
        }
        let indexes: Vec<String> = INDEXES
            .iter()
            .map(|(name, table, columns)| {
                format!("CREATE INDEX {name} ON {table} ({columns}) WHERE deleted_at IS NULL")
            })
            .collect();
        common::run(manager, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let indexes: Vec<String> = INDEXES
            .iter()
            .rev()
            .map(|(name, _, _)| format!("DROP INDEX {name}"))
            .collect();
        common::run(manager, indexes).await?;
        for (table, column) in CODES.iter().rev() {
            byte_order(manager, table, column, false).await?;
        }
        full_text(manager, false).await?;
        for (table, twins) in TWINS.iter().rev() {
            drop_twins(manager, table, twins).await?;
        }
        Ok(())
    }
}
