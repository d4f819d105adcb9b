use std::process::ExitCode;

fn main() -> ExitCode {
    webkit::cli::main(tasks::cli::run)
}
