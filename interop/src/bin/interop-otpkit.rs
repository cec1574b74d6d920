//! The `otpkit` command, built for the interop tests.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otpkit_cli::main()
}
