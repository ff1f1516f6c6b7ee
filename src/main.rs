use std::process::ExitCode;

fn main() -> ExitCode {
    deskpulse::cli::main()
}
