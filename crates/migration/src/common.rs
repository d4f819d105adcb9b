//! The building blocks of Launchpad's migrations are the kit's ([`dbkit::migrations`]);
//! Launchpad's soft-deletable tables record who deleted a row against `users`.

use sea_orm_migration::prelude::*;

pub use dbkit::migrations::{
    check, drop_tables, fk, id, refuse_down_while, run, timestamps, trash_indexes,
};

/// `deleted_at`, `deleted_by` (→ users, SET NULL) and `delete_batch_id`.
pub fn soft_delete<'t>(
    table: &'t mut TableCreateStatement,
    name: &'static str,
) -> &'t mut TableCreateStatement {
    dbkit::migrations::soft_delete(table, name, "users")
}
