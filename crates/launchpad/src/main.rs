use std::process::ExitCode;

fn main() -> ExitCode {
    webkit::cli::main(launchpad::commands::run)
}
