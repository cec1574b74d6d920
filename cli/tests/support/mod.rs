//! Running the built `otpkit` binary. The CLI's tests and the interop
//! package's CLI tests include this one module (`#[path]`); each names the
//! binary as `crate::OTPKIT_BIN`.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// RFC 6238's SHA-1 seed, in Base32.
pub const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The binary under test.
pub const BIN: &str = crate::OTPKIT_BIN;

/// `otpkit args…` with empty standard input.
pub fn run(args: &[&str]) -> Output {
    run_with(args, "", &[])
}

/// `otpkit args…` reading `stdin`.
pub fn run_stdin(args: &[&str], stdin: &str) -> Output {
    run_with(args, stdin, &[])
}

/// `otpkit args…` reading `stdin`, with `env` set and no pepper inherited
/// from the environment running the tests.
pub fn run_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("OTPKIT_PEPPER")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the otpkit binary starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin is written");
    child.wait_with_output().expect("otpkit runs to the end")
}

/// What a run printed on standard output.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on standard error.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A sealing key for tests, in its text form.
pub fn key_text(id: &str, byte: u8) -> String {
    format!("otpkit-key:v1:{id}:{}", format!("{byte:02x}").repeat(32))
}

/// A directory removed when the test ends, pass or fail.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

/// `enroll` of a demo user into an unsealed record at `record`.
pub fn enroll_args(record: &str) -> Vec<&str> {
    vec![
        "enroll",
        "--issuer",
        "Demo",
        "--account",
        "demo",
        "--record",
        record,
        "--unsealed",
    ]
}
