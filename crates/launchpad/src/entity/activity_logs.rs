//! `activity_logs`: the kit's log ([`dbkit::activity`]); append-only, written only
//! through `dbkit::audit`.

pub use dbkit::activity::{ActiveModel, Column, Entity, Model};
