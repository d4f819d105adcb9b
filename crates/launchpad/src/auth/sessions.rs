//! Sessions: the refresh tokens an account holds, and the version its access tokens
//! carry. Ending sessions is data work, shared by sign-out, account removal, erasure
//! and password changes, whoever asks.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::{refresh_tokens, users};
use crate::error::AppError;

/// Ends every session of `user_id`: its refresh tokens are revoked and every access token
/// issued so far stops working — for good, since a later restore does not lower the
/// version again. Everything that takes an account away (delete, deactivation, erasure)
/// or changes its secret goes through here. Returns the refresh tokens revoked.
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, AppError> {
    let revoked = revoke_all_for_user(conn, user_id).await?;
    bump_token_version(conn, user_id).await?;
    Ok(revoked)
}
/// Revokes every live refresh token of a user; returns how many.
async fn revoke_all_for_user(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, AppError> {
    revoke_where(conn, refresh_tokens::Column::UserId.eq(user_id)).await
}
async fn revoke_where(
    conn: &impl ConnectionTrait,
    scope: sea_orm::sea_query::SimpleExpr,
) -> Result<u64, AppError> {
    let now = dbkit::time::now();
    Ok(refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_tokens::Column::UpdatedAt, Expr::value(now))
        .filter(scope)
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}
/// Revokes every live token of a family; returns how many.
pub async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> Result<u64, AppError> {
    revoke_where(conn, refresh_tokens::Column::FamilyId.eq(family_id)).await
}
/// Makes every access token issued to `user_id` so far invalid.
pub async fn bump_token_version(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<(), AppError> {
    users::Entity::update_many()
        .col_expr(
            users::Column::TokenVersion,
            Expr::col(users::Column::TokenVersion).add(1),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
