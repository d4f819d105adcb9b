//! The admin's trash, for an app with admins: every soft-deleted row of a table of the
//! app's [`Registry`], most recently deleted first, and restoring one with exactly what
//! its deletion took along — unless what owns it is still in the trash. The app's
//! routes take a [`TrashQuery`] and answer a [`RestoredOut`].

use dbkit::audit::Event;
use dbkit::list::{ListParams, Page};
use dbkit::soft_delete::{self, Affected, Registry, SoftDeleteTable, TrashEntry};
use dbkit::{Actor, Writer};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::AppError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrashQuery {
    /// `user`, `project`, `order`, … (see `details.allowed` of a 422).
    entity_type: String,
    /// 1-based page number. Not together with `cursor`.
    page: Option<u64>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<u64>,
    /// Keyset paging: empty for the first page, then the previous page's
    /// `meta.next_cursor`. Not together with `page`.
    cursor: Option<String>,
}

impl TrashQuery {
    /// The table it names (a 422 listing the known ones otherwise) and its paging.
    pub fn parse(
        self,
        registry: &Registry,
    ) -> Result<(&'static SoftDeleteTable, ListParams), AppError> {
        let table = table_for(registry, &self.entity_type)?;
        let params = ListParams {
            page: self.page,
            per_page: self.per_page,
            cursor: self.cursor,
            ..Default::default()
        };
        Ok((table, params))
    }
}

/// What a restore brought back.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestoredOut {
    entity_type: &'static str,
    id: Uuid,
    /// Rows restored per table.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    restored: Affected,
}

impl RestoredOut {
    /// What restoring `id` of `table` brought back.
    pub fn new(table: &SoftDeleteTable, id: Uuid, restored: Affected) -> Self {
        Self {
            entity_type: table.entity_type,
            id,
            restored,
        }
    }
}

/// The soft-delete table of an entity type a client named; a 422 listing the known ones
/// otherwise.
pub fn table_for(
    registry: &Registry,
    entity_type: &str,
) -> Result<&'static SoftDeleteTable, AppError> {
    registry
        .get(entity_type)
        .ok_or_else(|| AppError::Validation {
            message: format!("unknown entity_type '{entity_type}'"),
            details: json!({ "field": "entity_type", "allowed": registry.entity_types() }),
        })
}

/// The trash of one table, most recently deleted first.
pub async fn list(
    db: &DatabaseConnection,
    table: &'static SoftDeleteTable,
    params: &ListParams,
) -> Result<Page<TrashEntry>, AppError> {
    Ok(soft_delete::trash(db, table, params).await?)
}

/// Restores one row of `table` and what its deletion took, in one transaction with its
/// log row, `trash.restore`. A row whose owner is still in the trash cannot come back
/// alone.
pub async fn restore(
    db: &DatabaseConnection,
    (registry, actor): (&Registry, &Actor),
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<Affected, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let restored = restore_in(&writer, registry, table, id).await?;
    let event =
        Event::new("trash.restore", table.entity_type, id).details(json!({ "restored": restored }));
    writer.commit(event).await?;
    Ok(restored)
}

/// What restoring one row of `table` would bring back, or why it cannot: the restore
/// itself, rolled back (so the preview cannot disagree with the restore).
pub async fn preview(
    db: &DatabaseConnection,
    (registry, actor): (&Registry, &Actor),
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<Affected, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let restored = restore_in(&writer, registry, table, id).await;
    writer.rollback().await?;
    restored
}

async fn restore_in(
    writer: &Writer,
    registry: &Registry,
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<Affected, AppError> {
    if registry.owner_is_deleted(writer.tx(), table, id).await? {
        return Err(AppError::conflict(format!(
            "this {} belongs to something still in the trash; restore that first",
            table.entity_type
        )));
    }
    match soft_delete::restore(writer.tx(), table, id).await? {
        Some(restored) => Ok(restored),
        // A row that is there but not deleted (or was restored a moment ago) conflicts
        // with the request; one that is not there at all is not found.
        None if soft_delete::is_live(writer.tx(), table, id).await? => Err(AppError::conflict(
            format!("this {} is not in the trash", table.entity_type),
        )),
        None => Err(AppError::NotFound("deleted row")),
    }
}
