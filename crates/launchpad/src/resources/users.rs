//! Accounts: a student registers; a user changes their profile and password or leaves
//! (a soft delete of everything they own, every session ended); an admin lists,
//! restores and erases accounts.

use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeletable;
use dbkit::{Actor, Writer};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use webkit::auth::{Auth, TokensOut, password};

use crate::access::{self, Changes};
use crate::auth::sessions::end_sessions;
use crate::domain::text::{NAME, PASSWORD, Text};
use crate::domain::{self, Email, nullable};
use crate::entity::users::{self, Column, Entity, Model};
use crate::erasure::{self, ErasureReport};
use crate::error::AppError;
use crate::resources::Caller;
use crate::tables::{REGISTRY, USERS};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    email: String,
    password: String,
    name: String,
    phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeIn {
    name: Option<String>,
    /// `null` clears the phone number.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    signup_step: Option<String>,
}

pub const USER_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("email", Column::EmailFold),
        ("name", Column::NameFold),
        ("last_login_at", Column::LastLoginAt),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::EmailFold, Column::NameFold]),
    status: None,
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// Filters only the admin user list has.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilters {
    is_admin: Option<bool>,
    is_active: Option<bool>,
    /// `true` lists the trash instead of live accounts.
    #[serde(default)]
    deleted: bool,
}

impl UserFilters {
    /// Accounts of any role: active or not (`None`: both), live or in the trash.
    pub fn new(is_active: Option<bool>, deleted: bool) -> Self {
        Self {
            is_admin: None,
            is_active,
            deleted,
        }
    }
}

/// Creates a student account and signs it in (the IP's attempts are limited); logged
/// `user.register`.
pub async fn register(
    db: &DatabaseConnection,
    auth: &Auth,
    actor: &Actor,
    input: RegisterIn,
) -> Result<(Model, TokensOut), AppError> {
    auth.limits.check_ip(actor.ip.as_deref()).await?;
    let email = Email::parse(&input.email)?.into_inner();
    let name = NAME.check(&input.name)?;
    let phone = input.phone.as_deref().map(domain::phone).transpose()?;
    let password_hash = password::hash(PASSWORD.check(&input.password)?).await?;
    let id = Uuid::now_v7();
    let account = users::ActiveModel::from(users::NewAccount {
        id,
        email,
        name,
        password_hash,
        phone,
        is_admin: false,
        signup_step: domain::SIGNUP_STEPS[0],
    });
    let writer = Writer::begin(db, &actor.as_user(id)).await?;
    let user = account.insert(writer.tx()).await?;
    let tokens = auth
        .start_session(writer.tx(), user.id, user.token_version)
        .await?;
    writer
        .commit(access::event::<Entity>("register", user.id))
        .await?;
    Ok((user, tokens))
}

/// Changes the caller's name, phone or signup step; logged `user.update` with the fields
/// it set (nothing given, nothing written).
pub async fn update_me(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: UpdateMeIn,
) -> Result<Model, AppError> {
    let changes = Changes::default()
        .set(
            Column::Name,
            input.name.as_deref().map(|n| NAME.check(n)).transpose()?,
        )
        .set(
            Column::Phone,
            input
                .phone
                .map(|p| p.as_deref().map(domain::phone).transpose())
                .transpose()?,
        )
        .set(
            Column::SignupStep,
            input
                .signup_step
                .as_deref()
                .map(domain::signup_step)
                .transpose()?,
        );
    if changes.fields().is_empty() {
        return Ok(user.clone());
    }
    access::update_live::<Entity>(db, actor, user.id, changes).await
}

/// Deletes the caller's account: a soft delete of the account and everything it owns,
/// and every session ends (for good: a restore does not bring those tokens back). An
/// admin can restore it. The only active admin cannot leave.
pub async fn delete_me(db: &DatabaseConnection, (user, actor): Caller<'_>) -> Result<(), AppError> {
    let writer = Writer::begin(db, actor).await?;
    if user.is_admin {
        another_admin_remains(writer.tx(), user.id).await?;
    }
    let deleted = access::soft_delete_row(&writer, &USERS, ("user", user.id), user.id).await?;
    let revoked = end_sessions(writer.tx(), user.id).await?;
    writer
        .commit(deleted.with("sessions_revoked", revoked))
        .await?;
    Ok(())
}

/// Refuses to let `leaving` (an admin) go unless another active admin remains: without
/// one, nobody could restore accounts or run the platform. The admins' rows are locked
/// first (PostgreSQL), so two admins leaving at once cannot each count the other.
async fn another_admin_remains(tx: &DatabaseTransaction, leaving: Uuid) -> Result<(), AppError> {
    let admins = Entity::find_live()
        .filter(Column::IsAdmin.eq(true))
        .filter(Column::IsActive.eq(true));
    let admins = access::all(tx, admins).await?;
    if admins.iter().any(|admin| admin.id != leaving) {
        return Ok(());
    }
    Err(AppError::conflict(
        "you are the only active admin: make another account an admin before leaving",
    ))
}

/// A new password keeps the rule of every password; errors name the field it came in.
pub const NEW_PASSWORD: Text = Text {
    field: "new_password",
    ..PASSWORD
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordIn {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password. Every session ends: refresh tokens are revoked and
/// access tokens issued before stop working.
pub async fn change_password(
    db: &DatabaseConnection,
    auth: &Auth,
    (user, actor): Caller<'_>,
    input: ChangePasswordIn,
) -> Result<(), AppError> {
    let new_password = NEW_PASSWORD.check(&input.new_password)?;
    // Guessing the current password here costs the same budget as guessing it at login.
    auth.limits.check_account(&user.email).await?;
    let stored = Some(user.password_hash.clone());
    if !auth.check_password(input.current_password, stored).await? {
        return Err(AppError::WrongSecret {
            field: "current_password",
        });
    }
    let hash = password::hash(new_password).await?;
    let writer = Writer::begin(db, actor).await?;
    // Only if no other change of password (or logout) came first: the check above was
    // against the account as this request's token found it.
    let changed = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(dbkit::time::now()))
        .filter(Column::Id.eq(user.id))
        .filter(Column::TokenVersion.eq(user.token_version))
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
    let event =
        access::event::<Entity>("password_change", user.id).with("sessions_revoked", revoked);
    writer.commit(event).await?;
    Ok(())
}

/// Users, live or in the trash (an admin's list).
pub async fn list(
    db: &DatabaseConnection,
    params: &ListParams,
    filters: UserFilters,
) -> Result<Page<Model>, AppError> {
    let mut query = if filters.deleted {
        Entity::find_deleted()
    } else {
        Entity::find_live()
    };
    if let Some(is_admin) = filters.is_admin {
        query = query.filter(Column::IsAdmin.eq(is_admin));
    }
    if let Some(is_active) = filters.is_active {
        query = query.filter(Column::IsActive.eq(is_active));
    }
    Ok(USER_LIST.fetch(db, query, params).await?)
}

/// Restores a deleted account and what its deletion took (an admin's).
pub async fn restore(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    webkit::trash::restore(db, (&REGISTRY, actor), &USERS, id).await?;
    access::reload::<Entity>(db, id).await
}

/// Deactivates (`active: false`) or reactivates an account (an admin's, not their own):
/// a deactivated account cannot sign in and its sessions end at once. The last active
/// admin stays. Logged `user.deactivate` or `user.activate`.
pub async fn set_active(
    db: &DatabaseConnection,
    (admin, actor): Caller<'_>,
    id: Uuid,
    active: bool,
) -> Result<Model, AppError> {
    if id == admin.id {
        return Err(AppError::conflict(
            "an admin cannot deactivate or reactivate their own account",
        ));
    }
    let writer = Writer::begin(db, actor).await?;
    // Deactivating an admin locks every active admin first, as leaving does, and only
    // then the account (already among them): two admins deactivating each other take
    // turns on the same rows in the same order instead of each holding one.
    let is_admin = Entity::find_by_id(id)
        .one(writer.tx())
        .await?
        .is_some_and(|u| u.is_admin);
    if !active && is_admin {
        another_admin_remains(writer.tx(), id).await?;
    }
    let user = access::find_live::<Entity>(writer.tx(), id).await?;
    if user.is_active == active {
        let state = if active { "active" } else { "deactivated" };
        return Err(AppError::conflict(format!(
            "this account is already {state}"
        )));
    }
    access::update::<Entity>(
        writer.tx(),
        id,
        Changes::default().set(Column::IsActive, Some(active)),
    )
    .await?;
    let revoked = if active {
        0
    } else {
        end_sessions(writer.tx(), id).await?
    };
    let verb = if active { "activate" } else { "deactivate" };
    let event = access::event::<Entity>(verb, id).with("sessions_revoked", revoked);
    writer.commit(event).await?;
    access::reload::<Entity>(db, id).await
}

/// Erases a user for good (the right to be forgotten; see [`erasure`]), as an admin who
/// is not that user; logged `user.erase` with what it did.
pub async fn erase(
    db: &DatabaseConnection,
    (admin, actor): Caller<'_>,
    id: Uuid,
) -> Result<ErasureReport, AppError> {
    if id == admin.id {
        return Err(AppError::conflict(
            "an admin cannot erase their own account",
        ));
    }
    let writer = Writer::begin(db, actor).await?;
    Entity::find_by_id(id)
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let report = erasure::erase(writer.tx(), id).await?;
    let details = serde_json::to_value(&report)
        .map_err(|e| AppError::Internal(format!("erasure report: {e}")))?;
    writer
        .commit(access::event::<Entity>("erase", id).details(details))
        .await?;
    Ok(report)
}
