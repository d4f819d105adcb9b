//! `/api/requests` and `/api/admin/requests` ([`crate::resources::admin_requests`]).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::admin_requests::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::admin_requests::{self, FileRequestIn, ResolveIn};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_request, list_requests))
        .routes(routes!(get_request, delete_request))
        .routes(routes!(resolve_request))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    id: Uuid,
    user_id: Uuid,
    request_type: String,
    message: String,
    status: String,
    resolved_by: Option<Uuid>,
    resolution_note: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Model> for RequestOut {
    fn from(r: Model) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            request_type: r.request_type,
            message: r.message,
            status: r.status,
            resolved_by: r.resolved_by,
            resolution_note: r.resolution_note,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Ask the admins for something.
#[utoipa::path(post, path = "/requests", tag = "requests", security(("bearer" = [])), request_body = FileRequestIn,
    responses((status = 201, body = RequestOut)))]
async fn file_request(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<FileRequestIn>,
) -> Result<(StatusCode, axum::Json<RequestOut>), AppError> {
    let request = admin_requests::file(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(request.into())))
}

/// The caller's requests (an admin sees every request).
#[utoipa::path(get, path = "/requests", tag = "requests", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Page<RequestOut>),
))]
async fn list_requests(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<RequestOut>>, AppError> {
    let page = admin_requests::list(&db, current.caller(), &params).await?;
    Ok(axum::Json(page.map(RequestOut::from)))
}

/// One request.
#[utoipa::path(get, path = "/requests/{id}", tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestOut)))]
async fn get_request(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RequestOut>, AppError> {
    let request = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(request.into()))
}

/// Withdraw one of the caller's requests (to the trash).
#[utoipa::path(delete, path = "/requests/{id}", tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_request(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Approve, reject or resolve a request, with a note for the student (admin).
#[utoipa::path(post, path = "/admin/requests/{id}/resolve", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ResolveIn, responses(
        (status = 200, body = RequestOut),
        (status = 409, description = "Not allowed from the current status; `details.allowed` lists what is", body = ErrorResponse),
    ))]
async fn resolve_request(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ResolveIn>,
) -> Result<axum::Json<RequestOut>, AppError> {
    let request = admin_requests::resolve(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(request.into()))
}
