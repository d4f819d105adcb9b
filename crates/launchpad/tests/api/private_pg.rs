//! A PostgreSQL cluster of a test's own, to stop and restart under load. The shared server
//! on port 5432 must never go down; this one lives in a temp dir on a free port and is
//! killed and removed when dropped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use uuid::Uuid;

use crate::process::free_port;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// How `pg_ctl stop` ends the server.
#[derive(Debug, Clone, Copy)]
pub enum StopMode {
    /// Disconnects every client ("terminating connection due to administrator command").
    Fast,
    /// Quits without a shutdown checkpoint: a crash, recovered on the next start.
    Immediate,
}

impl StopMode {
    fn arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// An initialised cluster; running after [`PrivatePg::start`].
pub struct PrivatePg {
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl PrivatePg {
    /// Runs `initdb` (about a second) and starts the server; anyone may connect.
    pub async fn start_new() -> Self {
        Self::start_new_with(&["-A", "trust"]).await
    }

    /// The same, where `postgres` must give `password` (SCRAM).
    pub async fn start_new_with_password(password: &str) -> Self {
        let file = std::env::temp_dir().join(format!("lp-pw-{}", Uuid::now_v7().simple()));
        std::fs::write(&file, password).expect("write the password file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
            .expect("let postgres read it");
        let pwfile = format!("--pwfile={}", file.display());
        let pg = Self::start_new_with(&["-A", "scram-sha-256", &pwfile]).await;
        let _ = std::fs::remove_file(file);
        pg
    }

    async fn start_new_with(auth: &[&str]) -> Self {
        let mut pg = Self::unstarted();
        let data = pg.data();
        let mut args = vec!["-D", &data, "-U", "postgres", "--no-sync"];
        args.extend_from_slice(auth);
        pg.run("initdb", &args).await;
        pg.start().await;
        pg
    }

    /// A hot standby streaming from `primary`: a base backup of it (`pg_basebackup -R`,
    /// whose `primary_conninfo` points back at it), started on a port of its own.
    pub async fn standby_of(primary: &PrivatePg) -> Self {
        let mut pg = Self::unstarted();
        let (data, port) = (pg.data(), primary.port.to_string());
        let args = [
            "-D",
            &data,
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        ];
        pg.run("pg_basebackup", &args).await;
        pg.start().await;
        pg
    }

    /// A directory and a port, nothing in them yet.
    fn unstarted() -> Self {
        let dir = std::env::temp_dir().join(format!("lp-pg-{}", Uuid::now_v7().simple()));
        std::fs::create_dir(&dir).expect("create the cluster dir");
        // initdb and postgres refuse to run as root: when we are root they run as
        // `postgres`, who must be able to write here (data dir and socket).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
            .expect("open the cluster dir");
        Self {
            dir,
            port: free_port(),
            running: false,
        }
    }

    /// A URL for the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn start(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
             -c shared_buffers=16MB -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let (data, log) = (self.data(), self.path("log"));
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "30", "start",
            ],
        )
        .await;
        self.running = true;
    }

    /// Stops the server and waits until it is down.
    pub async fn stop(&mut self, mode: StopMode) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", mode.arg(), "-w", "stop"])
            .await;
        self.running = false;
    }

    fn data(&self) -> String {
        self.path("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Runs a PostgreSQL program to completion on a blocking thread; panics on failure.
    async fn run(&self, program: &str, args: &[&str]) {
        let mut command = as_postgres(&Path::new(BIN).join(program));
        command.args(args);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.path("log")).unwrap_or_default()
        );
    }
}

/// `program`, as the `postgres` user when we are root.
pub fn as_postgres(program: &Path) -> Command {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl Drop for PrivatePg {
    /// Never leaves a postmaster behind: an immediate stop, then SIGKILL if it lingers.
    fn drop(&mut self) {
        if self.running {
            let stopped = as_postgres(&Path::new(BIN).join("pg_ctl"))
                .args([
                    "-D",
                    &self.data(),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "10",
                    "stop",
                ])
                .output()
                .is_ok_and(|out| out.status.success());
            let pid_file = Path::new(&self.data()).join("postmaster.pid");
            let pid = std::fs::read_to_string(pid_file)
                .ok()
                .and_then(|s| s.lines().next().map(str::to_owned));
            if let (false, Some(pid)) = (stopped, pid) {
                let _ = Command::new("kill").args(["-KILL", &pid]).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
