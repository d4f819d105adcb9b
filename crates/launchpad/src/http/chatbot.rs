//! `/api/chatbot`: the chatbot's conversation history, one session of messages at a
//! time. A session is the messages of one user sharing a `session_id`; it exists while
//! it has live messages, and stays with the project its first message named.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::newest_first::{NewestFirst, RawList};
use dbkit::soft_delete::{self, SoftDeletable};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query as SqlQuery, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, FromQueryResult, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::domain::{self, Text};
use crate::entity::{chatbot_history as chat, projects};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;
use crate::tables::CHAT_MESSAGES;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_message))
        .routes(routes!(list_sessions))
        .routes(routes!(list_session_messages))
        .routes(routes!(delete_session))
}

/// Who wrote a message.
pub const MESSAGE_TYPES: &[&str] = &["user", "assistant", "system"];

pub(crate) const MESSAGE: Text = Text::lines("message", 1, 10_000);
pub(crate) const INTENT: Text = Text::line("intent", 1, 100);

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

impl From<chat::Model> for MessageOut {
    fn from(m: chat::Model) -> Self {
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

/// A conversation: its live messages summed up.
#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct SessionOut {
    session_id: Uuid,
    project_id: Option<Uuid>,
    message_count: i64,
    first_message_at: DateTime<Utc>,
    last_message_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MessageIn {
    /// An existing session of the caller; omitted, a new session starts.
    #[schema(value_type = Option<Uuid>)]
    session_id: Option<String>,
    /// A project the caller can see. Omitted in an existing session, the session's
    /// project is kept; a session cannot move to another project.
    #[schema(value_type = Option<Uuid>)]
    project_id: Option<String>,
    message_type: String,
    /// 1–10,000 characters.
    message: String,
    /// What the message was about (`idea_generation`, …), up to 100 characters.
    intent: Option<String>,
    /// How long the answer took, in milliseconds (≥ 0).
    #[schema(value_type = Option<i32>, minimum = 0)]
    response_time_ms: Option<i64>,
}

/// Paging of a chat list: by page, or by cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// 1-based page number. Not together with `cursor`.
    page: Option<u64>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<u64>,
    /// Keyset paging: empty for the first page, then the previous page's
    /// `meta.next_cursor`. Not together with `page`.
    cursor: Option<String>,
}

impl PageQuery {
    fn params(&self) -> ListParams {
        ListParams {
            page: self.page,
            per_page: self.per_page,
            cursor: self.cursor.clone(),
            ..Default::default()
        }
    }
}

/// A session's messages, oldest first; paged like every list.
pub(crate) const MESSAGE_LIST: ListSpec<chat::Entity> = ListSpec {
    sort_fields: &[("created_at", chat::Column::CreatedAt)],
    default_order: SortOrder::Asc,
    search: Search::Like(&[]),
    status: None,
    created_at: chat::Column::CreatedAt,
    id: chat::Column::Id,
};

/// A message, validated.
struct NewMessage {
    session_id: Option<Uuid>,
    project_id: Option<Uuid>,
    message_type: &'static str,
    message: String,
    intent: Option<String>,
    response_time_ms: Option<i32>,
}

impl TryFrom<MessageIn> for NewMessage {
    type Error = AppError;

    fn try_from(body: MessageIn) -> Result<Self, AppError> {
        let response_time_ms = body
            .response_time_ms
            .map(|ms| {
                i32::try_from(ms).ok().filter(|ms| *ms >= 0).ok_or_else(|| {
                    AppError::invalid(
                        "response_time_ms",
                        format!("response_time_ms must be 0 to {}", i32::MAX),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            session_id: body
                .session_id
                .as_deref()
                .map(|s| domain::uuid("session_id", s))
                .transpose()?,
            project_id: body
                .project_id
                .as_deref()
                .map(|p| domain::uuid("project_id", p))
                .transpose()?,
            message_type: domain::one_of("message_type", &body.message_type, MESSAGE_TYPES)?,
            message: MESSAGE.check(&body.message)?,
            intent: body
                .intent
                .as_deref()
                .map(|i| INTENT.check(i))
                .transpose()?,
            response_time_ms,
        })
    }
}

/// The caller's live messages of one session.
fn own_session(user_id: Uuid, session_id: Uuid) -> sea_orm::Select<chat::Entity> {
    chat::Entity::find_live()
        .filter(chat::Column::UserId.eq(user_id))
        .filter(chat::Column::SessionId.eq(session_id))
}

/// The project a message in `session_id` belongs to: the session's own. Naming another
/// one is a 409 (the input is valid on its own; it conflicts with what the session
/// already holds); a session the caller does not have is a 404.
async fn session_project(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    asked: Option<Uuid>,
) -> Result<Option<Uuid>, AppError> {
    let first = own_session(user_id, session_id)
        .order_by_asc(chat::Column::CreatedAt)
        .order_by_asc(chat::Column::Id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("session"))?;
    match asked {
        None => Ok(first.project_id),
        Some(p) if first.project_id == Some(p) => Ok(Some(p)),
        Some(_) => Err(AppError::Conflict {
            message: "a session stays with the project it started with".into(),
            details: json!({ "field": "project_id", "session_project": first.project_id }),
        }),
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
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<MessageIn>,
) -> Result<(StatusCode, axum::Json<MessageOut>), AppError> {
    let new = NewMessage::try_from(body)?;
    let writer = Writer::begin(&state.db, &actor).await?;
    if let Some(project_id) = new.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), &user, project_id).await?;
    }
    let (session_id, project_id) = match new.session_id {
        Some(session_id) => {
            let project = session_project(writer.tx(), user.id, session_id, new.project_id).await?;
            (session_id, project)
        }
        None => (Uuid::now_v7(), new.project_id),
    };
    let message = chat::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        session_id: Set(session_id),
        project_id: Set(project_id),
        message_type: Set(new.message_type.to_owned()),
        message: Set(new.message),
        intent: Set(new.intent),
        response_time_ms: Set(new.response_time_ms),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    let event = Event::new("chat.message", "chat_message", message.id).details(json!({
        "session_id": session_id,
        "message_type": new.message_type,
    }));
    writer.commit(event).await?;
    Ok((StatusCode::CREATED, axum::Json(message.into())))
}

/// The caller's live messages, the base of both session queries.
fn live_of(user_id: Uuid) -> SelectStatement {
    SqlQuery::select()
        .from(chat::Entity)
        .and_where(Expr::col(chat::Column::UserId).eq(user_id))
        .and_where(Expr::col(chat::Column::DeletedAt).is_null())
        .to_owned()
}

/// The sessions list's order, most recently active first, and its cursors.
const SESSION_ORDER: NewestFirst = NewestFirst {
    sort: "last_message_at",
};

/// The caller's sessions. Keyed on an aggregate, so a cursor page still groups all of the
/// caller's messages: its cost grows with their history, not with the page's depth.
async fn session_page(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    params: &ListParams,
) -> Result<Page<SessionOut>, AppError> {
    let last_message_at = || Expr::col(chat::Column::CreatedAt).max();
    // A session never changes project, so grouping by both gives one row per session.
    let rows = live_of(user_id)
        .column(chat::Column::SessionId)
        .column(chat::Column::ProjectId)
        .expr_as(
            Expr::col(chat::Column::Id).count(),
            Alias::new("message_count"),
        )
        .expr_as(
            Expr::col(chat::Column::CreatedAt).min(),
            Alias::new("first_message_at"),
        )
        .expr_as(last_message_at(), Alias::new("last_message_at"))
        .group_by_col(chat::Column::SessionId)
        .group_by_col(chat::Column::ProjectId)
        .order_by_expr(last_message_at(), Order::Desc)
        .order_by(chat::Column::SessionId, Order::Desc)
        .to_owned();
    let count = live_of(user_id)
        .expr_as(
            Expr::col(chat::Column::SessionId).count_distinct(),
            Alias::new("n"),
        )
        .to_owned();
    let list = RawList {
        rows,
        count,
        key: (last_message_at(), Expr::col(chat::Column::SessionId)),
        aggregate: true,
    };
    Ok(SESSION_ORDER
        .fetch(conn, list, params, |s: &SessionOut| {
            (s.last_message_at, s.session_id)
        })
        .await?)
}

/// The caller's sessions, the most recently active first.
#[utoipa::path(get, path = "/chatbot/sessions", tag = "chatbot", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, body = Page<SessionOut>),
    ))]
async fn list_sessions(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<Page<SessionOut>>, AppError> {
    Ok(axum::Json(
        session_page(&state.db, user.id, &q.params()).await?,
    ))
}

/// The messages of one session, oldest first (an admin may read anyone's).
#[utoipa::path(get, path = "/chatbot/sessions/{session_id}/messages", tag = "chatbot", security(("bearer" = [])),
    params(("session_id" = Uuid, Path), PageQuery), responses(
        (status = 200, body = Page<MessageOut>),
        (status = 404, description = "No such session, or not yours", body = ErrorResponse),
    ))]
async fn list_session_messages(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Path(session_id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<Page<MessageOut>>, AppError> {
    let params = q.params();
    let query =
        access::visible::<chat::Entity>(&user).filter(chat::Column::SessionId.eq(session_id));
    let messages = MESSAGE_LIST.fetch(&state.db, query, &params).await?;
    // A session exists while it has a live message the caller may see.
    let none = match &messages.meta.cursor {
        None => messages.meta.total == 0,
        Some(_) => messages.data.is_empty() && q.cursor.as_deref() == Some(""),
    };
    if none {
        return Err(AppError::NotFound("session"));
    }
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
    CurrentUser { user, actor }: CurrentUser,
    Path(session_id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let session = chat::Column::UserId
        .eq(user.id)
        .and(chat::Column::SessionId.eq(session_id));
    let deleted =
        soft_delete::soft_delete_where(writer.tx(), &CHAT_MESSAGES, session, Some(user.id)).await?;
    let Some(affected) = deleted else {
        let someone_elses = user.is_admin
            && chat::Entity::find_live()
                .filter(chat::Column::SessionId.eq(session_id))
                .one(writer.tx())
                .await?
                .is_some();
        return Err(if someone_elses {
            AppError::Forbidden
        } else {
            AppError::NotFound("session")
        });
    };
    let event = Event::new("chat.session.delete", "chat_session", session_id)
        .details(json!({ "affected": affected }));
    writer.commit(event).await?;
    Ok(StatusCode::NO_CONTENT)
}
