//! `/api/synopsis`: a student submits a project's synopsis (a file and a title); an
//! admin approves or rejects it with a comment. Submitting moves the project from
//! idea_pending to synopsis_pending; approval moves it on to in_progress, rejection back
//! to idea_pending so that the student can submit again.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Row, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::{projects, synopsis};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::http::files;
use crate::state::AppState;
use crate::storage::Storage;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_synopsis, list_synopsis))
        .routes(routes!(get_synopsis, delete_synopsis))
        .routes(routes!(review_synopsis))
}

/// Synopsis statuses.
pub const STATUSES: &[&str] = &["Pending", "Approved", "Rejected"];
/// What an admin may decide.
pub const DECISIONS: &[&str] = &["Approved", "Rejected"];

pub(crate) const TITLE: Text = Text::line("title", 3, 200);
pub(crate) const COMMENT: Text = Text::lines("comment", 0, 5_000);
/// The decision that needs a comment for the student.
pub(crate) const NEEDS_COMMENT: &str = "Rejected";

/// A synopsis is reviewed once.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "synopsis",
    moves: &[("Pending", &["Approved", "Rejected"])],
};

impl Stateful for synopsis::Entity {
    fn status() -> synopsis::Column {
        synopsis::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
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

impl From<synopsis::Model> for SynopsisOut {
    fn from(s: synopsis::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewIn {
    decision: String,
    /// For the student; required when rejecting.
    comment: Option<String>,
}

/// Filters only synopsis lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SynopsisFilters {
    /// Only this project's.
    project_id: Option<Uuid>,
}

pub(crate) const SYNOPSIS_LIST: ListSpec<synopsis::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", synopsis::Column::CreatedAt),
        ("updated_at", synopsis::Column::UpdatedAt),
        ("status", synopsis::Column::Status),
        ("title", synopsis::Column::Title),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[synopsis::Column::Title]),
    status: Some((synopsis::Column::Status, STATUSES)),
    created_at: synopsis::Column::CreatedAt,
    id: synopsis::Column::Id,
};

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
    CurrentUser { user, actor }: CurrentUser,
    request: Request,
) -> Result<(StatusCode, axum::Json<SynopsisOut>), AppError> {
    let storage = Storage::from_settings(&state.settings);
    let mut form = storage.read_form(request, &["project_id", "title"]).await?;
    let project_id: Uuid = form
        .text("project_id")?
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("project_id", "project_id must be a UUID"))?;
    let title = TITLE.check(form.text("title")?)?;
    let mut upload = form.take_file()?;

    let writer = Writer::begin(&state.db, &actor).await?;
    let project = access::find_owned::<projects::Entity>(writer.tx(), &user, project_id).await?;
    let file = files::new_row(&upload, user.id, project_id, "synopsis")
        .insert(writer.tx())
        .await?;
    // A second pending synopsis for the project breaks `ux_synopsis_project_pending` (409).
    let synopsis = synopsis::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        project_id: Set(project_id),
        title: Set(title),
        file_id: Set(Some(file.id)),
        status: Set(STATUSES[0].to_owned()),
        reviewer_id: Set(None),
        review_comment: Set(None),
        reviewed_at: Set(None),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    // The project's move is recorded with the synopsis's event.
    access::move_status::<projects::Entity>(
        writer.tx(),
        (project_id, "status"),
        &project.status,
        "synopsis_pending",
        vec![(projects::Column::SynopsisSubmitted, Expr::value(true))],
    )
    .await?;
    let event = access::event::<synopsis::Entity>("submit", synopsis.id)
        .details(json!({ "project_id": project_id, "file_id": file.id }));
    upload.place().await?;
    writer.commit(event).await?;
    upload.keep();
    Ok((StatusCode::CREATED, axum::Json(synopsis.into())))
}

/// Your synopses (an admin sees every one).
#[utoipa::path(get, path = "/synopsis", tag = "synopsis", security(("bearer" = [])), params(ListParams, SynopsisFilters),
    responses(
        (status = 200, body = Page<SynopsisOut>),
    ))]
async fn list_synopsis(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<SynopsisFilters>,
) -> Result<axum::Json<Page<SynopsisOut>>, AppError> {
    let mut query = access::visible::<synopsis::Entity>(&current.user);
    if let Some(project_id) = filters.project_id {
        query = query.filter(synopsis::Column::ProjectId.eq(project_id));
    }
    Ok(axum::Json(
        SYNOPSIS_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(SynopsisOut::from),
    ))
}

/// One synopsis.
#[utoipa::path(get, path = "/synopsis/{id}", tag = "synopsis", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SynopsisOut),
        (status = 404, description = "No such synopsis, or not yours", body = ErrorResponse),
    ))]
async fn get_synopsis(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SynopsisOut>, AppError> {
    let synopsis = access::find_visible::<synopsis::Entity>(&state.db, &current.user, id).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let synopsis = access::find_owned::<synopsis::Entity>(writer.tx(), &user, id).await?;
    let event = access::soft_delete_row(
        &writer,
        synopsis::Entity::table(),
        ("synopsis", id),
        user.id,
    )
    .await?;
    let mut project_status = None;
    if synopsis.status == "Pending" {
        let project =
            access::find_owned::<projects::Entity>(writer.tx(), &user, synopsis.project_id).await?;
        if project.status == "synopsis_pending" {
            access::move_status::<projects::Entity>(
                writer.tx(),
                (project.id, "status"),
                &project.status,
                "idea_pending",
                Vec::new(),
            )
            .await?;
            project_status = Some("idea_pending");
        }
    }
    let event = event
        .with("project_id", json!(synopsis.project_id))
        .with("project_status", project_status);
    writer.commit(event).await?;
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
    let decision = domain::one_of("decision", &body.decision, DECISIONS)?;
    let comment = body
        .comment
        .as_deref()
        .map(|c| COMMENT.check(c))
        .transpose()?
        .filter(|c| !c.is_empty());
    if decision == NEEDS_COMMENT && comment.is_none() {
        return Err(AppError::invalid(
            "comment",
            "a rejection needs a comment for the student",
        ));
    }

    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let synopsis = access::find_visible::<synopsis::Entity>(writer.tx(), &admin.user, id).await?;
    let now = dbkit::time::now();
    let event = access::move_status::<synopsis::Entity>(
        writer.tx(),
        (id, "review"),
        &synopsis.status,
        decision,
        vec![
            (synopsis::Column::ReviewerId, Expr::value(admin.user.id)),
            (synopsis::Column::ReviewComment, Expr::value(comment)),
            (synopsis::Column::ReviewedAt, Expr::value(now)),
        ],
    )
    .await?;
    // The project follows its synopsis, if it is still waiting for it (an admin may
    // have moved or cancelled it meanwhile; then it stays where it is).
    let project =
        access::find_visible::<projects::Entity>(writer.tx(), &admin.user, synopsis.project_id)
            .await?;
    let mut project_status = project.status.clone();
    if project.status == "synopsis_pending" {
        let to = if decision == "Approved" {
            "in_progress"
        } else {
            "idea_pending"
        };
        access::move_status::<projects::Entity>(
            writer.tx(),
            (project.id, "status"),
            &project.status,
            to,
            Vec::new(),
        )
        .await?;
        project_status = to.to_owned();
    }
    let synopsis = access::find_visible::<synopsis::Entity>(writer.tx(), &admin.user, id).await?;
    let event = event
        .with("decision", decision)
        .with("project_id", json!(synopsis.project_id))
        .with("project_status", project_status);
    writer.commit(event).await?;
    Ok(axum::Json(synopsis.into()))
}
