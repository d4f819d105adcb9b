//! The caller's identity: a signed-in user or admin (the kit's extractors are re-exported
//! here).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use webkit::auth::Auth;
pub use webkit::extract::{Client, Json, Path, Query};

use crate::entity::users;
use crate::http::error::AppError;

/// A signed-in, live, active user. Anything else is a 401.
pub type CurrentUser = webkit::auth::CurrentUser<users::Model>;

/// A signed-in admin; a signed-in student gets 403.
pub struct AdminUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for AdminUser
where
    Auth: FromRef<S>,
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

impl webkit::reads::Reader for AdminUser {
    fn user_id(&self) -> uuid::Uuid {
        self.0.user.id
    }
}

/// A signed-in caller `C` (a [`CurrentUser`] by default) and the connection their reads
/// go to: a replica that has replayed their last write, or the primary. Lists and gets
/// take it; writes use the state's primary.
pub type Reading<C = CurrentUser> = webkit::reads::Reading<C>;
