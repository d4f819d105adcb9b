//! Ending an account's sessions: its refresh tokens and the version its access tokens
//! carry. Shared by account removal, erasure and password changes, whoever asks.

use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::entity::users;

/// Ends every session of `user_id`: its refresh tokens are revoked and every access token
/// issued so far stops working — for good, since a later restore does not lower the
/// version again. Everything that takes an account away (delete, deactivation, erasure)
/// or changes its secret goes through here. Returns the refresh tokens revoked.
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    let revoked = dbkit::sessions::revoke_user(conn, user_id).await?;
    webkit::auth::table::end_access::<users::Entity>(conn, user_id).await?;
    Ok(revoked)
}
