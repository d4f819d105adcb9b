//! `launchpad purge [--dry-run]`: the activity-log half of retention (archiving).

use std::process::ExitCode;

use super::{CommandResult, open};
use crate::cli::PurgeArgs;
use crate::config::Settings;
use crate::retention::audit_archive;

pub async fn run(settings: &Settings, args: PurgeArgs) -> CommandResult {
    let db = open(settings).await?;
    let archived = audit_archive::run(
        &db,
        &settings.archive_dir,
        settings.activity_log_retention_days,
        args.dry_run,
    )
    .await
    .map_err(|e| e.to_string())?;
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
            file.display()
        ),
        _ => println!("activity log: nothing created before {cutoff} to archive"),
    }
    Ok(ExitCode::SUCCESS)
}
