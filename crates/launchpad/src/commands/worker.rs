//! `launchpad worker`: job workers without the HTTP API.

use std::process::ExitCode;

use super::{CommandResult, open, open_storage};
use crate::config::Settings;
use crate::jobs::Context;
use crate::jobs::worker::{Timing, Workers};
use webkit::serve::shutdown_signal;

/// Runs workers until SIGTERM or Ctrl-C; a job in progress finishes first.
pub async fn run(settings: &Settings) -> CommandResult {
    let stop = shutdown_signal();
    let storage = open_storage(settings)?;
    let db = open(settings).await?;
    let in_use = dbkit::in_use::hold(&db, settings.db().acquire_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let workers = Workers::start(
        Context::new(db.clone(), storage, settings),
        Timing::from_settings(settings),
    );
    stop.await;
    workers.stop().await;
    in_use.release().await;
    let _ = db.close().await;
    Ok(ExitCode::SUCCESS)
}
