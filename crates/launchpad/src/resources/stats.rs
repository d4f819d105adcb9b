//! The monitoring queries of the seed notes: most active users, failed actions, chatbot
//! activity per day and response time per intent, idea categories and how often their
//! ideas are chosen.
//!
//! Each query is one aggregate built with sea-query; only the day of a timestamp is
//! backend-specific SQL. Time windows are computed here and bound as parameters.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query as SqlQuery, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entity::{activity_logs as logs, chatbot_history as chat, ideas, users};
use crate::error::AppError;

const DEFAULT_DAYS: u32 = 30;
const MAX_DAYS: u32 = 365;
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 100;

/// `days` (1–365, default 30) and `limit` (1–100, default 10).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    /// The window in days: 1–365, default 30.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 365)]
    days: Option<String>,
    /// The most rows to return: 1–100, default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// `days` (1–365, default 30).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// The window in days, today included: 1–365, default 30.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 365)]
    days: Option<String>,
}

/// A whole number in `min..=max` from the query string, or `default`; a 422 naming
/// `field` otherwise.
fn bounded(
    field: &str,
    raw: Option<&str>,
    (min, max): (u32, u32),
    default: u32,
) -> Result<u32, AppError> {
    let Some(raw) = raw else { return Ok(default) };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{field} must be a whole number from {min} to {max}"),
            )
        })
}

impl DaysQuery {
    /// The window, checked.
    pub fn parse(&self) -> Result<u32, AppError> {
        bounded("days", self.days.as_deref(), (1, MAX_DAYS), DEFAULT_DAYS)
    }
}

impl TopQuery {
    /// The window and the row limit, checked.
    pub fn parse(&self) -> Result<(u32, u32), AppError> {
        Ok((
            bounded("days", self.days.as_deref(), (1, MAX_DAYS), DEFAULT_DAYS)?,
            bounded(
                "limit",
                self.limit.as_deref(),
                (1, MAX_LIMIT),
                DEFAULT_LIMIT,
            )?,
        ))
    }
}

/// The start of a rolling window of `days` days ending now.
fn since(days: u32) -> DateTime<Utc> {
    dbkit::time::now() - Duration::days(i64::from(days))
}

/// The start (midnight UTC) of a window of `days` calendar days ending today.
fn since_midnight(days: u32) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    first.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The UTC day (`YYYY-MM-DD`) of `chatbot_history.created_at`: the one piece of SQL the
/// backends spell differently (SQLite stores RFC 3339 text).
fn day_of_created_at(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => Expr::cust("substr(created_at, 1, 10)"),
    }
}

async fn rows<T>(
    conn: &impl ConnectionTrait,
    query: &SelectStatement,
    read: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> Result<Vec<T>, AppError> {
    let rows = conn.query_all(query).await?;
    Ok(rows.iter().map(read).collect::<Result<Vec<_>, DbErr>>()?)
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A user and how many actions they took.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveUserRow {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub actions: i64,
}

/// An action and how often it failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedActionRow {
    pub action: String,
    /// Rows with status `failed` or `error`.
    pub failures: i64,
}

/// Chatbot use on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatDayRow {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub messages: i64,
    pub unique_users: i64,
}

/// Response time of one intent.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentRow {
    /// `null` groups the messages without an intent.
    pub intent: Option<String>,
    /// Messages with a response time.
    pub messages: i64,
    /// Rounded to two decimals.
    pub avg_response_time_ms: f64,
}

/// Ideas of one category and how many were chosen.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRow {
    /// `null` groups the ideas without a category.
    pub category: Option<String>,
    pub ideas: i64,
    pub selected: i64,
    /// `selected / ideas`, from 0 to 1, rounded to four decimals.
    pub selection_rate: f64,
}

/// The users with the most logged actions over the last `days` days.
pub async fn active_users(
    db: &DatabaseConnection,
    days: u32,
    limit: u32,
) -> Result<Vec<ActiveUserRow>, AppError> {
    let actions = Expr::col((logs::Entity, logs::Column::Id)).count();
    let query = SqlQuery::select()
        .column((logs::Entity, logs::Column::UserId))
        .column((users::Entity, users::Column::Email))
        .column((users::Entity, users::Column::Name))
        .expr_as(actions.clone(), Alias::new("actions"))
        .from(logs::Entity)
        .inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id))
                .equals((logs::Entity, logs::Column::UserId)),
        )
        .and_where(Expr::col((logs::Entity, logs::Column::CreatedAt)).gte(since(days)))
        .group_by_col((logs::Entity, logs::Column::UserId))
        .group_by_col((users::Entity, users::Column::Email))
        .group_by_col((users::Entity, users::Column::Name))
        .order_by_expr(actions, Order::Desc)
        .order_by((users::Entity, users::Column::Email), Order::Asc)
        .order_by((logs::Entity, logs::Column::UserId), Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    rows(db, &query, |row| {
        Ok(ActiveUserRow {
            user_id: row.try_get("", "user_id")?,
            email: row.try_get("", "email")?,
            name: row.try_get("", "name")?,
            actions: row.try_get("", "actions")?,
        })
    })
    .await
}

/// The actions that failed (status `failed` or `error`) most over the last `days` days.
pub async fn failed_actions(
    db: &DatabaseConnection,
    days: u32,
    limit: u32,
) -> Result<Vec<FailedActionRow>, AppError> {
    let failures = Expr::col(logs::Column::Id).count();
    let query = SqlQuery::select()
        .column(logs::Column::Action)
        .expr_as(failures.clone(), Alias::new("failures"))
        .from(logs::Entity)
        .and_where(Expr::col(logs::Column::Status).is_in(["failed", "error"]))
        .and_where(Expr::col(logs::Column::CreatedAt).gte(since(days)))
        .group_by_col(logs::Column::Action)
        .order_by_expr(failures, Order::Desc)
        .order_by(logs::Column::Action, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    rows(db, &query, |row| {
        Ok(FailedActionRow {
            action: row.try_get("", "action")?,
            failures: row.try_get("", "failures")?,
        })
    })
    .await
}

/// Chatbot messages and distinct users per UTC day, over the last `days` calendar days
/// (today included), newest day first; days without messages are left out.
pub async fn chatbot_daily(
    db: &DatabaseConnection,
    days: u32,
) -> Result<Vec<ChatDayRow>, AppError> {
    let day = Alias::new("day");
    let query = SqlQuery::select()
        .expr_as(day_of_created_at(db.get_database_backend()), day.clone())
        .expr_as(Expr::col(chat::Column::Id).count(), Alias::new("messages"))
        .expr_as(
            Expr::col(chat::Column::UserId).count_distinct(),
            Alias::new("unique_users"),
        )
        .from(chat::Entity)
        .and_where(Expr::col(chat::Column::DeletedAt).is_null())
        .and_where(Expr::col(chat::Column::CreatedAt).gte(since_midnight(days)))
        .group_by_col(day.clone())
        .order_by(day, Order::Desc)
        .to_owned();
    rows(db, &query, |row| {
        Ok(ChatDayRow {
            day: row.try_get("", "day")?,
            messages: row.try_get("", "messages")?,
            unique_users: row.try_get("", "unique_users")?,
        })
    })
    .await
}

/// The average response time per intent over the last `days` days, of messages that
/// have one; the most used intents first.
pub async fn chatbot_intents(
    db: &DatabaseConnection,
    days: u32,
    limit: u32,
) -> Result<Vec<IntentRow>, AppError> {
    let messages = Expr::col(chat::Column::Id).count();
    // PostgreSQL averages integers as `numeric`; a double averages alike on both.
    let average = Expr::from(Func::cast_as(
        Expr::col(chat::Column::ResponseTimeMs),
        Alias::new("DOUBLE PRECISION"),
    ))
    .avg();
    let query = SqlQuery::select()
        .column(chat::Column::Intent)
        .expr_as(messages.clone(), Alias::new("messages"))
        .expr_as(average, Alias::new("avg_response_time_ms"))
        .from(chat::Entity)
        .and_where(Expr::col(chat::Column::DeletedAt).is_null())
        .and_where(Expr::col(chat::Column::ResponseTimeMs).is_not_null())
        .and_where(Expr::col(chat::Column::CreatedAt).gte(since(days)))
        .group_by_col(chat::Column::Intent)
        .order_by_expr(messages, Order::Desc)
        .order_by_expr(Expr::col(chat::Column::Intent).is_null(), Order::Asc)
        .order_by(chat::Column::Intent, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    rows(db, &query, |row| {
        let average: f64 = row.try_get("", "avg_response_time_ms")?;
        Ok(IntentRow {
            intent: row.try_get("", "intent")?,
            messages: row.try_get("", "messages")?,
            avg_response_time_ms: round(average, 2),
        })
    })
    .await
}

/// Idea categories by number of ideas over the last `days` days, with how many were
/// chosen.
pub async fn idea_categories(
    db: &DatabaseConnection,
    days: u32,
    limit: u32,
) -> Result<Vec<CategoryRow>, AppError> {
    let count = Expr::col(ideas::Column::Id).count();
    let selected = Expr::case(Expr::col(ideas::Column::UserSelected).eq(true), 1)
        .finally(0)
        .sum();
    let query = SqlQuery::select()
        .column(ideas::Column::Category)
        .expr_as(count.clone(), Alias::new("ideas"))
        .expr_as(selected, Alias::new("selected"))
        .from(ideas::Entity)
        .and_where(Expr::col(ideas::Column::DeletedAt).is_null())
        .and_where(Expr::col(ideas::Column::CreatedAt).gte(since(days)))
        .group_by_col(ideas::Column::Category)
        .order_by_expr(count, Order::Desc)
        .order_by_expr(Expr::col(ideas::Column::Category).is_null(), Order::Asc)
        .order_by(ideas::Column::Category, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    rows(db, &query, |row| {
        let ideas: i64 = row.try_get("", "ideas")?;
        let selected: i64 = row.try_get("", "selected")?;
        let rate = if ideas == 0 {
            0.0
        } else {
            selected as f64 / ideas as f64
        };
        Ok(CategoryRow {
            category: row.try_get("", "category")?,
            ideas,
            selected,
            selection_rate: round(rate, 4),
        })
    })
    .await
}
