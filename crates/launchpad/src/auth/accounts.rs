//! The users table through the kit's eyes: which columns the sign-in kit reads, the
//! signed-in user every request loads, and who owns resources.

use dbkit::soft_delete::SoftDeletable;
use uuid::Uuid;
use webkit::auth::table::Table;

use crate::entity::users;

/// Launchpad's users, for the sign-in routes.
pub type Users = Table<users::Entity>;

// A deleted account is gone, whatever else its row says.
webkit::user_table!(crate::entity::users, live = users::Entity::find_live());

impl webkit::resource::Owner for users::Model {
    fn id(&self) -> Uuid {
        self.id
    }

    fn is_admin(&self) -> bool {
        self.is_admin
    }
}
