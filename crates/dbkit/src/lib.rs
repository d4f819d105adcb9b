//! `dbkit`: the domain-agnostic data layer of Launchpad.
//!
//! It knows nothing about plans or projects. A service built on it brings its own
//! entities, migrations and routes, and gets:
//!
//! - [`connect`]: a tuned pool for SQLite or PostgreSQL (pragmas, timeouts, slow-query log);
//! - [`in_use`]: running services mark the database in use; destructive schema changes
//!   refuse while they do;
//! - [`migrate`]: locked migrations, status/history, SQL printing and a drift [`migrate::check`];
//! - [`write::Writer`]: the one write path — a transaction that can only commit together
//!   with its activity-log row;
//! - [`chain`]: the activity log's hash chain — tamper evidence, erasure that keeps it
//!   verifiable, and archiving behind an anchor;
//! - [`soft_delete`]: soft delete that cascades through an ownership graph and restores
//!   exactly one delete batch;
//! - [`list`]: whitelisted sorting, filtering, escaped or full-text search, offset paging
//!   and keyset ([`cursor`]) paging;
//! - [`jobs`]: a job queue for many workers in many processes: claims that skip each
//!   other, retries with backoff, dead jobs, rescue of jobs whose worker died;
//! - [`error`]: database errors classified (unique / foreign key / check / unavailable /
//!   storage full) and explained by constraint name;
//! - [`writable`]: whether writes are landing, for health checks while a disk is full.

pub mod audit;
pub mod chain;
pub mod connect;
pub mod cursor;
pub mod error;
pub mod in_use;
pub mod jobs;
pub mod list;
pub mod migrate;
pub mod newest_first;
pub mod schema;
pub mod soft_delete;
pub mod time;
pub mod writable;
pub mod write;

pub use audit::Actor;
pub use connect::{DbSettings, connect};
pub use error::{DbFailure, classify};
pub use write::Writer;
