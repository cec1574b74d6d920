//! `otpkit`: see the package README, or `otpkit --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otpkit_cli::main()
}
