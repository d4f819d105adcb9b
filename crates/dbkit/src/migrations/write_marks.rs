//! The users' write marks, as one migration.

use sea_orm_migration::prelude::*;

use crate::replicas::MARKS;

/// Creates [`crate::replicas`]' table: for each user who wrote, the primary's WAL
/// position right after their last write (a replica that has replayed it has the write).
#[derive(Debug, Clone, Copy)]
pub struct WriteMarks {
    name: &'static str,
}

impl WriteMarks {
    /// The migration, under the name the app lists it by.
    pub const fn named(name: &'static str) -> Self {
        Self { name }
    }
}

impl MigrationName for WriteMarks {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WriteMarks {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: a mark is a hint about a WAL position, not data of the user's,
        // and must never stand in the way of a purge.
        let table = Table::create()
            .table(MARKS)
            .col(ColumnDef::new("user_id").uuid().not_null().primary_key())
            .col(ColumnDef::new("lsn").big_integer().not_null())
            .to_owned();
        manager.create_table(table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A mark matters for as long as a replica lags behind its write, a second or so:
        // nothing is lost that a second would not restore.
        super::drop_tables(manager, &[MARKS]).await
    }
}
