//! The command line: `launchpad <command>`, each with `--help`.

use clap::{Parser, Subcommand};

use crate::config::Settings;
pub use webkit::cli::migrate::MigrateCommand;

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
    /// Running it twice changes nothing. `--demo` adds realistic volume for benchmarks.
    Seed(SeedArgs),
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check the live database: the schema against the migrations, and the activity
    /// log's hash chain. Exit 0 if both pass, 1 if something is wrong (the first broken
    /// row is named), 2 if the check could not run.
    Verify(VerifyArgs),
    /// Run background jobs (the trash purge, file removals) until SIGTERM; as many
    /// processes as wanted, on one database.
    Worker,
    /// Retention: delete for good what has been in the trash longer than
    /// SOFT_DELETE_RETENTION_DAYS (with what it owns and its stored files), then archive
    /// activity-log rows older than ACTIVITY_LOG_RETENTION_DAYS to a gzip JSON-lines file
    /// in the archive's storage and delete them. Running it again does nothing more.
    Purge(PurgeArgs),
    /// Stored files: move them to another store.
    #[command(subcommand)]
    Storage(StorageCommand),
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Copy every uploaded file (each checked against its recorded size and SHA-256) and
    /// every activity-log archive file to another store; what is already there is left
    /// alone, so run it again after switching STORAGE_URL to catch late uploads.
    /// Exit 0 if everything is at the target, 1 if something could not be copied.
    Copy {
        /// The target, as STORAGE_URL names one: file:///dir or s3://bucket/prefix?….
        #[arg(long)]
        to: url::Url,
        /// The source (default: the configured storage, STORAGE_URL or the directories).
        #[arg(long)]
        from: Option<url::Url>,
    },
}

/// `launchpad verify [--archive] [--refold]`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Also check the archive files (STORAGE_URL's or ARCHIVE_DIR), from the first row
    /// to the anchor.
    #[arg(long)]
    pub archive: bool,
    /// Set right the folded twins that do not match their text (written by hand, say)
    /// instead of failing on them: the one write verify makes.
    #[arg(long)]
    pub refold: bool,
}

/// `launchpad purge [--dry-run]`.
#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Print what would be deleted and archived, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `launchpad seed [--demo [--users N] [--projects N]]`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = DEMO_HELP)]
pub struct SeedArgs {
    /// Also generate demo data (see below); idempotent per size, a larger size tops up.
    #[arg(long)]
    pub demo: bool,
    /// Demo users: `demo<n>@demo.launchpad`, password `Demo@1234` (refused in production).
    #[arg(long, default_value_t = 1000, requires = "demo", value_parser = clap::value_parser!(u64).range(2..))]
    pub users: u64,
    /// Demo projects; the other tables follow from it (see below).
    #[arg(long, default_value_t = 100_000, requires = "demo")]
    pub projects: u64,
}

const DEMO_HELP: &str = "\
Demo data (`--demo`), for U users and P projects:
  users            U: demo0@demo.launchpad is an admin, demo1 the benchmark student,
                   the rest students; all share the password Demo@1234
  orders           one per student (U - 1), statuses pending/paid/completed/cancelled
  projects         P, created over the past year; 1 in 100 belongs to demo1 and is
                   in_progress (so demo1 has ceil(P/100) of them), the rest are spread
                   over the students: idea_pending 20%, synopsis_pending 20%,
                   in_progress 35%, completed 20%, cancelled 5%
  synopses         P/4 (Pending 40%, Approved 45%, Rejected 15%)
  meetings         P/10 (requested, scheduled, completed, cancelled)
  chatbot messages P (a user + assistant exchange for half the projects)
  ideas            P/2
  activity log     U + P rows (user.register, project.create), plus one seed.demo row
                   per run that inserted anything
Rows are inserted in multi-row statements, one transaction per chunk of 2,000 users or
projects (with their children). Ids are deterministic, so running twice with the same
sizes inserts nothing and a bigger size inserts only the difference.";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account, or promote an existing live account and set its password
    /// to the one given (ending its sessions): the way back in for an operator.
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
