//! Races of real `otpkit` processes on one file: the CLI's lock from load
//! to save makes one code count once and every failure count, and its
//! writes keep files private and leave nothing behind.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const RACERS: usize = 10;
const TRIALS: usize = 3;

fn spawn(args: &[&str]) -> Child {
    Command::new(crate::support::BIN)
        .args(args)
        .env(
            "OTPKIT_KEY",
            format!("otpkit-key:v1:race:{}", "42".repeat(32)),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    spawn(args).wait_with_output().unwrap()
}

/// Starts `RACERS` copies of a command at once and collects their output.
fn race(args: &[&str]) -> Vec<Output> {
    let children: Vec<Child> = (0..RACERS).map(|_| spawn(args)).collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn successes(outputs: &[Output]) -> usize {
    outputs.iter().filter(|o| o.status.success()).count()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Only the files a test made are left: no temporary files.
fn assert_only(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_unstable();
    let mut expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    expected.sort_unstable();
    assert_eq!(found, expected);
}

fn new_backup_set(dir: &Path, scheme: &str, name: &str) -> (String, Vec<String>) {
    let set = dir.join(name);
    let set = set.to_str().unwrap().to_owned();
    let mut args = vec!["backup", "new", "--scheme", scheme, "-o", &set];
    if scheme == "pbkdf2-sha256" {
        args.extend(["--iterations", "20000"]);
    } else {
        // Fast hashes without a pepper: only over codes of 112 bits.
        args.extend(["--length", "23"]);
    }
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes = text(&out.stdout).lines().map(str::to_owned).collect();
    (set, codes)
}

#[test]
fn one_backup_code_raced_by_many_processes_is_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    for scheme in ["hmac-sha256", "pbkdf2-sha256"] {
        for trial in 0..TRIALS {
            let (set, codes) =
                new_backup_set(dir.path(), scheme, &format!("{scheme}-{trial}.json"));
            let outputs = race(&["backup", "use", &set, &codes[trial]]);
            assert_eq!(successes(&outputs), 1, "{scheme} trial {trial}");
            for rejected in outputs.iter().filter(|o| !o.status.success()) {
                assert!(
                    text(&rejected.stderr).contains("replayed:"),
                    "{}",
                    text(&rejected.stderr)
                );
            }
            let status = text(&run(&["backup", "status", &set]).stdout);
            assert!(status.contains("remaining: 9"), "{status}");
        }
    }
    let names: Vec<String> = ["hmac-sha256", "pbkdf2-sha256"]
        .iter()
        .flat_map(|s| (0..TRIALS).map(move |t| format!("{s}-{t}.json")))
        .collect();
    assert_only(
        dir.path(),
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn different_backup_codes_raced_at_once_are_all_marked_used() {
    let dir = tempfile::tempdir().unwrap();
    let (set, codes) = new_backup_set(dir.path(), "pbkdf2-sha256", "set.json");
    let children: Vec<Child> = codes
        .iter()
        .map(|code| spawn(&["backup", "use", &set, code]))
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert_eq!(successes(&outputs), codes.len());
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&set).unwrap()).unwrap();
    let used = stored["codes"].as_array().unwrap().iter();
    assert!(
        used.clone().all(|c| c["used"] == Value::Bool(true)),
        "{stored}"
    );
    // Every run printed a distinct remaining count: they took turns.
    let mut remaining: Vec<String> = outputs.iter().map(|o| text(&o.stdout)).collect();
    remaining.sort_unstable();
    remaining.dedup();
    assert_eq!(remaining.len(), codes.len(), "{remaining:?}");
}

/// An enrolled record file and its secret.
fn enroll(dir: &Path, name: &str) -> (String, String) {
    let record = dir.join(name).to_str().unwrap().to_owned();
    let out = run(&[
        "enroll",
        "--issuer",
        "ACME",
        "--account",
        "alice",
        "--record",
        &record,
        "--json",
        "--key-env",
        "OTPKIT_KEY",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (record, created["secret"].as_str().unwrap().to_owned())
}

fn current_code(secret: &str) -> String {
    text(&run(&["code", secret]).stdout).trim().to_owned()
}

#[test]
fn one_totp_code_raced_by_many_processes_is_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    for trial in 0..TRIALS {
        let (record, secret) = enroll(dir.path(), &format!("trial{trial}.json"));
        let code = current_code(&secret);
        let outputs = race(&[
            "verify",
            "--record",
            &record,
            &code,
            "--key-env",
            "OTPKIT_KEY",
        ]);
        // The code may change between generation and the race only at a
        // step boundary; the window of ±1 still accepts it once.
        assert_eq!(successes(&outputs), 1, "trial {trial}");
        // A replay counts as a failure, so after the free ones the record
        // locks: each loser says one or the other.
        for rejected in outputs.iter().filter(|o| !o.status.success()) {
            let says = text(&rejected.stderr);
            assert!(
                says.contains("replayed") || says.contains("locked"),
                "{says}"
            );
        }
        assert_eq!(mode(Path::new(&record)), 0o600);
    }
}

#[test]
fn every_wrong_code_of_a_race_is_counted_and_the_record_locks() {
    let dir = tempfile::tempdir().unwrap();
    let (record, secret) = enroll(dir.path(), "record.json");
    let right = current_code(&secret);
    let wrong: String = right
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 5) % 10))
        .collect();
    let children: Vec<Child> = (0..30)
        .map(|_| {
            spawn(&[
                "verify",
                "--record",
                &record,
                &wrong,
                "--key-env",
                "OTPKIT_KEY",
            ])
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert_eq!(successes(&outputs), 0);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    // Five free failures, the sixth locks, and the rest find it locked: each
    // run was counted or refused by the lock, none was lost.
    assert_eq!(stored["failures"], Value::from(6), "{stored}");
    assert!(stored["locked_until"].is_u64(), "{stored}");
    let locked = outputs
        .iter()
        .filter(|o| text(&o.stderr).contains("locked"))
        .count();
    assert_eq!(locked, 30 - 5);
    assert_only(dir.path(), &["record.json"]);
}

#[test]
fn files_are_private_rewrites_never_loosen_and_symlinks_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (set, codes) = new_backup_set(dir.path(), "hmac-sha256", "hmac-sha256.json");
    let set = Path::new(&set);
    assert_eq!(mode(set), 0o600, "created private");

    std::fs::set_permissions(set, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        run(&["backup", "use", set.to_str().unwrap(), &codes[0]])
            .status
            .success()
    );
    assert_eq!(mode(set), 0o600, "a rewrite tightens a loose mode");

    std::fs::set_permissions(set, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(
        run(&["backup", "use", set.to_str().unwrap(), &codes[1]])
            .status
            .success()
    );
    assert_eq!(mode(set), 0o400, "a rewrite never loosens a tight mode");

    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(set, &link).unwrap();
    assert!(
        run(&["backup", "use", link.to_str().unwrap(), &codes[2]])
            .status
            .success()
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let status = text(&run(&["backup", "status", set.to_str().unwrap()]).stdout);
    assert!(
        status.contains("remaining: 7"),
        "the link's target was updated: {status}"
    );

    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let out = run(&["backup", "new", "-o", dangling.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("symlink"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no codes shown for a set not saved");

    let qr = dir.path().join("qr.svg");
    let uri = "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert!(
        run(&["qr", uri, "--format", "svg", "-o", qr.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(mode(&qr), 0o600, "a QR code encodes the secret");
    assert_only(
        dir.path(),
        &["hmac-sha256.json", "link.json", "dangling.json", "qr.svg"],
    );
}
