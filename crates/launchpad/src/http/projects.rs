//! `/api/projects`: a student's projects ([`crate::resources::projects`]).

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
use crate::entity::projects::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::projects::{
    self, CreateProjectIn, ProjectFilters, ProjectStatusIn, UpdateProjectIn,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(set_project_status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    id: Uuid,
    user_id: Uuid,
    title: String,
    description: Option<String>,
    category: Option<String>,
    #[schema(value_type = Vec<String>)]
    tech_stack: serde_json::Value,
    status: String,
    synopsis_submitted: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Model> for ProjectOut {
    fn from(p: Model) -> Self {
        Self {
            id: p.id,
            user_id: p.user_id,
            title: p.title,
            description: p.description,
            category: p.category,
            tech_stack: p.tech_stack,
            status: p.status,
            synopsis_submitted: p.synopsis_submitted,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Start a project.
#[utoipa::path(post, path = "/projects", tag = "projects", security(("bearer" = [])), request_body = CreateProjectIn,
    responses(
        (status = 201, body = ProjectOut),
    ))]
async fn create_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<CreateProjectIn>,
) -> Result<(StatusCode, axum::Json<ProjectOut>), AppError> {
    let project = projects::create(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(project.into())))
}

/// The caller's projects (an admin sees every project).
#[utoipa::path(get, path = "/projects", tag = "projects", security(("bearer" = [])), params(ListParams, ProjectFilters),
    responses(
        (status = 200, body = Page<ProjectOut>),
    ))]
async fn list_projects(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<ProjectFilters>,
) -> Result<axum::Json<Page<ProjectOut>>, AppError> {
    let page = projects::list(&db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(ProjectOut::from)))
}

/// One project.
#[utoipa::path(get, path = "/projects/{id}", tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProjectOut),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
    ))]
async fn get_project(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ProjectOut>, AppError> {
    let project = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(project.into()))
}

/// Change a project's title, description, category or tech stack.
#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateProjectIn, responses(
        (status = 200, body = ProjectOut),
        (status = 403, description = "An admin changing someone else's project", body = ErrorResponse),
    ))]
async fn update_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateProjectIn>,
) -> Result<axum::Json<ProjectOut>, AppError> {
    let project = projects::update(&state.db, current.caller(), id, body).await?;
    Ok(axum::Json(project.into()))
}

/// Move a project, with its synopsis, meetings, files and ideas, to the trash.
#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorResponse),
    ))]
async fn delete_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a project to another status (admin), following the project's transitions.
#[utoipa::path(post, path = "/admin/projects/{id}/status", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ProjectStatusIn, responses(
        (status = 200, body = ProjectOut),
        (status = 409, description = "Not allowed from the current status; `details.allowed` lists what is", body = ErrorResponse),
    ))]
async fn set_project_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ProjectStatusIn>,
) -> Result<axum::Json<ProjectOut>, AppError> {
    let project = projects::set_status(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(project.into()))
}
