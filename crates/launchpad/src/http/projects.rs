//! `/api/projects`: a student's projects. Deleting one moves it to the trash with its
//! synopsis, meetings, files and ideas.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{FullText, ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::projects;
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, nullable};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(set_project_status))
}

/// Project statuses, in the order a project usually moves through them.
pub const STATUSES: &[&str] = &[
    "idea_pending",
    "synopsis_pending",
    "in_progress",
    "completed",
    "cancelled",
];

/// How a project moves: submitting a synopsis, its review, then completion. Any open
/// project can be cancelled.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "project",
    moves: &[
        ("idea_pending", &["synopsis_pending", "cancelled"]),
        (
            "synopsis_pending",
            &["in_progress", "idea_pending", "cancelled"],
        ),
        ("in_progress", &["completed", "cancelled"]),
    ],
};

impl Stateful for projects::Entity {
    fn status() -> projects::Column {
        projects::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
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

impl From<projects::Model> for ProjectOut {
    fn from(p: projects::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateProjectIn {
    title: String,
    description: Option<String>,
    category: Option<String>,
    #[serde(default)]
    tech_stack: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateProjectIn {
    title: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    category: Option<Option<String>>,
    tech_stack: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProjectStatusIn {
    status: String,
}

/// Filters only project lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ProjectFilters {
    /// Exact category.
    category: Option<String>,
}

pub(crate) const PROJECT_LIST: ListSpec<projects::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", projects::Column::CreatedAt),
        ("updated_at", projects::Column::UpdatedAt),
        ("title", projects::Column::Title),
        ("status", projects::Column::Status),
    ],
    default_order: SortOrder::Desc,
    // Full text over title and description (migration m20261122_000009).
    search: Search::FullText(FullText {
        table: "projects",
        fts_table: "projects_fts",
        vector_column: "search_vector",
    }),
    status: Some((projects::Column::Status, STATUSES)),
    created_at: projects::Column::CreatedAt,
    id: projects::Column::Id,
};

pub(crate) const TITLE: Text = Text::line("title", 3, 200);
pub(crate) const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub(crate) const CATEGORY: Text = Text::line("category", 1, 100);
pub(crate) const TECH_STACK: Text = Text::line("tech_stack", 1, 50);

/// Start a project.
#[utoipa::path(post, path = "/projects", tag = "projects", security(("bearer" = [])), request_body = CreateProjectIn,
    responses(
        (status = 201, body = ProjectOut),
    ))]
async fn create_project(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<CreateProjectIn>,
) -> Result<(StatusCode, axum::Json<ProjectOut>), AppError> {
    let project = projects::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        title: Set(TITLE.check(&body.title)?),
        description: Set(body
            .description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?),
        category: Set(body
            .category
            .as_deref()
            .map(|c| CATEGORY.check(c))
            .transpose()?),
        tech_stack: Set(json!(domain::tags(&TECH_STACK, &body.tech_stack)?)),
        status: Set(STATUSES[0].to_owned()),
        synopsis_submitted: Set(false),
        ..Default::default()
    };
    let writer = Writer::begin(&state.db, &actor).await?;
    let project = access::create::<projects::Entity>(writer, project).await?;
    Ok((StatusCode::CREATED, axum::Json(project.into())))
}

/// The caller's projects (an admin sees every project).
#[utoipa::path(get, path = "/projects", tag = "projects", security(("bearer" = [])), params(ListParams, ProjectFilters),
    responses(
        (status = 200, body = Page<ProjectOut>),
    ))]
async fn list_projects(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<ProjectFilters>,
) -> Result<axum::Json<Page<ProjectOut>>, AppError> {
    let mut query = access::visible::<projects::Entity>(&current.user);
    if let Some(category) = &filters.category {
        query = query.filter(projects::Column::Category.eq(category.as_str()));
    }
    Ok(axum::Json(
        PROJECT_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(ProjectOut::from),
    ))
}

/// One project.
#[utoipa::path(get, path = "/projects/{id}", tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProjectOut),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
    ))]
async fn get_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ProjectOut>, AppError> {
    let project = access::find_visible::<projects::Entity>(&state.db, &current.user, id).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateProjectIn>,
) -> Result<axum::Json<ProjectOut>, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let project = access::find_owned::<projects::Entity>(writer.tx(), &user, id).await?;
    let mut model: projects::ActiveModel = project.into();
    let mut changed = Vec::new();
    if let Some(t) = &body.title {
        model.title = Set(TITLE.check(t)?);
        changed.push("title");
    }
    if let Some(d) = &body.description {
        model.description = Set(d.as_deref().map(|d| DESCRIPTION.check(d)).transpose()?);
        changed.push("description");
    }
    if let Some(c) = &body.category {
        model.category = Set(c.as_deref().map(|c| CATEGORY.check(c)).transpose()?);
        changed.push("category");
    }
    if let Some(tags) = &body.tech_stack {
        model.tech_stack = Set(json!(domain::tags(&TECH_STACK, tags)?));
        changed.push("tech_stack");
    }
    model.updated_at = Set(dbkit::time::now());
    let project = model.update(writer.tx()).await?;
    writer
        .commit(access::event::<projects::Entity>("update", id).with("fields", json!(changed)))
        .await?;
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
    access::delete_owned::<projects::Entity>(&state.db, current.caller(), id).await?;
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
    let to = domain::one_of("status", &body.status, STATUSES)?;
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let project = access::find_visible::<projects::Entity>(writer.tx(), &admin.user, id).await?;
    let event = access::move_status::<projects::Entity>(
        writer.tx(),
        (id, "status"),
        &project.status,
        to,
        Vec::new(),
    )
    .await?;
    let project = access::find_visible::<projects::Entity>(writer.tx(), &admin.user, id).await?;
    writer.commit(event).await?;
    Ok(axum::Json(project.into()))
}
