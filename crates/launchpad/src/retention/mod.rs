//! Retention: what `launchpad purge` and its scheduled job remove for good.

pub mod trash;
