//! The command line: `launchpad <command>`, each with `--help`.

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// Launchpad: the backend of the student-project mentoring platform.
///
/// Every setting can be given as a flag or an environment variable (or in `.env`).
#[derive(Debug, Parser)]
#[command(name = "launchpad", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrates and seeds a fresh SQLite database by itself).
    Serve,
    /// Inspect and change the database schema.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Insert reference data (plans, services) and, outside production, the test users.
    /// Running it twice changes nothing.
    Seed,
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

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
    /// Roll back the last N applied migrations (default 1).
    Down {
        /// How many to roll back.
        n: Option<u32>,
        /// Print the SQL instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
    /// List every migration, applied or pending.
    Status,
    /// List applied migrations in the order they were applied, with times.
    History,
    /// Print the last applied migration.
    Current,
    /// Drop every table, then apply every migration.
    Fresh,
    /// Roll back every migration.
    Reset,
    /// Exit non-zero if the live schema differs from what the migrations produce.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account (or promote an existing live account).
    CreateAdmin {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// The admin's password (8–128 characters).
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The admin's display name.
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
