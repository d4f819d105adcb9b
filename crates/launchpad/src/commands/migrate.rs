//! `launchpad migrate …`.

use std::process::ExitCode;

use dbkit::migrate::{self, Direction};
use migration::Migrator;

use super::{CommandResult, open};
use crate::cli::MigrateCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: MigrateCommand) -> CommandResult {
    let db = open(settings).await?;
    let e = |e: sea_orm::DbErr| e.to_string();
    match command {
        MigrateCommand::Up { n, dry_run: true } => print_sql(
            &migrate::sql::<Migrator>(&db, &settings.db(), Direction::Up, n)
                .await
                .map_err(e)?,
        ),
        MigrateCommand::Down { n, dry_run: true } => print_sql(
            &migrate::sql::<Migrator>(&db, &settings.db(), Direction::Down, Some(n.unwrap_or(1)))
                .await
                .map_err(e)?,
        ),
        MigrateCommand::Up { n, .. } => print_names(
            "applied",
            &migrate::up::<Migrator>(&db, n).await.map_err(e)?,
        ),
        MigrateCommand::Down { n, .. } => print_names(
            "rolled back",
            &migrate::down::<Migrator>(&db, n.unwrap_or(1))
                .await
                .map_err(e)?,
        ),
        MigrateCommand::Fresh => print_names(
            "applied",
            &migrate::fresh::<Migrator>(&db).await.map_err(e)?,
        ),
        MigrateCommand::Reset => {
            migrate::reset::<Migrator>(&db).await.map_err(e)?;
            println!("every migration rolled back");
        }
        MigrateCommand::Status => {
            for m in migrate::status::<Migrator>(&db).await.map_err(e)? {
                match m.applied_at {
                    Some(at) => println!("applied  {}  {}", m.name, at.to_rfc3339()),
                    None => println!("pending  {}", m.name),
                }
            }
        }
        MigrateCommand::History => {
            for m in migrate::history::<Migrator>(&db).await.map_err(e)? {
                let at = m.applied_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!("{at}  {}", m.name);
            }
        }
        MigrateCommand::Current => {
            println!(
                "{}",
                migrate::current::<Migrator>(&db)
                    .await
                    .map_err(e)?
                    .unwrap_or_else(|| "none".into())
            );
        }
        MigrateCommand::Check => return check(&db, settings).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_names(verb: &str, names: &[String]) {
    if names.is_empty() {
        println!("nothing to do");
    }
    for name in names {
        println!("{verb}  {name}");
    }
}

fn print_sql(statements: &[String]) {
    for sql in statements {
        println!("{};", sql.trim_end_matches(';'));
    }
}

async fn check(db: &sea_orm::DatabaseConnection, settings: &Settings) -> CommandResult {
    Ok(if schema_report(db, settings).await? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Compares the live schema with the migrations' and prints the differences; `true`
/// when there are none.
pub(super) async fn schema_report(
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
) -> Result<bool, String> {
    let report = migrate::check::<Migrator>(db, &settings.db())
        .await
        .map_err(|e| e.to_string())?;
    if report.is_clean() {
        println!("schema matches the migrations");
        return Ok(true);
    }
    for name in &report.pending {
        println!("pending migration:   {name}");
    }
    for name in &report.unknown {
        println!("unknown migration:   {name} (applied, but not in this build)");
    }
    for line in &report.drift.missing {
        println!("missing from live:   {line}");
    }
    for line in &report.drift.unexpected {
        println!("not in migrations:   {line}");
    }
    Ok(false)
}
