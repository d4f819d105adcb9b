//! The real `launchpad` binary as a child process: run as an operator would, in an empty
//! directory of its own, with none of the caller's settings in its environment.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use launchpad::cli::Cli;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::helpers::JWT_SECRET;

/// An empty directory, removed when dropped: no `.env` and no `launchpad.db` to pick up.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("launchpad-cli-{}", Uuid::now_v7().simple()));
        std::fs::create_dir(&path).expect("create a temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every environment variable the CLI reads, its subcommands' included.
pub fn cli_env_vars() -> Vec<String> {
    fn collect(command: &clap::Command, out: &mut Vec<String>) {
        out.extend(
            command
                .get_arguments()
                .filter_map(|a| a.get_env())
                .map(|v| v.to_string_lossy().into_owned()),
        );
        for sub in command.get_subcommands() {
            collect(sub, out);
        }
    }
    let mut vars = Vec::new();
    collect(&Cli::command(), &mut vars);
    assert!(
        vars.iter().any(|v| v == "DATABASE_URL"),
        "env names not found: {vars:?}"
    );
    vars
}

/// `launchpad` in `dir`, with no setting inherited from the test's environment.
pub fn bare(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_launchpad"));
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for var in cli_env_vars() {
        command.env_remove(var);
    }
    command
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Sends `signal` (`TERM`, `KILL`, …) to a process.
pub async fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .await
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} {pid} failed");
}

/// `launchpad serve` on a database, on a port of its own; killed if dropped running.
pub struct Server {
    child: Child,
    pub port: u16,
    pub base: String,
    dir: TempDir,
}

impl Server {
    /// Starts `serve` on `url` with `extra` flags and waits for a healthy `/health`.
    pub async fn start(url: &str, extra: &[&str]) -> Self {
        let dir = TempDir::new();
        let port = free_port();
        let port_arg = port.to_string();
        let log = std::fs::File::create(dir.path().join("stderr.log")).expect("create the log");
        let child = bare(dir.path())
            .args(["--jwt-secret", JWT_SECRET, "--log-level", "warn"])
            .args(["--app-env", "test", "--auth-rate-limit-per-ip", "100000"])
            .args(["--database-url", url, "--api-port", &port_arg])
            .args(extra)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("launchpad starts");
        let mut server = Self {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_healthy(Duration::from_secs(20)).await;
        server
    }

    /// What the server wrote to stderr so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Polls `/health` until it answers 200; panics if the server exits or `limit` passes.
    async fn wait_healthy(&mut self, limit: Duration) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let url = format!("{}/health", self.base);
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                panic!(
                    "serve exited before it was healthy: {status}\n{}",
                    self.log()
                );
            }
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => return,
                _ if Instant::now() > deadline => {
                    panic!("{url} not healthy within {limit:?}\n{}", self.log())
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Registers a student; returns an access token.
    pub async fn register(&self, email: &str) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/api/auth/register", self.base))
            .json(&serde_json::json!({"email": email, "password": "Passw0rd!", "name": "Student"}))
            .send()
            .await
            .expect("register");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "register");
        let body: serde_json::Value = response.json().await.expect("JSON body");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// SIGKILL: no drain, no pool close, nothing flushed by the process.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL the server");
        self.child.wait().await.expect("reap the server");
    }

    /// Waits for the process to exit; panics after `limit`.
    pub async fn exited_within(mut self, limit: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {limit:?}"))
            .expect("wait for the server");
        (status, started.elapsed())
    }
}

/// Polls `/health` on `port` until the server answers (15 s at most); panics, with its
/// output, if it exits first.
pub async fn until_serving(child: &mut Child, port: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let url = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().expect("poll the server") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await;
            }
            panic!("serve exited early ({status}): {stderr}");
        }
        match client.get(&url).send().await {
            Ok(response) => return response,
            Err(e) if Instant::now() > deadline => panic!("no answer from {url} within 15 s: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
