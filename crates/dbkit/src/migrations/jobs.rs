//! The job queue's table, as one migration.

use sea_orm_migration::prelude::*;

use super::{check, id, run, timestamps};
use crate::names;

/// Creates the job queue ([`crate::Names::jobs_table`]) with the indexes its workers poll,
/// rescue and de-duplicate by.
#[derive(Debug, Clone, Copy)]
pub struct Jobs {
    name: &'static str,
}

impl Jobs {
    /// The migration, under the name the app lists it by.
    pub fn named(name: &'static str) -> Self {
        Self { name }
    }
}

impl MigrationName for Jobs {
    fn name(&self) -> &str {
        self.name
    }
}

fn jobs_table() -> TableCreateStatement {
    let t = names().jobs_table;
    let mut table = Table::create();
    table
        .table(t)
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
        .col(ColumnDef::new("dedupe_key").string_len(100).null())
        .check(check(
            &format!("ck_{t}_status"),
            "status IN ('pending', 'running', 'succeeded', 'failed', 'dead')",
        ))
        .check(check(&format!("ck_{t}_attempts"), "attempts >= 0"))
        .check(check(&format!("ck_{t}_max_attempts"), "max_attempts >= 1"));
    timestamps(&mut table);
    table.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Jobs {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let t = names().jobs_table;
        manager.create_table(jobs_table()).await?;
        run(
            manager,
            [
                // Polling: the next due pending job.
                format!("CREATE INDEX ix_{t}_pending_run_at ON {t} (run_at) WHERE status = 'pending'"),
                // Rescue: running jobs whose lock is stale.
                format!("CREATE INDEX ix_{t}_running_locked_at ON {t} (locked_at) WHERE status = 'running'"),
                format!("CREATE INDEX ix_{t}_status_created ON {t} (status, created_at)"),
                // At most one queued job per key; also the conflict target of `enqueue`.
                format!(
                    "CREATE UNIQUE INDEX ux_{t}_dedupe_key_queued ON {t} (dedupe_key) \
                     WHERE {}",
                    crate::jobs::QUEUED
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::drop_tables(manager, &[names().jobs_table]).await
    }
}
