//! The side doors a review found, each closed: the webhook ignores proxy
//! variables; the SQLite files the server creates are private from their
//! creation; no error repeats a submitted value; a database password is
//! never printed and can stay out of argv; `--dev` answers loopback host
//! names only.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::webhook::{Receiver, WEBHOOK_KEY, send};
use crate::support::{CUSTOMER, Server, sqlite};

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_ignores_proxy_variables() {
    let (_dir, db) = sqlite();
    // A "proxy" that counts who connects to it.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    proxy.set_nonblocking(true).unwrap();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let mut command = Server::command(&db, &["--sms-webhook", &url]);
    command.env("OTPKIT_SMS_WEBHOOK_KEY", WEBHOOK_KEY);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        command.env(var, &proxy_url);
    }
    command.env_remove("no_proxy").env_remove("NO_PROXY");
    let server = Server::spawn(command, &db);
    let (status, body) = send(&server.client(), "+14155550321").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(receiver.wait_for(1).await.len(), 1);
    assert!(
        proxy.accept().is_err(),
        "the proxy was asked to carry the message"
    );
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sqlite_file_the_server_creates_is_private_from_its_creation() {
    for dev in [false, true] {
        let (dir, db) = sqlite();
        let args: &[&str] = if dev { &["--dev"] } else { &[] };
        let server = Server::start_with(&db, args);
        // A write, so that the WAL has content.
        server.client().enroll_verified("alice").await;
        let file = dir.path().join("otpkit.db");
        let mut files = vec![
            file.clone(),
            dir.path().join("otpkit.db-wal"),
            dir.path().join("otpkit.db-shm"),
        ];
        if dev {
            files.push(dir.path().join("otpkit.db.dev-keys"));
        }
        for file in &files {
            assert_eq!(mode(file), 0o600, "{} (dev: {dev})", file.display());
        }
        server.stop();
    }
    // A URL that names its own mode, and one with an escaped path.
    let dir = tempfile::tempdir().unwrap();
    for (url, file) in [
        (
            format!("sqlite://{}/own-mode.db?mode=rwc", dir.path().display()),
            "own-mode.db",
        ),
        (
            format!("sqlite://{}/with%20space.db", dir.path().display()),
            "with space.db",
        ),
    ] {
        let server = Server::start_with(&url, &[]);
        server.client().enroll_verified("bob").await;
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{url}");
        server.stop();
    }
    let stray: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains('%'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// Every field of every route with a body, sent as every JSON type with a
/// marker in it, and unknown fields named by the marker: no answer
/// repeats it.
#[tokio::test(flavor = "multi_thread")]
async fn no_error_repeats_a_submitted_value_whatever_its_json_type() {
    const MARK: &str = "987654321";
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--dev"]);
    let api = server.client();
    api.enroll_verified("alice").await;
    let auth = "8b5c9f7e-1d2a-4e3b-9c4d-5e6f7a8b9c0d";
    let routes: [(&str, Value); 6] = [
        ("/v1/users/alice/verify_totp", json!({ "code": "123456" })),
        (
            "/v1/users/alice/totp/attempt_verification",
            json!({ "code": "123456" }),
        ),
        (
            "/v1/authentication",
            json!({ "customer_uuid": CUSTOMER, "phone_number": "+14155550100" }),
        ),
        (
            "/v1/check",
            json!({ "customer_uuid": CUSTOMER, "authentication_uuid": auth, "check_code": "123456" }),
        ),
        (
            "/v1/retry",
            json!({ "customer_uuid": CUSTOMER, "authentication_uuid": auth }),
        ),
        (
            "/v1/authentication/feedback",
            json!({ "customer_uuid": CUSTOMER, "phone_number": "+14155550100", "status": "onboarded" }),
        ),
    ];
    let marked = [
        json!(987_654_321),
        json!(-987_654_321),
        json!(9_876_543_210.5),
        json!(format!("x{MARK}x")),
        json!(format!("+1{MARK}")),
        json!([987_654_321]),
        json!({ format!("k{MARK}"): 1 }),
    ];
    let mut tried = 0;
    for (path, valid) in &routes {
        let fields: Vec<String> = valid.as_object().unwrap().keys().cloned().collect();
        let mut bodies = vec![];
        for field in &fields {
            for value in &marked {
                let mut body = valid.clone();
                body[field] = value.clone();
                bodies.push(body);
            }
        }
        let mut unknown = valid.clone();
        unknown[format!("f{MARK}")] = json!(MARK);
        bodies.push(unknown);
        for body in bodies {
            let (status, answer) = api.post(path, body.clone()).await;
            assert!(
                !answer.to_string().contains(MARK),
                "{path} {body} answered {status} {answer}"
            );
            tried += 1;
        }
    }
    // Marked paths and query strings too.
    for path in [
        format!("/v1/authentication/x{MARK}"),
        format!("/v1/users/x{MARK}%21/totp"),
        format!("/dev/outbox?phone_number=x{MARK}&phone_number=y{MARK}"),
        format!("/dev/outbox?x{MARK}=1"),
    ] {
        let (status, answer) = api.get(&path).await;
        assert!(
            !answer.to_string().contains(MARK),
            "{path} answered {status} {answer}"
        );
        tried += 1;
    }
    assert_eq!(tried, 94);
}

#[test]
fn a_database_password_is_never_printed_and_can_stay_out_of_argv() {
    let (dir, db) = sqlite();
    // A PostgreSQL no one listens on: the start fails, naming the URL
    // without its password.
    let output = Server::command_of(
        crate::SERVER_BIN,
        "postgres://otpkit:s3cret-passw0rd@127.0.0.1:1/otpkit?password=s3cret-passw0rd",
        &[],
    )
    .output()
    .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(!said.contains("s3cret-passw0rd"), "{said}");
    assert!(said.contains("otpkit:***@127.0.0.1:1"), "{said}");
    // The URL from a variable: --database-env, or DATABASE_URL.
    let mut command = std::process::Command::new(crate::SERVER_BIN);
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database-env",
            "OTPKIT_TEST_DB",
        ])
        .env("OTPKIT_TEST_DB", &db);
    let server = spawn_production(command, &db);
    drop(server);
    let mut command = std::process::Command::new(crate::SERVER_BIN);
    let other = format!("sqlite://{}", dir.path().join("from-env.db").display());
    command
        .args(["--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &other);
    let server = spawn_production(command, &other);
    drop(server);
    assert!(dir.path().join("from-env.db").exists());
    // A variable that is not set: exit 2, naming it.
    let output = std::process::Command::new(crate::SERVER_BIN)
        .args(["--database-env", "OTPKIT_TEST_NO_SUCH_VAR"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("OTPKIT_TEST_NO_SUCH_VAR"), "{said}");
}

/// `command` with the test's production keys, started and ready.
fn spawn_production(mut command: std::process::Command, db: &str) -> Server {
    command
        .env("OTPKIT_API_KEY", crate::support::API_KEY)
        .env("OTPKIT_SEALING_KEYS", crate::support::SEALING_KEYS)
        .env("OTPKIT_PEPPER", crate::support::PEPPER)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    Server::spawn(command, db)
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_answers_only_loopback_host_names() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--dev"]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let port = address.rsplit_once(':').unwrap().1.to_owned();
    let get = |host: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /demo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.split(' ').nth(1).unwrap().to_owned()
    };
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".to_owned(),
    ] {
        assert_eq!(get(&host), "200", "{host}");
    }
    // A rebound name, or another address: refused.
    for host in [format!("rebind.example:{port}"), "10.0.0.1".to_owned()] {
        assert_eq!(get(&host), "421", "{host}");
    }
}
