//! How Launchpad introduces itself to its kits. Every process that touches the database
//! or answers requests calls [`configure`] first: the server, the CLI, the tests.

use crate::constraints::CONSTRAINTS;

/// What `dbkit` calls its tables, digest tag and locks in Launchpad's database. The tag
/// and the lock prefix predate the kit's neutral defaults, and every chain already written
/// commits to the tag; a purge (`user.purge`) erases like an erasure does.
pub const DB_NAMES: dbkit::Names = dbkit::Names {
    audit_tag: "launchpad.audit.v1",
    lock_prefix: "launchpad",
    erasing_actions: &["user.erase", "user.purge"],
    ..dbkit::Names::DEFAULT
};

/// What `webkit` says of Launchpad: its name, and what its constraints mean to a client.
pub const WEB: webkit::Settings = webkit::Settings {
    app: "launchpad",
    constraints: CONSTRAINTS,
};

/// A kit was already configured otherwise in this process.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error(transparent)]
    Db(#[from] dbkit::names::AlreadyNamed),
    #[error(transparent)]
    Web(#[from] webkit::AlreadyConfigured),
}

/// Configures both kits for Launchpad, in this process.
pub fn configure() -> Result<(), KitError> {
    dbkit::configure(DB_NAMES)?;
    webkit::configure(WEB)?;
    Ok(())
}
