//! `refresh_tokens`: hashes of rotating refresh tokens, grouped in families.

use sea_orm_migration::prelude::*;

use crate::common::{self, fk, id, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("refresh_tokens")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("token_hash").string_len(64).not_null())
            .col(ColumnDef::new("family_id").uuid().not_null())
            .col(
                ColumnDef::new("expires_at")
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new("revoked_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(ColumnDef::new("replaced_by").uuid().null())
            .foreign_key(&mut fk(
                "refresh_tokens",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "refresh_tokens",
                "replaced_by",
                "refresh_tokens",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut table);
        manager.create_table(table).await?;
        common::run(
            manager,
            [
                "CREATE UNIQUE INDEX ux_refresh_tokens_hash ON refresh_tokens (token_hash)",
                "CREATE INDEX ix_refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL",
                "CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["refresh_tokens"]).await
    }
}
