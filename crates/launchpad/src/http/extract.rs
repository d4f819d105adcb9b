//! The caller's identity: a signed-in user (the kit's extractors are re-exported here).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use dbkit::Actor;
use dbkit::soft_delete::SoftDeletable;
use sea_orm::{ColumnTrait, QueryFilter};
use webkit::extract::actor_from;
pub use webkit::extract::{Client, Json, Path, Query, nullable};

use crate::entity::users;
use crate::http::error::AppError;
use crate::state::AppState;

/// A signed-in, live, active user. Anything else is a 401.
pub struct CurrentUser {
    pub user: users::Model,
    pub actor: Actor,
}

impl CurrentUser {
    /// Who acts, as the data layer takes it: the account and the request's actor.
    pub fn caller(&self) -> (&users::Model, &Actor) {
        (&self.user, &self.actor)
    }
}

const BAD_TOKEN: &str = "missing, invalid or expired access token";

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        let (user_id, version) = state
            .jwt
            .verify(token.trim())
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        // Checked on every request, so a deleted or deactivated account, or a logout or
        // password change (which bump the version), ends access at once.
        let user = users::Entity::find_live()
            .filter(users::Column::Id.eq(user_id))
            .filter(users::Column::IsActive.eq(true))
            .filter(users::Column::TokenVersion.eq(version))
            .one(&state.db)
            .await?
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        let actor = actor_from(parts).as_user(user.id);
        Ok(CurrentUser { user, actor })
    }
}

/// A signed-in admin; a signed-in student gets 403.
pub struct AdminUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for AdminUser
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if !current.user.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(AdminUser(current))
    }
}
