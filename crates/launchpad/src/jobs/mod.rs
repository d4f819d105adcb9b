//! Background work: the kinds of job this service queues, one module each, and the
//! workers that run them (inside `serve`, or as `launchpad worker`). The queue itself is
//! `dbkit::jobs`.

pub mod archive_log;
pub mod erase_archived;
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
    /// `ACTIVITY_LOG_RETENTION_DAYS`.
    pub log_retention_days: u64,
}

impl Context {
    pub fn new(db: DatabaseConnection, storage: Storage, settings: &Settings) -> Self {
        Self {
            db,
            storage,
            retention_days: settings.soft_delete_retention_days,
            log_retention_days: settings.activity_log_retention_days,
        }
    }
}

/// Every kind this build runs; workers claim only these, so a job queued by a newer
/// version waits for a worker that knows it.
pub const KINDS: &[&str] = &[
    purge_trash::KIND,
    archive_log::KIND,
    erase_archived::KIND,
    remove_files::KIND,
];

/// Jobs every worker process queues on each of its maintenance rounds; each is
/// deduplicated, so many instances queue one occurrence between them.
fn periodic(now: chrono::DateTime<chrono::Utc>) -> Vec<NewJob> {
    vec![purge_trash::daily(now), archive_log::daily(now)]
}

/// The first midnight (UTC) after `now`: when the daily retention jobs run.
pub fn next_midnight(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now.date_naive()
        .checked_add_days(chrono::Days::new(1))
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(now, |t| t.and_utc())
}

/// Runs one claimed job. The error is kept in `last_error`: it must not hold secrets.
async fn run(ctx: &Context, job: &Job) -> Result<(), String> {
    match job.kind.as_str() {
        purge_trash::KIND => purge_trash::run(ctx).await,
        archive_log::KIND => archive_log::run(ctx).await,
        erase_archived::KIND => erase_archived::run(ctx, &job.payload).await,
        remove_files::KIND => remove_files::run(&ctx.storage, &job.payload).await,
        other => Err(format!("no handler for job kind {other:?}")),
    }
}
