//! The command line: `tasks serve | migrate … | seed | verify`, every setting a flag and
//! the environment variable Launchpad reads under the same name.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use webkit::cli::migrate::MigrateCommand;
use webkit::cli::{CommandResult, open};
use webkit::config::AppEnv;

use crate::app::App;
use crate::migration::Migrator;
pub use crate::settings::Settings;

/// Tasks: each user's tasks, with a trash and an activity log.
///
/// Every setting can be given as a flag or an environment variable (or in `.env`).
#[derive(Debug, Parser)]
#[command(name = "tasks", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrates a SQLite database by itself).
    Serve,
    /// Inspect and change the database schema.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Outside production, a demo account (demo@tasks.example, password `Demo@1234`)
    /// with a few tasks. Running it twice changes nothing.
    Seed,
    /// Check the schema against the migrations and the activity log's hash chain. Exit 0
    /// if both pass, 1 if something is wrong, 2 if the check could not run.
    Verify,
}

/// Runs one command; errors are printed, and the exit code says how it ended.
pub async fn run(cli: Cli) -> ExitCode {
    let log = &cli.settings.log;
    if let Err(e) = webkit::telemetry::init(&log.log_level, log.log_format) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = crate::configure() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let settings = &cli.settings;
    let result = match cli.command {
        Command::Serve => serve(settings.clone()).await,
        Command::Migrate(command) => webkit::cli::migrate::run::<Migrator>(settings, command).await,
        Command::Seed => seed(settings).await,
        Command::Verify => verify(settings).await,
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}

async fn serve(settings: Settings) -> CommandResult {
    let stop = webkit::serve::shutdown_signal();
    let app = App::build(settings).await.map_err(|e| e.to_string())?;
    app.run_until_stopped(stop)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// The kit's checks (schema, chain) and the folded twins the task list searches by.
async fn verify(settings: &Settings) -> CommandResult {
    let verified = webkit::cli::verify::check::<Migrator>(settings).await?;
    let twins = crate::entity::refill_twins(&verified.db, false)
        .await
        .map_err(|e| e.to_string())?;
    let twins_ok = webkit::cli::verify::twins(&twins, false);
    webkit::cli::verify::finish(verified.ok && twins_ok)
}

async fn seed(settings: &Settings) -> CommandResult {
    if settings.database.app_env == AppEnv::Production {
        return Err(
            "seed is refused in production (the demo account's password is published)".into(),
        );
    }
    let db = open(settings).await?;
    let created = crate::users::seed_demo(&db)
        .await
        .map_err(|e| format!("seeding: {e}"))?;
    println!(
        "{}",
        if created {
            "seeded: the demo account and its tasks"
        } else {
            "seeded: nothing to do"
        }
    );
    webkit::cli::seal(&db).await?;
    Ok(ExitCode::SUCCESS)
}
