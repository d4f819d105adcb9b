//! `jobs.dedupe_key`: at most one pending or running job per key, so that many instances
//! scheduling the same periodic job (the daily trash purge) queue it once.

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
        let add = Table::alter()
            .table("jobs")
            .add_column(ColumnDef::new("dedupe_key").string_len(100).null())
            .to_owned();
        manager.alter_table(add).await?;
        // The same predicate is the conflict target of `dbkit::jobs::enqueue`.
        common::run(
            manager,
            [
                "CREATE UNIQUE INDEX ux_jobs_dedupe_key_queued ON jobs (dedupe_key) \
              WHERE status IN ('pending', 'running')",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::run(manager, ["DROP INDEX ux_jobs_dedupe_key_queued"]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .drop_column("dedupe_key")
                    .to_owned(),
            )
            .await
    }
}
