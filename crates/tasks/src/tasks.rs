//! Tasks: a user's, with a status (`completed_at` follows it) and a priority; deleted
//! ones wait in their owner's trash. Its states, inputs and lists, and its operations,
//! each one transaction through the kit's resource path (ownership, soft delete, the
//! guarded move, the log row); `routes` maps them to HTTP.

use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeleteTable;
use dbkit::{Actor, Writer};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use webkit::AppError;
use webkit::resource::{self as access, Changes, Stateful};
use webkit::rules::{self, Text, Transitions, nullable};

use crate::entity::tasks::{self, Column, Entity, Model};
use crate::entity::users;

/// Who acts: the signed-in user and the request's actor.
pub type Caller<'a> = (&'a users::Model, &'a Actor);

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskIn {
    title: String,
    description: Option<String>,
    /// Default `Pending`.
    status: Option<String>,
    /// Default `Medium`.
    priority: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskIn {
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
pub struct TaskFilters {
    /// `Low`, `Medium` or `High`.
    priority: Option<String>,
}

pub const TASK_LIST: ListSpec<tasks::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", tasks::Column::CreatedAt),
        ("updated_at", tasks::Column::UpdatedAt),
        ("title", tasks::Column::TitleFold),
        ("priority", tasks::Column::Priority),
        ("status", tasks::Column::Status),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[tasks::Column::TitleFold, tasks::Column::DescriptionFold]),
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

fn priority(raw: &str) -> Result<String, AppError> {
    rules::one_of("priority", raw, PRIORITIES).map(str::to_owned)
}

/// `completed_at` as a move to `to` sets it.
fn completion(to: &str) -> Vec<(Column, SimpleExpr)> {
    let at = (to == COMPLETED).then(dbkit::time::now);
    vec![(Column::CompletedAt, Expr::value(at))]
}

/// Creates a task for the caller.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateTaskIn,
) -> Result<Model, AppError> {
    let status = rules::one_of(
        "status",
        input.status.as_deref().unwrap_or("Pending"),
        STATUSES,
    )?;
    let task = tasks::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        title: Set(TITLE.check(&input.title)?),
        description: Set(DESCRIPTION.optional(input.description.as_deref())?),
        status: Set(status.to_owned()),
        priority: Set(priority(input.priority.as_deref().unwrap_or("Medium"))?),
        completed_at: Set((status == COMPLETED).then(dbkit::time::now)),
        ..Default::default()
    };
    access::insert::<Entity>(db, actor, task).await
}

/// The caller's tasks.
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: TaskFilters,
) -> Result<Page<Model>, AppError> {
    let mut rows = access::visible::<Entity>(user);
    if let Some(raw) = &filters.priority {
        rows = rows.filter(Column::Priority.eq(rules::one_of("priority", raw, PRIORITIES)?));
    }
    Ok(TASK_LIST.fetch(db, rows, params).await?)
}

/// The caller's deleted tasks.
pub async fn trash(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
) -> Result<Page<Model>, AppError> {
    Ok(TRASH_LIST
        .fetch(db, access::trashed::<Entity>(user), params)
        .await?)
}

/// Changes a task: the fields the input names and, if it names one, a move to another
/// status. One log row for the request: the move (with the fields changed alongside),
/// or the change of fields.
pub async fn update(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
    input: UpdateTaskIn,
) -> Result<Model, AppError> {
    let to = input
        .status
        .as_deref()
        .map(|s| rules::one_of("status", s, STATUSES))
        .transpose()?;
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
            Column::Priority,
            input.priority.as_deref().map(priority).transpose()?,
        );
    let writer = Writer::begin(db, actor).await?;
    let task = access::find_owned::<Entity>(writer.tx(), user, id).await?;
    let event = match to {
        Some(to) => {
            let fields = changes.fields();
            let mut set = changes.into_exprs();
            set.extend(completion(to));
            let moved =
                access::move_status::<Entity>(writer.tx(), (id, "status"), &task.status, to, set);
            moved.await?.with("fields", json!(fields))
        }
        None => access::update::<Entity>(writer.tx(), id, changes).await?,
    };
    let task = access::reload::<Entity>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(task)
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
