//! The real `launchpad` binary as a child process: run as an operator would, in an empty
//! directory of its own, with none of the caller's settings in its environment.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use clap::CommandFactory;
use launchpad::cli::Cli;
use tokio::process::Command;
use uuid::Uuid;

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
