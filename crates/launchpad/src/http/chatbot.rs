//! `/api/chatbot` ([`crate::resources::chat`]).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::Page;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::entity::chatbot_history::Model;
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Json, Path, Query, Reading};
use crate::resources::chat::{self, MessageIn, PageQuery, SessionOut};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_message))
        .routes(routes!(list_sessions))
        .routes(routes!(list_session_messages))
        .routes(routes!(delete_session))
}

/// One chat message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
    project_id: Option<Uuid>,
    message_type: String,
    message: String,
    intent: Option<String>,
    response_time_ms: Option<i32>,
    created_at: DateTime<Utc>,
}

impl From<Model> for MessageOut {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            session_id: m.session_id,
            project_id: m.project_id,
            message_type: m.message_type,
            message: m.message,
            intent: m.intent,
            response_time_ms: m.response_time_ms,
            created_at: m.created_at,
        }
    }
}

/// Record a chat message, in a new session or one of the caller's sessions.
#[utoipa::path(post, path = "/chatbot/messages", tag = "chatbot", security(("bearer" = [])), request_body = MessageIn,
    responses(
        (status = 201, body = MessageOut),
        (status = 403, description = "An admin posting to someone else's project", body = ErrorResponse),
        (status = 404, description = "No such session or project, or not yours", body = ErrorResponse),
        (status = 409, description = "The session started with another project", body = ErrorResponse),
    ))]
async fn post_message(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<MessageIn>,
) -> Result<(StatusCode, axum::Json<MessageOut>), AppError> {
    let message = chat::post(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(message.into())))
}

/// The caller's sessions, the most recently active first.
#[utoipa::path(get, path = "/chatbot/sessions", tag = "chatbot", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, body = Page<SessionOut>),
    ))]
async fn list_sessions(
    Reading { who: current, db }: Reading,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<Page<SessionOut>>, AppError> {
    Ok(axum::Json(
        chat::sessions(&db, current.caller(), &q.params()).await?,
    ))
}

/// The messages of one session, oldest first (an admin may read anyone's).
#[utoipa::path(get, path = "/chatbot/sessions/{session_id}/messages", tag = "chatbot", security(("bearer" = [])),
    params(("session_id" = Uuid, Path), PageQuery), responses(
        (status = 200, body = Page<MessageOut>),
        (status = 404, description = "No such session, or not yours", body = ErrorResponse),
    ))]
async fn list_session_messages(
    Reading { who: current, db }: Reading,
    Path(session_id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<Page<MessageOut>>, AppError> {
    let messages = chat::messages(&db, current.caller(), session_id, q).await?;
    Ok(axum::Json(messages.map(MessageOut::from)))
}

/// Move a session's messages to the trash (its owner only).
#[utoipa::path(delete, path = "/chatbot/sessions/{session_id}", tag = "chatbot", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "An admin deleting someone else's session", body = ErrorResponse),
        (status = 404, description = "No such session, or not yours", body = ErrorResponse),
    ))]
async fn delete_session(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(session_id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    chat::delete_session(&state.db, current.caller(), session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
