//! The activity log as a client reads it: its rows' shape, the filters of the caller's
//! own log, and a page of it. An app's handler for `GET /activity-logs/me` is one call.

use chrono::{DateTime, Utc};
use dbkit::activity::{self as logs, Entity};
use dbkit::list::{ListParams, Page};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::AppError;
use crate::rules;

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

/// Filters of a log: by action, entity type and entity.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogFilters {
    /// Exact action (`auth.login`).
    pub action: Option<String>,
    /// Exact entity type (`project`).
    pub entity_type: Option<String>,
    /// Rows about this entity.
    #[param(value_type = Option<Uuid>)]
    pub entity_id: Option<String>,
}

/// A page of `rows`, narrowed by `filters`, as `params` ask (newest first by default).
pub async fn page(
    db: &DatabaseConnection,
    rows: Select<Entity>,
    params: &ListParams,
    filters: &LogFilters,
) -> Result<Page<ActivityLogOut>, AppError> {
    Ok(models(db, rows, params, filters)
        .await?
        .map(ActivityLogOut::from))
}

/// [`page`], as the rows themselves.
pub async fn models(
    db: &DatabaseConnection,
    rows: Select<Entity>,
    params: &ListParams,
    filters: &LogFilters,
) -> Result<Page<logs::Model>, AppError> {
    let entity_id = filters
        .entity_id
        .as_deref()
        .map(|id| rules::uuid("entity_id", id))
        .transpose()?;
    let rows = logs::filtered(
        rows,
        filters.action.as_deref(),
        filters.entity_type.as_deref(),
        entity_id,
    );
    Ok(logs::LIST.fetch(db, rows, params).await?)
}

/// The rows of one user's actions.
pub fn of_user(user_id: Uuid) -> Select<Entity> {
    Entity::find().filter(logs::Column::UserId.eq(user_id))
}
