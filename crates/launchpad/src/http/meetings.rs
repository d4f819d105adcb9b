//! `/api/meetings` and `/api/admin/meetings` ([`crate::resources::meetings`]).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::meetings::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::meetings::{self, CompleteIn, RequestMeetingIn, ScheduleIn};
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

impl From<Model> for MeetingOut {
    fn from(m: Model) -> Self {
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

/// Ask for a meeting with a mentor.
#[utoipa::path(post, path = "/meetings", tag = "meetings", security(("bearer" = [])), request_body = RequestMeetingIn,
    responses(
        (status = 201, body = MeetingOut),
        (status = 404, description = "No such project of yours", body = ErrorResponse),
    ))]
async fn request_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<RequestMeetingIn>,
) -> Result<(StatusCode, axum::Json<MeetingOut>), AppError> {
    let meeting = meetings::request(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(meeting.into())))
}

/// The caller's meetings (an admin sees every meeting).
#[utoipa::path(get, path = "/meetings", tag = "meetings", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Page<MeetingOut>),
))]
async fn list_meetings(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<MeetingOut>>, AppError> {
    let page = meetings::list(&db, current.caller(), &params).await?;
    Ok(axum::Json(page.map(MeetingOut::from)))
}

/// One meeting.
#[utoipa::path(get, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingOut)))]
async fn get_meeting(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let meeting = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(meeting.into()))
}

/// Move one of the caller's meetings to the trash.
#[utoipa::path(delete, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_meeting(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_owned::<Entity>(&state.db, current.caller(), id).await?;
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
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<MeetingOut>, AppError> {
    let meeting = meetings::cancel(&state.db, current.caller(), id).await?;
    Ok(axum::Json(meeting.into()))
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
    let meeting = meetings::schedule(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(meeting.into()))
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
    let meeting = meetings::complete(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(meeting.into()))
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
    let meeting = meetings::cancel_any(&state.db, admin.caller(), id).await?;
    Ok(axum::Json(meeting.into()))
}
