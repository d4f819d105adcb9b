//! `launchpad purge [--dry-run]`: retention, run by hand.

use std::process::ExitCode;

use super::{CommandResult, open};
use crate::cli::PurgeArgs;
use crate::config::Settings;
use crate::jobs::{self, remove_files};
use crate::retention::trash;

pub async fn run(settings: &Settings, args: PurgeArgs) -> CommandResult {
    let db = open(settings).await?;
    let report = trash::purge(&db, settings.soft_delete_retention_days, args.dry_run)
        .await
        .map_err(|e| format!("trash purge: {e}"))?;
    print!("{report}");
    if !args.dry_run {
        // The purge queued the removal of its files; run it now rather than wait for a
        // worker (removals a worker has not yet done are run too).
        let ctx = jobs::Context::new(db, settings);
        let ran = jobs::worker::drain(&ctx, &[remove_files::KIND])
            .await
            .map_err(|e| format!("removing stored files: {e}"))?;
        println!("file removal jobs run: {ran}");
    }
    Ok(ExitCode::SUCCESS)
}
