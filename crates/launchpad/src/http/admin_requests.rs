//! `/api/requests`: a student asks the admins for something (a plan change, an
//! extension, help); an admin approves, rejects or resolves it with a note.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::admin_requests;
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_request, list_requests))
        .routes(routes!(get_request, delete_request))
        .routes(routes!(resolve_request))
}

pub const STATUSES: &[&str] = &["pending", "approved", "rejected", "resolved"];
/// What an admin may resolve a request to: every status but the first.
pub const RESOLUTIONS: &[&str] = STATUSES.split_at(1).1;

pub(crate) const REQUEST_TYPE: Text = Text::line("request_type", 2, 50);
pub(crate) const MESSAGE: Text = Text::lines("message", 1, 5_000);
pub(crate) const NOTE: Text = Text::lines("note", 0, 5_000);

/// A pending request is decided; an approved one is later marked resolved when done.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "request",
    moves: &[
        ("pending", &["approved", "rejected", "resolved"]),
        ("approved", &["resolved"]),
    ],
};

impl Stateful for admin_requests::Entity {
    fn status() -> admin_requests::Column {
        admin_requests::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
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

impl From<admin_requests::Model> for RequestOut {
    fn from(r: admin_requests::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FileRequestIn {
    /// A short label: `plan_change`, `deadline_extension`, `mentor_change`, …
    request_type: String,
    message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResolveIn {
    status: String,
    /// The admin's answer, shown to the student.
    note: Option<String>,
}

pub(crate) const REQUEST_LIST: ListSpec<admin_requests::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", admin_requests::Column::CreatedAt),
        ("updated_at", admin_requests::Column::UpdatedAt),
        ("status", admin_requests::Column::Status),
        ("request_type", admin_requests::Column::RequestType),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[
        admin_requests::Column::RequestType,
        admin_requests::Column::Message,
    ]),
    status: Some((admin_requests::Column::Status, STATUSES)),
    created_at: admin_requests::Column::CreatedAt,
    id: admin_requests::Column::Id,
};

/// Ask the admins for something.
#[utoipa::path(post, path = "/requests", tag = "requests", security(("bearer" = [])), request_body = FileRequestIn,
    responses((status = 201, body = RequestOut)))]
async fn file_request(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<FileRequestIn>,
) -> Result<(StatusCode, axum::Json<RequestOut>), AppError> {
    let request_type = REQUEST_TYPE.check(&body.request_type)?;
    let message = MESSAGE.check(&body.message)?;
    let writer = Writer::begin(&state.db, &actor).await?;
    let request = admin_requests::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        request_type: Set(request_type),
        message: Set(message),
        status: Set(STATUSES[0].to_owned()),
        resolved_by: Set(None),
        resolution_note: Set(None),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    writer
        .commit(access::event::<admin_requests::Entity>("file", request.id))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(request.into())))
}

/// The caller's requests (an admin sees every request).
#[utoipa::path(get, path = "/requests", tag = "requests", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Page<RequestOut>),
))]
async fn list_requests(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<RequestOut>>, AppError> {
    let query = access::visible::<admin_requests::Entity>(&current.user);
    Ok(axum::Json(
        REQUEST_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(RequestOut::from),
    ))
}

/// One request.
#[utoipa::path(get, path = "/requests/{id}", tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestOut)))]
async fn get_request(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RequestOut>, AppError> {
    Ok(axum::Json(
        access::find_visible::<admin_requests::Entity>(&state.db, &current.user, id)
            .await?
            .into(),
    ))
}

/// Withdraw one of the caller's requests (to the trash).
#[utoipa::path(delete, path = "/requests/{id}", tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_request(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<admin_requests::Entity>(&state.db, current.caller(), id).await?;
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
    let to = domain::one_of("status", &body.status, RESOLUTIONS)?;
    let note = body.note.as_deref().map(|n| NOTE.check(n)).transpose()?;
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let request =
        access::find_visible::<admin_requests::Entity>(writer.tx(), &admin.user, id).await?;
    let changes = vec![
        (
            admin_requests::Column::ResolvedBy,
            Expr::value(admin.user.id),
        ),
        (admin_requests::Column::ResolutionNote, Expr::value(note)),
        (
            admin_requests::Column::ResolvedAt,
            Expr::value(dbkit::time::now()),
        ),
    ];
    let event = access::move_status::<admin_requests::Entity>(
        writer.tx(),
        (id, "resolve"),
        &request.status,
        to,
        changes,
    )
    .await?;
    let updated = access::reload::<admin_requests::Entity>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(axum::Json(updated.into()))
}
