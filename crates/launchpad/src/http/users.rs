//! `/api/users/me` (the caller's own account) and `/api/admin/users`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::entity::users::Model;
use crate::erasure::ErasureReport;
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::users::{self, ChangePasswordIn, UpdateMeIn, UserFilters};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me, delete_me))
        .routes(routes!(change_password))
        .routes(routes!(list_users))
        .routes(routes!(restore_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
        .routes(routes!(erase_user))
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    id: Uuid,
    email: String,
    name: String,
    phone: Option<String>,
    is_admin: bool,
    is_active: bool,
    signup_step: String,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<DateTime<Utc>>,
}

impl From<Model> for UserOut {
    fn from(u: Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            phone: u.phone,
            is_admin: u.is_admin,
            is_active: u.is_active,
            signup_step: u.signup_step,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            deleted_at: u.deleted_at,
        }
    }
}

/// The caller's own account.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserOut),
))]
async fn get_me(CurrentUser { user, .. }: CurrentUser) -> axum::Json<UserOut> {
    axum::Json(user.into())
}

/// Change the caller's name, phone or signup step.
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeIn, responses(
    (status = 200, body = UserOut),
))]
async fn update_me(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<UpdateMeIn>,
) -> Result<axum::Json<UserOut>, AppError> {
    let user = users::update_me(&state.db, current.caller(), body).await?;
    Ok(axum::Json(user.into()))
}

/// Delete the caller's account: a soft delete of the account and everything it owns,
/// and every session ends (for good: a restore does not bring those tokens back). An
/// admin can restore it. The only active admin cannot leave.
#[utoipa::path(delete, path = "/users/me", tag = "users", security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = 409, description = "The caller is the only active admin", body = ErrorResponse),
))]
async fn delete_me(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<StatusCode, AppError> {
    users::delete_me(&state.db, current.caller()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the caller's password. Every session ends: refresh tokens are revoked and
/// access tokens issued before stop working.
#[utoipa::path(post, path = "/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordIn, responses(
        (status = 204, description = "Changed; sign in again"),
        (status = 409, description = "Another password change or a logout came first", body = ErrorResponse),
        (status = 403, description = "The current password is wrong", body = ErrorResponse),
        (status = 422, description = "An invalid new password", body = ErrorResponse),
        (status = 429, description = "Too many attempts on this account (login's budget); see Retry-After", body = ErrorResponse),
    ))]
async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<ChangePasswordIn>,
) -> Result<StatusCode, AppError> {
    users::change_password(&state.db, &state.auth, current.caller(), body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Users, live or in the trash (admin).
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(ListParams, UserFilters), responses(
    (status = 200, body = Page<UserOut>),
))]
async fn list_users(
    Reading { db, .. }: Reading<AdminUser>,
    Query(params): Query<ListParams>,
    Query(filters): Query<UserFilters>,
) -> Result<axum::Json<Page<UserOut>>, AppError> {
    let page = users::list(&db, &params, filters).await?;
    Ok(axum::Json(page.map(UserOut::from)))
}

/// Restore a deleted account and what its deletion took (admin).
#[utoipa::path(post, path = "/admin/users/{id}/restore", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The deleted user")), responses(
    (status = 200, body = UserOut),
    (status = 404, description = "No such user", body = ErrorResponse),
    (status = 409, description = "It is not deleted, or its email belongs to another account now", body = ErrorResponse),
))]
async fn restore_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<UserOut>, AppError> {
    let user = users::restore(&state.db, admin.caller(), id).await?;
    Ok(axum::Json(user.into()))
}

/// Deactivate an account (admin): it cannot sign in, and its sessions end at once.
#[utoipa::path(post, path = "/admin/users/{id}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A live user")), responses(
    (status = 200, body = UserOut),
    (status = 404, description = "No such live user", body = ErrorResponse),
    (status = 409, description = "Already deactivated, the admin's own account, or the only active admin", body = ErrorResponse),
))]
async fn deactivate_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<UserOut>, AppError> {
    let user = users::set_active(&state.db, admin.caller(), id, false).await?;
    Ok(axum::Json(user.into()))
}

/// Reactivate a deactivated account (admin).
#[utoipa::path(post, path = "/admin/users/{id}/activate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A live user")), responses(
    (status = 200, body = UserOut),
    (status = 404, description = "No such live user", body = ErrorResponse),
    (status = 409, description = "Already active, or the admin's own account", body = ErrorResponse),
))]
async fn activate_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<UserOut>, AppError> {
    let user = users::set_active(&state.db, admin.caller(), id, true).await?;
    Ok(axum::Json(user.into()))
}

/// Erase a user for good (admin): the right to be forgotten. The account is anonymised
/// and deactivated, every session ends, free text they wrote (live or in the trash) is
/// replaced, their files are removed, and the activity log keeps only what they did,
/// not their details, IP addresses or user agents (stored files and archived rows go
/// within seconds, by background jobs); the log's hash chain still verifies.
#[utoipa::path(post, path = "/admin/users/{id}/erase", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user, live or deleted")), responses(
    (status = 200, description = "Erased; what changed", body = ErasureReport),
    (status = 404, description = "No such user", body = ErrorResponse),
    (status = 409, description = "An admin erasing their own account", body = ErrorResponse),
))]
async fn erase_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ErasureReport>, AppError> {
    Ok(axum::Json(
        users::erase(&state.db, admin.caller(), id).await?,
    ))
}
