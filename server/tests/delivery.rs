//! SMS delivery in production mode (no `--dev`): a webhook receiver on
//! loopback gets each message signed, exactly once, across a failing
//! receiver and a server restart; no code is readable in the database
//! files; without a sender, a send is refused before anything is taken.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode as Status;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{CUSTOMER, Client, Server, sqlite};

const WEBHOOK_KEY: &str = "a webhook key of at least sixteen bytes";

/// What a receiver got: each message's JSON, in order.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    /// While set, every POST is answered 503 (and not recorded).
    failing: Arc<Mutex<bool>>,
}

impl Receiver {
    /// Listens on 127.0.0.1; the URL to POST to.
    async fn start(&self) -> String {
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
        let age = crate::support::unix_now().abs_diff(t.parse().unwrap());
        assert!(age < 60, "signed now");
        self.got
            .lock()
            .unwrap()
            .push(serde_json::from_slice(body).unwrap());
        StatusCode::NO_CONTENT
    }

    fn messages(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `n` messages came.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.messages().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

/// A production-mode server (keys from the environment, no `--dev`)
/// sending through `url`.
fn production(db: &str, url: &str) -> Server {
    let mut command = Server::command(db, &["--sms-webhook", url]);
    command.env("OTPKIT_SMS_WEBHOOK_KEY", WEBHOOK_KEY);
    Server::spawn(command, db)
}

async fn send(api: &Client, phone: &str) -> (Status, Value) {
    api.post(
        "/v1/authentication",
        json!({ "customer_uuid": CUSTOMER, "phone_number": phone }),
    )
    .await
}

async fn check(api: &Client, uuid: &str, code: &str) -> Value {
    let (status, body) = api
        .post(
            "/v1/check",
            json!({ "customer_uuid": CUSTOMER, "authentication_uuid": uuid, "check_code": code }),
        )
        .await;
    assert_eq!(status, Status::OK, "{body}");
    body
}

fn code_of(message: &Value) -> String {
    let text = message["text"].as_str().unwrap();
    text.rsplit(' ').next().unwrap().to_owned()
}

/// Whether any file in `dir` (the database, its WAL and SHM) holds the
/// message text, or `code` standing alone (not inside a longer run of
/// Base64 or hex characters, which sealed data is made of).
fn readable_in(dir: &std::path::Path, code: &str) -> bool {
    let text = format!("code is {code}");
    let inside = |b: u8| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b);
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let alone = bytes.windows(code.len() + 2).any(|w| {
            &w[1..=code.len()] == code.as_bytes() && !inside(w[0]) && !inside(w[code.len() + 1])
        });
        alone || bytes.windows(text.len()).any(|w| w == text.as_bytes())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_gets_each_code_signed_and_the_database_keeps_none() {
    let (dir, db) = sqlite();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let server = production(&db, &url);
    let api = server.client();
    let (status, created) = send(&api, "+14155550600").await;
    assert_eq!(status, Status::OK, "{created}");
    assert_eq!(created["status"], json!("pending"), "{created}");
    let uuid = created["authentication_uuid"].as_str().unwrap();
    // Sent before the answer: the receiver has it already.
    let got = receiver.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["to"], json!("+14155550600"));
    let code = code_of(&got[0]);
    assert_eq!(check(&api, uuid, &code).await["status"], json!("valid"));
    // No dev outbox without --dev.
    let (status, _) = api.get("/dev/outbox?phone_number=%2B14155550600").await;
    assert_eq!(status, Status::NOT_FOUND);
    server.stop();
    assert!(
        !readable_in(dir.path(), &code),
        "the SMS code is readable at rest"
    );
    // The search finds a code kept in clear: the --dev outbox's.
    let (dev_dir, dev_db) = sqlite();
    let dev = Server::start(&dev_db);
    let (_, shown) = dev.client().authenticate("+14155550600").await;
    dev.stop();
    assert!(
        readable_in(dev_dir.path(), &shown),
        "the search sees a code in clear"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_a_failing_receiver_missed_arrive_once_after_a_restart() {
    let (dir, db) = sqlite();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    *receiver.failing.lock().unwrap() = true;
    let server = production(&db, &url);
    let api = server.client();
    let phones = ["+14155550601", "+14155550602", "+14155550603"];
    let mut uuids = Vec::new();
    for phone in phones {
        // The receiver is down: the send still succeeds (the message is
        // kept, sealed, and tried again; no retry of the user's is used).
        let (status, created) = send(&api, phone).await;
        assert_eq!(status, Status::OK, "{created}");
        uuids.push(created["authentication_uuid"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a retry fails too
    server.stop();
    assert!(receiver.messages().is_empty());
    // Back up, and the server too: every message comes, once.
    *receiver.failing.lock().unwrap() = false;
    let server = production(&db, &url);
    let got = receiver.wait_for(phones.len()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // room for a duplicate
    let got_after = receiver.messages();
    assert_eq!(got_after.len(), phones.len(), "exactly once: {got_after:?}");
    let mut ids: Vec<&str> = got.iter().map(|m| m["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), phones.len());
    // Each code checks against its own authentication.
    let api = server.client();
    for (phone, uuid) in phones.iter().zip(&uuids) {
        let message = got.iter().find(|m| m["to"] == json!(phone)).unwrap();
        let code = code_of(message);
        assert_eq!(check(&api, uuid, &code).await["status"], json!("valid"));
    }
    server.stop();
    let codes: Vec<String> = got.iter().map(code_of).collect();
    for code in codes {
        assert!(
            !readable_in(dir.path(), &code),
            "the SMS code is readable at rest"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_sender_a_send_is_refused_before_anything_is_taken() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let api = server.client();
    for _ in 0..7 {
        let (status, body) = send(&api, "+14155550604").await;
        assert_eq!(status, Status::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.to_string().contains("--sms-webhook"), "{body}");
    }
    // Nothing was taken from the number's quota (5 an hour).
    let url = Receiver::default().start().await;
    server.stop();
    let server = production(&db, &url);
    let (status, created) = send(&server.client(), "+14155550604").await;
    assert_eq!(
        (status, created["status"].clone()),
        (Status::OK, json!("pending"))
    );
    server.stop();
}

#[test]
fn a_webhook_in_clear_over_a_network_or_without_a_key_is_refused_at_start() {
    let (_dir, db) = sqlite();
    for (url, key) in [
        ("http://sms.example.com/hook", WEBHOOK_KEY),
        ("ftp://127.0.0.1/hook", WEBHOOK_KEY),
        ("https://sms.example.com/hook", "short"),
        ("https://sms.example.com/hook", ""),
    ] {
        let output = Server::command(&db, &["--sms-webhook", url])
            .env("OTPKIT_SMS_WEBHOOK_KEY", key)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{url}");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("webhook"), "{url}: {said}");
    }
}
