//! `/api/activity-logs`: the activity log, read-only — every row for admins, and each
//! user's own rows at `/me`.

use dbkit::activity::LIST;
use dbkit::list::{ListParams, Page};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webkit::activity::{ActivityLogOut, LogFilters};

use crate::domain;
use crate::entity::activity_logs as logs;
use crate::http::error::AppError;
use crate::http::extract::{AdminUser, CurrentUser, Query, Reading};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_logs))
        .routes(routes!(list_my_logs))
}

pub use dbkit::activity::STATUSES;

/// The list every log route takes (for the document's rules).
pub(crate) const LOG_LIST: dbkit::list::ListSpec<logs::Entity> = LIST;

/// The admin's filter besides the log's own.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UserFilter {
    /// Rows of this user.
    #[param(value_type = Option<uuid::Uuid>)]
    user_id: Option<String>,
}

/// Every logged action, filtered (admin).
#[utoipa::path(get, path = "/activity-logs", tag = "admin", security(("bearer" = [])), params(ListParams, UserFilter, LogFilters),
    responses(
        (status = 200, body = Page<ActivityLogOut>),
    ))]
async fn list_logs(
    Reading { db, .. }: Reading<AdminUser>,
    Query(params): Query<ListParams>,
    Query(user): Query<UserFilter>,
    Query(filters): Query<LogFilters>,
) -> Result<axum::Json<Page<ActivityLogOut>>, AppError> {
    let mut rows = logs::Entity::find();
    if let Some(user_id) = &user.user_id {
        rows = rows.filter(logs::Column::UserId.eq(domain::uuid("user_id", user_id)?));
    }
    let page = webkit::activity::page(&db, rows, &params, &filters).await?;
    Ok(axum::Json(page))
}

/// The caller's own logged actions.
#[utoipa::path(get, path = "/activity-logs/me", tag = "users", security(("bearer" = [])), params(ListParams, LogFilters),
    responses(
        (status = 200, body = Page<ActivityLogOut>),
    ))]
async fn list_my_logs(
    Reading {
        who: CurrentUser { user, .. },
        db,
    }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<LogFilters>,
) -> Result<axum::Json<Page<ActivityLogOut>>, AppError> {
    let rows = webkit::activity::of_user(user.id);
    let page = webkit::activity::page(&db, rows, &params, &filters).await?;
    Ok(axum::Json(page))
}
