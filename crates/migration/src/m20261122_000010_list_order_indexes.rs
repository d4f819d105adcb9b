//! Indexes for the lists admins read across all users: newest first with no owner
//! filter, subscriptions by status, and a chat session's messages. Found by the
//! query-plan test (each of these lists sorted every live row before).

use sea_orm_migration::prelude::*;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, columns); all over live rows only.
const INDEXES: &[(&str, &str, &str)] = &[
    ("ix_projects_created_id_live", "projects", "created_at, id"),
    ("ix_orders_created_id_live", "orders", "created_at, id"),
    ("ix_meetings_created_id_live", "meetings", "created_at, id"),
    (
        "ix_admin_requests_created_id_live",
        "admin_requests",
        "created_at, id",
    ),
    (
        "ix_user_services_created_id_live",
        "user_services",
        "created_at, id",
    ),
    (
        "ix_user_services_status_created_live",
        "user_services",
        "status, created_at",
    ),
    ("ix_synopsis_created_id_live", "synopsis", "created_at, id"),
    (
        "ix_ideas_created_id_live",
        "idea_generation_history",
        "created_at, id",
    ),
    (
        "ix_chatbot_history_session_created_live",
        "chatbot_history",
        "session_id, created_at",
    ),
    ("ix_plans_price_id_live", "plans", "price, id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql: Vec<String> = INDEXES
            .iter()
            .map(|(name, table, columns)| {
                format!("CREATE INDEX {name} ON {table} ({columns}) WHERE deleted_at IS NULL")
            })
            .collect();
        common::run(manager, sql).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql: Vec<String> = INDEXES
            .iter()
            .rev()
            .map(|(name, _, _)| format!("DROP INDEX {name}"))
            .collect();
        common::run(manager, sql).await
    }
}
