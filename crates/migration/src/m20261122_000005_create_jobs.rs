//! `jobs`: the background work queue.

use sea_orm_migration::prelude::*;

use crate::common::{self, check, id, timestamps};

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
            .table("jobs")
            .col(id())
            .col(ColumnDef::new("kind").string_len(100).not_null())
            .col(ColumnDef::new("payload").json_binary().not_null())
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("pending"),
            )
            .col(ColumnDef::new("attempts").integer().not_null().default(0))
            .col(
                ColumnDef::new("max_attempts")
                    .integer()
                    .not_null()
                    .default(5),
            )
            .col(
                ColumnDef::new("run_at")
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new("locked_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(ColumnDef::new("locked_by").string_len(100).null())
            .col(ColumnDef::new("last_error").text().null())
            .check(check(
                "ck_jobs_status",
                "status IN ('pending', 'running', 'succeeded', 'failed', 'dead')",
            ))
            .check(check("ck_jobs_attempts", "attempts >= 0"))
            .check(check("ck_jobs_max_attempts", "max_attempts >= 1"));
        timestamps(&mut table);
        manager.create_table(table).await?;
        common::run(
            manager,
            [
                // Polling: the next due pending job.
                "CREATE INDEX ix_jobs_pending_run_at ON jobs (run_at) WHERE status = 'pending'",
                // Rescue: running jobs whose lock is stale.
                "CREATE INDEX ix_jobs_running_locked_at ON jobs (locked_at) WHERE status = 'running'",
                "CREATE INDEX ix_jobs_status_created ON jobs (status, created_at)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["jobs"]).await
    }
}
