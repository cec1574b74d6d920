//! The operator's commands cannot lie: `keys` and `rekey` never create a
//! database (a forgotten or misspelled `--database` is exit 2, nothing
//! made), their options work after the subcommand, and `keys` names the
//! key ids the keyring lacks.

use std::process::{Command, Output};

use crate::support::{API_KEY, PEPPER, SEALING_KEYS, Server, sqlite};

/// `otpkit-server ARGS…` with the test's production keys, in `dir`.
fn operator(dir: &std::path::Path, args: &[&str], keys: &str) -> Output {
    Command::new(crate::SERVER_BIN)
        .args(args)
        .current_dir(dir)
        .env("OTPKIT_API_KEY", API_KEY)
        .env("OTPKIT_SEALING_KEYS", keys)
        .env("OTPKIT_PEPPER", PEPPER)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn keys_and_rekey_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["keys", "rekey"] {
        // Forgotten: the default file is not there.
        let output = operator(dir.path(), &[command], SEALING_KEYS);
        assert_eq!(output.status.code(), Some(2), "{}", said(&output));
        assert!(
            said(&output).contains("no database at sqlite://otpkit.db"),
            "{}",
            said(&output)
        );
        // Misspelled.
        let url = format!("sqlite://{}/otpkti.db", dir.path().display());
        let output = operator(dir.path(), &[command, "--database", &url], SEALING_KEYS);
        assert_eq!(output.status.code(), Some(2), "{}", said(&output));
        assert!(said(&output).contains("otpkti.db"), "{}", said(&output));
        // A file that is no otpkit database.
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        let url = format!("sqlite://{}", empty.display());
        let output = operator(dir.path(), &[command, "--database", &url], SEALING_KEYS);
        assert_eq!(output.status.code(), Some(2), "{}", said(&output));
        assert!(
            said(&output).contains("holds no otpkit data"),
            "{}",
            said(&output)
        );
        std::fs::remove_file(&empty).unwrap();
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "created: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn options_after_the_subcommand_and_missing_keys_named() {
    let (dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    server.client().enroll_verified("ann").await;
    server.stop();
    // Options after the subcommand, as before it.
    for args in [["keys", "--database", &db], ["--database", &db, "keys"]] {
        let output = operator(dir.path(), &args, SEALING_KEYS);
        assert!(output.status.success(), "{}", said(&output));
        let text = said(&output);
        assert!(text.contains("key test: 1 TOTP records"), "{text}");
        assert!(
            text.contains("every key the rows use is in the keyring"),
            "{text}"
        );
    }
    // A keyring without the key the rows use: named.
    let other =
        "otpkit-key:v1:next:202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    let output = operator(dir.path(), &["keys", "--database", &db], other);
    let text = said(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("MISSING from the keyring: test"), "{text}");
}

/// The README's key rotation, run as written: a new key first, `rekey`,
/// `keys` all clear, the old key dropped; then the new key alone serves
/// every user.
#[tokio::test(flavor = "multi_thread")]
async fn the_readmes_key_rotation_runs_as_written() {
    use crate::support::{code_at, readme_snippet, server_on_path};
    let (dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let api = server.client();
    let mut users = Vec::new();
    for user in ["ann", "ben"] {
        users.push((user, api.enroll_verified(user).await.0));
    }
    server.stop();
    let bin = tempfile::tempdir().unwrap();
    let path = server_on_path(bin.path(), crate::SERVER_BIN);
    let script = readme_snippet("rotation.sh") + "echo \"NEW=$OTPKIT_SEALING_KEYS\"\n";
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("DATABASE_URL", &db)
        .env("OTPKIT_API_KEY", API_KEY)
        .env("OTPKIT_SEALING_KEYS", SEALING_KEYS)
        .env("OTPKIT_PEPPER", PEPPER)
        .output()
        .unwrap();
    let text = said(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("re-sealed 2 records"), "{text}");
    let new_key = text
        .lines()
        .find_map(|line| line.strip_prefix("NEW="))
        .unwrap()
        .to_owned();
    assert!(!new_key.contains(','), "the old key is gone: {new_key}");
    let mut command = Server::command(&db, &[]);
    command.env("OTPKIT_SEALING_KEYS", &new_key);
    let server = Server::spawn(command, &db);
    for (user, uri) in &users {
        let (status, body) = server
            .client()
            .post(
                &format!("/v1/users/{user}/verify_totp"),
                serde_json::json!({ "code": code_at(uri, 1) }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{user}: {body}");
    }
    server.stop();
}

/// Every problem with the secrets at once: missing ones and weak ones,
/// each naming its variable.
#[test]
fn without_dev_missing_or_weak_secrets_are_named_together() {
    let (_dir, db) = sqlite();
    let start = |pepper: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_otpkit-server"));
        command
            .args(["--listen", "127.0.0.1:0", "--database", &db])
            .env_remove("OTPKIT_API_KEY")
            .env("OTPKIT_SEALING_KEYS", crate::support::SEALING_KEYS)
            .env_remove("OTPKIT_PEPPER");
        if let Some(pepper) = pepper {
            command.env("OTPKIT_PEPPER", pepper);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = start(None);
    assert!(said.contains("no API key: set OTPKIT_API_KEY"), "{said}");
    assert!(said.contains("no pepper: set OTPKIT_PEPPER"), "{said}");
    assert!(said.contains("otpkit-server secrets"), "{said}");
    let said = start(Some("tiny-pepper"));
    assert!(said.contains("no API key: set OTPKIT_API_KEY"), "{said}");
    assert!(said.contains("OTPKIT_PEPPER: "), "a weak pepper: {said}");
    assert!(
        !said.contains("tiny-pepper"),
        "the value is never shown: {said}"
    );
}

/// `otpkit-server secrets` prints a set a production start accepts.
#[tokio::test(flavor = "multi_thread")]
async fn generated_secrets_start_a_production_server() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_otpkit-server"))
        .arg("secrets")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let vars: Vec<(&str, &str)> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split_once('=').unwrap())
        .collect();
    let names: Vec<&str> = vars.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        ["OTPKIT_API_KEY", "OTPKIT_SEALING_KEYS", "OTPKIT_PEPPER"]
    );
    let (_dir, db) = sqlite();
    let mut command = Server::command(&db, &[]);
    for (name, value) in &vars {
        command.env(name, value);
    }
    let server = Server::spawn(command, &db);
    let api = server.client().with_key(Some(vars[0].1));
    api.enroll_verified("fresh").await;
    server.stop();
    // Twice: another set.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_otpkit-server"))
        .arg("secrets")
        .output()
        .unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap(), text);
}
