//! Projects: a student's; deleting one takes its synopsis, meetings, files and ideas
//! with it to the trash.

use dbkit::list::{FullText, ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Changes, Stateful};
use crate::domain::{self, Text, Transitions, nullable};
use crate::entity::projects::{self, Column, Entity, Model};
use crate::error::AppError;
use crate::resources::Caller;

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

impl Stateful for Entity {
    fn status() -> Column {
        Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

pub const TITLE: Text = Text::line("title", 3, 200);
pub const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub const CATEGORY: Text = Text::line("category", 1, 100);
pub const TECH_STACK: Text = Text::line("tech_stack", 1, 50);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectIn {
    title: String,
    description: Option<String>,
    category: Option<String>,
    #[serde(default)]
    tech_stack: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectIn {
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
pub struct ProjectStatusIn {
    status: String,
}

/// Filters only project lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilters {
    /// Exact category.
    category: Option<String>,
}

pub const LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("updated_at", Column::UpdatedAt),
        ("title", Column::TitleFold),
        ("status", Column::Status),
    ],
    default_order: SortOrder::Desc,
    // Full text over title and description (migration m20261122_000009).
    search: Search::FullText(FullText {
        table: "projects",
        fts_table: "projects_fts",
        vector_column: "search_vector",
    }),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

fn tech_stack(tags: &[String]) -> Result<serde_json::Value, AppError> {
    Ok(json!(domain::tags(&TECH_STACK, tags)?))
}

/// Starts a project for the caller.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateProjectIn,
) -> Result<Model, AppError> {
    let project = projects::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        title: Set(TITLE.check(&input.title)?),
        description: Set(DESCRIPTION.optional(input.description.as_deref())?),
        category: Set(CATEGORY.optional(input.category.as_deref())?),
        tech_stack: Set(tech_stack(&input.tech_stack)?),
        status: Set(STATUSES[0].to_owned()),
        synopsis_submitted: Set(false),
        ..Default::default()
    };
    access::insert::<Entity>(db, actor, project).await
}

/// The caller's projects (an admin sees every project).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: ProjectFilters,
) -> Result<Page<Model>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(category) = filters.category {
        query = query.filter(Column::Category.eq(category));
    }
    Ok(LIST.fetch(db, query, params).await?)
}

/// Changes what the input names.
pub async fn update(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: UpdateProjectIn,
) -> Result<Model, AppError> {
    let changes = Changes::default()
        .set(
            Column::Title,
            input.title.as_deref().map(|t| TITLE.check(t)).transpose()?,
        )
        .set(
            Column::Description,
            input
                .description
                .map(|d| DESCRIPTION.optional(d.as_deref()))
                .transpose()?,
        )
        .set(
            Column::Category,
            input
                .category
                .map(|c| CATEGORY.optional(c.as_deref()))
                .transpose()?,
        )
        .set(
            Column::TechStack,
            input.tech_stack.as_deref().map(tech_stack).transpose()?,
        );
    access::update_owned::<Entity>(db, caller, id, changes).await
}

/// Moves a project to another status (an admin's move), following its transitions.
pub async fn set_status(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: ProjectStatusIn,
) -> Result<Model, AppError> {
    let to = domain::one_of("status", &input.status, STATUSES)?;
    access::move_visible::<Entity>(db, caller, (id, "status"), (to, Changes::default())).await
}
