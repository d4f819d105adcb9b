//! `<app> migrate …`: apply, roll back (saying what goes, refusing while the database is
//! in use, asking first), print the SQL, list, and check the live schema against the
//! migrations.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Subcommand;
use dbkit::in_use;
use dbkit::migrate::{self, Direction};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use super::{CommandResult, ServiceSettings, open, open_existing};

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply pending migrations (all, or the next N).
    Up {
        /// How many to apply.
        n: Option<u32>,
        /// Print the SQL instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Roll back the last N applied migrations (default 1). Says what it will drop;
    /// refuses while a server or worker uses the database, and without --yes unless
    /// confirmed at a terminal.
    Down {
        /// How many to roll back.
        n: Option<u32>,
        /// Print the SQL instead of running it.
        #[arg(long)]
        dry_run: bool,
        /// Do it without asking.
        #[arg(long)]
        yes: bool,
    },
    /// List every migration, applied or pending.
    Status,
    /// List applied migrations in the order they were applied, with times.
    History,
    /// Print the last applied migration.
    Current,
    /// Drop every table, then apply every migration (like `down`: refuses while the
    /// database is in use, asks first).
    Fresh {
        /// Do it without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Roll back every migration (like `down`: refuses while the database is in use,
    /// asks first).
    Reset {
        /// Do it without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Exit non-zero if the live schema differs from what the migrations produce.
    Check,
}

/// Runs `command` on the database of `settings`, whose migrations are `Migrator`.
pub async fn run<Migrator: MigratorTrait>(
    settings: &impl ServiceSettings,
    command: MigrateCommand,
) -> CommandResult {
    let reads_only = matches!(
        command,
        MigrateCommand::Status
            | MigrateCommand::History
            | MigrateCommand::Current
            | MigrateCommand::Check
    );
    let db = if reads_only {
        open_existing(settings).await?
    } else {
        open(settings).await?
    };
    let e = |e: sea_orm::DbErr| e.to_string();
    match command {
        MigrateCommand::Up { n, dry_run: true } => print_sql(
            Direction::Up,
            &migrate::sql::<Migrator>(&db, &settings.database().direct(), Direction::Up, n)
                .await
                .map_err(e)?,
        ),
        MigrateCommand::Down {
            n, dry_run: true, ..
        } => print_sql(
            Direction::Down,
            &migrate::sql::<Migrator>(
                &db,
                &settings.database().direct(),
                Direction::Down,
                Some(n.unwrap_or(1)),
            )
            .await
            .map_err(e)?,
        ),
        MigrateCommand::Up { n, .. } => print_names(
            "applied",
            &migrate::up::<Migrator>(&db, n).await.map_err(e)?,
        ),
        MigrateCommand::Down { n, yes, .. } => {
            let n = n.unwrap_or(1);
            let plan = down_plan::<Migrator>(&db, settings, Some(n)).await?;
            let _alone = take_database(&db, plan, yes).await?;
            print_names(
                "rolled back",
                &migrate::down::<Migrator>(&db, n).await.map_err(e)?,
            );
        }
        MigrateCommand::Fresh { yes } => {
            let _alone = take_database(&db, fresh_plan(&db).await?, yes).await?;
            print_names(
                "applied",
                &migrate::fresh::<Migrator>(&db).await.map_err(e)?,
            );
        }
        MigrateCommand::Reset { yes } => {
            let plan = down_plan::<Migrator>(&db, settings, None).await?;
            let _alone = take_database(&db, plan, yes).await?;
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
        MigrateCommand::Check => return check::<Migrator>(&db, settings).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// What a destructive command is about to do, shown before it does it.
struct Plan {
    /// One line: what will happen.
    summary: String,
    /// What goes: tables (with their rows), columns, indexes.
    drops: Vec<String>,
}

/// Rolling back the last `n` migrations (all when `None`): their names, and what their
/// SQL (recorded on a scratch copy) drops.
async fn down_plan<Migrator: MigratorTrait>(
    db: &DatabaseConnection,
    settings: &impl ServiceSettings,
    n: Option<u32>,
) -> Result<Plan, String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    let n = match n {
        Some(n) => n,
        None => migrate::history::<Migrator>(db).await.map_err(e)?.len() as u32,
    };
    let plan =
        migrate::sql::<Migrator>(db, &settings.database().direct(), Direction::Down, Some(n))
            .await
            .map_err(e)?;
    let names: Vec<&str> = plan.iter().map(|(name, _)| name.as_str()).collect();
    let rows = migrate::row_counts(db).await.map_err(e)?;
    let drops = plan
        .iter()
        .flat_map(|(_, statements)| statements)
        .filter_map(|s| describe_drop(s, &rows))
        .collect();
    Ok(Plan {
        summary: format!("rolls back {}: {}", names.len(), names.join(", ")),
        drops,
    })
}

/// Dropping every table.
async fn fresh_plan(db: &DatabaseConnection) -> Result<Plan, String> {
    let rows = migrate::row_counts(db).await.map_err(|e| e.to_string())?;
    Ok(Plan {
        summary: "drops every table, then applies every migration".into(),
        drops: rows
            .iter()
            .map(|(table, n)| format!("table {table} ({n} rows)"))
            .collect(),
    })
}

/// A statement's drop in a few words (`table users (12 rows)`, `column users.token_version`),
/// or `None` if it drops nothing.
fn describe_drop(sql: &str, rows: &[(String, u64)]) -> Option<String> {
    let words: Vec<String> = sql
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c| c == '"' || c == '`' || c == ';')
                .to_owned()
        })
        .collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let after = |i: usize| {
        let skip = if upper.get(i).is_some_and(|w| w == "IF") {
            2
        } else {
            0
        };
        words.get(i + skip).cloned()
    };
    match upper
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["DROP", "TABLE", ..] => {
            let table = after(2)?;
            let n = rows
                .iter()
                .find(|(t, _)| *t == table)
                .map_or(0, |(_, n)| *n);
            Some(format!("table {table} ({n} rows)"))
        }
        [
            "DROP",
            kind @ ("INDEX" | "TRIGGER" | "VIEW" | "TYPE" | "FUNCTION"),
            ..,
        ] => Some(format!("{} {}", kind.to_ascii_lowercase(), after(2)?)),
        ["ALTER", "TABLE", ..] => {
            let at = upper.iter().position(|w| w == "DROP")?;
            let column = if upper.get(at + 1).is_some_and(|w| w == "COLUMN") {
                at + 2
            } else {
                at + 1
            };
            Some(format!("column {}.{}", words.get(2)?, after(column)?))
        }
        _ => None,
    }
}

/// Shows `plan`, then takes the database for it alone: refused while a server or worker
/// uses it, and — without `--yes` — unless someone at a terminal types `yes`.
async fn take_database(
    db: &DatabaseConnection,
    plan: Plan,
    yes: bool,
) -> Result<in_use::Exclusive, String> {
    println!("this {}", plan.summary);
    if plan.drops.is_empty() {
        println!("it drops no table, column or index");
    }
    for drop in &plan.drops {
        println!("  drops {drop}");
    }
    let alone = in_use::exclusive(db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or(format!(
            "refusing: a running `{app} serve` or `{app} worker` is using this database; \
                 stop them first",
            app = crate::settings().app
        ))?;
    if yes {
        return Ok(alone);
    }
    if !std::io::stdin().is_terminal() {
        return Err("refusing without --yes (no terminal to confirm at)".into());
    }
    eprint!("type yes to go ahead: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    if answer.trim() != "yes" {
        return Err("not confirmed; nothing changed".into());
    }
    Ok(alone)
}

fn print_names(verb: &str, names: &[String]) {
    if names.is_empty() {
        println!("nothing to do");
    }
    for name in names {
        println!("{verb}  {name}");
    }
}

/// Each migration's statements under a comment naming it, so the output still runs as
/// a script; or what there is to run when there is nothing.
fn print_sql(direction: Direction, plan: &[(String, Vec<String>)]) {
    if plan.is_empty() {
        match direction {
            Direction::Up => println!("-- nothing to apply: every migration is applied"),
            Direction::Down => println!("-- nothing to roll back: no migration is applied"),
        }
        return;
    }
    let way = match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    };
    for (name, statements) in plan {
        println!("-- {name} ({way})");
        for sql in statements {
            println!("{};", sql.trim_end_matches(';'));
        }
    }
}

async fn check<Migrator: MigratorTrait>(
    db: &DatabaseConnection,
    settings: &impl ServiceSettings,
) -> CommandResult {
    Ok(if schema_report::<Migrator>(db, settings).await? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Compares the live schema with the migrations' and prints the differences; `true`
/// when there are none.
pub async fn schema_report<Migrator: MigratorTrait>(
    db: &DatabaseConnection,
    settings: &impl ServiceSettings,
) -> Result<bool, String> {
    let report = migrate::check::<Migrator>(db, &settings.database().direct())
        .await
        .map_err(|e| e.to_string())?;
    if report.is_clean() {
        println!("schema matches the migrations");
        return Ok(true);
    }
    if !report.pending.is_empty() {
        // What the pending migrations would create is all the drift there is to see.
        println!(
            "{} pending: run `{} migrate up` ({})",
            report.pending.len(),
            crate::settings().app,
            report.pending.join(", ")
        );
        return Ok(false);
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

#[cfg(test)]
mod tests {
    use super::describe_drop;

    #[test]
    fn drops_are_described_in_a_few_words_with_row_counts() {
        let rows = [("users".to_owned(), 12)];
        let cases = [
            (r#"DROP TABLE "users""#, Some("table users (12 rows)")),
            ("DROP TABLE IF EXISTS jobs;", Some("table jobs (0 rows)")),
            (
                "DROP INDEX ux_ideas_selected_per_project",
                Some("index ux_ideas_selected_per_project"),
            ),
            (
                r#"ALTER TABLE "users" DROP COLUMN "token_version""#,
                Some("column users.token_version"),
            ),
            (r#"ALTER TABLE "users" ADD COLUMN "x" integer"#, None),
            ("CREATE INDEX ix_a ON a (b)", None),
        ];
        for (sql, expected) in cases {
            assert_eq!(describe_drop(sql, &rows).as_deref(), expected, "{sql}");
        }
    }
}
