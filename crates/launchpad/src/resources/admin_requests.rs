//! Requests: a student asks the admins for something (a plan change, an extension,
//! help); an admin approves, rejects or resolves it with a note.

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{DatabaseConnection, Set};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::{self, Changes, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::admin_requests::{self, Column, Entity, Model};
use crate::error::AppError;
use crate::resources::Caller;

pub const STATUSES: &[&str] = &["pending", "approved", "rejected", "resolved"];
/// What an admin may resolve a request to: every status but the first.
pub const RESOLUTIONS: &[&str] = STATUSES.split_at(1).1;

pub const REQUEST_TYPE: Text = Text::line("request_type", 2, 50);
pub const MESSAGE: Text = Text::lines("message", 1, 5_000);
pub const NOTE: Text = Text::lines("note", 0, 5_000);

/// A pending request is decided; an approved one is later marked resolved when done.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "request",
    moves: &[
        ("pending", &["approved", "rejected", "resolved"]),
        ("approved", &["resolved"]),
    ],
};

impl Stateful for Entity {
    fn status() -> Column {
        Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequestIn {
    /// A short label: `plan_change`, `deadline_extension`, `mentor_change`, …
    request_type: String,
    message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    status: String,
    /// The admin's answer, shown to the student.
    note: Option<String>,
}

pub const REQUEST_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("updated_at", Column::UpdatedAt),
        ("status", Column::Status),
        ("request_type", Column::RequestTypeFold),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::RequestTypeFold, Column::MessageFold]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// Files a request for the caller; it starts as `pending` and is logged
/// `admin_request.file` (a request is filed, not created).
pub async fn file(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: FileRequestIn,
) -> Result<Model, AppError> {
    let request = admin_requests::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        request_type: Set(REQUEST_TYPE.check(&input.request_type)?),
        message: Set(MESSAGE.check(&input.message)?),
        status: Set(STATUSES[0].to_owned()),
        resolved_by: Set(None),
        resolution_note: Set(None),
        resolved_at: Set(None),
        ..Default::default()
    };
    let writer = Writer::begin(db, actor).await?;
    access::create_as::<Entity>(writer, request, "file", |_, event| event).await
}

/// The caller's requests (an admin sees every request).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
) -> Result<Page<Model>, AppError> {
    Ok(REQUEST_LIST
        .fetch(db, access::visible::<Entity>(user), params)
        .await?)
}

/// Approves, rejects or resolves a request, with a note for the student (an admin's
/// move), stamping who resolved it and when.
pub async fn resolve(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: ResolveIn,
) -> Result<Model, AppError> {
    let to = domain::one_of("status", &input.status, RESOLUTIONS)?;
    let set = Changes::default()
        .set(Column::ResolvedBy, Some(caller.0.id))
        .set(
            Column::ResolutionNote,
            Some(NOTE.optional(input.note.as_deref())?),
        )
        .set(Column::ResolvedAt, Some(dbkit::time::now()));
    access::move_visible::<Entity>(db, caller, (id, "resolve"), (to, set)).await
}
