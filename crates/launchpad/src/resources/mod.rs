//! The resource layer, between HTTP and the database: one module per resource, holding
//! its states and legal moves, its validated inputs and its operations. Every operation
//! is one transaction through the kit's resource path ([`webkit::resource`]), which
//! applies ownership, soft delete and guarded status moves and derives the log event;
//! the handlers in [`crate::http`] only extract, call these and map the answer.

use dbkit::Actor;

use crate::entity::users::Model as User;

pub mod admin_requests;
pub mod catalog;
pub mod chat;
pub mod files;
pub mod ideas;
pub mod jobs;
pub mod meetings;
pub mod orders;
pub mod projects;
pub mod stats;
pub mod subscriptions;
pub mod synopsis;
pub mod users;

/// Who acts: the signed-in account and the request's actor.
pub type Caller<'a> = (&'a User, &'a Actor);
