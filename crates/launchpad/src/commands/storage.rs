//! `launchpad storage copy --to URL [--from URL]`: moves existing files between stores —
//! every file a row of `files` names (in the trash too: it may be restored) and every
//! activity-log archive file. Each uploaded file is checked against the size and SHA-256
//! its row recorded before it is stored at the target; one already there is left as it
//! is, so the copy can be run again after the nodes switched, to catch the uploads that
//! arrived meanwhile. Exit 0 when everything is at the target, 1 when something could
//! not be copied (each named), 2 when the copy could not run.

use std::process::ExitCode;

use futures_util::StreamExt;
use sea_orm::{EntityTrait, QuerySelect};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{CommandResult, open};
use crate::cli::StorageCommand;
use crate::config::Settings;
use crate::entity::files;
use crate::retention::audit_archive;
use crate::storage::{Area, Storage};

pub async fn run(settings: &Settings, command: StorageCommand) -> CommandResult {
    let StorageCommand::Copy { from, to } = command;
    let source = match &from {
        Some(url) => Storage::at(url, settings),
        None => Storage::open(settings),
    }
    .map_err(|e| format!("the source: {e}"))?;
    let target = Storage::at(&to, settings).map_err(|e| format!("--to: {e}"))?;
    let db = open(settings).await?;
    let rows: Vec<(String, i64, String)> = files::Entity::find()
        .select_only()
        .columns([
            files::Column::StorageKey,
            files::Column::SizeBytes,
            files::Column::Sha256,
        ])
        .into_tuple()
        .all(&db)
        .await
        .map_err(|e| format!("reading the files' rows: {e}"))?;
    let mut uploads = Tally::default();
    for (key, size, sha256) in &rows {
        let expected = Expected {
            size: u64::try_from(*size).unwrap_or_default(),
            sha256,
        };
        uploads.add(
            key,
            copy(&source.uploads, &target.uploads, key, Some(expected)).await,
        );
    }
    let names = audit_archive::files(&source.archive)
        .await
        .map_err(|e| format!("listing the archive: {e}"))?;
    let mut archive = Tally::default();
    for name in &names {
        archive.add(
            name,
            copy(&source.archive, &target.archive, name, None).await,
        );
    }
    println!("uploads: {uploads}");
    println!("archive: {archive}");
    println!("from {:?} and {:?}", source.uploads, source.archive);
    println!("to {:?} and {:?}", target.uploads, target.archive);
    Ok(if uploads.failed + archive.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a file's row says it is.
struct Expected<'a> {
    size: u64,
    sha256: &'a str,
}

/// How one object's copy went.
enum Copied {
    Copied,
    AlreadyThere,
}

/// Copies `key` from `source` to `target` (unless the target has it), through a local
/// temporary file checked against `expected`.
async fn copy(
    source: &Area,
    target: &Area,
    key: &str,
    expected: Option<Expected<'_>>,
) -> Result<Copied, String> {
    if target.exists(key).await.map_err(|e| e.to_string())? {
        return Ok(Copied::AlreadyThere);
    }
    let mut bytes = source
        .get(key, None)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("missing from the source")?;
    let local = std::env::temp_dir().join(format!("launchpad-copy-{}", uuid::Uuid::now_v7()));
    let copied = async {
        let mut file = tokio::fs::File::create(&local)
            .await
            .map_err(|e| e.to_string())?;
        let (mut hasher, mut size) = (Sha256::new(), 0u64);
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| e.to_string())?;
        }
        file.sync_all().await.map_err(|e| e.to_string())?;
        if let Some(expected) = expected {
            let digest = format!("{:x}", hasher.finalize());
            if size != expected.size || digest != expected.sha256 {
                return Err(format!(
                    "damaged at the source: {size} bytes with SHA-256 {digest}, \
                     its row says {} bytes with {}",
                    expected.size, expected.sha256
                ));
            }
        }
        target
            .put_file(key, &local)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let _ = tokio::fs::remove_file(&local).await;
    copied.map(|()| Copied::Copied)
}

/// Counts of one area's copy; failures are printed as they happen.
#[derive(Default)]
struct Tally {
    copied: u64,
    already: u64,
    failed: u64,
}

impl Tally {
    fn add(&mut self, key: &str, copied: Result<Copied, String>) {
        match copied {
            Ok(Copied::Copied) => self.copied += 1,
            Ok(Copied::AlreadyThere) => self.already += 1,
            Err(e) => {
                self.failed += 1;
                eprintln!("not copied: {key}: {e}");
            }
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} copied, {} already there, {} not copied",
            self.copied, self.already, self.failed
        )
    }
}
