//! `activity_logs`: the append-only record of every state-changing action.

use sea_orm_migration::prelude::*;

use crate::common::{self, check, fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("activity_logs")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().null())
            .col(ColumnDef::new("action").string_len(100).not_null())
            .col(ColumnDef::new("entity_type").string_len(50).null())
            .col(ColumnDef::new("entity_id").uuid().null())
            .col(ColumnDef::new("details").json_binary().not_null())
            .col(ColumnDef::new("ip_address").string_len(45).null())
            .col(ColumnDef::new("user_agent").string_len(512).null())
            .col(ColumnDef::new("status").string_len(16).not_null())
            .col(ColumnDef::new("duration_ms").big_integer().null())
            // Append-only: a row is never updated, so it has no `updated_at`.
            .col(
                ColumnDef::new("created_at")
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .check(check(
                "ck_activity_logs_status",
                "status IN ('success', 'failed', 'error')",
            ))
            .foreign_key(&mut fk(
                "activity_logs",
                "user_id",
                "users",
                ForeignKeyAction::SetNull,
            ))
            .to_owned();
        manager.create_table(table).await?;
        common::run(
            manager,
            [
                "CREATE INDEX ix_activity_logs_user_created ON activity_logs (user_id, created_at)",
                "CREATE INDEX ix_activity_logs_entity ON activity_logs (entity_type, entity_id)",
                "CREATE INDEX ix_activity_logs_created ON activity_logs (created_at)",
                "CREATE INDEX ix_activity_logs_action_created ON activity_logs (action, created_at)",
                "CREATE INDEX ix_activity_logs_status_action ON activity_logs (status, action)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["activity_logs"]).await
    }
}
