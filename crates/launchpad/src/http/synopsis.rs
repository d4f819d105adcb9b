//! `/api/synopsis` and `/api/admin/synopsis` ([`crate::resources::synopsis`]).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::synopsis::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::synopsis::{self, ReviewIn, SynopsisFilters};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_synopsis, list_synopsis))
        .routes(routes!(get_synopsis, delete_synopsis))
        .routes(routes!(review_synopsis))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SynopsisOut {
    id: Uuid,
    user_id: Uuid,
    project_id: Uuid,
    title: String,
    /// The uploaded file: `GET /api/files/{file_id}`.
    file_id: Option<Uuid>,
    status: String,
    reviewer_id: Option<Uuid>,
    review_comment: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Model> for SynopsisOut {
    fn from(s: Model) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            project_id: s.project_id,
            title: s.title,
            file_id: s.file_id,
            status: s.status,
            reviewer_id: s.reviewer_id,
            review_comment: s.review_comment,
            reviewed_at: s.reviewed_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The form of a submission.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the form; it is read field by field.
struct SynopsisUpload {
    /// PDF, DOCX, ZIP, PNG or JPEG, at most `MAX_UPLOAD_MB`.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// One of your projects, in idea_pending.
    project_id: Uuid,
    /// 3–200 characters.
    title: String,
}

/// Submit a synopsis for one of your projects (multipart: `file`, `project_id`, `title`).
/// The file, the synopsis and the project's move to synopsis_pending are one change.
#[utoipa::path(post, path = "/synopsis", tag = "synopsis", security(("bearer" = [])),
    request_body(content = SynopsisUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = SynopsisOut),
        (status = 400, description = "Not a readable multipart form", body = ErrorResponse),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
        (status = 409, description = "A synopsis is already waiting for review, or the project is past that stage", body = ErrorResponse),
        (status = 413, description = "Larger than MAX_UPLOAD_MB", body = ErrorResponse),
        (status = 415, description = "Not a PDF, DOCX, ZIP, PNG or JPEG (judged by the bytes)", body = ErrorResponse),
    ))]
async fn submit_synopsis(
    State(state): State<AppState>,
    current: CurrentUser,
    request: Request,
) -> Result<(StatusCode, axum::Json<SynopsisOut>), AppError> {
    let form = state
        .storage
        .read_form(request, &["project_id", "title"])
        .await?;
    let synopsis = synopsis::submit(&state.db, current.caller(), form).await?;
    Ok((StatusCode::CREATED, axum::Json(synopsis.into())))
}

/// Your synopses (an admin sees every one).
#[utoipa::path(get, path = "/synopsis", tag = "synopsis", security(("bearer" = [])), params(ListParams, SynopsisFilters),
    responses(
        (status = 200, body = Page<SynopsisOut>),
    ))]
async fn list_synopsis(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<SynopsisFilters>,
) -> Result<axum::Json<Page<SynopsisOut>>, AppError> {
    let page = synopsis::list(&db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(SynopsisOut::from)))
}

/// One synopsis.
#[utoipa::path(get, path = "/synopsis/{id}", tag = "synopsis", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SynopsisOut),
        (status = 404, description = "No such synopsis, or not yours", body = ErrorResponse),
    ))]
async fn get_synopsis(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SynopsisOut>, AppError> {
    let synopsis = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(synopsis.into()))
}

/// Move one of your synopses to the trash. Withdrawing one that is still pending puts
/// the project back to idea_pending, so that another can be submitted.
#[utoipa::path(delete, path = "/synopsis/{id}", tag = "synopsis", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "An admin deleting someone else's synopsis", body = ErrorResponse),
    ))]
async fn delete_synopsis(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    synopsis::delete(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Approve or reject a pending synopsis (admin). Approval moves its project from
/// synopsis_pending to in_progress; rejection back to idea_pending.
#[utoipa::path(post, path = "/admin/synopsis/{id}/review", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReviewIn, responses(
        (status = 200, body = SynopsisOut),
        (status = 409, description = "Already reviewed; `details.allowed` lists what is", body = ErrorResponse),
    ))]
async fn review_synopsis(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ReviewIn>,
) -> Result<axum::Json<SynopsisOut>, AppError> {
    let synopsis = synopsis::review(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(synopsis.into()))
}
