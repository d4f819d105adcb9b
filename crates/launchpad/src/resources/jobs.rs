//! The job queue as an admin sees it: what waits, what died, and another attempt for a
//! dead job.

use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::jobs::{self, JobState};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Caller;
use crate::error::AppError;

/// Gives a dead job one more attempt, due now; logged `job.retry`. A job that is not
/// dead (any more) is a 409.
pub async fn retry(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    id: Uuid,
) -> Result<JobState, AppError> {
    let writer = Writer::begin(db, actor).await?;
    if !jobs::retry(writer.tx(), id).await? {
        return Err(match jobs::state(writer.tx(), id).await? {
            Some(job) => AppError::conflict(format!("this job is {}, not dead", job.status)),
            None => AppError::NotFound("job"),
        });
    }
    let job = jobs::state(writer.tx(), id)
        .await?
        .ok_or(AppError::NotFound("job"))?;
    writer.commit(Event::new("job.retry", "job", id)).await?;
    Ok(job)
}
