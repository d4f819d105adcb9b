//! The real `launchpad` binary, run as an operator would (see `process`).

use std::fmt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use launchpad::entity::{activity_logs, plans, services, users};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use tokio::process::Command;

use crate::both_backends;
use crate::helpers::{Backend, JWT_SECRET, TestDb};
use crate::process::{TempDir, bare, free_port, until_serving};

/// A finished run.
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Output {
    fn from(output: std::process::Output) -> Self {
        Self {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    fn succeeded(&self) -> &str {
        assert!(self.status.success(), "{self}");
        &self.stdout
    }

    /// Asserts a non-zero exit and returns stderr.
    #[track_caller]
    fn failed(&self) -> &str {
        assert!(!self.status.success(), "should have failed: {self}");
        &self.stderr
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// `bare`, with a valid secret, quiet logs, a small pool and `url` as the database.
fn configured(dir: &Path, url: &str) -> Command {
    let mut command = bare(dir);
    command.args([
        "--jwt-secret",
        JWT_SECRET,
        "--log-level",
        "warn",
        "--db-pool-size",
        "1",
        "--database-url",
        url,
    ]);
    command
}

async fn run(command: &mut Command) -> Output {
    Output::from(command.output().await.expect("launchpad starts"))
}

/// `launchpad <args>` in `dir` on the database at `url`.
async fn launchpad(args: &[&str], dir: &Path, url: &str) -> Output {
    run(configured(dir, url).args(args)).await
}

/// A migrated database and the directory commands run in.
async fn migrated(testdb: &TestDb) -> TempDir {
    let dir = TempDir::new();
    launchpad(&["migrate", "up"], dir.path(), &testdb.url)
        .await
        .succeeded();
    dir
}

async fn count_rows(db: &DatabaseConnection, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count rows")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a count")
}

/// Rows in (plans, services, users), deleted ones included.
async fn catalogue(db: &DatabaseConnection) -> (u64, u64, u64) {
    let e = "count rows";
    (
        plans::Entity::find().count(db).await.expect(e),
        services::Entity::find().count(db).await.expect(e),
        users::Entity::find().count(db).await.expect(e),
    )
}

/// The account `email`, which must exist.
async fn user(db: &DatabaseConnection, email: &str) -> users::Model {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await
        .expect("read users")
        .unwrap_or_else(|| panic!("no account {email}"))
}

/// A line of output whose first word is `word`.
fn has_entry(output: &str, word: &str) -> bool {
    output
        .lines()
        .any(|line| line.split_whitespace().next() == Some(word))
}

both_backends! {
    async fn three_concurrent_migrate_up_processes_apply_each_migration_exactly_once(testdb: TestDb) {
        let dir = TempDir::new();
        let up = || launchpad(&["migrate", "up"], dir.path(), &testdb.url);
        let (a, b, c) = tokio::join!(up(), up(), up());

        // Between them, the three report every migration applied exactly once.
        let mut applied: Vec<&str> = [&a, &b, &c]
            .into_iter()
            .flat_map(|out| out.succeeded().lines())
            .filter_map(|line| line.strip_prefix("applied"))
            .map(str::trim)
            .collect();
        applied.sort_unstable();
        let all: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        assert_eq!(applied, all, "stdout:\n{}\n{}\n{}", a.stdout, b.stdout, c.stdout);

        let db = testdb.connect().await;
        assert_eq!(count_rows(&db, "seaql_migrations").await, all.len() as i64);
    }

    async fn seeding_twice_inserts_the_catalogue_once(testdb: TestDb) {
        let dir = migrated(&testdb).await;
        let db = testdb.connect().await;

        let first = launchpad(&["seed"], dir.path(), &testdb.url).await;
        assert!(first.succeeded().contains("seeded: 3 plans, 4 services, 2 users"), "{first}");
        assert_eq!(catalogue(&db).await, (3, 4, 2));

        let second = launchpad(&["seed"], dir.path(), &testdb.url).await;
        assert!(second.succeeded().contains("seeded: 0 plans, 0 services, 0 users"), "{second}");
        assert_eq!(catalogue(&db).await, (3, 4, 2));
    }

    async fn create_admin_inserts_an_admin_and_logs_it(testdb: TestDb) {
        let dir = migrated(&testdb).await;
        let args = ["admin", "create-admin", "--email", "boss@example.com", "--password", "S3cure-pass!"];
        let out = launchpad(&args, dir.path(), &testdb.url).await;
        assert!(out.succeeded().contains("boss@example.com is an admin"), "{out}");

        let db = testdb.connect().await;
        let user = user(&db, "boss@example.com").await;
        assert!(user.is_admin && user.is_active, "{user:?}");
        let logged = activity_logs::Entity::find()
            .filter(activity_logs::Column::Action.eq("admin.create"))
            .all(&db)
            .await
            .expect("read activity log");
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].entity_id, Some(user.id));
    }

    async fn slow_queries_are_logged_as_json_with_sql_but_never_values(testdb: TestDb) {
        let dir = migrated(&testdb).await;
        let args = ["--slow-query-threshold-ms", "0", "--log-format", "json", "seed"];
        let out = launchpad(&args, dir.path(), &testdb.url).await;
        out.succeeded();
        let lines: Vec<serde_json::Value> = out
            .stderr
            .lines()
            .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
            .collect();
        let slow: Vec<&serde_json::Value> = lines.iter().filter(|v| v["message"] == "slow query").collect();
        assert!(
            slow.iter().any(|v| v["sql"].as_str().is_some_and(|s| s.contains("INSERT INTO \"plans\""))),
            "{out}"
        );
        assert!(slow.iter().all(|v| v["elapsed_ms"].is_u64()), "{out}");
        // Seeded values are bound parameters: no log line may show them.
        for value in ["Perfect for getting started", "student@test.com", "argon2"] {
            assert!(!out.stderr.contains(value), "{value} leaked into the logs");
        }
    }

    async fn migrate_check_exits_1_when_the_live_schema_drifts(testdb: TestDb) {
        let dir = migrated(&testdb).await;
        let clean = launchpad(&["migrate", "check"], dir.path(), &testdb.url).await;
        assert_eq!(clean.status.code(), Some(0), "{clean}");

        let db = testdb.connect().await;
        db.execute_unprepared("ALTER TABLE plans ADD COLUMN rogue INTEGER").await.expect("alter");
        let drifted = launchpad(&["migrate", "check"], dir.path(), &testdb.url).await;
        assert_eq!(drifted.status.code(), Some(1), "{drifted}");
        assert!(drifted.stdout.contains("rogue"), "{drifted}");

        // Not being able to check is not drift: exit 2, so a deploy script can tell them apart.
        let unreachable = launchpad(&["migrate", "check"], dir.path(), "postgres://postgres@127.0.0.1:1/test").await;
        assert_eq!(unreachable.status.code(), Some(2), "{unreachable}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    let dir = TempDir::new();
    let file = dir.path().join("untouched.db");
    let url = format!("sqlite://{}", file.display());

    let out = run(configured(dir.path(), &url)
        .env("DB_POOL_SIZE", "abc")
        .args(["migrate", "status"]))
    .await;
    assert!(out.failed().contains("DB_POOL_SIZE"), "{out}");

    let out = run(configured(dir.path(), &url)
        .env("LOG_FORMAT", "xml")
        .args(["migrate", "status"]))
    .await;
    assert!(out.failed().contains("LOG_FORMAT"), "{out}");

    // `bare` removes JWT_SECRET from the environment; no flag gives it either.
    let out = run(bare(dir.path()).env("APP_ENV", "production").args([
        "--log-level",
        "warn",
        "--database-url",
        &url,
        "seed",
    ]))
    .await;
    assert!(out.failed().contains("JWT_SECRET"), "{out}");

    assert!(
        !file.exists(),
        "a rejected configuration must not touch the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_up_dry_run_prints_the_sql_and_changes_nothing() {
    let testdb = TestDb::new(Backend::Sqlite).await;
    let dir = TempDir::new();

    let dry = launchpad(&["migrate", "down", "--dry-run"], dir.path(), &testdb.url).await;
    assert_eq!(
        dry.succeeded().trim(),
        "-- nothing to roll back: no migration is applied"
    );
    let dry = launchpad(&["migrate", "up", "--dry-run"], dir.path(), &testdb.url).await;
    assert!(dry.succeeded().contains("CREATE TABLE"), "{dry}");
    // Each migration's statements come under a comment naming it, in order.
    let headings: Vec<&str> = dry
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("-- "))
        .collect();
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| format!("{} (up)", m.name()))
        .collect();
    assert_eq!(headings, names, "{dry}");
    let users = dry.stdout.split("-- ").nth(1).expect("the first migration");
    assert!(
        users.contains("CREATE TABLE") && users.contains("users"),
        "{users}"
    );
    assert!(dry.stdout.contains("users"), "{dry}");
    assert!(
        dry.stdout
            .contains("CREATE UNIQUE INDEX ux_users_email_live"),
        "indexes are printed too: {dry}"
    );

    let status = launchpad(&["migrate", "status"], dir.path(), &testdb.url).await;
    let lines: Vec<&str> = status.succeeded().lines().collect();
    assert_eq!(lines.len(), Migrator::migrations().len(), "{status}");
    assert!(lines.iter().all(|l| l.starts_with("pending")), "{status}");
    let schema = dbkit::schema::snapshot(&testdb.connect().await)
        .await
        .expect("read the schema");
    assert!(
        schema.0.iter().all(|line| !line.contains("users")),
        "the dry run created tables: {schema:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_database_url_creates_launchpad_db_and_stops_cleanly_on_sigterm() {
    let dir = TempDir::new();
    let port = free_port().to_string();
    // kill_on_drop (set by `bare`) ends the server if anything below panics.
    let mut child = bare(dir.path())
        .args([
            "--jwt-secret",
            JWT_SECRET,
            "--log-level",
            "warn",
            "--api-port",
            &port,
            "serve",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("launchpad starts");

    let response = until_serving(&mut child, &port).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body["status"], "ok", "{body}");
    assert!(
        dir.path().join("launchpad.db").is_file(),
        "launchpad.db not created in the working directory"
    );

    let pid = child.id().expect("still running").to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(kill.success());
    let stopped = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("serve should exit within 10 s of SIGTERM")
        .expect("wait for serve");
    let out = Output::from(stopped);
    assert_eq!(out.status.code(), Some(0), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_every_command() {
    let dir = TempDir::new();
    let top = run(bare(dir.path()).arg("--help")).await;
    for command in ["serve", "migrate", "seed", "admin", "worker", "purge"] {
        assert!(
            has_entry(top.succeeded(), command),
            "`{command}` missing from --help: {top}"
        );
    }
    let migrate = run(bare(dir.path()).args(["migrate", "--help"])).await;
    for command in [
        "up", "down", "status", "history", "current", "fresh", "reset", "check",
    ] {
        assert!(
            has_entry(migrate.succeeded(), command),
            "`{command}` missing from migrate --help: {migrate}"
        );
    }
}

/// A command's `--help` shows its own options first; the settings every command takes
/// follow, grouped under headings, instead of thirty options in one list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_shows_a_commands_own_options_first_and_groups_the_settings() {
    let dir = TempDir::new();
    let help = run(bare(dir.path()).args(["migrate", "up", "--help"])).await;
    let help = help.succeeded();
    let at = |text: &str| {
        help.find(text)
            .unwrap_or_else(|| panic!("{text:?} missing: {help}"))
    };
    let headings = [
        "Settings: environment and database:",
        "Settings: logging:",
        "Settings: sign-in:",
        "Settings: HTTP server:",
        "Settings: files and retention:",
        "Settings: background jobs:",
    ];
    let positions: Vec<usize> = headings.iter().map(|h| at(h)).collect();
    assert!(at("--dry-run") < positions[0], "{help}");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{help}");
    // The one list of plain "Options" holds the command's own, not the settings.
    let own = &help[at("Options:")..positions[0]];
    assert!(
        !own.contains("--database-url") && !own.contains("--jwt-secret"),
        "{own}"
    );
    assert!(
        at("--database-url") > positions[0] && at("--job-concurrency") > positions[5],
        "{help}"
    );
}

/// A database URL on `backend` that names nothing: a file in a directory that exists
/// (so that only "create if missing" could make it), or a database the server lacks.
fn missing_database(backend: Backend, dir: &Path) -> (String, String) {
    match backend {
        Backend::Sqlite => {
            let path = dir.join("mistyped.db");
            (
                format!("sqlite://{}", path.display()),
                path.display().to_string(),
            )
        }
        Backend::Postgres => {
            let base = crate::helpers::postgres_base_url();
            let (server, _) = base.rsplit_once('/').expect("a database in the URL");
            (
                format!("{server}/mistyped_{}", uuid::Uuid::now_v7().simple()),
                "does not exist".into(),
            )
        }
    }
}

async fn read_only_commands_create_nothing_and_name_what_they_could_not_open(backend: Backend) {
    let dir = TempDir::new();
    let (url, named) = missing_database(backend, dir.path());
    for args in [
        &["migrate", "status"][..],
        &["migrate", "current"],
        &["migrate", "history"],
        &["migrate", "check"],
        &["verify"],
    ] {
        let out = launchpad(args, dir.path(), &url).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out}");
        assert!(
            out.stderr.contains(&named),
            "{args:?} should name {named}: {out}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "created {left:?}");
}

both_backends! {
    read_only_commands_create_nothing_and_name_what_they_could_not_open =>
        super::read_only_commands_create_nothing_and_name_what_they_could_not_open,
}

both_backends! {
    async fn on_an_unmigrated_database_verify_cannot_run_and_check_says_what_is_pending(testdb: TestDb) {
        let dir = TempDir::new();
        // An empty database: created, nothing applied.
        testdb.connect().await.close().await.expect("close");
        let pending = Migrator::migrations().len();
        let out = launchpad(&["verify"], dir.path(), &testdb.url).await;
        assert_eq!(out.status.code(), Some(2), "{out}");
        assert!(out.stderr.contains(&format!("{pending} migrations are pending")), "{out}");
        let out = launchpad(&["migrate", "check"], dir.path(), &testdb.url).await;
        assert_eq!(out.status.code(), Some(1), "{out}");
        assert!(out.stdout.contains(&format!("{pending} pending: run `launchpad migrate up`")), "{out}");
        assert!(out.stdout.lines().count() <= 2, "a short answer, not the DDL: {out}");
    }

    async fn create_admin_on_an_existing_account_sets_the_given_password(testdb: TestDb) {
        let dir = migrated(&testdb).await;
        let args = ["admin", "create-admin", "--email", "boss@example.com", "--password", "First-pass1!"];
        launchpad(&args, dir.path(), &testdb.url).await.succeeded();
        let args = ["admin", "create-admin", "--email", "boss@example.com", "--password", "Second-pass2!"];
        let out = launchpad(&args, dir.path(), &testdb.url).await;
        assert!(out.succeeded().contains("password is now the one given"), "{out}");
        let db = testdb.connect().await;
        let user = user(&db, "boss@example.com").await;
        let verify = |p: &str| {
            use argon2::PasswordVerifier;
            let hash = argon2::password_hash::phc::PasswordHash::new(&user.password_hash).expect("hash");
            argon2::Argon2::default().verify_password(p.as_bytes(), &hash).is_ok()
        };
        assert!(verify("Second-pass2!") && !verify("First-pass1!"));
        assert_eq!(user.token_version, 1, "its sessions ended");
    }

    async fn logs_written_to_a_file_carry_no_colour_codes(testdb: TestDb) {
        let dir = TempDir::new();
        let port = free_port().to_string();
        let log = std::fs::File::create(dir.path().join("stderr.log")).expect("log file");
        let mut child = bare(dir.path())
            .args(["--jwt-secret", JWT_SECRET, "--database-url", &testdb.url])
            .args(["--log-level", "info", "--api-port", &port, "--auto-migrate", "true", "serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("serve starts");
        until_serving(&mut child, &port).await;
        child.start_kill().expect("stop");
        child.wait().await.expect("reap");
        let text = std::fs::read_to_string(dir.path().join("stderr.log")).expect("read log");
        assert!(text.contains("listening"), "{text}");
        assert!(!text.contains('\u{1b}'), "ANSI escapes in a file: {text:?}");
    }
}
