//! The test harness: a real server on a free port, on a fresh database of either backend.

use std::sync::OnceLock;

use clap::Parser;
use launchpad::cli::Cli;
use launchpad::config::Settings;
use launchpad::entity::activity_logs;
use launchpad::startup::Application;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Runs each test on SQLite and on PostgreSQL, as `<name>::sqlite` and `<name>::postgres`
/// (the kit's harness, `dbkit::testing`), each process naming the kit as Launchpad does.
/// A body's argument type says what it starts from: a running `TestApp`, an empty
/// `TestDb`, or only the `Backend` (to build its own). `name => path` runs the function
/// at `path` with the `Backend`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($arg:ident: $ty:ident) $body:block)*) => {
        dbkit::both_backends! {
            setup = $crate::helpers::configure_kits;
            $(async fn $name($arg: $crate::helpers::$ty) $body)*
        }
    };
    ($($name:ident => $body:path),* $(,)?) => {
        dbkit::both_backends! { setup = $crate::helpers::configure_kits; $($name => $body),* }
    };
    (@tests $run:path) => {
        dbkit::both_backends!(@tests $crate::helpers::configure_kits, $run);
    };
}

pub use dbkit::testing::{Backend, TestDb, postgres_base_url};

/// Configures the kits in this test process as the binary does first thing (`dbkit`'s
/// tables, tag and locks; `webkit`'s constraint rules): tests read and verify what
/// servers write.
pub fn configure_kits() {
    launchpad::kits::configure().expect("kits configured");
}

impl dbkit::testing::Fixture for TestApp {
    async fn make(backend: Backend) -> Self {
        TestApp::spawn(backend).await
    }
}

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-42";

/// Settings for a test server: a free port, a small pool, auto-migration on. `extra`
/// flags (`["--db-pool-size", "1"]`) replace the defaults they name.
pub fn settings(db_url: &str, extra: &[&str]) -> Settings {
    let defaults = [
        ("--database-url", db_url),
        ("--api-port", "0"),
        ("--db-pool-size", "1"),
        ("--db-max-overflow", "4"),
        ("--jwt-secret", JWT_SECRET),
        ("--app-env", "test"),
        ("--auto-migrate", "true"),
        ("--log-level", "warn"),
        // Tests log in far more often than a person; the limits have tests of their own.
        ("--auth-rate-limit-per-ip", "100000"),
        ("--auth-rate-limit-per-account", "100000"),
    ];
    let mut args = vec!["launchpad"];
    for (flag, value) in defaults
        .into_iter()
        .filter(|(flag, _)| !extra.contains(flag))
    {
        args.extend([flag, value]);
    }
    args.extend_from_slice(extra);
    args.push("serve");
    Cli::try_parse_from(args)
        .expect("test settings parse")
        .settings
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = webkit::telemetry::init("warn", launchpad::config::LogFormat::Pretty);
    });
}

/// The list operations of an OpenAPI document: every GET whose 200 answer is a `Page_…`,
/// as (path template, operation).
pub fn list_operations(doc: &Value) -> Vec<(&str, &Value)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter_map(|(template, item)| {
            let get = item.get("get")?;
            let schema = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()?;
            schema
                .starts_with("#/components/schemas/Page_")
                .then_some((template.as_str(), get))
        })
        .collect()
}

/// The `sort_by` values of a list operation that order by text (a twin or a code).
pub fn text_sorts(operation: &Value) -> Vec<String> {
    const TEXT: &[&str] = &[
        "title",
        "name",
        "email",
        "original_name",
        "request_type",
        "status",
        "kind",
    ];
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == "sort_by")
        .flat_map(|p| p["schema"]["enum"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .filter(|sort| TEXT.contains(&sort.as_str()))
        .collect()
}

/// A running server on its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// This server's `UPLOAD_DIR`, removed with it.
    pub upload_dir: std::path::PathBuf,
    /// This server's metrics (statements executed, …).
    pub metrics: std::sync::Arc<webkit::metrics::Metrics>,
    stop: Option<oneshot::Sender<()>>,
    // Declared last: the server and pool stop before the database is removed (with its
    // last node).
    database: std::sync::Arc<TestDb>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// A server with extra settings flags (`--db-pool-size 1`, …).
    pub async fn spawn_with(backend: Backend, extra: &[&str]) -> Self {
        Self::spawn_on(TestDb::new(backend).await, backend, extra).await
    }

    /// A server on a given database, with extra settings flags.
    pub async fn spawn_on(database: TestDb, backend: Backend, extra: &[&str]) -> Self {
        Self::node_on(std::sync::Arc::new(database), backend, extra).await
    }

    /// Another server on this one's database, as a second node behind a load balancer
    /// would be: its own process state (pool, caches, metrics), the same data.
    pub async fn another_node(&self, extra: &[&str]) -> Self {
        Self::node_on(self.database.clone(), self.backend, extra).await
    }

    async fn node_on(database: std::sync::Arc<TestDb>, backend: Backend, extra: &[&str]) -> Self {
        init_logs();
        let upload_dir =
            std::env::temp_dir().join(format!("launchpad-uploads-{}", Uuid::now_v7().simple()));
        let upload_arg = upload_dir.display().to_string();
        let mut flags = vec!["--upload-dir", upload_arg.as_str()];
        flags.extend_from_slice(extra);
        let app = Application::build(settings(&database.url, &flags))
            .await
            .expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.state().db.clone();
        let metrics = app.state().metrics.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            address,
            client: reqwest::Client::new(),
            db,
            backend,
            upload_dir,
            metrics,
            stop: Some(stop),
            database,
        }
    }

    /// This server's `DATABASE_URL`, for running the CLI against its database.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Seals the log rows the writes so far left, as the server's sealer does moments
    /// after each commit: for a test that reads the chain right after writing.
    pub async fn seal(&self) {
        dbkit::chain::seal::seal(&self.db)
            .await
            .expect("seal the log");
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("request sent");
        Response::read(response).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Registers a student; returns (user id, access token, refresh token).
    pub async fn register(&self, email: &str) -> Session {
        let r = self
            .post(
                "/api/auth/register",
                None,
                json!({"email": email, "password": "Passw0rd!", "name": "Student One"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register: {}", r.body);
        Session::from(&r.body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self
            .post(
                "/api/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login: {}", r.body);
        Session::from(&r.body)
    }

    /// A counter's value as `/metrics` reports it (`name` with its `_total`).
    pub async fn counter(&self, name: &str) -> u64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    }

    /// The seeded admin's session.
    pub async fn admin(&self) -> Session {
        self.login("admin@test.com", "Admin@1234").await
    }

    /// Activity-log rows with this action, oldest first.
    pub async fn activity(&self, action: &str) -> Vec<activity_logs::Model> {
        activity_logs::Entity::find()
            .filter(activity_logs::Column::Action.eq(action))
            .order_by_asc(activity_logs::Column::CreatedAt)
            .all(&self.db)
            .await
            .expect("read activity log")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.upload_dir);
    }
}

/// A response read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// Asserts the status and the error shape every error must have.
    pub fn assert_error(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert!(
            self.body["error"].is_string(),
            "error message missing: {}",
            self.body
        );
        assert!(
            self.body["details"].is_object(),
            "details missing: {}",
            self.body
        );
        assert!(self.body["path"].is_string(), "path missing: {}", self.body);
        assert!(
            self.body["request_id"].is_string(),
            "request_id missing: {}",
            self.body
        );
        self
    }
}

/// A signed-in user.
pub struct Session {
    pub user_id: Option<Uuid>,
    pub access: String,
    pub refresh: String,
}

impl Session {
    fn from(body: &Value) -> Self {
        Self {
            user_id: body["user"]["id"].as_str().and_then(|s| s.parse().ok()),
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access)
    }
}

/// A finished run of the `launchpad` binary.
pub struct CliRun {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for CliRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `launchpad <args>` on the database at `url`, run in the system's temp directory (no
/// `.env` to pick up), with quiet logs and a small pool; does not judge the outcome.
pub async fn cli(url: &str, args: &[&str]) -> CliRun {
    cli_with_env(url, args, &[]).await
}

/// [`cli`] with these environment variables set.
pub async fn cli_with_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> CliRun {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_launchpad"))
        .envs(env.iter().copied())
        .current_dir(std::env::temp_dir())
        .args(["--jwt-secret", JWT_SECRET, "--log-level", "warn"])
        .args([
            "--db-pool-size",
            "1",
            "--app-env",
            "test",
            "--database-url",
            url,
        ])
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("launchpad starts");
    CliRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
