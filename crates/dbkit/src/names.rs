//! The names `dbkit` writes into a database: its tables, the tag every activity-log digest
//! starts with, the keys of its locks, the actions that erase a user.
//!
//! They are process-wide because they describe the database, not a call: every function
//! of the kit reads them from here. An app that wants its own calls [`configure`] once,
//! first thing (before any other `dbkit` call); an app that does not gets
//! [`Names::DEFAULT`]. The hash tag in particular can never change for a database once its
//! chain holds a row: every digest commits to it.

use std::sync::OnceLock;

/// What `dbkit` calls things in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    /// Tags every activity-log digest (see [`crate::chain::hash`]).
    pub audit_tag: &'static str,
    /// Prefixes the keys of the migration and in-use locks (`<prefix>.migrate:<schema>`).
    pub lock_prefix: &'static str,
    /// The activity log.
    pub log_table: &'static str,
    /// The one-row table holding the chain's head and archive anchor.
    pub head_table: &'static str,
    /// The job queue.
    pub jobs_table: &'static str,
    /// The entity type of a user in the log: rows about a user are erased with them.
    pub user_entity: &'static str,
    /// Actions recording that a user's personal data was erased: rows about that user
    /// written before the event may have their personal part blanked.
    pub erasing_actions: &'static [&'static str],
}

impl Names {
    /// The names of an app that configures nothing.
    pub const DEFAULT: Names = Names {
        audit_tag: "dbkit.audit.v1",
        lock_prefix: "dbkit",
        log_table: "activity_logs",
        head_table: "audit_chain",
        jobs_table: "jobs",
        user_entity: "user",
        erasing_actions: &["user.erase"],
    };
}

static NAMES: OnceLock<Names> = OnceLock::new();

/// Another set of names was already in use in this process.
#[derive(Debug, thiserror::Error)]
#[error("dbkit is already using other names ({0:?}): configure them before any other call")]
pub struct AlreadyNamed(pub Names);

/// Sets the names for this process. Calling it again with the same names is fine; with
/// others, or after a `dbkit` call already used the defaults, it fails — a database must
/// never see two sets.
pub fn configure(names: Names) -> Result<(), AlreadyNamed> {
    let current = NAMES.get_or_init(|| names);
    if *current == names {
        Ok(())
    } else {
        Err(AlreadyNamed(*current))
    }
}

/// The names in use (the defaults, from the first call on, if none were configured).
pub fn names() -> &'static Names {
    NAMES.get_or_init(|| Names::DEFAULT)
}

/// The SQL of a per-schema advisory-lock key for `purpose` (PostgreSQL).
pub(crate) fn lock_key(purpose: &str) -> String {
    let prefix = names().lock_prefix.replace('\'', "''");
    format!("hashtext('{prefix}.{purpose}:' || current_schema())")
}
