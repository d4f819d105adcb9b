//! `activity_log.archive`: the scheduled run of
//! [`crate::retention::audit_archive::run`], daily at midnight UTC.

use chrono::{DateTime, Utc};
use dbkit::jobs::NewJob;

use super::Context;

pub const KIND: &str = "activity_log.archive";

/// The next daily archive run after `now`; one is queued at a time, whoever queues it.
pub fn daily(now: DateTime<Utc>) -> NewJob {
    NewJob::new(KIND, serde_json::json!({}))
        .run_at(super::next_midnight(now))
        .dedupe(KIND)
}

pub async fn run(ctx: &Context) -> Result<(), String> {
    let archived = crate::retention::audit_archive::run(
        &ctx.db,
        &ctx.storage.archive,
        ctx.log_retention_days,
        false,
    )
    .await
    .map_err(|e| format!("activity-log archive: {e}"))?;
    tracing::info!(rows = archived.rows(), "activity log archived");
    Ok(())
}
