//! The CLI on a real pseudo-terminal (Python's `pty`), not a pipe: it asks
//! only when someone can answer, says what happened and exits accordingly,
//! warns when the terminal is too narrow for its QR code; and short legacy
//! secrets agree with oathtool.

use std::path::Path;
use std::process::Command;

use crate::cli_support::{BIN, SECRET, enroll_args, err, out, run};

/// Runs otpkit on a pseudo-terminal `cols` wide. At each "Code from your
/// app:" prompt it types the next input: `@RIGHT` is the current code of
/// the key shown, `@EOF` is Ctrl-D. With `stdout_file`, standard output goes
/// there instead of the terminal. Returns what the terminal showed and the
/// exit code.
fn on_terminal(
    args: &[&str],
    inputs: &[&str],
    cols: u16,
    stdout_file: Option<&Path>,
) -> (String, i32) {
    let script = r#"
import json, os, pty, re, select, struct, subprocess, sys, fcntl, termios
args, inputs, cols, stdout_file = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 60, cols, 0, 0))
    if stdout_file:
        os.dup2(os.open(stdout_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.environ.pop("OTPKIT_PEPPER", None)
    os.execv(args[0], args)
seen, pending = b"", list(inputs)
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if seen.count(b"Code from your app: ") > len(inputs) - len(pending) and pending:
        answer = pending.pop(0)
        if answer == "@EOF":
            os.write(fd, b"\x04")
        else:
            if answer == "@RIGHT":
                key = re.search(rb"enter this key by hand: ([A-Z2-7 ]+)", seen).group(1).replace(b" ", b"")
                answer = subprocess.run([args[0], "code", key.decode()], capture_output=True, text=True).stdout.strip()
            os.write(fd, answer.encode() + b"\n")
_, status = os.waitpid(pid, 0)
print(json.dumps({"output": seen.decode("utf-8", "replace"), "code": os.waitstatus_to_exitcode(status)}))
"#;
    let mut full = vec![BIN];
    full.extend_from_slice(args);
    let result = Command::new("python3")
        .args([
            "-c",
            script,
            &serde_json::to_string(&full).unwrap(),
            &serde_json::to_string(inputs).unwrap(),
            &cols.to_string(),
            stdout_file.map_or("", |p| p.to_str().unwrap()),
        ])
        .output()
        .expect("python3");
    assert!(result.status.success(), "{}", err(&result));
    let value: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    (
        value["output"].as_str().unwrap().to_owned(),
        i32::try_from(value["code"].as_i64().unwrap()).unwrap(),
    )
}

#[test]
fn interactive_enroll_says_what_happened_and_exits_accordingly() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.json");
    let record_arg = record.to_str().unwrap();

    // The right code: verified, saved, backup codes shown, exit 0.
    let (shown, code) = on_terminal(&enroll_args(record_arg), &["@RIGHT"], 200, None);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Verified and saved to"), "{shown}");
    assert!(shown.contains("Backup codes (shown once"), "{shown}");
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("\"verified\": true")
    );

    // Three wrong codes: not verified, saved unverified, exit 1.
    std::fs::remove_file(&record).unwrap();
    let (shown, code) = on_terminal(
        &enroll_args(record_arg),
        &["000000", "111111", "222222"],
        200,
        None,
    );
    assert_eq!(code, 1, "{shown}");
    assert!(
        shown.contains("not verified: the record is saved unverified"),
        "{shown}"
    );
    assert!(!shown.contains("Verified"), "{shown}");
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("\"verified\": false")
    );

    // Ctrl-D: the same, at once.
    std::fs::remove_file(&record).unwrap();
    let (shown, code) = on_terminal(&enroll_args(record_arg), &["@EOF"], 200, None);
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("not verified"), "{shown}");

    // Without --record, a right code saves nothing and says so.
    let (shown, code) = on_terminal(
        &["enroll", "--issuer", "D", "--account", "d"],
        &["@RIGHT"],
        200,
        None,
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Nothing was saved"), "{shown}");
    assert!(
        !shown.contains("Backup codes"),
        "codes without a record would be lies: {shown}"
    );
}

#[test]
fn enroll_asks_only_when_the_question_can_be_seen() {
    let dir = tempfile::tempdir().unwrap();
    let captured = dir.path().join("out.txt");
    let record = dir.path().join("r.json");
    // Standard input is a terminal, standard output a file: no prompt.
    let (shown, code) = on_terminal(
        &enroll_args(record.to_str().unwrap()),
        &[],
        200,
        Some(&captured),
    );
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("Code from your app"), "{shown}");
    let written = std::fs::read_to_string(&captured).unwrap();
    assert!(written.contains("Saved unverified to"), "{written}");
}

#[test]
fn a_terminal_too_narrow_for_the_qr_code_gets_a_warning_and_png_is_refused() {
    let uri = format!("otpauth://totp/ACME:bob?secret={SECRET}&issuer=ACME");
    let (shown, code) = on_terminal(&["qr", &uri], &[], 30, None);
    assert_eq!(code, 0);
    assert!(shown.contains("warning: the QR code is"), "{shown}");
    let (wide, _) = on_terminal(&["qr", &uri], &[], 200, None);
    assert!(!wide.contains("warning"), "{wide}");
    let (shown, code) = on_terminal(&["qr", "--format", "png", &uri], &[], 200, None);
    assert_eq!(code, 2);
    assert!(
        shown.contains("a PNG is binary") && !shown.contains("PNG\r\n\u{1a}"),
        "{shown}"
    );
}

#[test]
fn short_secrets_need_an_opt_in_and_then_agree_with_oathtool() {
    let short = "JBSWY3DPEHPK3PXP"; // 80 bits, as older deployments issued
    let o = run(&["code", "--at", "1700000000", short]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--allow-short-secret"), "{}", err(&o));
    let o = run(&["code", "--at", "1700000000", "--allow-short-secret", short]);
    assert!(o.status.success(), "{}", err(&o));
    let oathtool = Command::new("oathtool")
        .args(["--totp", "-b", "--now=@1700000000", short])
        .output()
        .expect("oathtool (.ci/test installs it)");
    assert_eq!(out(&o), out(&oathtool));
}

/// oathtool's own command line, flag for flag, gives oathtool's code.
#[test]
fn oathtools_short_forms_give_oathtools_codes() {
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    for (ours, theirs) in [
        (
            vec![
                "code",
                "--totp",
                "-b",
                "-d",
                "8",
                "-s",
                "60",
                "--at",
                "1700000000",
                secret,
            ],
            vec![
                "--totp",
                "-b",
                "-d",
                "8",
                "-s",
                "60",
                "--now=@1700000000",
                secret,
            ],
        ),
        (
            vec!["code", "--hotp", "-b", "-c", "42", "-d", "7", secret],
            vec!["--hotp", "-b", "-c", "42", "-d", "7", secret],
        ),
    ] {
        let o = run(&ours);
        assert!(o.status.success(), "{}", err(&o));
        let oathtool = Command::new("oathtool")
            .args(&theirs)
            .output()
            .expect("oathtool (.ci/test installs it)");
        assert!(oathtool.status.success(), "{theirs:?}");
        assert_eq!(out(&o), out(&oathtool), "{ours:?}");
    }
}
