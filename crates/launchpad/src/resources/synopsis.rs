//! Synopses: a student submits a project's synopsis (a file and a title); an admin
//! approves or rejects it with a comment. The project follows: submitting moves it from
//! idea_pending to synopsis_pending; approval on to in_progress, rejection back to
//! idea_pending so that the student can submit again; withdrawing a pending synopsis
//! puts it back too.

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Row, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::projects;
use crate::entity::synopsis::{self, Column, Entity, Model};
use crate::error::AppError;
use crate::resources::{Caller, files};
use crate::storage::Form;

/// Synopsis statuses.
pub const STATUSES: &[&str] = &["Pending", "Approved", "Rejected"];
/// What an admin may decide.
pub const DECISIONS: &[&str] = &["Approved", "Rejected"];

pub const TITLE: Text = Text::line("title", 3, 200);
pub const COMMENT: Text = Text::lines("comment", 0, 5_000);
/// The decision that needs a comment for the student.
pub const NEEDS_COMMENT: &str = "Rejected";

/// A synopsis is reviewed once.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "synopsis",
    moves: &[("Pending", &["Approved", "Rejected"])],
};

impl Stateful for Entity {
    fn status() -> Column {
        Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    decision: String,
    /// For the student; required when rejecting.
    comment: Option<String>,
}

/// Filters only synopsis lists have.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SynopsisFilters {
    /// Only this project's.
    project_id: Option<Uuid>,
}

pub const SYNOPSIS_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("updated_at", Column::UpdatedAt),
        ("status", Column::Status),
        ("title", Column::TitleFold),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::TitleFold]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// Submits a synopsis for one of the caller's projects from its form (`file`,
/// `project_id`, `title`): the file, the synopsis and the project's move to
/// synopsis_pending are one change, logged `synopsis.submit`.
pub async fn submit(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    mut form: Form,
) -> Result<Model, AppError> {
    let project_id: Uuid = form
        .text("project_id")?
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("project_id", "project_id must be a UUID"))?;
    let title = TITLE.check(form.text("title")?)?;
    let upload = form.take_file()?;

    let writer = Writer::begin(db, actor).await?;
    let project = access::find_owned::<projects::Entity>(writer.tx(), user, project_id).await?;
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
    let event = access::event::<Entity>("submit", synopsis.id)
        .details(json!({ "project_id": project_id, "file_id": file.id }));
    upload.store_with(writer.commit(event)).await?;
    Ok(synopsis)
}

/// The caller's synopses (an admin sees every one).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: SynopsisFilters,
) -> Result<Page<Model>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(project_id) = filters.project_id {
        query = query.filter(Column::ProjectId.eq(project_id));
    }
    Ok(SYNOPSIS_LIST.fetch(db, query, params).await?)
}

/// Moves one of the caller's synopses to the trash. Withdrawing one that is still
/// pending puts the project back to idea_pending, so that another can be submitted.
pub async fn delete(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
) -> Result<(), AppError> {
    let writer = Writer::begin(db, actor).await?;
    let synopsis = access::find_owned::<Entity>(writer.tx(), user, id).await?;
    let event =
        access::soft_delete_row(&writer, Entity::table(), (Entity::NOUN, id), user.id).await?;
    let mut project_status = None;
    if synopsis.status == "Pending" {
        let project =
            access::find_owned::<projects::Entity>(writer.tx(), user, synopsis.project_id).await?;
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
    Ok(())
}

/// Approves or rejects a pending synopsis (an admin's move). The project follows if it
/// is still waiting for it: approval moves it from synopsis_pending to in_progress,
/// rejection back to idea_pending.
pub async fn review(
    db: &DatabaseConnection,
    (admin, actor): Caller<'_>,
    id: Uuid,
    input: ReviewIn,
) -> Result<Model, AppError> {
    let decision = domain::one_of("decision", &input.decision, DECISIONS)?;
    let comment = input
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

    let writer = Writer::begin(db, actor).await?;
    let synopsis = access::find_visible::<Entity>(writer.tx(), admin, id).await?;
    let now = dbkit::time::now();
    let event = access::move_status::<Entity>(
        writer.tx(),
        (id, "review"),
        &synopsis.status,
        decision,
        vec![
            (Column::ReviewerId, Expr::value(admin.id)),
            (Column::ReviewComment, Expr::value(comment)),
            (Column::ReviewedAt, Expr::value(now)),
        ],
    )
    .await?;
    // The project follows its synopsis, if it is still waiting for it (an admin may
    // have moved or cancelled it meanwhile; then it stays where it is).
    let project =
        access::find_visible::<projects::Entity>(writer.tx(), admin, synopsis.project_id).await?;
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
    let synopsis = access::reload::<Entity>(writer.tx(), id).await?;
    let event = event
        .with("decision", decision)
        .with("project_id", json!(synopsis.project_id))
        .with("project_status", project_status);
    writer.commit(event).await?;
    Ok(synopsis)
}
