//! `tasks`: the multi-user task API of the seed notes (users and their tasks, soft delete
//! with a trash, the hash-chained activity log), built only on the kits — `dbkit` for
//! the data layer and `webkit` for the HTTP side. What is here is what is its own: two
//! tables, their rules and their routes.

pub mod app;
pub mod cli;
pub mod entity;
pub mod migration;
pub mod routes;
pub mod settings;
pub mod state;
pub mod tasks;
pub mod users;

use dbkit::error::ConstraintRule;

/// What the schema's constraints mean to a client (the kit explains the others
/// generically).
const CONSTRAINTS: &[ConstraintRule] = &[ConstraintRule {
    name: "ix_users_email",
    table: "users",
    columns: &["email"],
    field: "email",
    message: "an account with this email already exists",
}];

/// Introduces the app to its kits; first thing in every process. `dbkit` keeps its
/// neutral names.
pub fn configure() -> Result<(), webkit::AlreadyConfigured> {
    webkit::configure(webkit::Settings {
        app: "tasks",
        constraints: CONSTRAINTS,
    })
}
