//! `/api/admin/trash`: every soft-deleted row, per entity type, and restoring one (with
//! exactly what its deletion took along).

use axum::extract::State;
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{ListParams, Page};
use dbkit::soft_delete::{self, Affected, SoftDeleteTable, TrashEntry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Path, Query};
use crate::state::AppState;
use crate::tables::REGISTRY;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_trash))
        .routes(routes!(restore_from_trash))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TrashQuery {
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

/// What a restore brought back.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestoredOut {
    entity_type: &'static str,
    id: Uuid,
    /// Rows restored per table.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    restored: Affected,
}

fn table_for(entity_type: &str) -> Result<&'static SoftDeleteTable, AppError> {
    REGISTRY
        .get(entity_type)
        .ok_or_else(|| AppError::Validation {
            message: format!("unknown entity_type '{entity_type}'"),
            details: json!({ "field": "entity_type", "allowed": REGISTRY.entity_types() }),
        })
}

/// The trash of one entity type, most recently deleted first (admin).
#[utoipa::path(get, path = "/admin/trash", tag = "admin", security(("bearer" = [])), params(TrashQuery), responses(
    (status = 200, body = Page<TrashEntry>),
    (status = 422, description = "Unknown entity type or bad paging", body = ErrorResponse),
))]
async fn list_trash(
    State(state): State<AppState>,
    _: AdminUser,
    Query(q): Query<TrashQuery>,
) -> Result<axum::Json<Page<TrashEntry>>, AppError> {
    let table = table_for(&q.entity_type)?;
    let params = ListParams {
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor,
        ..Default::default()
    };
    Ok(axum::Json(
        soft_delete::trash(&state.db, table, &params).await?,
    ))
}

/// Restore a deleted row and what its deletion took along (admin). A row whose owner is
/// still in the trash cannot come back alone.
#[utoipa::path(post, path = "/admin/trash/{entity_type}/{id}/restore", tag = "admin", security(("bearer" = [])),
    params(("entity_type" = String, Path), ("id" = Uuid, Path)), responses(
        (status = 200, body = RestoredOut),
        (status = 404, description = "No such row", body = ErrorResponse),
        (status = 409, description = "It is not in the trash, its owner is deleted, or a unique value is taken again", body = ErrorResponse),
    ))]
async fn restore_from_trash(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path((entity_type, id)): Path<(String, Uuid)>,
) -> Result<axum::Json<RestoredOut>, AppError> {
    let table = table_for(&entity_type)?;
    let restored = restore(&state, &admin, table, id).await?;
    Ok(axum::Json(RestoredOut {
        entity_type: table.entity_type,
        id,
        restored,
    }))
}

/// Restores one row of `table` as `admin`, in one transaction with its log row.
pub async fn restore(
    state: &AppState,
    admin: &CurrentUser,
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<Affected, AppError> {
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    if REGISTRY.owner_is_deleted(writer.tx(), table, id).await? {
        return Err(AppError::conflict(format!(
            "this {} belongs to something still in the trash; restore that first",
            table.entity_type
        )));
    }
    let Some(restored) = soft_delete::restore(writer.tx(), table, id).await? else {
        // A row that is there but not deleted (or was restored a moment ago) conflicts
        // with the request; one that is not there at all is not found.
        return Err(if soft_delete::is_live(writer.tx(), table, id).await? {
            AppError::conflict(format!("this {} is not in the trash", table.entity_type))
        } else {
            AppError::NotFound("deleted row")
        });
    };
    let event =
        Event::new("trash.restore", table.entity_type, id).details(json!({ "restored": restored }));
    writer.commit(event).await?;
    Ok(restored)
}
