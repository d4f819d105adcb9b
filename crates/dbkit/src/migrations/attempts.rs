//! The budgets of attempts, as one migration.

use sea_orm_migration::prelude::*;

use super::run;
use crate::attempts::TABLE;

/// Creates [`crate::attempts`]' table: a key's digest and the time its budget is spent
/// up to, with the index that forgets budgets full again.
#[derive(Debug, Clone, Copy)]
pub struct AttemptBudgets {
    name: &'static str,
}

impl AttemptBudgets {
    /// The migration, under the name the app lists it by.
    pub const fn named(name: &'static str) -> Self {
        Self { name }
    }
}

impl MigrationName for AttemptBudgets {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AttemptBudgets {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(TABLE)
            .col(
                ColumnDef::new("key_hash")
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            // Microseconds since the epoch: one integer compares alike on both backends.
            .col(ColumnDef::new("tat").big_integer().not_null())
            .to_owned();
        manager.create_table(table).await?;
        run(
            manager,
            [format!("CREATE INDEX ix_{TABLE}_tat ON {TABLE} (tat)")],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Budgets are minutes long: nothing is lost that a minute would not restore.
        super::drop_tables(manager, &[TABLE]).await
    }
}
