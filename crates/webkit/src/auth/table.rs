//! The sign-in kit reading an app's users table by itself: an app names its columns
//! ([`UserTable`]) and gets [`Accounts`] ([`Table`]) and what its [`super::SignedIn`]
//! needs ([`load`]), instead of writing the same four queries.

use std::marker::PhantomData;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Select,
};
use uuid::Uuid;

use super::{Account, Accounts, async_trait};

/// A users table: its columns, the rows that count, and an account from a row.
pub trait UserTable: EntityTrait {
    fn id() -> Self::Column;
    fn email() -> Self::Column;
    fn is_active() -> Self::Column;
    fn token_version() -> Self::Column;
    fn last_login_at() -> Self::Column;
    /// The rows that count: every row, or the live ones where users are soft-deleted.
    fn live() -> Select<Self> {
        Self::find()
    }
    fn account(user: Self::Model) -> Account;
}

/// Makes an app's users entity module the kit's users table, for a table with the
/// conventional columns (`id`, `email`, `password_hash`, `is_active`, `token_version`,
/// `last_login_at`): its [`UserTable`] and its model's [`super::SignedIn`].
/// `user_table!(crate::entity::users)`, or with `live = …` for the rows that count
/// where users are soft-deleted: `user_table!(crate::entity::users, live = users::Entity::find_live())`.
#[macro_export]
macro_rules! user_table {
    ($($module:ident)::+ $(, live = $live:expr)?) => {
        impl $crate::auth::table::UserTable for $($module)::+::Entity {
            fn id() -> $($module)::+::Column {
                $($module)::+::Column::Id
            }
            fn email() -> $($module)::+::Column {
                $($module)::+::Column::Email
            }
            fn is_active() -> $($module)::+::Column {
                $($module)::+::Column::IsActive
            }
            fn token_version() -> $($module)::+::Column {
                $($module)::+::Column::TokenVersion
            }
            fn last_login_at() -> $($module)::+::Column {
                $($module)::+::Column::LastLoginAt
            }
            $(fn live() -> sea_orm::Select<Self> {
                $live
            })?
            fn account(user: $($module)::+::Model) -> $crate::auth::Account {
                $crate::auth::Account {
                    id: user.id,
                    password_hash: user.password_hash,
                    token_version: user.token_version,
                    active: user.is_active,
                }
            }
        }

        impl $crate::auth::SignedIn for $($module)::+::Model {
            async fn load(
                db: &sea_orm::DatabaseConnection,
                id: uuid::Uuid,
                version: i32,
            ) -> Result<Option<Self>, sea_orm::DbErr> {
                $crate::auth::table::load::<$($module)::+::Entity>(db, id, version).await
            }

            fn id(&self) -> uuid::Uuid {
                self.id
            }
        }
    };
}

/// [`Accounts`] over the table `E`.
pub struct Table<E>(PhantomData<E>);

impl<E> Table<E> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// The active user `id` whose access tokens are at `version` (for [`super::SignedIn`]).
pub async fn load<E: UserTable>(
    db: &DatabaseConnection,
    id: Uuid,
    version: i32,
) -> Result<Option<E::Model>, DbErr> {
    active::<E>(id)
        .filter(E::token_version().eq(version))
        .one(db)
        .await
}

/// Makes every access token issued to `id` so far invalid: raises its token version.
pub async fn end_access<E: UserTable>(conn: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    E::update_many()
        .col_expr(E::token_version(), Expr::col(E::token_version()).add(1))
        .filter(E::id().eq(id))
        .exec(conn)
        .await
        .map(drop)
}

fn active<E: UserTable>(id: Uuid) -> Select<E> {
    E::live()
        .filter(E::id().eq(id))
        .filter(E::is_active().eq(true))
}

#[async_trait]
impl<E: UserTable + Send + Sync> Accounts for Table<E>
where
    E::Model: Send + Sync,
{
    async fn by_email(
        &self,
        db: &DatabaseConnection,
        email: &str,
    ) -> Result<Option<Account>, DbErr> {
        let user = E::live().filter(E::email().eq(email)).one(db).await?;
        Ok(user.map(E::account))
    }

    async fn active(&self, db: &DatabaseConnection, id: Uuid) -> Result<Option<Account>, DbErr> {
        Ok(active::<E>(id).one(db).await?.map(E::account))
    }

    async fn signed_in(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr> {
        E::update_many()
            .col_expr(E::last_login_at(), Expr::value(dbkit::time::now()))
            .filter(E::id().eq(id))
            .exec(tx)
            .await
            .map(drop)
    }

    async fn end_access(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr> {
        end_access::<E>(tx, id).await
    }
}
