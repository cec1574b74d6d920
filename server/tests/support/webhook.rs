//! A webhook receiver on loopback, as an SMS provider's would be: it
//! checks each message's signature and keeps what it got; and the search
//! of a database's files for a code left readable.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode as Status;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{CUSTOMER, Client, Server};

pub const WEBHOOK_KEY: &str = "a webhook key of at least sixteen bytes";

/// What a receiver got: each message's JSON, in order.
#[derive(Clone, Default)]
pub struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    /// While set, every POST is answered 503 (and not recorded).
    pub failing: Arc<Mutex<bool>>,
}

impl Receiver {
    /// Listens on 127.0.0.1; the URL to POST to.
    pub async fn start(&self) -> String {
        let this = self.clone();
        let app = axum::Router::new().route(
            "/sms",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let this = this.clone();
                async move { this.take(&headers, &body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// Checks the signature the way a receiver would: HMAC-SHA256 of
    /// `<t>.<body>` under the shared key, a recent `t`.
    fn take(&self, headers: &HeaderMap, body: &[u8]) -> StatusCode {
        if *self.failing.lock().unwrap() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        let header = headers["x-otpkit-signature"].to_str().unwrap();
        let (t, v1) = header
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .expect("t=…,v1=…");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(WEBHOOK_KEY.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "the signature checks");
        let age = super::unix_now().abs_diff(t.parse().unwrap());
        assert!(age < 60, "signed now");
        self.got
            .lock()
            .unwrap()
            .push(serde_json::from_slice(body).unwrap());
        StatusCode::NO_CONTENT
    }

    pub fn messages(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `n` messages came.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.messages().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

/// A production-mode server (keys from the environment, no `--dev`)
/// sending through `url`.
pub fn production(db: &str, url: &str) -> Server {
    let mut command = Server::command(db, &["--sms-webhook", url]);
    command.env("OTPKIT_SMS_WEBHOOK_KEY", WEBHOOK_KEY);
    Server::spawn(command, db)
}

pub async fn send(api: &Client, phone: &str) -> (Status, Value) {
    api.post(
        "/v1/authentication",
        json!({ "customer_uuid": CUSTOMER, "phone_number": phone }),
    )
    .await
}

pub async fn check(api: &Client, uuid: &str, code: &str) -> Value {
    let (status, body) = api
        .post(
            "/v1/check",
            json!({ "customer_uuid": CUSTOMER, "authentication_uuid": uuid, "check_code": code }),
        )
        .await;
    assert_eq!(status, Status::OK, "{body}");
    body
}

pub fn code_of(message: &Value) -> String {
    let text = message["text"].as_str().unwrap();
    text.rsplit(' ').next().unwrap().to_owned()
}

/// Whether any of `files` (a database's) holds `code` standing alone: as
/// a whole run of Base64 / hex characters (the text a message sealed in
/// clear would show it in, "… code is 123456"), not inside a longer one,
/// which is what sealed data is made of.
pub fn readable_in(files: &[PathBuf], code: &str) -> bool {
    let inside = |b: &u8| b.is_ascii_alphanumeric() || b"+/=_-".contains(b);
    assert!(!files.is_empty(), "no database files to search");
    files.iter().any(|file| {
        let Ok(bytes) = std::fs::read(file) else {
            return false; // gone since listed (a WAL segment recycled)
        };
        bytes
            .split(|b| !inside(b))
            .any(|run| run == code.as_bytes())
    })
}

/// Every file holding `database`'s data: a SQLite file with its WAL and
/// SHM; for PostgreSQL, after a `CHECKPOINT` (so the tables' pages are
/// written out, not only logged), the files of this database's directory
/// in the throwaway cluster (`OTPKIT_TEST_POSTGRES_DATA`, set by
/// `.ci/postgres.sh`) and the cluster's write-ahead log.
pub async fn database_files(database: &str) -> Vec<PathBuf> {
    if let Some(file) = database.strip_prefix("sqlite://") {
        let file = Path::new(file.split('?').next().unwrap());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        return std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let file = path.file_name().unwrap().to_string_lossy();
                file.starts_with(&name) && !file.ends_with(".dev-keys")
            })
            .collect();
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    let (oid,): (String,) =
        sqlx::query_as("SELECT oid::text FROM pg_database WHERE datname = current_database()")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    let data =
        PathBuf::from(std::env::var("OTPKIT_TEST_POSTGRES_DATA").expect(
            "OTPKIT_TEST_POSTGRES_DATA names the cluster's data directory (.ci/test sets it)",
        ));
    [data.join("base").join(oid), data.join("pg_wal")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect()
}
