//! `files.remove`: deletes the stored bytes of file rows that are gone for good.
//!
//! Queued in the transaction that deletes the rows, so the bytes go only once the rows
//! have, and are not forgotten if the process dies right after the commit. Running it
//! again is harmless: a file already removed counts as removed.

use dbkit::jobs::NewJob;
use serde::Deserialize;
use serde_json::Value;

use crate::storage::{self, Storage};

pub const KIND: &str = "files.remove";
/// Keys per job: a large purge becomes several jobs that fail and retry independently.
pub const KEYS_PER_JOB: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    /// Keys in the uploads' storage.
    keys: Vec<String>,
}

/// A job removing the files stored under `keys` (at most [`KEYS_PER_JOB`] of them).
pub fn job(keys: &[String]) -> NewJob {
    NewJob::new(KIND, serde_json::json!({ "keys": keys }))
}

pub async fn run(storage: &Storage, payload: &Value) -> Result<(), String> {
    let payload: Payload =
        serde_json::from_value(payload.clone()).map_err(|e| format!("bad {KIND} payload: {e}"))?;
    for key in &payload.keys {
        let key = storage::checked_key(key).map_err(|_| format!("bad storage key {key:?}"))?;
        storage
            .uploads
            .delete(key)
            .await
            .map_err(|e| format!("cannot remove stored file {key}: {e}"))?;
    }
    Ok(())
}
