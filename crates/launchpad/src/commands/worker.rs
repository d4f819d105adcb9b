//! `launchpad worker`: job workers without the HTTP API.

use std::process::ExitCode;

use super::{CommandResult, open};
use crate::config::Settings;
use crate::jobs::{Context, worker::Workers};
use crate::startup::shutdown_signal;

/// Runs workers until SIGTERM or Ctrl-C; a job in progress finishes first.
pub async fn run(settings: &Settings) -> CommandResult {
    let stop = shutdown_signal();
    let db = open(settings).await?;
    let _in_use = dbkit::in_use::hold(&db, settings.db().acquire_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let workers = Workers::start(Context::new(db.clone(), settings), settings.job_timing());
    stop.await;
    workers.stop().await;
    let _ = db.close().await;
    Ok(ExitCode::SUCCESS)
}
