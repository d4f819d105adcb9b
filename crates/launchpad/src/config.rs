//! Typed settings from flags, environment variables and `.env`: the kit's groups
//! ([`webkit::config`]) and Launchpad's own.
//!
//! Every setting is both a flag and an environment variable (names from the spec).
//! A bad value stops start-up with a message naming the variable.

use std::path::PathBuf;

use clap::Args;
pub use webkit::config::{
    AppEnv, ConfigError, DatabaseArgs, LogArgs, LogFormat, ServerArgs, SignInArgs,
};

/// The headings Launchpad's own settings are grouped under in `--help`.
const FILES: &str = "Settings: files and retention";
const JOBS: &str = "Settings: background jobs";

/// All settings. Durations are in seconds unless the name says otherwise.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[command(flatten)]
    pub server: ServerArgs,

    /// Where uploaded files and activity-log archives are kept: `file:///dir` or
    /// `s3://bucket/prefix?endpoint=…&region=…` (credentials from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`). Unset: `UPLOAD_DIR` and `ARCHIVE_DIR`. Every node of a
    /// cluster needs the same one. Empty is the same as unset.
    #[arg(help_heading = FILES, long, env = "STORAGE_URL", value_parser = storage_url, global = true)]
    pub storage_url: Option<StorageUrl>,
    /// Directory uploads are received into (and, without `STORAGE_URL`, kept in).
    #[arg(help_heading = FILES, long, env = "UPLOAD_DIR", default_value = "uploads", global = true)]
    pub upload_dir: PathBuf,
    /// Largest upload accepted, in MiB.
    #[arg(help_heading = FILES, long, env = "MAX_UPLOAD_MB", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1024), global = true)]
    pub max_upload_mb: u64,
    /// Days a soft-deleted row stays in the trash before `purge` removes it.
    #[arg(
        help_heading = FILES,
        long,
        env = "SOFT_DELETE_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub soft_delete_retention_days: u64,
    /// Days activity-log rows stay before `purge` archives them.
    #[arg(
        help_heading = FILES,
        long,
        env = "ACTIVITY_LOG_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub activity_log_retention_days: u64,
    /// Directory for archived activity logs (without `STORAGE_URL`).
    #[arg(help_heading = FILES, long, env = "ARCHIVE_DIR", default_value = "archive", global = true)]
    pub archive_dir: PathBuf,

    /// Run background jobs inside `serve` (turn off where `launchpad worker` runs them).
    #[arg(help_heading = JOBS, long, env = "SERVE_JOBS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub serve_jobs: bool,
    /// Jobs one process runs at once.
    #[arg(help_heading = JOBS, long, env = "JOB_CONCURRENCY", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64), global = true)]
    pub job_concurrency: u32,
    /// Milliseconds an idle worker waits before looking for due jobs again.
    #[arg(help_heading = JOBS, long, env = "JOB_POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000), global = true)]
    pub job_poll_interval_ms: u64,
    /// Seconds after which a running job whose worker went silent is taken back (retried,
    /// or dead if that was its last attempt). Longer than any job takes.
    #[arg(help_heading = JOBS, long, env = "JOB_LOCK_TIMEOUT", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub job_lock_timeout: u64,
}

impl webkit::cli::ServiceSettings for Settings {
    fn database(&self) -> &DatabaseArgs {
        &self.database
    }

    fn validate(&self) -> Result<(), ConfigError> {
        Settings::validate(self)
    }
}

impl Settings {
    /// The store `STORAGE_URL` names, if any.
    pub fn storage_url(&self) -> Option<&url::Url> {
        self.storage_url.as_ref().and_then(|url| url.0.as_ref())
    }

    /// Checks what clap cannot: combinations and formats.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate()?;
        self.sign_in.validate(self.database.app_env)?;
        self.server.validate()
    }

    /// Whether `serve` applies pending migrations itself.
    pub fn auto_migrate(&self) -> bool {
        self.database.auto_migrate()
    }

    /// Pool settings for `dbkit`.
    pub fn db(&self) -> dbkit::DbSettings {
        self.database.db()
    }
}

/// `STORAGE_URL` as given: a URL, or nothing for an empty value (a line of a copied
/// `.env` left blank means the default, not a start-up error).
#[derive(Debug, Clone)]
pub struct StorageUrl(pub Option<url::Url>);

fn storage_url(value: &str) -> Result<StorageUrl, url::ParseError> {
    let value = value.trim();
    Ok(StorageUrl(match value {
        "" => None,
        url => Some(url.parse()?),
    }))
}
