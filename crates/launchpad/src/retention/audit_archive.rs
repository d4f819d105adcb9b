//! Archiving the activity log: rows older than `ACTIVITY_LOG_RETENTION_DAYS` are written,
//! in chain order, to a gzip JSON-lines file in the archive's storage (`STORAGE_URL`'s
//! `archive` area, or `ARCHIVE_DIR`), then deleted, and the chain's anchor moves to the
//! last of them (`dbkit::chain::archive`). The live chain stays verifiable, and so do the
//! files (`launchpad verify --archive`), from any node that reaches the storage.
//!
//! One transaction holds the chain's head from the first read to the commit: no row
//! can be appended, erased or archived by anyone else meanwhile. The file is stored
//! whole (written to a local temporary file, then stored in one piece) before the rows
//! are deleted; a failure before the commit leaves the rows live, and the next run
//! stores the same name again.

use std::io::{BufRead, BufReader, Write};
use std::ops::RangeInclusive;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use dbkit::audit::Event;
use dbkit::chain::{self, ErasedUsers, Row, archive, verify::Erasures, verify::Walker};
use dbkit::{Actor, Writer};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde_json::json;
use uuid::Uuid;

use crate::storage::{self, Area};

/// Why archiving stopped; nothing was deleted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("archive file: {0}")]
    Io(#[from] std::io::Error),
    #[error("archive storage: {0}")]
    Storage(#[from] storage::Error),
    /// The rows to archive do not verify: archiving them would hide the damage.
    #[error("the activity log's chain is broken ({0}); run `launchpad verify`")]
    Broken(chain::Problem),
}

/// What a run archived, or would archive.
#[derive(Debug, Clone)]
pub struct Archived {
    /// Rows created before this were due.
    pub cutoff: DateTime<Utc>,
    /// The `seq` range archived (none when nothing was due).
    pub range: Option<RangeInclusive<i64>>,
    /// Where the file was stored (or would be).
    pub file: Option<String>,
}

impl Archived {
    /// Rows archived (or that would be).
    pub fn rows(&self) -> u64 {
        self.range
            .as_ref()
            .map_or(0, |r| (r.end() - r.start() + 1) as u64)
    }
}

/// The archive of `range`: named by its seq range, zero-padded so names sort in chain order.
pub fn file_name(range: &RangeInclusive<i64>) -> String {
    format!(
        "activity-log-{:019}-{:019}.jsonl.gz",
        range.start(),
        range.end()
    )
}

/// Archives the rows older than `retention_days` into `archive`; with `dry_run`, only
/// says what would go and changes nothing (not even `archive`).
pub async fn run(
    db: &DatabaseConnection,
    archive: &Area,
    retention_days: u64,
    dry_run: bool,
) -> Result<Archived, ArchiveError> {
    // Capped: a retention of millions of years means "keep everything" just the same.
    let days = retention_days.min(1_000_000) as i64;
    let cutoff = dbkit::time::now() - chrono::Duration::days(days);
    let writer = Writer::begin(db, &Actor::system()).await?;
    let head = chain::head(writer.tx(), true).await?;
    let Some(range) = archive::archivable(writer.tx(), &head, cutoff).await? else {
        return Ok(Archived {
            cutoff,
            range: None,
            file: None,
        });
    };
    let name = file_name(&range);
    let planned = Archived {
        cutoff,
        range: Some(range.clone()),
        file: Some(archive.describe(&name)),
    };
    if dry_run {
        return Ok(planned);
    }
    let walker = Walker::new(
        head.anchor_seq,
        &head.anchor_hash,
        Erasures::load(writer.tx()).await?,
    );
    let last_hash = write_file(writer.tx(), &range, walker, archive, &name).await?;
    archive::cut(writer.tx(), &range, &last_hash).await?;
    let details = json!({
        "first_seq": range.start(),
        "last_seq": range.end(),
        "rows": planned.rows(),
        "file": file_name(&range),
        "cutoff": dbkit::chain::hash::timestamp(&cutoff),
    });
    writer
        .commit(Event::action("activity_log.archive").details(details))
        .await?;
    Ok(planned)
}

/// Rows read per query while writing.
const PAGE: u64 = 1_000;

/// Writes `range` to the file `name` in `area`, checking each row against the chain on
/// the way; returns the hash of the last row (the new anchor).
async fn write_file(
    tx: &DatabaseTransaction,
    range: &RangeInclusive<i64>,
    mut walker: Walker,
    area: &Area,
    name: &str,
) -> Result<String, ArchiveError> {
    let local = TempFile::new();
    let mut encoder = {
        let path = local.0.clone();
        blocking(move || {
            Ok(GzEncoder::new(
                std::fs::File::create(path)?,
                Compression::default(),
            ))
        })
        .await?
    };
    let mut after = range.start() - 1;
    let mut last_hash = String::new();
    loop {
        let rows = archive::rows(tx, range, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq.unwrap_or(i64::MAX);
        let mut lines = Vec::new();
        for row in &rows {
            walker.check(row).map_err(ArchiveError::Broken)?;
            serde_json::to_writer(&mut lines, row).map_err(std::io::Error::other)?;
            lines.push(b'\n');
            last_hash = row.hash.clone().unwrap_or_default();
        }
        encoder = blocking(move || {
            encoder.write_all(&lines)?;
            Ok(encoder)
        })
        .await?;
    }
    walker
        .finish(*range.end(), &last_hash, "archive range")
        .map_err(ArchiveError::Broken)?;
    blocking(move || encoder.finish()?.sync_all()).await?;
    area.put_file(name, &local.0).await?;
    Ok(last_hash)
}

/// A local temporary file, removed when dropped (an archive on its way to storage).
struct TempFile(PathBuf);

impl TempFile {
    fn new() -> Self {
        let name = format!("launchpad-archive-{}.jsonl.gz", Uuid::now_v7().simple());
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}

/// What erasing users from the archive changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Files rewritten.
    pub files: u64,
    /// Rows whose personal part was blanked.
    pub rows: u64,
}

/// Erases `users` from the archive files in `archive` (see [`erase`]), holding the
/// chain's head meanwhile so that no archive run or other erasure writes a file at the
/// same time. A run that blanks something is recorded as `activity_log.erase`; one that
/// finds nothing left to blank writes nothing, so running it again is harmless.
pub async fn erase_users(
    db: &DatabaseConnection,
    archive: &Area,
    users: Vec<Uuid>,
) -> Result<Erased, ArchiveError> {
    let writer = Writer::begin(db, &Actor::system()).await?;
    chain::head(writer.tx(), true).await?;
    let erased = erase(archive, &ErasedUsers::new(&users)).await?;
    if erased.rows > 0 {
        let details = json!({ "users": users, "files": erased.files, "rows": erased.rows });
        writer
            .commit(Event::action("activity_log.erase").details(details))
            .await?;
    }
    Ok(erased)
}

/// Blanks the personal part of every archived row about one of `users`, as erasure does
/// to live rows (`dbkit::chain::erase_subject`), rewriting only the files that hold one
/// (each replaced whole). The chain still verifies: a row's hash commits to the digest
/// of its personal part, and the users' erasing events (`user.erase`, `user.purge`)
/// cover the blanked form.
async fn erase(archive: &Area, users: &ErasedUsers) -> Result<Erased, ArchiveError> {
    let mut erased = Erased::default();
    for name in files(archive).await? {
        let mut rows = read_file(archive, &name).await?;
        let blanked: u64 = rows.iter_mut().map(|row| u64::from(users.blank(row))).sum();
        if blanked == 0 {
            continue;
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        for row in &rows {
            serde_json::to_writer(&mut encoder, row).map_err(std::io::Error::other)?;
            encoder.write_all(b"\n")?;
        }
        archive.put(&name, encoder.finish()?).await?;
        erased.files += 1;
        erased.rows += blanked;
    }
    Ok(erased)
}

/// The rows of the archive file `name`, in order.
pub async fn read_file(archive: &Area, name: &str) -> Result<Vec<Row>, ArchiveError> {
    let bytes = archive.read(name).await?;
    let reader = BufReader::new(GzDecoder::new(&bytes[..]));
    let rows = reader
        .lines()
        .map(|line| serde_json::from_str(&line?).map_err(std::io::Error::other))
        .collect::<std::io::Result<_>>()?;
    Ok(rows)
}

/// The names of the archive files in `archive`, in chain order.
pub async fn files(archive: &Area) -> Result<Vec<String>, ArchiveError> {
    let mut names = archive.keys().await?;
    names.retain(|n| n.starts_with("activity-log-") && n.ends_with(".jsonl.gz"));
    Ok(names)
}

/// Checks the archive files in `archive` from the genesis to the anchor `(seq, hash)`:
/// every row chained, nothing missing between files, the last row the anchor.
/// `erasures` are the live log's; the files' own are added.
pub async fn verify_files(
    archive: &Area,
    anchor: (i64, &str),
    mut erasures: Erasures,
) -> Result<Result<u64, chain::Problem>, ArchiveError> {
    let files = files(archive).await?;
    for name in &files {
        for row in read_file(archive, name).await? {
            erasures.note(&row);
        }
    }
    let mut walker = Walker::new(0, chain::hash::GENESIS, erasures);
    for name in &files {
        for row in read_file(archive, name).await? {
            if let Err(problem) = walker.check(&row) {
                return Ok(Err(problem));
            }
        }
    }
    Ok(walker
        .finish(anchor.0, anchor.1, "anchor")
        .map(|()| walker.rows()))
}
