//! Where bytes live: uploaded files and the activity log's archive, in one object store
//! chosen by `STORAGE_URL` — by default the local directories `UPLOAD_DIR` and
//! `ARCHIVE_DIR`; for several nodes, an S3-compatible bucket they all reach. Uploads are
//! received into `UPLOAD_DIR` whichever store keeps them.

mod area;
mod form;

use std::path::PathBuf;

use dbkit::writable;
use url::Url;

pub use area::{Area, ByteStream, Error};
pub use form::{ALLOWED_TYPES, FILE_FIELD, Form, Upload, safe_file_name};

use crate::config::Settings;
use crate::error::AppError;

/// The two areas, where uploads are received and how large one may be.
#[derive(Debug, Clone)]
pub struct Storage {
    /// Uploaded files, by their generated keys.
    pub uploads: Area,
    /// The activity log's archive files, by name.
    pub archive: Area,
    /// Where uploads are written while they arrive.
    spool: PathBuf,
    max_bytes: u64,
}

impl Storage {
    /// The storage the settings name: `STORAGE_URL`'s `uploads` and `archive` areas, or
    /// `UPLOAD_DIR` and `ARCHIVE_DIR`.
    pub fn open(settings: &Settings) -> Result<Self, String> {
        let (uploads, archive) = match settings.storage_url() {
            Some(url) => (Area::open(url, "uploads")?, Area::open(url, "archive")?),
            None => (
                Area::local(&settings.upload_dir)?,
                Area::local(&settings.archive_dir)?,
            ),
        };
        Ok(Self {
            uploads,
            archive,
            spool: settings.upload_dir.clone(),
            max_bytes: settings.max_upload_mb.saturating_mul(1024 * 1024),
        })
    }

    /// Storage at `url` (as `STORAGE_URL` would name it), otherwise as `settings` say.
    pub fn at(url: &Url, settings: &Settings) -> Result<Self, String> {
        Self::open(&Settings {
            storage_url: Some(crate::config::StorageUrl(Some(url.clone()))),
            ..settings.clone()
        })
    }
}

/// A storage failure as an API error: a full disk is a 507 (and `/health` says so until
/// a write lands, as for the database's disk); anything else — a store that does not
/// answer, a read-only directory, permissions — a 503 that leaves `/health` alone (the
/// database still serves everything but files). Neither is the client's doing nor a
/// bug of ours; the details are logged, not answered.
impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        if e.is_full() {
            return AppError::storage(writable::Problem::Full, &format_args!("storage: {e}"));
        }
        tracing::error!(cause = %e, "the file storage failed");
        AppError::Unavailable
    }
}

/// Checks that a stored key is one this service made (generated hex), before it is
/// used to name an object.
pub fn checked_key(key: &str) -> Result<&str, AppError> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::Internal(format!("bad storage key {key:?}")));
    }
    Ok(key)
}
