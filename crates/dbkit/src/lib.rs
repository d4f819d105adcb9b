//! `dbkit`: a data layer for services on SQLite and PostgreSQL, with the same code and
//! the same guarantees on both.
//!
//! It knows nothing about any app's domain. An app brings its own entities, migrations
//! and routes, and gets:
//!
//! - [`connect`]: a tuned pool for SQLite or PostgreSQL (pragmas, timeouts, slow-query log);
//! - [`migrations`]: the tables the kit writes (activity log and chain head, job queue),
//!   as migrations the app lists among its own, and blocks for the app's tables (keys,
//!   timestamps, soft-delete columns, trash indexes);
//! - [`migrate`]: locked migrations, status/history, SQL printing and a drift [`migrate::check`];
//! - [`in_use`]: running services mark the database in use; destructive schema changes
//!   refuse while they do;
//! - [`write::Writer`]: the one write path — a transaction that can only commit together
//!   with its activity-log row;
//! - [`chain`]: the activity log's hash chain — tamper evidence, erasure that keeps it
//!   verifiable, and archiving behind an anchor;
//! - [`soft_delete`]: soft delete that cascades through an ownership graph and restores
//!   exactly one delete batch;
//! - [`list`]: whitelisted sorting, filtering, escaped or full-text search, offset paging
//!   and keyset ([`cursor`]) paging;
//! - [`fold`]: the folded twins of free-text columns, so that accents and case change no
//!   search and no order, alike on both backends;
//! - [`sessions`]: signed-in sessions as rotating refresh tokens, with reuse detection;
//! - [`attempts`]: budgets of attempts per minute, shared by every process on the database;
//! - [`replicas`]: reads on streaming replicas, with read-your-writes and fallback;
//! - [`jobs`]: a job queue for many workers in many processes: claims that skip each
//!   other, retries with backoff, dead jobs, rescue of jobs whose worker died;
//! - [`error`]: database errors classified (unique / foreign key / check / unavailable /
//!   storage full) and explained by constraint name;
//! - [`writable`]: whether writes are landing, for health checks while a disk is full;
//! - [`names`]: what the kit calls its tables, digest tag and locks — neutral defaults,
//!   or the app's own, set once per process;
//! - `testing` (feature): the harness that runs each test on a fresh database of both
//!   backends.
//!
//! # Example
//!
//! An app with only the kit's activity log: migrate, write a change with its log row in
//! one transaction, verify the chain.
//!
//! ```
//! use dbkit::audit::{Actor, Event};
//! use dbkit::migrations::ActivityLog;
//! use sea_orm_migration::{MigrationTrait, MigratorTrait};
//!
//! struct Migrator;
//!
//! impl MigratorTrait for Migrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         vec![Box::new(ActivityLog::named("m20260101_000001_activity_log"))]
//!     }
//! }
//!
//! # let dir = std::env::temp_dir().join(format!("dbkit-doc-{}", uuid::Uuid::now_v7()));
//! # let url = format!("sqlite://{}", dir.display());
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let db = dbkit::connect(&dbkit::DbSettings::new(&url)).await?;
//! dbkit::migrate::up::<Migrator>(&db, None).await?;
//!
//! let writer = dbkit::Writer::begin(&db, &Actor::system()).await?;
//! // … the change itself, on `writer.tx()` …
//! writer.commit(Event::action("example.run")).await?;
//!
//! let report = dbkit::chain::verify(&db).await?;
//! assert_eq!((report.rows, report.problem), (1, None));
//! # Ok::<(), sea_orm::DbErr>(()) }).unwrap();
//! # let _ = std::fs::remove_file(dir);
//! ```

pub mod activity;
pub mod attempts;
pub mod audit;
pub mod chain;
pub mod connect;
pub mod cursor;
pub mod error;
pub mod fold;
pub mod in_use;
pub mod jobs;
pub mod list;
pub mod migrate;
pub mod migrations;
pub mod names;
pub mod newest_first;
mod pooler;
pub mod replicas;
pub mod schema;
pub mod sessions;
pub mod soft_delete;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod writable;
pub mod write;

pub use audit::Actor;
pub use connect::{DbSettings, connect};
pub use error::{DbFailure, classify};
pub use names::{Names, configure, names};
pub use write::Writer;
