//! At most one selected idea per project, enforced by the database: a partial unique
//! index over the live, selected ideas of a project. Selecting one idea un-selects the
//! others in the same transaction; the index makes two concurrent selections on
//! PostgreSQL (which does not serialise writers) unable to leave two selected.
//!
//! Databases written before it may hold such pairs: the up keeps the most recently
//! changed selection of each project and un-selects the rest before creating the index.

use sea_orm_migration::prelude::*;

use crate::common;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "idea_generation_history";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let selected = "user_selected = TRUE AND deleted_at IS NULL";
        common::run(
            manager,
            [
                format!(
                    "UPDATE {TABLE} SET user_selected = FALSE WHERE {selected} \
                     AND project_id IS NOT NULL AND EXISTS (SELECT 1 FROM {TABLE} later \
                     WHERE later.project_id = {TABLE}.project_id \
                     AND later.user_selected = TRUE AND later.deleted_at IS NULL \
                     AND (later.updated_at, later.id) > ({TABLE}.updated_at, {TABLE}.id))"
                ),
                format!(
                    "CREATE UNIQUE INDEX ux_ideas_selected_per_project ON {TABLE} (project_id) \
                     WHERE {selected}"
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::run(manager, ["DROP INDEX ux_ideas_selected_per_project"]).await
    }
}
