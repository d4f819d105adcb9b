//! The users table through the kit's eyes: the accounts the sign-in routes check, and the
//! signed-in user every request loads.

use dbkit::soft_delete::SoftDeletable;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;
use webkit::auth::{Account, Accounts, SignedIn, async_trait};

use crate::auth::sessions::bump_token_version;
use crate::entity::users;

/// Launchpad's users.
pub struct Users;

impl From<users::Model> for Account {
    fn from(user: users::Model) -> Self {
        Account {
            id: user.id,
            password_hash: user.password_hash,
            token_version: user.token_version,
            active: user.is_active,
        }
    }
}

#[async_trait]
impl Accounts for Users {
    async fn by_email(
        &self,
        db: &DatabaseConnection,
        email: &str,
    ) -> Result<Option<Account>, DbErr> {
        let user = users::Entity::find_live()
            .filter(users::Column::Email.eq(email))
            .one(db)
            .await?;
        Ok(user.map(Account::from))
    }

    async fn active(&self, db: &DatabaseConnection, id: Uuid) -> Result<Option<Account>, DbErr> {
        let user = users::Entity::find_live()
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::IsActive.eq(true))
            .one(db)
            .await?;
        Ok(user.map(Account::from))
    }

    async fn signed_in(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr> {
        users::Entity::update_many()
            .col_expr(users::Column::LastLoginAt, Expr::value(dbkit::time::now()))
            .filter(users::Column::Id.eq(id))
            .exec(tx)
            .await?;
        Ok(())
    }

    async fn end_access(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr> {
        bump_token_version(tx, id).await
    }
}

impl SignedIn for users::Model {
    async fn load(
        db: &DatabaseConnection,
        id: Uuid,
        token_version: i32,
    ) -> Result<Option<Self>, DbErr> {
        users::Entity::find_live()
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::IsActive.eq(true))
            .filter(users::Column::TokenVersion.eq(token_version))
            .one(db)
            .await
    }

    fn id(&self) -> Uuid {
        self.id
    }
}

impl webkit::resource::Owner for users::Model {
    fn id(&self) -> Uuid {
        self.id
    }

    fn is_admin(&self) -> bool {
        self.is_admin
    }
}
