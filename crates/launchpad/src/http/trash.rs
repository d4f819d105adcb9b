//! `/api/admin/trash`: every soft-deleted row, per entity type, and restoring one (with
//! exactly what its deletion took along).

use axum::extract::State;
use dbkit::list::Page;
use dbkit::soft_delete::TrashEntry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, Path, Query, Reading};
use crate::state::AppState;
use crate::tables::REGISTRY;
use webkit::trash::{self, RestoredOut, TrashQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_trash))
        .routes(routes!(restore_from_trash))
}

/// The trash of one entity type, most recently deleted first (admin).
#[utoipa::path(get, path = "/admin/trash", tag = "admin", security(("bearer" = [])), params(TrashQuery), responses(
    (status = 200, body = Page<TrashEntry>),
    (status = 422, description = "Unknown entity type or bad paging", body = ErrorResponse),
))]
async fn list_trash(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<TrashQuery>,
) -> Result<axum::Json<Page<TrashEntry>>, AppError> {
    let (table, params) = q.parse(&REGISTRY)?;
    Ok(axum::Json(trash::list(&db, table, &params).await?))
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
    let table = trash::table_for(&REGISTRY, &entity_type)?;
    let restored = trash::restore(&state.db, (&REGISTRY, &admin.actor), table, id).await?;
    Ok(axum::Json(RestoredOut::new(table, id, restored)))
}
