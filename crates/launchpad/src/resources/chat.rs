//! The chatbot's conversation history, one session of messages at a time. A session is
//! the messages of one user sharing a `session_id`; it exists while it has live
//! messages, and stays with the project its first message named.

use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::newest_first::{NewestFirst, RawList};
use dbkit::soft_delete::{self, SoftDeletable};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query as SqlQuery, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, FromQueryResult,
    QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access;
use crate::domain::{self, Text};
use crate::entity::chatbot_history::{self as chat, Column, Entity, Model};
use crate::entity::projects;
use crate::error::AppError;
use crate::resources::Caller;
use crate::tables::CHAT_MESSAGES;

/// Who wrote a message.
pub const MESSAGE_TYPES: &[&str] = &["user", "assistant", "system"];

pub const MESSAGE: Text = Text::lines("message", 1, 10_000);
pub const INTENT: Text = Text::line("intent", 1, 100);

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
pub struct MessageIn {
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
pub struct PageQuery {
    /// 1-based page number. Not together with `cursor`.
    page: Option<u64>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<u64>,
    /// Keyset paging: empty for the first page, then the previous page's
    /// `meta.next_cursor`. Not together with `page`.
    cursor: Option<String>,
}

impl PageQuery {
    pub fn params(&self) -> ListParams {
        ListParams {
            page: self.page,
            per_page: self.per_page,
            cursor: self.cursor.clone(),
            ..Default::default()
        }
    }
}

/// A session's messages, oldest first; paged like every list.
pub const MESSAGE_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[("created_at", Column::CreatedAt)],
    default_order: SortOrder::Asc,
    search: Search::Like(&[]),
    status: None,
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// A message, validated.
pub struct NewMessage {
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
fn own_session(user_id: Uuid, session_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find_live()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::SessionId.eq(session_id))
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
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
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

/// The caller's live messages, the base of both session queries.
fn live_of(user_id: Uuid) -> SelectStatement {
    SqlQuery::select()
        .from(Entity)
        .and_where(Expr::col(Column::UserId).eq(user_id))
        .and_where(Expr::col(Column::DeletedAt).is_null())
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
    let last_message_at = || Expr::col(Column::CreatedAt).max();
    // A session never changes project, so grouping by both gives one row per session.
    let rows = live_of(user_id)
        .column(Column::SessionId)
        .column(Column::ProjectId)
        .expr_as(Expr::col(Column::Id).count(), Alias::new("message_count"))
        .expr_as(
            Expr::col(Column::CreatedAt).min(),
            Alias::new("first_message_at"),
        )
        .expr_as(last_message_at(), Alias::new("last_message_at"))
        .group_by_col(Column::SessionId)
        .group_by_col(Column::ProjectId)
        .order_by_expr(last_message_at(), Order::Desc)
        .order_by(Column::SessionId, Order::Desc)
        .to_owned();
    let count = live_of(user_id)
        .expr_as(
            Expr::col(Column::SessionId).count_distinct(),
            Alias::new("n"),
        )
        .to_owned();
    let list = RawList {
        rows,
        count,
        key: (last_message_at(), Expr::col(Column::SessionId)),
        aggregate: true,
    };
    Ok(SESSION_ORDER
        .fetch(conn, list, params, |s: &SessionOut| {
            (s.last_message_at, s.session_id)
        })
        .await?)
}

/// Records a message of the caller's, in a new session or one of theirs; logged
/// `chat.message`.
pub async fn post(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: MessageIn,
) -> Result<Model, AppError> {
    let new = NewMessage::try_from(input)?;
    let writer = Writer::begin(db, actor).await?;
    if let Some(project_id) = new.project_id {
        access::find_owned::<projects::Entity>(writer.tx(), user, project_id).await?;
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
    Ok(message)
}

/// The caller's sessions, the most recently active first.
pub async fn sessions(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
) -> Result<Page<SessionOut>, AppError> {
    session_page(db, user.id, params).await
}

/// The messages of one session, oldest first (an admin may read anyone's); a 404 if
/// the caller sees none.
pub async fn messages(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    session_id: Uuid,
    q: PageQuery,
) -> Result<Page<Model>, AppError> {
    let params = &q.params();
    let query = access::visible::<Entity>(user).filter(Column::SessionId.eq(session_id));
    let messages = MESSAGE_LIST.fetch(db, query, params).await?;
    // A session exists while it has a live message the caller may see.
    let none = match &messages.meta.cursor {
        None => messages.meta.total == 0,
        Some(_) => messages.data.is_empty() && q.cursor.as_deref() == Some(""),
    };
    if none {
        return Err(AppError::NotFound("session"));
    }
    Ok(messages)
}

/// Moves a session's messages to the trash (its owner only; an admin reaching someone
/// else's gets 403).
pub async fn delete_session(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    session_id: Uuid,
) -> Result<(), AppError> {
    let writer = Writer::begin(db, actor).await?;
    let session = Column::UserId
        .eq(user.id)
        .and(Column::SessionId.eq(session_id));
    let deleted =
        soft_delete::soft_delete_where(writer.tx(), &CHAT_MESSAGES, session, Some(user.id)).await?;
    let Some(affected) = deleted else {
        let someone_elses = user.is_admin
            && Entity::find_live()
                .filter(Column::SessionId.eq(session_id))
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
    Ok(())
}
