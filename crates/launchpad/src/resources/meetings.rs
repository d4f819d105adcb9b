//! Meetings: a student asks for a meeting; an admin schedules (or reschedules),
//! completes or cancels it. The student may cancel their own.

use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::time::Timestamp;
use sea_orm::{DatabaseConnection, Set};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::{self, Changes, Stateful};
use crate::domain::{Form, Text, Transitions};
use crate::entity::meetings::{self, Column, Entity, Model};
use crate::entity::projects;
use crate::error::AppError;
use crate::resources::Caller;

pub const STATUSES: &[&str] = &["requested", "scheduled", "completed", "cancelled"];

/// A requested meeting gets scheduled (and may be rescheduled), then completed; an open
/// one can be cancelled.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "meeting",
    moves: &[
        ("requested", &["scheduled", "cancelled"]),
        ("scheduled", &["scheduled", "completed", "cancelled"]),
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
pub struct RequestMeetingIn {
    topic: String,
    /// When the student would like to meet; in the future.
    #[schema(value_type = Option<String>, format = DateTime, example = "2099-01-06T10:00:00Z")]
    preferred_time: Option<Timestamp>,
    /// One of the student's projects.
    project_id: Option<Uuid>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// When the meeting takes place; must be in the future.
    #[schema(value_type = String, format = DateTime, example = "2099-01-06T10:00:00Z")]
    scheduled_at: Timestamp,
    /// An http(s) link to the call.
    #[schema(example = "https://meet.example.com/launchpad-review")]
    meeting_link: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteIn {
    /// What was discussed.
    notes: Option<String>,
}

pub const MEETING_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("scheduled_at", Column::ScheduledAt),
        ("status", Column::Status),
        ("updated_at", Column::UpdatedAt),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::TopicFold, Column::NotesFold]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

pub const TOPIC: Text = Text::line("topic", 3, 200);
pub const NOTES: Text = Text::lines("notes", 0, 5_000);
pub const MEETING_LINK: Text = Text::new("meeting_link", 8, 500, Form::HttpUrl);

/// A meeting time, which must lie ahead.
fn future(field: &str, at: Timestamp) -> Result<DateTime<Utc>, AppError> {
    if at.get() <= Utc::now() {
        return Err(AppError::invalid(
            field,
            format!("{field} must be in the future"),
        ));
    }
    Ok(at.get())
}

/// Asks for a meeting for the caller, about one of their projects if it names one;
/// logged `meeting.request`.
pub async fn request(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: RequestMeetingIn,
) -> Result<Model, AppError> {
    let topic = TOPIC.check(&input.topic)?;
    let notes = NOTES.optional(input.notes.as_deref())?;
    let preferred_time = input
        .preferred_time
        .map(|t| future("preferred_time", t))
        .transpose()?;
    let writer = Writer::begin(db, actor).await?;
    if let Some(project_id) = input.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), user, project_id).await?;
    }
    let meeting = meetings::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        project_id: Set(input.project_id),
        admin_id: Set(None),
        topic: Set(topic),
        preferred_time: Set(preferred_time),
        scheduled_at: Set(None),
        meeting_link: Set(None),
        notes: Set(notes),
        status: Set(STATUSES[0].to_owned()),
        ..Default::default()
    };
    access::create_as::<Entity>(writer, meeting, "request", |_, event| event).await
}

/// The caller's meetings (an admin sees every meeting).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
) -> Result<Page<Model>, AppError> {
    Ok(MEETING_LIST
        .fetch(db, access::visible::<Entity>(user), params)
        .await?)
}

/// Cancels one of the caller's open meetings.
pub async fn cancel(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    access::move_owned::<Entity>(
        db,
        caller,
        (id, "cancel"),
        ("cancelled", Changes::default()),
    )
    .await
}

/// Cancels any open meeting (an admin's move).
pub async fn cancel_any(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    access::move_visible::<Entity>(
        db,
        caller,
        (id, "cancel"),
        ("cancelled", Changes::default()),
    )
    .await
}

/// Schedules (or reschedules) a meeting with the calling admin.
pub async fn schedule(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: ScheduleIn,
) -> Result<Model, AppError> {
    let set = Changes::default()
        .set(
            Column::ScheduledAt,
            Some(future("scheduled_at", input.scheduled_at)?),
        )
        .set(
            Column::MeetingLink,
            Some(MEETING_LINK.check(&input.meeting_link)?),
        )
        .set(Column::AdminId, Some(caller.0.id));
    access::move_visible::<Entity>(db, caller, (id, "schedule"), ("scheduled", set)).await
}

/// Marks a scheduled meeting as held, with notes of what was discussed (an admin's move).
pub async fn complete(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: CompleteIn,
) -> Result<Model, AppError> {
    let set = Changes::default().set(Column::Notes, NOTES.optional(input.notes.as_deref())?);
    access::move_visible::<Entity>(db, caller, (id, "complete"), ("completed", set)).await
}
