//! Retention: what leaves the database once it is old enough.

pub mod audit_archive;
