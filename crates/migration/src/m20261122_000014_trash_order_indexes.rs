//! The trash indexes cover the trash's whole order, `deleted_at` then `id` (both
//! descending when read): a page, by offset or by cursor, is then a walk of the index from
//! its first row or from the cursor, with no sort of tied rows (a cascade stamps many rows
//! with one `deleted_at`). Found by the query-plan test on PostgreSQL.

use sea_orm_migration::prelude::*;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every soft-deletable table.
const TABLES: [&str; 12] = [
    "users",
    "plans",
    "services",
    "projects",
    "files",
    "user_services",
    "orders",
    "synopsis",
    "meetings",
    "admin_requests",
    "chatbot_history",
    "idea_generation_history",
];

/// Replaces each table's trash index by one over `columns`.
async fn trash_indexes_over(manager: &SchemaManager<'_>, columns: &str) -> Result<(), DbErr> {
    let mut sql = Vec::with_capacity(2 * TABLES.len());
    for table in TABLES {
        sql.push(format!("DROP INDEX ix_{table}_trash"));
        sql.push(format!(
            "CREATE INDEX ix_{table}_trash ON {table} ({columns}) WHERE deleted_at IS NOT NULL"
        ));
    }
    common::run(manager, sql).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        trash_indexes_over(manager, "deleted_at, id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        trash_indexes_over(manager, "deleted_at").await
    }
}
