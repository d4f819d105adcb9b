//! Background work: the kinds of job this service queues, one module each, and the
//! workers that run them (inside `serve`, or as `launchpad worker`). The queue itself is
//! `dbkit::jobs`.

pub mod purge_trash;
pub mod remove_files;
pub mod worker;

use dbkit::jobs::{Job, NewJob};
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::storage::Storage;

/// What handlers need.
#[derive(Debug, Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    pub storage: Storage,
    /// `SOFT_DELETE_RETENTION_DAYS`.
    pub retention_days: u64,
}

impl Context {
    pub fn new(db: DatabaseConnection, settings: &Settings) -> Self {
        Self {
            db,
            storage: Storage::from_settings(settings),
            retention_days: settings.soft_delete_retention_days,
        }
    }
}

/// Every kind this build runs; workers claim only these, so a job queued by a newer
/// version waits for a worker that knows it.
pub const KINDS: &[&str] = &[purge_trash::KIND, remove_files::KIND];

/// Jobs every worker process queues on each of its maintenance rounds; each is
/// deduplicated, so many instances queue one occurrence between them.
fn periodic(now: chrono::DateTime<chrono::Utc>) -> Vec<NewJob> {
    vec![purge_trash::daily(now)]
}

/// Runs one claimed job. The error is kept in `last_error`: it must not hold secrets.
async fn run(ctx: &Context, job: &Job) -> Result<(), String> {
    match job.kind.as_str() {
        purge_trash::KIND => purge_trash::run(ctx).await,
        remove_files::KIND => remove_files::run(&ctx.storage, &job.payload).await,
        other => Err(format!("no handler for job kind {other:?}")),
    }
}
