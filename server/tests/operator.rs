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
