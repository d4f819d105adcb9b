//! What a service's command line shares: opening the database for a command (a refused
//! or unreachable database said in the operator's words), `migrate` and `verify`.

pub mod migrate;
pub mod verify;

use std::process::ExitCode;

use dbkit::DbFailure;
use sea_orm::{DatabaseConnection, DbErr};

use crate::config::{ConfigError, DatabaseArgs};

/// A service's `main`: loads `.env` (optional; a broken one is an error), parses the
/// command line `C` (exiting with clap's message if it is wrong) and runs `run` on a new
/// runtime; its exit code is the process's.
pub fn main<C: clap::Parser, F: Future<Output = ExitCode>>(run: impl FnOnce(C) -> F) -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: .env: {e}");
        return ExitCode::from(2);
    }
    let cli = C::parse();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A command's outcome; its failure already worded for the operator.
pub type CommandResult = Result<ExitCode, String>;

/// An app's settings, as its commands need them.
pub trait ServiceSettings {
    fn database(&self) -> &DatabaseArgs;
    /// Every check clap cannot make; a command runs only with valid settings.
    fn validate(&self) -> Result<(), ConfigError>;
}

/// A database that could not be opened, named for what the operator must do: fix a
/// refused credential or name, start an unreachable server, or read the error itself.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("database: {0}")]
    Database(DbErr),
    #[error("the database refused the connection: {cause} ({source})")]
    Refused { cause: &'static str, source: DbErr },
    #[error("cannot reach the database within DB_POOL_TIMEOUT (is it running?): {0}")]
    Unreachable(DbErr),
}

impl From<DbErr> for ConnectError {
    fn from(e: DbErr) -> Self {
        if let Some(cause) = dbkit::error::refusal(&e) {
            return ConnectError::Refused { cause, source: e };
        }
        match dbkit::classify(&e) {
            DbFailure::Unavailable => ConnectError::Unreachable(e),
            _ => ConnectError::Database(e),
        }
    }
}

/// Opens the database for a command-line tool, after checking the settings.
pub async fn open(settings: &impl ServiceSettings) -> Result<DatabaseConnection, String> {
    settings.validate().map_err(|e| e.to_string())?;
    dbkit::connect(&settings.database().direct())
        .await
        .map_err(|e| ConnectError::from(e).to_string())
}

/// Seals the activity-log rows a command wrote (on PostgreSQL, where they wait for a
/// sealer: see [`dbkit::chain::append`]) — no service may be running to do it.
pub async fn seal(db: &DatabaseConnection) -> Result<(), String> {
    dbkit::chain::seal::seal(db)
        .await
        .map(drop)
        .map_err(|e| format!("sealing the activity log: {e}"))
}

/// Opens an existing database for a command that only reads: a mistyped SQLite path is
/// an error naming it, never a new empty database that then "checks out".
pub async fn open_existing(settings: &impl ServiceSettings) -> Result<DatabaseConnection, String> {
    if let Some(path) = sqlite_file(&settings.database().url())
        && !path.exists()
    {
        return Err(format!(
            "no SQLite database at {} (nothing was created; check DATABASE_URL)",
            path.display()
        ));
    }
    open(settings).await
}

/// The file an `sqlite:` URL names; `None` for other backends and in-memory databases.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    if dbkit::connect::backend_of(url) != Some(sea_orm::DbBackend::Sqlite) {
        return None;
    }
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (path.as_os_str() != ":memory:").then(|| path.to_path_buf())
}
