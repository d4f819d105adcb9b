//! `users.token_version`: access tokens carry the version they were issued at; logging out
//! or changing the password bumps it, so every older access token stops working at once.

use sea_orm_migration::prelude::*;

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
