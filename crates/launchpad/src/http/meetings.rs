//! `/api/meetings`: a student asks for a meeting; an admin schedules, completes or
//! cancels it. The student may cancel their own.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::time::Timestamp;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Stateful};
use crate::domain::{Form, Text, Transitions};
use crate::entity::{meetings, projects};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_meeting, list_meetings))
        .routes(routes!(get_meeting, delete_meeting))
        .routes(routes!(cancel_meeting))
        .routes(routes!(schedule_meeting))
        .routes(routes!(complete_meeting))
        .routes(routes!(admin_cancel_meeting))
}

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

impl Stateful for meetings::Entity {
    fn status() -> meetings::Column {
        meetings::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingOut {
    id: Uuid,
    user_id: Uuid,
    project_id: Option<Uuid>,
    admin_id: Option<Uuid>,
    topic: String,
    preferred_time: Option<DateTime<Utc>>,
    scheduled_at: Option<DateTime<Utc>>,
    meeting_link: Option<String>,
    notes: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<meetings::Model> for MeetingOut {
    fn from(m: meetings::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            project_id: m.project_id,
            admin_id: m.admin_id,
            topic: m.topic,
            preferred_time: m.preferred_time,
            scheduled_at: m.scheduled_at,
            meeting_link: m.meeting_link,
            notes: m.notes,
            status: m.status,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RequestMeetingIn {
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
struct ScheduleIn {
    /// When the meeting takes place; must be in the future.
    #[schema(value_type = String, format = DateTime, example = "2099-01-06T10:00:00Z")]
    scheduled_at: Timestamp,
    /// An http(s) link to the call.
    #[schema(example = "https://meet.example.com/launchpad-review")]
    meeting_link: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CompleteIn {
    /// What was discussed.
    notes: Option<String>,
}

pub(crate) const MEETING_LIST: ListSpec<meetings::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", meetings::Column::CreatedAt),
        ("scheduled_at", meetings::Column::ScheduledAt),
        ("status", meetings::Column::Status),
        ("updated_at", meetings::Column::UpdatedAt),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[meetings::Column::Topic, meetings::Column::Notes]),
    status: Some((meetings::Column::Status, STATUSES)),
    created_at: meetings::Column::CreatedAt,
    id: meetings::Column::Id,
};

pub(crate) const TOPIC: Text = Text::line("topic", 3, 200);
pub(crate) const NOTES: Text = Text::lines("notes", 0, 5_000);
pub(crate) const MEETING_LINK: Text = Text::new("meeting_link", 8, 500, Form::HttpUrl);

/// Ask for a meeting with a mentor.
#[utoipa::path(post, path = "/meetings", tag = "meetings", security(("bearer" = [])), request_body = RequestMeetingIn,
    responses(
        (status = 201, body = MeetingOut),
        (status = 404, description = "No such project of yours", body = ErrorResponse),
    ))]
async fn request_meeting(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<RequestMeetingIn>,
) -> Result<(StatusCode, axum::Json<MeetingOut>), AppError> {
    let topic = TOPIC.check(&body.topic)?;
    let notes = body.notes.as_deref().map(|n| NOTES.check(n)).transpose()?;
    let preferred_time = body
        .preferred_time
        .map(|t| future("preferred_time", t))
        .transpose()?;
    let writer = Writer::begin(&state.db, &actor).await?;
    if let Some(project_id) = body.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), &user, project_id).await?;
    }
    let meeting = meetings::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        project_id: Set(body.project_id),
        admin_id: Set(None),
        topic: Set(topic),
        preferred_time: Set(preferred_time),
        scheduled_at: Set(None),
        meeting_link: Set(None),
        notes: Set(notes),
        status: Set(STATUSES[0].to_owned()),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    writer
        .commit(access::event::<meetings::Entity>("request", meeting.id))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(meeting.into())))
}

/// The caller's meetings (an admin sees every meeting).
#[utoipa::path(get, path = "/meetings", tag = "meetings", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Page<MeetingOut>),
))]
async fn list_meetings(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<MeetingOut>>, AppError> {
    let query = access::visible::<meetings::Entity>(&current.user);
    Ok(axum::Json(
        MEETING_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(MeetingOut::from),
    ))
}

/// One meeting.
#[utoipa::path(get, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingOut)))]
async fn get_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    Ok(axum::Json(
        access::find_visible::<meetings::Entity>(&state.db, &current.user, id)
            .await?
            .into(),
    ))
}

/// Move one of the caller's meetings to the trash.
#[utoipa::path(delete, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<meetings::Entity>(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel one of the caller's open meetings.
#[utoipa::path(post, path = "/meetings/{id}/cancel", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
        (status = 200, body = MeetingOut),
        (status = 409, description = "Already completed or cancelled", body = ErrorResponse),
    ))]
async fn cancel_meeting(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let meeting = access::find_owned::<meetings::Entity>(writer.tx(), &user, id).await?;
    change(writer, meeting, "cancelled", Vec::new(), "cancel").await
}

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

/// Schedule (or reschedule) a meeting (admin).
#[utoipa::path(post, path = "/admin/meetings/{id}/schedule", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ScheduleIn, responses(
        (status = 200, body = MeetingOut),
        (status = 409, description = "Completed or cancelled", body = ErrorResponse),
    ))]
async fn schedule_meeting(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ScheduleIn>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let scheduled_at = future("scheduled_at", body.scheduled_at)?;
    let link = MEETING_LINK.check(&body.meeting_link)?;
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let meeting = access::find_visible::<meetings::Entity>(writer.tx(), &admin.user, id).await?;
    let changes = vec![
        (meetings::Column::ScheduledAt, Expr::value(scheduled_at)),
        (meetings::Column::MeetingLink, Expr::value(link)),
        (meetings::Column::AdminId, Expr::value(admin.user.id)),
    ];
    change(writer, meeting, "scheduled", changes, "schedule").await
}

/// Mark a scheduled meeting as held (admin).
#[utoipa::path(post, path = "/admin/meetings/{id}/complete", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CompleteIn, responses(
        (status = 200, body = MeetingOut),
        (status = 409, description = "Not scheduled", body = ErrorResponse),
    ))]
async fn complete_meeting(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<CompleteIn>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let notes = body.notes.as_deref().map(|n| NOTES.check(n)).transpose()?;
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let meeting = access::find_visible::<meetings::Entity>(writer.tx(), &admin.user, id).await?;
    let changes = match notes {
        Some(n) => vec![(meetings::Column::Notes, Expr::value(n))],
        None => Vec::new(),
    };
    change(writer, meeting, "completed", changes, "complete").await
}

/// Cancel any open meeting (admin).
#[utoipa::path(post, path = "/admin/meetings/{id}/cancel", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
        (status = 200, body = MeetingOut),
        (status = 409, description = "Already completed or cancelled", body = ErrorResponse),
    ))]
async fn admin_cancel_meeting(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let meeting = access::find_visible::<meetings::Entity>(writer.tx(), &admin.user, id).await?;
    change(writer, meeting, "cancelled", Vec::new(), "cancel").await
}

/// Moves `meeting` to `to` with `changes`, logs `meeting.<verb>` and commits.
async fn change(
    writer: Writer,
    meeting: meetings::Model,
    to: &'static str,
    changes: Vec<(meetings::Column, sea_orm::sea_query::SimpleExpr)>,
    verb: &'static str,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let id = meeting.id;
    let event = access::move_status::<meetings::Entity>(
        writer.tx(),
        (id, verb),
        &meeting.status,
        to,
        changes,
    )
    .await?;
    let updated = access::reload::<meetings::Entity>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(axum::Json(updated.into()))
}
