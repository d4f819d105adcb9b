//! SeaORM entities, one file per table. Constraints, checks and partial indexes live in
//! the migrations; entities describe columns only.

pub mod activity_logs;
pub mod plans;
pub mod refresh_tokens;
pub mod services;
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

soft_deletable!(users);
soft_deletable!(plans);
soft_deletable!(services);
