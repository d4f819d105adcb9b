//! SeaORM entities, one file per table. Constraints, checks and partial indexes live in
//! the migrations; entities describe columns only.

pub mod activity_logs;
pub mod admin_requests;
pub mod chatbot_history;
pub mod files;
pub mod ideas;
pub mod meetings;
pub mod orders;
pub mod plans;
pub mod projects;
pub mod services;
pub mod synopsis;
pub mod user_services;
pub mod users;

/// Implements [`dbkit::soft_delete::SoftDeletable`] for an entity with a `DeletedAt` column.
macro_rules! soft_deletable {
    ($module:ident) => {
        impl dbkit::soft_delete::SoftDeletable for $module::Entity {
            fn deleted_at() -> $module::Column {
                $module::Column::DeletedAt
            }
        }
    };
}

soft_deletable!(admin_requests);
soft_deletable!(chatbot_history);
soft_deletable!(files);
soft_deletable!(ideas);
soft_deletable!(meetings);
soft_deletable!(orders);
soft_deletable!(plans);
soft_deletable!(projects);
soft_deletable!(services);
soft_deletable!(synopsis);
soft_deletable!(user_services);
soft_deletable!(users);

/// Stamps a new row's `created_at` and `updated_at` (one time for both) unless the caller
/// set them, so that a new row states only what is its own; the soft-delete columns are
/// left out of the insert and start `NULL`.
macro_rules! timestamped {
    ($($module:ident),* $(,)?) => {
        $(
            #[sea_orm::prelude::async_trait::async_trait]
            impl sea_orm::ActiveModelBehavior for $module::ActiveModel {
                async fn before_save<C: sea_orm::ConnectionTrait>(
                    mut self,
                    _db: &C,
                    insert: bool,
                ) -> Result<Self, sea_orm::DbErr> {
                    if insert {
                        let now = dbkit::time::now();
                        if self.created_at.is_not_set() {
                            self.created_at = sea_orm::ActiveValue::Set(now);
                        }
                        if self.updated_at.is_not_set() {
                            self.updated_at = sea_orm::ActiveValue::Set(now);
                        }
                    }
                    Ok(self)
                }
            }
        )*
    };
}

timestamped!(
    admin_requests,
    chatbot_history,
    files,
    ideas,
    meetings,
    orders,
    plans,
    projects,
    services,
    synopsis,
    user_services,
    users,
);
