use std::process::ExitCode;

use clap::Parser;
use launchpad::cli::Cli;

fn main() -> ExitCode {
    // `.env` is optional; a broken one is an error, not something to ignore.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: .env: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(launchpad::commands::run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
