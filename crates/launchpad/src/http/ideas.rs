//! `/api/ideas` ([`crate::resources::ideas`]).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::ideas::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Json, Path, Query, Reading};
use crate::resources::ideas::{self, CreateIdeaIn, IdeaFilters, RateIn, RefineIdeaIn};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_idea, list_ideas))
        .routes(routes!(get_idea, delete_idea))
        .routes(routes!(select_idea))
        .routes(routes!(rate_idea))
        .routes(routes!(refine_idea))
}

/// A generated idea.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdeaOut {
    id: Uuid,
    user_id: Uuid,
    project_id: Option<Uuid>,
    title: String,
    description: Option<String>,
    category: Option<String>,
    #[schema(value_type = Vec<String>)]
    tech_stack: Value,
    complexity: String,
    user_selected: bool,
    /// 1–5, once rated.
    rating: Option<i32>,
    /// The idea this one refines.
    refinement_of: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Model> for IdeaOut {
    fn from(i: Model) -> Self {
        Self {
            id: i.id,
            user_id: i.user_id,
            project_id: i.project_id,
            title: i.title,
            description: i.description,
            category: i.category,
            tech_stack: i.tech_stack,
            complexity: i.complexity,
            user_selected: i.user_selected,
            rating: i.rating,
            refinement_of: i.refinement_of,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// Keep a generated idea, optionally for one of the caller's projects.
#[utoipa::path(post, path = "/ideas", tag = "ideas", security(("bearer" = [])), request_body = CreateIdeaIn,
    responses(
        (status = 201, body = IdeaOut),
        (status = 403, description = "An admin attaching an idea to someone else's project", body = ErrorResponse),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
    ))]
async fn create_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<CreateIdeaIn>,
) -> Result<(StatusCode, axum::Json<IdeaOut>), AppError> {
    let idea = ideas::create(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(idea.into())))
}

/// The caller's ideas (an admin sees every idea).
#[utoipa::path(get, path = "/ideas", tag = "ideas", security(("bearer" = [])), params(ListParams, IdeaFilters),
    responses(
        (status = 200, description = "Sorted by `created_at` (default), `rating` (unrated last either way) or `title`; `search` looks in title and description", body = Page<IdeaOut>),
    ))]
async fn list_ideas(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<IdeaFilters>,
) -> Result<axum::Json<Page<IdeaOut>>, AppError> {
    let page = ideas::list(&db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(IdeaOut::from)))
}

/// One idea.
#[utoipa::path(get, path = "/ideas/{id}", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = IdeaOut),
        (status = 404, description = "No such idea, or not yours", body = ErrorResponse),
    ))]
async fn get_idea(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    let idea = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(idea.into()))
}

/// Choose an idea. Choosing one for a project un-chooses that project's other ideas.
#[utoipa::path(post, path = "/ideas/{id}/select", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = IdeaOut),
        (status = 403, description = "An admin choosing someone else's idea", body = ErrorResponse),
    ))]
async fn select_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    let idea = ideas::select(&state.db, current.caller(), id).await?;
    Ok(axum::Json(idea.into()))
}

/// Rate an idea from 1 to 5.
#[utoipa::path(post, path = "/ideas/{id}/rate", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RateIn, responses(
        (status = 200, body = IdeaOut),
        (status = 403, description = "An admin rating someone else's idea", body = ErrorResponse),
        (status = 422, description = "Not a whole number from 1 to 5", body = ErrorResponse),
    ))]
async fn rate_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<RateIn>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    let idea = ideas::rate(&state.db, current.caller(), id, body).await?;
    Ok(axum::Json(idea.into()))
}

/// Refine an idea into a new one (`refinement_of` points back); what is not given is
/// copied from the original, including its project.
#[utoipa::path(post, path = "/ideas/{id}/refine", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RefineIdeaIn, responses(
        (status = 201, body = IdeaOut),
        (status = 403, description = "An admin refining someone else's idea", body = ErrorResponse),
    ))]
async fn refine_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<RefineIdeaIn>,
) -> Result<(StatusCode, axum::Json<IdeaOut>), AppError> {
    let idea = ideas::refine(&state.db, current.caller(), id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(idea.into())))
}

/// Move an idea to the trash.
#[utoipa::path(delete, path = "/ideas/{id}", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorResponse),
    ))]
async fn delete_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
