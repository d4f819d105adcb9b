//! `users.token_version`: access tokens carry the version they were issued at; logging out
//! or changing the password bumps it, so every older access token stops working at once.
//!
//! Its down refuses once any account has bumped its version: dropping the column and
//! adding it again would set every version back to 0 and revive the access tokens those
//! logouts, password changes and deletions ended.

use sea_orm_migration::prelude::*;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ADD COLUMN per statement: the only ALTER SQLite takes without a table rebuild.
        let add = Table::alter()
            .table("users")
            .add_column(
                ColumnDef::new("token_version")
                    .integer()
                    .not_null()
                    .default(0),
            )
            .to_owned();
        manager.alter_table(add).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::refuse_down_while(
            manager,
            "SELECT COUNT(*) FROM users WHERE token_version <> 0",
            "accounts have ended sessions (logout, password change, deletion); rolling back \
             would make their old access tokens valid again",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("token_version")
                    .to_owned(),
            )
            .await
    }
}
