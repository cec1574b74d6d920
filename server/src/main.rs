//! `otpkit-server`: see the package README for the API and the flags.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otpkit_server::launch::main()
}
