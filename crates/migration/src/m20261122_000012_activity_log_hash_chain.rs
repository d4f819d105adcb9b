//! The activity log's hash chain: `seq`, `prev_hash`, `hash`, `subject` and
//! `personal_hash` on every row, and `audit_chain`, the one-row table holding the head
//! and the archive anchor. Rows already there are chained oldest first. See
//! `dbkit::chain`.
//!
//! Its down refuses once the chain holds a row (`audit_chain.head_seq > 0`): the up
//! seals whatever rows it finds, so rolling back and forward again would seal rows
//! edited in between and launder the log.
//!
//! The columns stay nullable: SQLite adds a `NOT NULL` column only with a default or a
//! table rebuild, and `launchpad verify` reports any row without them anyway.

use dbkit::chain;
use sea_orm_migration::prelude::*;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The new columns: `seq` (big integer), then the digests (SHA-256 hex).
const DIGESTS: [&str; 4] = ["prev_hash", "hash", "subject", "personal_hash"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ADD COLUMN per statement: the only ALTER SQLite takes without a rebuild.
        let add = |column: ColumnDef| {
            Table::alter()
                .table("activity_logs")
                .add_column(column)
                .to_owned()
        };
        manager
            .alter_table(add(ColumnDef::new("seq").big_integer().null().to_owned()))
            .await?;
        for name in DIGESTS {
            manager
                .alter_table(add(ColumnDef::new(name).string_len(64).null().to_owned()))
                .await?;
        }
        dbkit::migrations::start_chain(manager).await?;
        chain::seal_pending(manager.get_connection()).await?;
        common::run(
            manager,
            [
                "CREATE UNIQUE INDEX ux_activity_logs_seq ON activity_logs (seq)",
                "CREATE INDEX ix_activity_logs_subject ON activity_logs (subject)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::refuse_down_while(
            manager,
            "SELECT COALESCE(MAX(head_seq), 0) FROM audit_chain",
            "activity-log rows are chained; rolling back and forward would re-seal them, \
             edited or not, and the log would no longer be tamper-evident",
        )
        .await?;
        // SQLite cannot drop an indexed column: the indexes go first.
        common::run(
            manager,
            [
                "DROP INDEX ix_activity_logs_subject",
                "DROP INDEX ux_activity_logs_seq",
            ],
        )
        .await?;
        common::drop_tables(manager, &["audit_chain"]).await?;
        for name in DIGESTS.iter().rev().chain(["seq"].iter()) {
            manager
                .alter_table(
                    Table::alter()
                        .table("activity_logs")
                        .drop_column(*name)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
