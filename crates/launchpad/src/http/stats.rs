//! `/api/admin/stats/…`: the monitoring queries of the seed notes, for admins
//! ([`crate::resources::stats`]).

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::AppError;
use crate::http::extract::{AdminUser, Query, Reading};
use crate::resources::stats::{
    self, ActiveUserRow, CategoryRow, ChatDayRow, DaysQuery, FailedActionRow, IntentRow, TopQuery,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(active_users))
        .routes(routes!(failed_actions))
        .routes(routes!(chatbot_daily))
        .routes(routes!(chatbot_intents))
        .routes(routes!(idea_categories))
}

/// A statistic over the last `days` days.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats<T> {
    /// The window, in days.
    days: u32,
    /// The most rows returned, where the statistic is a top list.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    data: Vec<T>,
}

/// The users with the most logged actions over the last `days` days (admin).
#[utoipa::path(get, path = "/admin/stats/active-users", tag = "admin", security(("bearer" = [])), params(TopQuery),
    responses(
        (status = 200, description = "Most actions first", body = Stats<ActiveUserRow>),
    ))]
async fn active_users(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<TopQuery>,
) -> Result<axum::Json<Stats<ActiveUserRow>>, AppError> {
    let (days, limit) = q.parse()?;
    let data = stats::active_users(&db, days, limit).await?;
    Ok(axum::Json(Stats {
        days,
        limit: Some(limit),
        data,
    }))
}

/// The actions that failed (status `failed` or `error`) most over the last `days` days
/// (admin).
#[utoipa::path(get, path = "/admin/stats/failed-actions", tag = "admin", security(("bearer" = [])), params(TopQuery),
    responses(
        (status = 200, description = "Most failures first", body = Stats<FailedActionRow>),
    ))]
async fn failed_actions(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<TopQuery>,
) -> Result<axum::Json<Stats<FailedActionRow>>, AppError> {
    let (days, limit) = q.parse()?;
    let data = stats::failed_actions(&db, days, limit).await?;
    Ok(axum::Json(Stats {
        days,
        limit: Some(limit),
        data,
    }))
}

/// Chatbot messages and distinct users per UTC day, over the last `days` calendar days
/// (today included), newest day first; days without messages are left out (admin).
#[utoipa::path(get, path = "/admin/stats/chatbot-daily", tag = "admin", security(("bearer" = [])), params(DaysQuery),
    responses(
        (status = 200, body = Stats<ChatDayRow>),
    ))]
async fn chatbot_daily(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<DaysQuery>,
) -> Result<axum::Json<Stats<ChatDayRow>>, AppError> {
    let days = q.parse()?;
    let data = stats::chatbot_daily(&db, days).await?;
    Ok(axum::Json(Stats {
        days,
        limit: None,
        data,
    }))
}

/// The average response time per intent over the last `days` days, of messages that
/// have one; the most used intents first (admin).
#[utoipa::path(get, path = "/admin/stats/chatbot-intents", tag = "admin", security(("bearer" = [])), params(TopQuery),
    responses(
        (status = 200, body = Stats<IntentRow>),
    ))]
async fn chatbot_intents(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<TopQuery>,
) -> Result<axum::Json<Stats<IntentRow>>, AppError> {
    let (days, limit) = q.parse()?;
    let data = stats::chatbot_intents(&db, days, limit).await?;
    Ok(axum::Json(Stats {
        days,
        limit: Some(limit),
        data,
    }))
}

/// Idea categories by number of ideas over the last `days` days, with how many were
/// chosen (admin).
#[utoipa::path(get, path = "/admin/stats/idea-categories", tag = "admin", security(("bearer" = [])), params(TopQuery),
    responses(
        (status = 200, description = "Most ideas first", body = Stats<CategoryRow>),
    ))]
async fn idea_categories(
    Reading { db, .. }: Reading<AdminUser>,
    Query(q): Query<TopQuery>,
) -> Result<axum::Json<Stats<CategoryRow>>, AppError> {
    let (days, limit) = q.parse()?;
    let data = stats::idea_categories(&db, days, limit).await?;
    Ok(axum::Json(Stats {
        days,
        limit: Some(limit),
        data,
    }))
}
