//! `/api/activity-logs`: the activity log, read-only — every row for admins, and each
//! user's own rows at `/me`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain;
use crate::entity::activity_logs as logs;
use crate::http::error::AppError;
use crate::http::extract::{AdminUser, CurrentUser, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_logs))
        .routes(routes!(list_my_logs))
}

/// The outcomes a row can record.
pub const STATUSES: &[&str] = &["success", "failed", "error"];

/// One logged action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityLogOut {
    id: Uuid,
    /// Who acted; `null` for anonymous callers and the system.
    user_id: Option<Uuid>,
    /// A dotted verb such as `project.create`.
    action: String,
    entity_type: Option<String>,
    entity_id: Option<Uuid>,
    #[schema(value_type = Object)]
    details: Value,
    ip_address: Option<String>,
    user_agent: Option<String>,
    status: String,
    duration_ms: Option<i64>,
    created_at: DateTime<Utc>,
}

impl From<logs::Model> for ActivityLogOut {
    fn from(l: logs::Model) -> Self {
        Self {
            id: l.id,
            user_id: l.user_id,
            action: l.action,
            entity_type: l.entity_type,
            entity_id: l.entity_id,
            details: l.details,
            ip_address: l.ip_address,
            user_agent: l.user_agent,
            status: l.status,
            duration_ms: l.duration_ms,
            created_at: l.created_at,
        }
    }
}

/// Filters of the admin log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LogFilters {
    /// Rows of this user.
    #[param(value_type = Option<Uuid>)]
    user_id: Option<String>,
    /// Exact action (`auth.login`).
    action: Option<String>,
    /// Exact entity type (`project`).
    entity_type: Option<String>,
    /// Rows about this entity.
    #[param(value_type = Option<Uuid>)]
    entity_id: Option<String>,
}

/// Filters of the caller's own log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MyLogFilters {
    /// Exact action (`auth.login`).
    action: Option<String>,
    /// Exact entity type (`project`).
    entity_type: Option<String>,
    /// Rows about this entity.
    #[param(value_type = Option<Uuid>)]
    entity_id: Option<String>,
}

/// Newest first by default; `status` is `success|failed|error`; `search` looks in the
/// action and entity type.
pub(crate) const LOG_LIST: ListSpec<logs::Entity> = ListSpec {
    sort_fields: &[("created_at", logs::Column::CreatedAt)],
    default_order: SortOrder::Desc,
    search: Search::Like(&[logs::Column::Action, logs::Column::EntityType]),
    status: Some((logs::Column::Status, STATUSES)),
    created_at: logs::Column::CreatedAt,
    id: logs::Column::Id,
};

fn filtered(
    mut query: Select<logs::Entity>,
    action: Option<&str>,
    entity_type: Option<&str>,
    entity_id: Option<&str>,
) -> Result<Select<logs::Entity>, AppError> {
    if let Some(action) = action {
        query = query.filter(logs::Column::Action.eq(action));
    }
    if let Some(entity_type) = entity_type {
        query = query.filter(logs::Column::EntityType.eq(entity_type));
    }
    if let Some(entity_id) = entity_id {
        query = query.filter(logs::Column::EntityId.eq(domain::uuid("entity_id", entity_id)?));
    }
    Ok(query)
}

async fn page_of(
    state: &AppState,
    query: Select<logs::Entity>,
    params: &ListParams,
) -> Result<axum::Json<Page<ActivityLogOut>>, AppError> {
    Ok(axum::Json(
        LOG_LIST
            .fetch(&state.db, query, params)
            .await?
            .map(ActivityLogOut::from),
    ))
}

/// Every logged action, filtered (admin).
#[utoipa::path(get, path = "/activity-logs", tag = "admin", security(("bearer" = [])), params(ListParams, LogFilters),
    responses(
        (status = 200, body = Page<ActivityLogOut>),
    ))]
async fn list_logs(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<ListParams>,
    Query(f): Query<LogFilters>,
) -> Result<axum::Json<Page<ActivityLogOut>>, AppError> {
    let mut query = logs::Entity::find();
    if let Some(user_id) = &f.user_id {
        query = query.filter(logs::Column::UserId.eq(domain::uuid("user_id", user_id)?));
    }
    let query = filtered(
        query,
        f.action.as_deref(),
        f.entity_type.as_deref(),
        f.entity_id.as_deref(),
    )?;
    page_of(&state, query, &params).await
}

/// The caller's own logged actions.
#[utoipa::path(get, path = "/activity-logs/me", tag = "users", security(("bearer" = [])), params(ListParams, MyLogFilters),
    responses(
        (status = 200, body = Page<ActivityLogOut>),
    ))]
async fn list_my_logs(
    State(state): State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Query(params): Query<ListParams>,
    Query(f): Query<MyLogFilters>,
) -> Result<axum::Json<Page<ActivityLogOut>>, AppError> {
    let query = logs::Entity::find().filter(logs::Column::UserId.eq(user.id));
    let query = filtered(
        query,
        f.action.as_deref(),
        f.entity_type.as_deref(),
        f.entity_id.as_deref(),
    )?;
    page_of(&state, query, &params).await
}
