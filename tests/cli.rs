//! End-to-end runs of the built `otpkit` binary.
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 6238's SHA-1 seed

fn otpkit(args: &[&str]) -> Output {
    otpkit_with_stdin(args, "")
}

fn otpkit_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otpkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn code_prints_the_rfc_vector() {
    let out = otpkit(&["code", "--digits", "8", "--at", "1111111109", SECRET]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "07081804\n");
}

#[test]
fn code_reads_the_secret_from_stdin() {
    let out = otpkit_with_stdin(
        &["code", "--digits", "8", "--at", "59", "-"],
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "94287082\n");
}

#[test]
fn code_with_sha256_and_hotp() {
    let secret256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
    let out = otpkit(&[
        "code",
        "--algorithm",
        "sha256",
        "--digits",
        "8",
        "--at",
        "1111111109",
        secret256,
    ]);
    assert_eq!(stdout(&out), "68084774\n");
    let out = otpkit(&["code", "--hotp", "--counter", "9", SECRET]);
    assert_eq!(stdout(&out), "520489\n");
}

#[test]
fn verify_reports_step_and_offset() {
    let out = otpkit(&[
        "verify",
        "--digits",
        "8",
        "--at",
        "1111111139",
        SECRET,
        "0708 1804",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid: step 37037036 offset -1\n");
}

#[test]
fn verify_failures_exit_1_with_one_line() {
    let cases = [
        (
            vec!["--at", "1111111109", "--last-step", "37037036"],
            "07081804",
            "replayed",
        ),
        (vec!["--at", "1111111109"], "07081805", "invalid"),
        (vec!["--at", "1111111109"], "0708180", "malformed"),
        (vec!["--at", "1111111109"], "07O81804", "malformed"),
    ];
    for (options, code, reason) in cases {
        let mut args = vec!["verify", "--digits", "8"];
        args.extend(options);
        args.extend([SECRET, code]);
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with(&format!("otpkit: {reason}")), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn verify_hotp_look_ahead() {
    let out = otpkit(&[
        "verify",
        "--hotp",
        "--counter",
        "1",
        "--window",
        "5",
        SECRET,
        "969429",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid: counter 3 next 4\n");
}

#[test]
fn usage_errors_exit_2_without_echoing_the_secret() {
    for args in [
        vec!["code", "NOT-BASE32!"],
        vec!["code", "--digits", "11", SECRET],
        vec!["code", "--algorithm", "md5", SECRET],
        vec!["code", "--period", "0", SECRET],
        vec!["code", "JBSWY3DPEHPK3PXP"],
        vec!["code", "--hotp", SECRET],
        vec!["verify", SECRET],
        vec!["bogus"],
    ] {
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("NOT-BASE32"), "{args:?}");
    }
}
