//! What each CLI command does; `main` only parses and calls [`run`].

mod admin;
mod demo;
mod purge;
mod storage;
mod verify;
mod worker;

use std::process::ExitCode;

use crate::cli::{Cli, Command, SeedArgs};
use crate::config::{AppEnv, Settings};
use crate::startup::Application;
use webkit::cli::{CommandResult, open};
use webkit::serve::shutdown_signal;

/// Runs one command; errors are printed, and the exit code says how it ended.
pub async fn run(cli: Cli) -> ExitCode {
    if let Err(e) =
        webkit::telemetry::init(&cli.settings.log.log_level, cli.settings.log.log_format)
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = crate::kits::configure() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Serve => serve(cli.settings).await,
        Command::Migrate(command) => {
            webkit::cli::migrate::run::<migration::Migrator>(&cli.settings, command).await
        }
        Command::Seed(args) => seed(&cli.settings, args).await,
        Command::Admin(command) => admin::run(&cli.settings, command).await,
        Command::Verify(args) => verify::run(&cli.settings, args).await,
        Command::Worker => worker::run(&cli.settings).await,
        Command::Purge(args) => purge::run(&cli.settings, args).await,
        Command::Storage(command) => storage::run(&cli.settings, command).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            // 1 is kept for "ran, and found a problem" (`migrate check`, `verify`).
            ExitCode::from(2)
        }
    }
}

/// The storage the settings name (`STORAGE_URL`, or the directories).
fn open_storage(settings: &Settings) -> Result<crate::storage::Storage, String> {
    crate::storage::Storage::open(settings).map_err(|e| format!("STORAGE_URL: {e}"))
}

async fn serve(settings: Settings) -> CommandResult {
    let stop = shutdown_signal();
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped(stop)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

async fn seed(settings: &Settings, args: SeedArgs) -> CommandResult {
    if args.demo && settings.database.app_env == AppEnv::Production {
        // Demo accounts share a published password.
        return Err(
            "seed --demo is refused in production (demo accounts share a known password)".into(),
        );
    }
    let db = open(settings).await?;
    let report = crate::seed::run(&db, settings.database.app_env != AppEnv::Production)
        .await
        .map_err(|e| format!("seeding: {e}"))?;
    println!(
        "seeded: {} plans, {} services, {} users (existing rows left alone)",
        report.plans, report.services, report.users
    );
    if args.demo {
        let sizes = demo::DemoSizes {
            users: args.users,
            projects: args.projects,
        };
        let outcome = demo::run(&db, sizes, true).await?;
        let r = outcome.inserted;
        println!(
            "demo: inserted {} users, {} orders, {} projects, {} synopses, {} meetings, \
             {} chatbot messages, {} ideas, {} activity-log rows in {:.2} s \
             (sizes: {} users, {} projects)",
            r.users,
            r.orders,
            r.projects,
            r.synopsis,
            r.meetings,
            r.chatbot_messages,
            r.ideas,
            r.activity_logs,
            outcome.elapsed.as_secs_f64(),
            args.users,
            args.projects,
        );
    }
    webkit::cli::seal(&db).await?;
    Ok(ExitCode::SUCCESS)
}
