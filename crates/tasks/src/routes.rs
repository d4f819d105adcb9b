//! `/api/tasks`: each handler extracts, calls one operation of [`crate::tasks`] and maps
//! the row; nothing else.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Json, Path, Query};
use webkit::resource as access;

use crate::entity::tasks::{Entity, Model};
use crate::state::{AppState, CurrentUser};
use crate::tasks::{self, CreateTaskIn, TaskFilters, UpdateTaskIn};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task, list_tasks))
        .routes(routes!(list_trash))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(restore_task))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    id: Uuid,
    title: String,
    description: Option<String>,
    /// `Pending`, `In Progress` or `Completed`.
    status: String,
    /// `Low`, `Medium` or `High`.
    priority: String,
    /// When it was completed; `null` unless it is.
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<DateTime<Utc>>,
}

impl From<Model> for TaskOut {
    fn from(t: Model) -> Self {
        Self {
            id: t.id,
            title: t.title,
            description: t.description,
            status: t.status,
            priority: t.priority,
            completed_at: t.completed_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
            deleted_at: t.deleted_at,
        }
    }
}

/// Create a task.
#[utoipa::path(post, path = "/tasks", tag = "tasks", security(("bearer" = [])), request_body = CreateTaskIn,
    responses((status = 201, body = TaskOut)))]
async fn create_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<CreateTaskIn>,
) -> Result<(StatusCode, axum::Json<TaskOut>), AppError> {
    let task = tasks::create(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(task.into())))
}

/// The caller's tasks.
#[utoipa::path(get, path = "/tasks", tag = "tasks", security(("bearer" = [])), params(ListParams, TaskFilters),
    responses((status = 200, body = Page<TaskOut>)))]
async fn list_tasks(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<TaskFilters>,
) -> Result<axum::Json<Page<TaskOut>>, AppError> {
    let page = tasks::list(&state.db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(TaskOut::from)))
}

/// The caller's deleted tasks, most recently deleted first.
#[utoipa::path(get, path = "/tasks/trash", tag = "tasks", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<TaskOut>)))]
async fn list_trash(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<TaskOut>>, AppError> {
    let page = tasks::trash(&state.db, current.caller(), &params).await?;
    Ok(axum::Json(page.map(TaskOut::from)))
}

/// One task.
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskOut),
        (status = 404, description = "No such task, or not yours", body = webkit::ErrorResponse),
    ))]
async fn get_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<TaskOut>, AppError> {
    let task = access::find_owned::<Entity>(&state.db, &current.user, id).await?;
    Ok(axum::Json(task.into()))
}

/// Change a task: its title, description, priority, or status (stamping or clearing
/// `completed_at`).
#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateTaskIn, responses(
        (status = 200, body = TaskOut),
        (status = 404, description = "No such task, or not yours", body = webkit::ErrorResponse),
        (status = 409, description = "The task is already in that status (or another change moved it first)", body = webkit::ErrorResponse),
    ))]
async fn update_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTaskIn>,
) -> Result<axum::Json<TaskOut>, AppError> {
    let task = tasks::update(&state.db, current.caller(), id, body).await?;
    Ok(axum::Json(task.into()))
}

/// Move a task to the trash.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such task, or not yours", body = webkit::ErrorResponse),
    ))]
async fn delete_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a task back from the trash.
#[utoipa::path(post, path = "/tasks/{id}/restore", tag = "tasks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskOut),
        (status = 404, description = "No such task in your trash", body = webkit::ErrorResponse),
    ))]
async fn restore_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<TaskOut>, AppError> {
    let task = access::restore_owned::<Entity>(&state.db, current.caller(), id).await?;
    Ok(axum::Json(task.into()))
}
