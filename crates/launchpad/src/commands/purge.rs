//! `launchpad purge [--dry-run]`: retention, run by hand — old trash deleted for good,
//! then old activity-log rows archived.

use std::process::ExitCode;

use super::{CommandResult, open, open_storage};
use crate::cli::PurgeArgs;
use crate::config::Settings;
use crate::jobs::{self, erase_archived, remove_files};
use crate::retention::{audit_archive, trash};

pub async fn run(settings: &Settings, args: PurgeArgs) -> CommandResult {
    let storage = open_storage(settings)?;
    let db = open(settings).await?;
    let report = trash::purge(&db, settings.soft_delete_retention_days, args.dry_run)
        .await
        .map_err(|e| format!("trash purge: {e}"))?;
    print!("{report}");
    if !args.dry_run {
        // The purge queued the removal of its files and the erasure of purged accounts
        // from the archive; run them now rather than wait for a worker (such jobs a
        // worker has not yet done are run too).
        let ctx = jobs::Context::new(db.clone(), storage.clone(), settings);
        let ran = jobs::worker::drain(&ctx, &[remove_files::KIND, erase_archived::KIND])
            .await
            .map_err(|e| format!("running the queued jobs: {e}"))?;
        println!("file removal and archive erasure jobs run: {ran}");
    }
    let archived = audit_archive::run(
        &db,
        &storage.archive,
        settings.activity_log_retention_days,
        args.dry_run,
    )
    .await
    .map_err(|e| format!("activity-log archive: {e}"))?;
    let cutoff = dbkit::chain::hash::timestamp(&archived.cutoff);
    match (&archived.range, &archived.file) {
        (Some(range), Some(file)) => println!(
            "activity log: {} {} rows (seq {}..{}, created before {cutoff}) to {}",
            if args.dry_run {
                "would archive"
            } else {
                "archived"
            },
            archived.rows(),
            range.start(),
            range.end(),
            file
        ),
        _ => println!("activity log: nothing created before {cutoff} to archive"),
    }
    webkit::cli::seal(&db).await?;
    Ok(ExitCode::SUCCESS)
}
