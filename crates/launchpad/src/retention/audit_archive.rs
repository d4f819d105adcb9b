//! Archiving the activity log: rows older than `ACTIVITY_LOG_RETENTION_DAYS` are written,
//! in chain order, to a gzip JSON-lines file in `ARCHIVE_DIR`, then deleted, and the
//! chain's anchor moves to the last of them (`dbkit::chain::archive`). The live chain
//! stays verifiable, and so do the files (`launchpad verify --archive`).
//!
//! One transaction holds the chain's head from the first read to the commit: no row
//! can be appended, erased or archived by anyone else meanwhile. The file is complete
//! and on disk (written under a temporary name, synced, renamed, directory synced)
//! before the rows are deleted; a failure before the commit leaves the rows live, and
//! the next run rewrites the same file name.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

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

/// Why archiving stopped; nothing was deleted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("archive file: {0}")]
    Io(#[from] std::io::Error),
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
    /// The file written (or that would be).
    pub file: Option<PathBuf>,
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

/// Archives the rows older than `retention_days` into `dir`; with `dry_run`, only says
/// what would go and changes nothing (not even `dir`).
pub async fn run(
    db: &DatabaseConnection,
    dir: &Path,
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
    let file = dir.join(file_name(&range));
    let planned = Archived {
        cutoff,
        range: Some(range.clone()),
        file: Some(file.clone()),
    };
    if dry_run {
        return Ok(planned);
    }
    let walker = Walker::new(
        head.anchor_seq,
        &head.anchor_hash,
        Erasures::load(writer.tx()).await?,
    );
    let last_hash = write_file(writer.tx(), &range, walker, &file).await?;
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

/// Writes `range` to `path`, checking each row against the chain on the way; returns the
/// hash of the last row (the new anchor).
async fn write_file(
    tx: &DatabaseTransaction,
    range: &RangeInclusive<i64>,
    mut walker: Walker,
    path: &Path,
) -> Result<String, ArchiveError> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    let partial = partial_name(path);
    let mut encoder = {
        let (dir, partial) = (dir.clone(), partial.clone());
        blocking(move || {
            std::fs::create_dir_all(&dir)?;
            Ok(GzEncoder::new(
                File::create(&partial)?,
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
    let path = path.to_owned();
    blocking(move || install(encoder, &partial, &path)).await?;
    Ok(last_hash)
}

/// Where a file is written before it replaces `path`: a name [`files`] does not list.
fn partial_name(path: &Path) -> PathBuf {
    path.with_extension("gz.partial")
}

/// Finishes `encoder` (writing `partial`), syncs it, renames it to `path` and syncs the
/// directory: `path` holds either its old content or all of the new, never a part.
fn install(encoder: GzEncoder<File>, partial: &Path, path: &Path) -> std::io::Result<()> {
    let file = encoder.finish()?;
    file.sync_all()?;
    std::fs::rename(partial, path)?;
    File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
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

/// Erases `users` from the archive files in `dir` (see [`erase`]), holding the chain's
/// head meanwhile so that no archive run or other erasure writes a file at the same time.
/// A run that blanks something is recorded as `activity_log.erase`; one that finds
/// nothing left to blank writes nothing, so running it again is harmless.
pub async fn erase_users(
    db: &DatabaseConnection,
    dir: &Path,
    users: Vec<Uuid>,
) -> Result<Erased, ArchiveError> {
    let writer = Writer::begin(db, &Actor::system()).await?;
    chain::head(writer.tx(), true).await?;
    let erased = {
        let (dir, users) = (dir.to_owned(), users.clone());
        blocking(move || erase(&dir, &ErasedUsers::new(&users))).await?
    };
    if erased.rows > 0 {
        let details = json!({ "users": users, "files": erased.files, "rows": erased.rows });
        writer
            .commit(Event::action("activity_log.erase").details(details))
            .await?;
    }
    Ok(erased)
}

/// Blanks the personal part of every archived row about one of `users`, as erasure does
/// to live rows (`dbkit::chain::erase_subject`), rewriting only the files that hold one.
/// The chain still verifies: a row's hash commits to the digest of its personal part,
/// and the users' erasing events (`user.erase`, `user.purge`) cover the blanked form.
fn erase(dir: &Path, users: &ErasedUsers) -> std::io::Result<Erased> {
    let mut erased = Erased::default();
    for path in files(dir)? {
        let mut rows = read_file(&path)?;
        let blanked: u64 = rows.iter_mut().map(|row| u64::from(users.blank(row))).sum();
        if blanked == 0 {
            continue;
        }
        let partial = partial_name(&path);
        let mut encoder = GzEncoder::new(File::create(&partial)?, Compression::default());
        for row in &rows {
            serde_json::to_writer(&mut encoder, row).map_err(std::io::Error::other)?;
            encoder.write_all(b"\n")?;
        }
        install(encoder, &partial, &path)?;
        erased.files += 1;
        erased.rows += blanked;
    }
    Ok(erased)
}

/// The rows of one archive file, in order.
pub fn read_file(path: &Path) -> std::io::Result<Vec<Row>> {
    let reader = BufReader::new(GzDecoder::new(File::open(path)?));
    reader
        .lines()
        .map(|line| serde_json::from_str(&line?).map_err(std::io::Error::other))
        .collect()
}

/// The archive files in `dir`, in chain order.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("activity-log-") && n.ends_with(".jsonl.gz"))
    });
    files.sort();
    Ok(files)
}

/// Checks the archive files in `dir` from the genesis to the anchor `(seq, hash)`: every
/// row chained, nothing missing between files, the last row the anchor. `erasures` are
/// the live log's; the files' own are added.
pub fn verify_files(
    dir: &Path,
    anchor: (i64, &str),
    mut erasures: Erasures,
) -> Result<Result<u64, chain::Problem>, std::io::Error> {
    let files = files(dir)?;
    for path in &files {
        for row in read_file(path)? {
            erasures.note(&row);
        }
    }
    let mut walker = Walker::new(0, chain::hash::GENESIS, erasures);
    for path in &files {
        for row in read_file(path)? {
            if let Err(problem) = walker.check(&row) {
                return Ok(Err(problem));
            }
        }
    }
    Ok(walker
        .finish(anchor.0, anchor.1, "anchor")
        .map(|()| walker.rows()))
}
