//! PostgreSQL: every statement that changes or deletes `users` rows notifies the channel
//! `launchpad_users` when it commits, whoever runs it (another node, the CLI, an operator
//! in `psql`). Each server keeps the signed-in users it has checked in a cache and drops
//! it on such a notification (`webkit::auth::cache`). SQLite: nothing (no cache there).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel; the server listens on it (`startup.rs`).
pub const CHANNEL: &str = "launchpad_users";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        common::run(
            manager,
            [
                format!(
                    "CREATE FUNCTION notify_users_changed() RETURNS trigger LANGUAGE plpgsql \
                     AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
                ),
                "CREATE TRIGGER tr_users_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users \
                 FOR EACH STATEMENT EXECUTE FUNCTION notify_users_changed()"
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        common::run(
            manager,
            [
                "DROP TRIGGER tr_users_changed ON users",
                "DROP FUNCTION notify_users_changed()",
            ],
        )
        .await
    }
}
