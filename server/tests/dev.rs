//! `--dev` is a demo, not a hole: it listens on loopback only, keeps its
//! generated keys in a 0600 file beside the database (never in it), and
//! refuses production keys.

use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{API_KEY, SEALING_KEYS, Server, code_at, dev_api_key, dev_keys_file, sqlite};

/// `--dev` on `database` with nothing prepared: no keys file, no keys in
/// the environment; on 127.0.0.1 unless `args` say `--listen`.
fn dev(database: &str, args: &[&str]) -> Command {
    let mut command = Command::new(crate::SERVER_BIN);
    command.args(["--dev", "--database", database]).args(args);
    if !args.contains(&"--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_remove("OTPKIT_API_KEY")
        .env_remove("OTPKIT_SEALING_KEYS")
        .env_remove("OTPKIT_PEPPER");
    command
}

/// A start that must fail: exit 2, its reason on stderr.
fn refused(mut command: Command) -> String {
    let Output { status, stderr, .. } = command.output().unwrap();
    assert_eq!(
        status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8_lossy(&stderr).into_owned()
}

#[test]
fn dev_refuses_an_address_other_machines_reach() {
    let (_dir, db) = sqlite();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let said = refused(dev(&db, &["--listen", listen]));
        assert!(said.contains("--dev listens on loopback only"), "{said}");
    }
}

/// Every byte of the database's files, to search for a key.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains(".db") && !path.to_string_lossy().ends_with(".dev-keys")
        {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_keeps_its_own_keys_in_a_private_file_beside_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, db) = sqlite();
    let file = dev_keys_file(&db);
    assert!(!file.exists());
    let server = Server::spawn(dev(&db, &[]), &db);
    // Generated at first start, into FILE.dev-keys, readable by its owner only.
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let text = std::fs::read_to_string(&file).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let (api_key, sealing, pepper) = (value("api_key"), value("sealing_keys"), value("pepper"));
    assert_ne!(api_key, API_KEY);
    let api = server.client();
    let uri = api.enroll("alice").await;
    let (status, body) = api
        .post(
            "/v1/users/alice/totp/attempt_verification",
            json!({ "code": code_at(&uri, 0) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop();
    // None of them is in the database's files (its WAL included).
    let bytes = database_bytes(dir.path());
    assert!(!bytes.is_empty());
    let sealing_hex = sealing.rsplit(':').next().unwrap();
    for (name, secret) in [
        ("api key", &*api_key),
        ("sealing key", sealing_hex),
        ("pepper", &*pepper),
    ] {
        assert!(!holds(&bytes, secret), "the {name} is in the database");
    }

    // A restart reads the same keys: the record opens, the key still works.
    let server = Server::spawn(dev(&db, &[]), &db);
    assert_eq!(dev_api_key(&db), api_key);
    let (status, body) = server
        .client()
        .post(
            "/v1/users/alice/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop();

    // Production keys are refused, each named (and never shown).
    for var in ["OTPKIT_API_KEY", "OTPKIT_SEALING_KEYS", "OTPKIT_PEPPER"] {
        let mut command = dev(&db, &[]);
        command.env(var, SEALING_KEYS);
        let said = refused(command);
        assert!(
            said.contains(&format!("refuses production ones: unset {var}")),
            "{said}"
        );
        assert!(!said.contains(SEALING_KEYS), "{said}");
    }
    // A keys file others may read is refused, and says how to mend it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let said = refused(dev(&db, &[]));
    assert!(said.contains("chmod 600"), "{said}");
    assert!(!said.contains(&api_key), "{said}");
}

#[test]
fn dev_on_a_database_that_is_no_file_needs_a_keys_file_named() {
    for database in ["postgres://nobody@127.0.0.1:1/otpkit", "sqlite::memory:"] {
        let said = refused(dev(database, &[]));
        assert!(said.contains("--dev-keys"), "{database}: {said}");
    }
    // And --dev-keys means nothing without --dev.
    let (_dir, db) = sqlite();
    let said = refused(Server::command(&db, &["--dev-keys", "/tmp/k"]));
    assert!(said.contains("--dev"), "{said}");
}

/// Keys an older `--dev` server kept in the database move into the file,
/// and the database forgets them.
#[tokio::test(flavor = "multi_thread")]
async fn keys_an_older_dev_server_kept_in_the_database_move_into_the_file() {
    let (dir, db) = sqlite();
    // An older --dev server's database: its records sealed under the keys
    // in `dev_secrets`. (The same keys as the launcher's: a production
    // start on them makes the records.)
    let server = Server::start_with(&db, &[]);
    let (uri, _) = server.client().enroll_verified("old").await;
    server.stop();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    for (name, value) in [
        ("api_key", API_KEY),
        ("sealing_keys", SEALING_KEYS),
        ("pepper", crate::support::PEPPER),
    ] {
        sqlx::query("INSERT INTO dev_secrets (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let server = Server::spawn(dev(&db, &[]), &db);
    assert_eq!(dev_api_key(&db), API_KEY);
    assert!(
        server.logs("moved the --dev keys out of the database"),
        "{}",
        server.log()
    );
    let (status, body) = server
        .client()
        .post(
            "/v1/users/old/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM dev_secrets")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(left, 0);
    let _ = dir;
}
