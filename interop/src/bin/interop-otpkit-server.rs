//! `otpkit-server`, built for the interop tests.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otpkit_server::launch::main()
}
