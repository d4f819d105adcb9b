//! Ideas: generated project ideas (`idea_generation_history`) a student keeps, selects
//! (one per project), rates and refines into new ones.

use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{FullText, ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Changes};
use crate::domain::{self, Text, Whole};
use crate::entity::ideas::{self, Column, Entity, Model};
use crate::entity::projects;
use crate::error::AppError;
use crate::resources::Caller;

/// How hard an idea is to build.
pub const COMPLEXITIES: &[&str] = &["beginner", "intermediate", "advanced"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIdeaIn {
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
pub struct RefineIdeaIn {
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
pub struct RateIn {
    /// A whole number from 1 to 5.
    #[schema(value_type = i32)]
    rating: Value,
}

/// Filters only idea lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdeaFilters {
    /// Exact category.
    category: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    user_selected: Option<String>,
    /// Ideas of this project.
    #[param(value_type = Option<Uuid>)]
    project_id: Option<String>,
}

pub const IDEA_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("rating", Column::Rating),
        ("title", Column::TitleFold),
    ],
    default_order: SortOrder::Desc,
    // Full text over title and description (migration m20261122_000009).
    search: Search::FullText(FullText {
        table: "idea_generation_history",
        fts_table: "ideas_fts",
        vector_column: "search_vector",
    }),
    status: None,
    created_at: Column::CreatedAt,
    id: Column::Id,
};

pub const TITLE: Text = Text::line("title", 3, 200);
pub const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub const CATEGORY: Text = Text::line("category", 1, 100);
pub const TECH_STACK: Text = Text::line("tech_stack", 1, 50);

fn complexity(raw: &str) -> Result<String, AppError> {
    domain::one_of("complexity", raw, COMPLEXITIES).map(str::to_owned)
}

fn tech_stack(raw: &[String]) -> Result<Value, AppError> {
    Ok(json!(domain::tags(&TECH_STACK, raw)?))
}

pub const RATING: Whole = Whole {
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

/// Keeps a generated idea for the caller, for one of their projects if it names one.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateIdeaIn,
) -> Result<Model, AppError> {
    let new = NewIdea {
        title: TITLE.check(&input.title)?,
        description: DESCRIPTION.optional(input.description.as_deref())?,
        category: CATEGORY.optional(input.category.as_deref())?,
        tech_stack: tech_stack(&input.tech_stack)?,
        complexity: complexity(&input.complexity)?,
        project_id: input
            .project_id
            .as_deref()
            .map(|p| domain::uuid("project_id", p))
            .transpose()?,
        refinement_of: None,
    };
    let writer = Writer::begin(db, actor).await?;
    if let Some(project_id) = new.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), user, project_id).await?;
    }
    let idea = access::create::<Entity>(writer, new.into_model(user.id)).await?;
    Ok(idea)
}

/// The caller's ideas (an admin sees every idea).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: IdeaFilters,
) -> Result<Page<Model>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(category) = &filters.category {
        query = query.filter(Column::Category.eq(category.as_str()));
    }
    if let Some(selected) = &filters.user_selected {
        query = query.filter(Column::UserSelected.eq(boolean("user_selected", selected)?));
    }
    if let Some(project_id) = &filters.project_id {
        query = query.filter(Column::ProjectId.eq(domain::uuid("project_id", project_id)?));
    }
    Ok(IDEA_LIST.fetch(db, query, params).await?)
}

/// Selects one of the caller's ideas. Selecting one for a project unselects that
/// project's others; logged `idea.select` with how many it unselected.
pub async fn select(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    // An idea's project never changes: read it first, to lock the project (the parent)
    // before the idea, in the order every other write takes them.
    let project = access::find_owned::<Entity>(db, user, id).await?.project_id;
    let writer = Writer::begin(db, actor).await?;
    if let Some(project_id) = project {
        // Selections in one project take turns, so each sees the one before it; the
        // unique index ux_ideas_selected_per_project is the database's own guard.
        writer.lock("projects", project_id).await?;
    }
    access::find_owned::<Entity>(writer.tx(), user, id).await?;
    let now = dbkit::time::now();
    let mut unselected = 0;
    if let Some(project_id) = project {
        unselected = Entity::update_many()
            .col_expr(Column::UserSelected, Expr::value(false))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::ProjectId.eq(project_id))
            .filter(Column::Id.ne(id))
            .filter(Column::UserSelected.eq(true))
            .filter(Column::DeletedAt.is_null())
            .exec(writer.tx())
            .await?
            .rows_affected;
    }
    // Guarded: the idea may have been deleted while this waited for the lock.
    let selected = Entity::update_many()
        .col_expr(Column::UserSelected, Expr::value(true))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::DeletedAt.is_null())
        .exec(writer.tx())
        .await?
        .rows_affected;
    if selected == 0 {
        return Err(AppError::NotFound("idea"));
    }
    let idea = access::reload::<Entity>(writer.tx(), id).await?;
    let event = access::event::<Entity>("select", id).details(json!({ "unselected": unselected }));
    writer.commit(event).await?;
    Ok(idea)
}

/// Rates one of the caller's ideas from 1 to 5; logged `idea.rate` with the rating.
pub async fn rate(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
    input: RateIn,
) -> Result<Model, AppError> {
    let rating = rating(&input.rating)?;
    let writer = Writer::begin(db, actor).await?;
    access::find_owned::<Entity>(writer.tx(), user, id).await?;
    // The kit writes the rating; the log names it a rating (`idea.rate` with the
    // rating), not the field update (`idea.update`) the kit would log.
    access::update::<Entity>(
        writer.tx(),
        id,
        Changes::default().set(Column::Rating, Some(rating)),
    )
    .await?;
    let idea = access::reload::<Entity>(writer.tx(), id).await?;
    let event = access::event::<Entity>("rate", id).details(json!({ "rating": rating }));
    writer.commit(event).await?;
    Ok(idea)
}

/// Refines one of the caller's ideas into a new one (`refinement_of` points back); what
/// the input leaves out is copied from the original, its project too.
pub async fn refine(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
    input: RefineIdeaIn,
) -> Result<Model, AppError> {
    let title = TITLE.check(&input.title)?;
    let description = DESCRIPTION.optional(input.description.as_deref())?;
    let category = CATEGORY.optional(input.category.as_deref())?;
    let stack = input.tech_stack.as_deref().map(tech_stack).transpose()?;
    let complexity = input.complexity.as_deref().map(complexity).transpose()?;
    let writer = Writer::begin(db, actor).await?;
    let original = access::find_owned::<Entity>(writer.tx(), user, id).await?;
    let new = NewIdea {
        project_id: original.project_id,
        title,
        description: description.or(original.description),
        category: category.or(original.category),
        tech_stack: stack.unwrap_or(original.tech_stack),
        complexity: complexity.unwrap_or(original.complexity),
        refinement_of: Some(id),
    };
    let refined = |_: &Model, event: Event| event.details(json!({ "refinement_of": id }));
    access::create_as::<Entity>(writer, new.into_model(user.id), "refine", refined).await
}
