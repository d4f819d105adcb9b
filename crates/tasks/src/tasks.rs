//! `/api/tasks`: a user's tasks. Each handler extracts, validates, calls the kit's
//! resource layer (ownership, soft delete, the guarded status move, the log row) and maps
//! the row; nothing else.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeleteTable;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Json, Path, Query, nullable};
use webkit::resource::{self as access, Stateful};
use webkit::rules::{self, Text, Transitions};

use crate::entity::tasks;
use crate::state::{AppState, CurrentUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task, list_tasks))
        .routes(routes!(list_trash))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(restore_task))
}

pub const STATUSES: &[&str] = &["Pending", "In Progress", "Completed"];
pub const PRIORITIES: &[&str] = &["Low", "Medium", "High"];
const COMPLETED: &str = "Completed";

/// Any status can become any other; `completed_at` follows.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "task",
    moves: &[
        ("Pending", &["In Progress", "Completed"]),
        ("In Progress", &["Pending", "Completed"]),
        ("Completed", &["Pending", "In Progress"]),
    ],
};

pub static TASKS: SoftDeleteTable = SoftDeleteTable {
    entity_type: "task",
    table: "tasks",
    owns: &[],
};

webkit::resource!(crate::entity::tasks, "task", TASKS, UserId);

impl Stateful for tasks::Entity {
    fn status() -> tasks::Column {
        tasks::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

const TITLE: Text = Text::line("title", 1, 200);
const DESCRIPTION: Text = Text::lines("description", 0, 10_000);

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

impl From<tasks::Model> for TaskOut {
    fn from(t: tasks::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateTaskIn {
    title: String,
    description: Option<String>,
    /// Default `Pending`.
    status: Option<String>,
    /// Default `Medium`.
    priority: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateTaskIn {
    title: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// A move to another status (any other is allowed); `completed_at` follows.
    status: Option<String>,
    priority: Option<String>,
}

/// Filters only task lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TaskFilters {
    /// `Low`, `Medium` or `High`.
    priority: Option<String>,
}

pub const TASK_LIST: ListSpec<tasks::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", tasks::Column::CreatedAt),
        ("updated_at", tasks::Column::UpdatedAt),
        ("title", tasks::Column::Title),
        ("priority", tasks::Column::Priority),
        ("status", tasks::Column::Status),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[tasks::Column::Title, tasks::Column::Description]),
    status: Some((tasks::Column::Status, STATUSES)),
    created_at: tasks::Column::CreatedAt,
    id: tasks::Column::Id,
};

/// The trash: most recently deleted first.
pub const TRASH_LIST: ListSpec<tasks::Entity> = ListSpec {
    sort_fields: &[
        ("deleted_at", tasks::Column::DeletedAt),
        ("created_at", tasks::Column::CreatedAt),
    ],
    ..TASK_LIST
};

/// `completed_at` as a move to `to` sets it.
fn completion(to: &str) -> Vec<(tasks::Column, SimpleExpr)> {
    let at = (to == COMPLETED).then(dbkit::time::now);
    vec![(tasks::Column::CompletedAt, Expr::value(at))]
}

/// Create a task.
#[utoipa::path(post, path = "/tasks", tag = "tasks", security(("bearer" = [])), request_body = CreateTaskIn,
    responses((status = 201, body = TaskOut)))]
async fn create_task(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<CreateTaskIn>,
) -> Result<(StatusCode, axum::Json<TaskOut>), AppError> {
    let status = rules::one_of(
        "status",
        body.status.as_deref().unwrap_or("Pending"),
        STATUSES,
    )?;
    let task = tasks::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        title: Set(TITLE.check(&body.title)?),
        description: Set(body
            .description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?),
        status: Set(status.to_owned()),
        priority: Set(rules::one_of(
            "priority",
            body.priority.as_deref().unwrap_or("Medium"),
            PRIORITIES,
        )?
        .to_owned()),
        completed_at: Set((status == COMPLETED).then(dbkit::time::now)),
        ..Default::default()
    };
    let writer = Writer::begin(&state.db, &actor).await?;
    let task = access::create::<tasks::Entity>(writer, task).await?;
    Ok((StatusCode::CREATED, axum::Json(task.into())))
}

/// The caller's tasks.
#[utoipa::path(get, path = "/tasks", tag = "tasks", security(("bearer" = [])), params(ListParams, TaskFilters),
    responses((status = 200, body = Page<TaskOut>)))]
async fn list_tasks(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<TaskFilters>,
) -> Result<axum::Json<Page<TaskOut>>, AppError> {
    let mut rows = access::visible::<tasks::Entity>(&user);
    if let Some(priority) = &filters.priority {
        let priority = rules::one_of("priority", priority, PRIORITIES)?;
        rows = rows.filter(tasks::Column::Priority.eq(priority));
    }
    let page = TASK_LIST.fetch(&state.db, rows, &params).await?;
    Ok(axum::Json(page.map(TaskOut::from)))
}

/// The caller's deleted tasks, most recently deleted first.
#[utoipa::path(get, path = "/tasks/trash", tag = "tasks", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<TaskOut>)))]
async fn list_trash(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<TaskOut>>, AppError> {
    let rows = access::trashed::<tasks::Entity>(&user);
    let page = TRASH_LIST.fetch(&state.db, rows, &params).await?;
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
    CurrentUser { user, .. }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<TaskOut>, AppError> {
    let task = access::find_owned::<tasks::Entity>(&state.db, &user, id).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTaskIn>,
) -> Result<axum::Json<TaskOut>, AppError> {
    let to = body
        .status
        .as_deref()
        .map(|s| rules::one_of("status", s, STATUSES))
        .transpose()?;
    let writer = Writer::begin(&state.db, &actor).await?;
    let task = access::find_owned::<tasks::Entity>(writer.tx(), &user, id).await?;
    let from = task.status.clone();
    let mut model: tasks::ActiveModel = task.into();
    let mut changed = Vec::new();
    if let Some(title) = &body.title {
        model.title = Set(TITLE.check(title)?);
        changed.push("title");
    }
    if let Some(description) = &body.description {
        model.description = Set(description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?);
        changed.push("description");
    }
    if let Some(priority) = &body.priority {
        model.priority = Set(rules::one_of("priority", priority, PRIORITIES)?.to_owned());
        changed.push("priority");
    }
    if !changed.is_empty() {
        model.updated_at = Set(dbkit::time::now());
        model.update(writer.tx()).await?;
    }
    // One log row for the request: the move (with the fields changed alongside), or the
    // change of fields.
    let event = match to {
        Some(to) => {
            let moved = access::move_status::<tasks::Entity>(
                writer.tx(),
                (id, "status"),
                &from,
                to,
                completion(to),
            );
            moved.await?.with("fields", json!(changed))
        }
        None => access::event::<tasks::Entity>("update", id).with("fields", json!(changed)),
    };
    let task = access::reload::<tasks::Entity>(writer.tx(), id).await?;
    writer.commit(event).await?;
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
    access::delete_owned::<tasks::Entity>(&state.db, current.caller(), id).await?;
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
    let task = access::restore_owned::<tasks::Entity>(&state.db, current.caller(), id).await?;
    Ok(axum::Json(task.into()))
}

/// Three tasks for the demo account, one per status.
pub async fn seed(tx: &sea_orm::DatabaseTransaction, user_id: Uuid) -> Result<(), AppError> {
    for (title, status, priority) in [
        ("Read the API docs at /docs", "Completed", "Low"),
        (
            "Try the trash: delete a task, then restore it",
            "In Progress",
            "Medium",
        ),
        (
            "Check the activity log at /api/activity-logs/me",
            "Pending",
            "High",
        ),
    ] {
        tasks::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            title: Set(title.to_owned()),
            description: Set(None),
            status: Set(status.to_owned()),
            priority: Set(priority.to_owned()),
            completed_at: Set((status == COMPLETED).then(dbkit::time::now)),
            ..Default::default()
        }
        .insert(tx)
        .await?;
    }
    Ok(())
}
