//! `/api/users/me` (the caller's own account) and `/api/admin/users`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::{self, SoftDeletable};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access;
use crate::auth::sessions::end_sessions;
use crate::domain;
use crate::domain::nullable;
use crate::domain::text::{NAME, PASSWORD, Text};
use crate::entity::users;
use crate::erasure::{self, ErasureReport};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::state::AppState;
use crate::tables::{REGISTRY, USERS};
use webkit::auth::password;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me, delete_me))
        .routes(routes!(change_password))
        .routes(routes!(list_users))
        .routes(routes!(restore_user))
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

impl From<users::Model> for UserOut {
    fn from(u: users::Model) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateMeIn {
    name: Option<String>,
    /// `null` clears the phone number.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    signup_step: Option<String>,
}

/// Change the caller's name, phone or signup step.
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeIn, responses(
    (status = 200, body = UserOut),
))]
async fn update_me(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<UpdateMeIn>,
) -> Result<axum::Json<UserOut>, AppError> {
    let mut changed = Vec::new();
    let mut model: users::ActiveModel = user.clone().into();
    if let Some(name) = &body.name {
        model.name = Set(NAME.check(name)?);
        changed.push("name");
    }
    if let Some(phone) = &body.phone {
        model.phone = Set(phone.as_deref().map(domain::phone).transpose()?);
        changed.push("phone");
    }
    if let Some(step) = &body.signup_step {
        model.signup_step = Set(domain::signup_step(step)?);
        changed.push("signup_step");
    }
    if changed.is_empty() {
        return Ok(axum::Json(user.into()));
    }
    model.updated_at = Set(dbkit::time::now());
    let writer = Writer::begin(&state.db, &actor).await?;
    let updated = model.update(writer.tx()).await?;
    writer
        .commit(Event::new("user.update", "user", user.id).details(json!({ "fields": changed })))
        .await?;
    Ok(axum::Json(updated.into()))
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
    CurrentUser { user, actor }: CurrentUser,
) -> Result<StatusCode, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    if user.is_admin {
        another_admin_remains(writer.tx(), user.id).await?;
    }
    let affected = soft_delete::soft_delete(writer.tx(), &USERS, user.id, Some(user.id))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let revoked = end_sessions(writer.tx(), user.id).await?;
    let details = json!({ "affected": affected, "sessions_revoked": revoked });
    writer
        .commit(Event::new("user.delete", "user", user.id).details(details))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses to let `leaving` (an admin) go unless another active admin remains: without
/// one, nobody could restore accounts or run the platform. The admins' rows are locked
/// first (PostgreSQL), so two admins leaving at once cannot each count the other.
async fn another_admin_remains(tx: &DatabaseTransaction, leaving: Uuid) -> Result<(), AppError> {
    let admins = users::Entity::find_live()
        .filter(users::Column::IsAdmin.eq(true))
        .filter(users::Column::IsActive.eq(true));
    let admins = access::all(tx, admins).await?;
    if admins.iter().any(|admin| admin.id != leaving) {
        return Ok(());
    }
    Err(AppError::conflict(
        "you are the only active admin: make another account an admin before leaving",
    ))
}

/// A new password keeps the rule of every password; errors name the field it came in.
pub(crate) const NEW_PASSWORD: Text = Text {
    field: "new_password",
    ..PASSWORD
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangePasswordIn {
    current_password: String,
    new_password: String,
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
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<ChangePasswordIn>,
) -> Result<StatusCode, AppError> {
    let new_password = NEW_PASSWORD.check(&body.new_password)?;
    // Guessing the current password here costs the same budget as guessing it at login.
    state.auth.limits.check_account(&user.email)?;
    let stored = Some(user.password_hash.clone());
    if !state
        .auth
        .check_password(body.current_password, stored)
        .await?
    {
        return Err(AppError::WrongSecret {
            field: "current_password",
        });
    }
    let hash = password::hash(new_password).await?;
    let writer = Writer::begin(&state.db, &actor).await?;
    // Only if no other change of password (or logout) came first: the check above was
    // against the account as this request's token found it.
    let changed = users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(dbkit::time::now()))
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::TokenVersion.eq(user.token_version))
        .exec(writer.tx())
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::conflict(
            "the account's sessions ended while this was checked (another password change \
             or a logout); sign in again",
        ));
    }
    let revoked = end_sessions(writer.tx(), user.id).await?;
    let event = Event::new("user.password_change", "user", user.id)
        .details(json!({ "sessions_revoked": revoked }));
    writer.commit(event).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) const USER_LIST: ListSpec<users::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", users::Column::CreatedAt),
        ("email", users::Column::Email),
        ("name", users::Column::Name),
        ("last_login_at", users::Column::LastLoginAt),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[users::Column::Email, users::Column::Name]),
    status: None,
    created_at: users::Column::CreatedAt,
    id: users::Column::Id,
};

/// Filters only the admin user list has.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UserFilters {
    is_admin: Option<bool>,
    is_active: Option<bool>,
    /// `true` lists the trash instead of live accounts.
    #[serde(default)]
    deleted: bool,
}

/// Users, live or in the trash (admin).
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(ListParams, UserFilters), responses(
    (status = 200, body = Page<UserOut>),
))]
async fn list_users(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<UserFilters>,
) -> Result<axum::Json<Page<UserOut>>, AppError> {
    let mut query = if filters.deleted {
        users::Entity::find_deleted()
    } else {
        users::Entity::find_live()
    };
    if let Some(is_admin) = filters.is_admin {
        query = query.filter(users::Column::IsAdmin.eq(is_admin));
    }
    if let Some(is_active) = filters.is_active {
        query = query.filter(users::Column::IsActive.eq(is_active));
    }
    let page = USER_LIST.fetch(&state.db, query, &params).await?;
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
    webkit::trash::restore(&state.db, (&REGISTRY, &admin.actor), &USERS, id).await?;
    let user = users::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
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
    if id == admin.user.id {
        return Err(AppError::conflict(
            "an admin cannot erase their own account",
        ));
    }
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    users::Entity::find_by_id(id)
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let report = erasure::erase(writer.tx(), id).await?;
    let details = serde_json::to_value(&report)
        .map_err(|e| AppError::Internal(format!("erasure report: {e}")))?;
    writer
        .commit(Event::new("user.erase", "user", id).details(details))
        .await?;
    Ok(axum::Json(report))
}
