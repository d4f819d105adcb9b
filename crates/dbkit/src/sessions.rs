//! Signed-in sessions as refresh tokens: 256 random bits handed to the client once, only
//! their SHA-256 stored. Each token works once — using it issues its successor in the
//! same family (one session) — and a token that comes back after use means someone holds
//! a copy, so its whole family is revoked.
//!
//! The table is created by [`crate::migrations::RefreshTokens`]. Access tokens, and what
//! ends them, are the app's (see `webkit::auth`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The table's name.
pub const TABLE: &str = "refresh_tokens";

/// One stored refresh token.
pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub token_hash: String,
        /// The session: every token rotated from the same sign-in.
        pub family_id: Uuid,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub replaced_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use refresh_token::{ActiveModel, Column, Entity, Model};

/// Longer than any token this module issues: not worth hashing.
const MAX_TOKEN_LEN: usize = 256;

/// A new random token.
fn generate() -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| DbErr::Custom(format!("randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token (and of any key the kit must not keep in clear): its
/// SHA-256, in hex.
pub(crate) fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores a new token for `user_id` in session `family_id`, valid for `ttl`; returns it
/// with its row. The token itself is never stored.
pub async fn issue(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
    ttl: Duration,
) -> Result<(Model, String), DbErr> {
    let token = generate()?;
    let now = crate::time::now();
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(hash(&token)),
        family_id: Set(family_id),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        replaced_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok((row, token))
}

/// The stored row of a presented token, used or not; `None` for one never issued.
pub async fn find(conn: &impl ConnectionTrait, token: &str) -> Result<Option<Model>, DbErr> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    Entity::find()
        .filter(Column::TokenHash.eq(hash(token)))
        .one(conn)
        .await
}

/// Uses `presented` (live, unexpired: the caller checked) once: issues its successor in
/// the same session and revokes it. `None` when another use of the same token won the
/// race — reuse, to be treated as [`revoke_family`]; the caller rolls back.
pub async fn rotate(
    conn: &impl ConnectionTrait,
    presented: &Model,
    ttl: Duration,
) -> Result<Option<String>, DbErr> {
    let (next, token) = issue(conn, presented.user_id, presented.family_id, ttl).await?;
    // Only one of two concurrent uses of the same token can win this update.
    let now = crate::time::now();
    let rotated = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::ReplacedBy, Expr::value(next.id))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(presented.id))
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    Ok((rotated == 1).then_some(token))
}

/// Revokes every live token of a session; returns how many.
pub async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(conn, Column::FamilyId.eq(family_id)).await
}

/// Revokes every live token of a user; returns how many.
pub async fn revoke_user(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(conn, Column::UserId.eq(user_id)).await
}

async fn revoke_where(conn: &impl ConnectionTrait, scope: SimpleExpr) -> Result<u64, DbErr> {
    let now = crate::time::now();
    Ok(Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(scope)
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
    }
}
