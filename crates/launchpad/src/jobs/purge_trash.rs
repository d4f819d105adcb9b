//! `trash.purge`: the scheduled run of [`crate::retention::trash::purge`], daily at
//! midnight UTC.

use chrono::{DateTime, Utc};
use dbkit::jobs::NewJob;

use super::Context;

pub const KIND: &str = "trash.purge";

/// The next daily purge after `now`; one is queued at a time, whoever queues it.
pub fn daily(now: DateTime<Utc>) -> NewJob {
    NewJob::new(KIND, serde_json::json!({}))
        .run_at(super::next_midnight(now))
        .dedupe(KIND)
}

pub async fn run(ctx: &Context) -> Result<(), String> {
    let report = crate::retention::trash::purge(&ctx.db, ctx.retention_days, false)
        .await
        .map_err(|e| format!("trash purge: {e}"))?;
    tracing::info!(
        deleted = ?report.deleted,
        kept = report.kept.len(),
        stored_files = report.stored_files,
        "trash purged"
    );
    Ok(())
}
