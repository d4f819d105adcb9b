//! Retention: what `launchpad purge` and its scheduled job remove for good (old trash),
//! and what they move out of the database (old activity-log rows, to the archive).

pub mod audit_archive;
pub mod trash;
