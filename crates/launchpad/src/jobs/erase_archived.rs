//! `activity_log.erase`: blanks erased users' rows in the activity-log archive
//! ([`crate::retention::audit_archive::erase_users`]).
//!
//! Queued in the transaction that erases (or purges) the users from the live log, so the
//! archive follows once that has committed, and is not forgotten if the process dies
//! right after. Running it again finds nothing left to blank.

use dbkit::jobs::NewJob;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::Context;

pub const KIND: &str = "activity_log.erase";
/// Users per job: every job reads the whole archive once, whatever its number of users.
pub const USERS_PER_JOB: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    users: Vec<Uuid>,
}

/// A job erasing `users` (at most [`USERS_PER_JOB`]) from the archive.
pub fn job(users: &[Uuid]) -> NewJob {
    NewJob::new(KIND, serde_json::json!({ "users": users }))
}

pub async fn run(ctx: &Context, payload: &Value) -> Result<(), String> {
    let payload: Payload =
        serde_json::from_value(payload.clone()).map_err(|e| format!("bad {KIND} payload: {e}"))?;
    let erased =
        crate::retention::audit_archive::erase_users(&ctx.db, &ctx.storage.archive, payload.users)
            .await
            .map_err(|e| format!("activity-log archive erasure: {e}"))?;
    tracing::info!(
        files = erased.files,
        rows = erased.rows,
        "erased users blanked in the activity-log archive"
    );
    Ok(())
}
