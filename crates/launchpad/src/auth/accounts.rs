//! The users table through the kit's eyes: which columns the sign-in kit reads, the
//! signed-in user every request loads, and who owns resources.

use dbkit::soft_delete::SoftDeletable;
use sea_orm::{DatabaseConnection, DbErr, Select};
use uuid::Uuid;
use webkit::auth::table::{self, Table, UserTable};
use webkit::auth::{Account, SignedIn};

use crate::entity::users;

/// Launchpad's users, for the sign-in routes.
pub type Users = Table<users::Entity>;

impl UserTable for users::Entity {
    fn id() -> users::Column {
        users::Column::Id
    }
    fn email() -> users::Column {
        users::Column::Email
    }
    fn is_active() -> users::Column {
        users::Column::IsActive
    }
    fn token_version() -> users::Column {
        users::Column::TokenVersion
    }
    fn last_login_at() -> users::Column {
        users::Column::LastLoginAt
    }
    /// A deleted account is gone, whatever else its row says.
    fn live() -> Select<Self> {
        users::Entity::find_live()
    }
    fn account(user: users::Model) -> Account {
        Account {
            id: user.id,
            password_hash: user.password_hash,
            token_version: user.token_version,
            active: user.is_active,
        }
    }
}

impl SignedIn for users::Model {
    async fn load(db: &DatabaseConnection, id: Uuid, version: i32) -> Result<Option<Self>, DbErr> {
        table::load::<users::Entity>(db, id, version).await
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
