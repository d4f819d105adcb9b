//! The refresh tokens of signed-in sessions, as one migration.

use sea_orm_migration::prelude::*;

use super::{fk, id, run, timestamps};
use crate::sessions::TABLE;

/// Creates [`crate::sessions`]' table: the SHA-256 of each refresh token, its session
/// (family), expiry, revocation and successor. Tokens go with their user.
#[derive(Debug, Clone, Copy)]
pub struct RefreshTokens {
    name: &'static str,
    users: &'static str,
}

impl RefreshTokens {
    /// The migration, under the name the app lists it by; `user_id` references `users`.id.
    pub const fn named(name: &'static str, users: &'static str) -> Self {
        Self { name, users }
    }
}

impl MigrationName for RefreshTokens {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RefreshTokens {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let at = |name: &'static str| ColumnDef::new(name).timestamp_with_time_zone().to_owned();
        let mut table = Table::create();
        table
            .table(TABLE)
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("token_hash").string_len(64).not_null())
            .col(ColumnDef::new("family_id").uuid().not_null())
            .col(at("expires_at").not_null())
            .col(at("revoked_at").null())
            .col(ColumnDef::new("replaced_by").uuid().null())
            .foreign_key(&mut fk(
                TABLE,
                "user_id",
                self.users,
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                TABLE,
                "replaced_by",
                TABLE,
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut table);
        manager.create_table(table).await?;
        run(
            manager,
            [
                format!("CREATE UNIQUE INDEX ux_{TABLE}_hash ON {TABLE} (token_hash)"),
                format!(
                    "CREATE INDEX ix_{TABLE}_user ON {TABLE} (user_id) WHERE revoked_at IS NULL"
                ),
                format!("CREATE INDEX ix_{TABLE}_family ON {TABLE} (family_id)"),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::drop_tables(manager, &[TABLE]).await
    }
}
