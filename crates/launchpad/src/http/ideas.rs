//! `/api/ideas`: generated project ideas (`idea_generation_history`) — kept, selected,
//! rated and refined into new ideas.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{FullText, ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::domain::{self, Text, Whole};
use crate::entity::{ideas, projects};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_idea, list_ideas))
        .routes(routes!(get_idea, delete_idea))
        .routes(routes!(select_idea))
        .routes(routes!(rate_idea))
        .routes(routes!(refine_idea))
}

/// How hard an idea is to build.
pub const COMPLEXITIES: &[&str] = &["beginner", "intermediate", "advanced"];

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

impl From<ideas::Model> for IdeaOut {
    fn from(i: ideas::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateIdeaIn {
    /// 3–200 characters.
    title: String,
    description: Option<String>,
    category: Option<String>,
    /// At most 20 entries of 1–50 characters.
    tech_stack: Vec<String>,
    complexity: String,
    /// One of the caller's projects.
    #[schema(value_type = Option<Uuid>)]
    project_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefineIdeaIn {
    /// 3–200 characters.
    title: String,
    /// Omitted: the original's.
    description: Option<String>,
    /// Omitted: the original's.
    category: Option<String>,
    /// Omitted: the original's.
    tech_stack: Option<Vec<String>>,
    /// Omitted: the original's.
    complexity: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RateIn {
    /// A whole number from 1 to 5.
    #[schema(value_type = i32)]
    rating: Value,
}

/// Filters only idea lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IdeaFilters {
    /// Exact category.
    category: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    user_selected: Option<String>,
    /// Ideas of this project.
    #[param(value_type = Option<Uuid>)]
    project_id: Option<String>,
}

pub(crate) const IDEA_LIST: ListSpec<ideas::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", ideas::Column::CreatedAt),
        ("rating", ideas::Column::Rating),
        ("title", ideas::Column::Title),
    ],
    default_order: SortOrder::Desc,
    // Full text over title and description (migration m20261122_000009).
    search: Search::FullText(FullText {
        table: "idea_generation_history",
        fts_table: "ideas_fts",
        vector_column: "search_vector",
    }),
    status: None,
    created_at: ideas::Column::CreatedAt,
    id: ideas::Column::Id,
};

pub(crate) const TITLE: Text = Text::line("title", 3, 200);
pub(crate) const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub(crate) const CATEGORY: Text = Text::line("category", 1, 100);
pub(crate) const TECH_STACK: Text = Text::line("tech_stack", 1, 50);

fn complexity(raw: &str) -> Result<String, AppError> {
    domain::one_of("complexity", raw, COMPLEXITIES).map(str::to_owned)
}

fn tech_stack(raw: &[String]) -> Result<Value, AppError> {
    Ok(json!(domain::tags(&TECH_STACK, raw)?))
}

pub(crate) const RATING: Whole = Whole {
    field: "rating",
    min: 1,
    max: 5,
};

/// A whole number from 1 to 5 (`4.0` is 4: JSON Schema counts it an integer).
fn rating(raw: &Value) -> Result<i32, AppError> {
    let whole = raw.as_f64().filter(|r| r.fract() == 0.0).map(|r| r as i64);
    let rating = raw
        .as_i64()
        .or(whole)
        .ok_or_else(|| AppError::invalid("rating", "rating must be a whole number from 1 to 5"))?;
    Ok(i32::try_from(RATING.check(rating)?).expect("RATING fits an i32"))
}

fn boolean(field: &str, raw: &str) -> Result<bool, AppError> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AppError::invalid(
            field,
            format!("{field} must be true or false"),
        )),
    }
}

/// A new idea row owned by `user_id`.
struct NewIdea {
    project_id: Option<Uuid>,
    title: String,
    description: Option<String>,
    category: Option<String>,
    tech_stack: Value,
    complexity: String,
    refinement_of: Option<Uuid>,
}

impl NewIdea {
    fn into_model(self, user_id: Uuid) -> ideas::ActiveModel {
        ideas::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            project_id: Set(self.project_id),
            title: Set(self.title),
            description: Set(self.description),
            category: Set(self.category),
            tech_stack: Set(self.tech_stack),
            complexity: Set(self.complexity),
            user_selected: Set(false),
            rating: Set(None),
            refinement_of: Set(self.refinement_of),
            ..Default::default()
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
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<CreateIdeaIn>,
) -> Result<(StatusCode, axum::Json<IdeaOut>), AppError> {
    let new = NewIdea {
        title: TITLE.check(&body.title)?,
        description: body
            .description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?,
        category: body
            .category
            .as_deref()
            .map(|c| CATEGORY.check(c))
            .transpose()?,
        tech_stack: tech_stack(&body.tech_stack)?,
        complexity: complexity(&body.complexity)?,
        project_id: body
            .project_id
            .as_deref()
            .map(|p| domain::uuid("project_id", p))
            .transpose()?,
        refinement_of: None,
    };
    let writer = Writer::begin(&state.db, &actor).await?;
    if let Some(project_id) = new.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), &user, project_id).await?;
    }
    let idea = access::create::<ideas::Entity>(writer, new.into_model(user.id)).await?;
    Ok((StatusCode::CREATED, axum::Json(idea.into())))
}

/// The caller's ideas (an admin sees every idea).
#[utoipa::path(get, path = "/ideas", tag = "ideas", security(("bearer" = [])), params(ListParams, IdeaFilters),
    responses(
        (status = 200, description = "Sorted by `created_at` (default), `rating` (unrated last either way) or `title`; `search` looks in title and description", body = Page<IdeaOut>),
    ))]
async fn list_ideas(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<IdeaFilters>,
) -> Result<axum::Json<Page<IdeaOut>>, AppError> {
    let mut query = access::visible::<ideas::Entity>(&current.user);
    if let Some(category) = &filters.category {
        query = query.filter(ideas::Column::Category.eq(category.as_str()));
    }
    if let Some(selected) = &filters.user_selected {
        query = query.filter(ideas::Column::UserSelected.eq(boolean("user_selected", selected)?));
    }
    if let Some(project_id) = &filters.project_id {
        query = query.filter(ideas::Column::ProjectId.eq(domain::uuid("project_id", project_id)?));
    }
    Ok(axum::Json(
        IDEA_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(IdeaOut::from),
    ))
}

/// One idea.
#[utoipa::path(get, path = "/ideas/{id}", tag = "ideas", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = IdeaOut),
        (status = 404, description = "No such idea, or not yours", body = ErrorResponse),
    ))]
async fn get_idea(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    let idea = access::find_visible::<ideas::Entity>(&state.db, &current.user, id).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    // An idea's project never changes: read it first, to lock the project (the parent)
    // before the idea, in the order every other write takes them.
    let project = access::find_owned::<ideas::Entity>(&state.db, &user, id)
        .await?
        .project_id;
    let writer = Writer::begin(&state.db, &actor).await?;
    if let Some(project_id) = project {
        // Selections in one project take turns, so each sees the one before it; the
        // unique index ux_ideas_selected_per_project is the database's own guard.
        writer.lock("projects", project_id).await?;
    }
    access::find_owned::<ideas::Entity>(writer.tx(), &user, id).await?;
    let now = dbkit::time::now();
    let mut unselected = 0;
    if let Some(project_id) = project {
        unselected = ideas::Entity::update_many()
            .col_expr(ideas::Column::UserSelected, Expr::value(false))
            .col_expr(ideas::Column::UpdatedAt, Expr::value(now))
            .filter(ideas::Column::ProjectId.eq(project_id))
            .filter(ideas::Column::Id.ne(id))
            .filter(ideas::Column::UserSelected.eq(true))
            .filter(ideas::Column::DeletedAt.is_null())
            .exec(writer.tx())
            .await?
            .rows_affected;
    }
    // Guarded: the idea may have been deleted while this waited for the lock.
    let selected = ideas::Entity::update_many()
        .col_expr(ideas::Column::UserSelected, Expr::value(true))
        .col_expr(ideas::Column::UpdatedAt, Expr::value(now))
        .filter(ideas::Column::Id.eq(id))
        .filter(ideas::Column::DeletedAt.is_null())
        .exec(writer.tx())
        .await?
        .rows_affected;
    if selected == 0 {
        return Err(AppError::NotFound("idea"));
    }
    let idea = access::reload::<ideas::Entity>(writer.tx(), id).await?;
    let event =
        access::event::<ideas::Entity>("select", id).details(json!({ "unselected": unselected }));
    writer.commit(event).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<RateIn>,
) -> Result<axum::Json<IdeaOut>, AppError> {
    let rating = rating(&body.rating)?;
    let writer = Writer::begin(&state.db, &actor).await?;
    let idea = access::find_owned::<ideas::Entity>(writer.tx(), &user, id).await?;
    let mut model: ideas::ActiveModel = idea.into();
    model.rating = Set(Some(rating));
    model.updated_at = Set(dbkit::time::now());
    let idea = model.update(writer.tx()).await?;
    let event = access::event::<ideas::Entity>("rate", id).details(json!({ "rating": rating }));
    writer.commit(event).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
    Json(body): Json<RefineIdeaIn>,
) -> Result<(StatusCode, axum::Json<IdeaOut>), AppError> {
    let title = TITLE.check(&body.title)?;
    let description = body
        .description
        .as_deref()
        .map(|d| DESCRIPTION.check(d))
        .transpose()?;
    let category = body
        .category
        .as_deref()
        .map(|c| CATEGORY.check(c))
        .transpose()?;
    let stack = body.tech_stack.as_deref().map(tech_stack).transpose()?;
    let complexity = body.complexity.as_deref().map(complexity).transpose()?;
    let writer = Writer::begin(&state.db, &actor).await?;
    let original = access::find_owned::<ideas::Entity>(writer.tx(), &user, id).await?;
    let new = NewIdea {
        project_id: original.project_id,
        title,
        description: description.or(original.description),
        category: category.or(original.category),
        tech_stack: stack.unwrap_or(original.tech_stack),
        complexity: complexity.unwrap_or(original.complexity),
        refinement_of: Some(id),
    };
    let idea = new.into_model(user.id).insert(writer.tx()).await?;
    let event =
        access::event::<ideas::Entity>("refine", idea.id).details(json!({ "refinement_of": id }));
    writer.commit(event).await?;
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
    access::delete_owned::<ideas::Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
