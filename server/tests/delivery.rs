//! SMS delivery in production mode (no `--dev`): a webhook receiver on
//! loopback gets each message signed, exactly once, across a failing
//! receiver and a server restart; no code is readable in the database
//! files; without a sender, a send is refused before anything is taken.

use reqwest::StatusCode as Status;
use serde_json::json;

use crate::support::webhook::{Receiver, WEBHOOK_KEY, production, send};
use crate::support::{Server, sqlite, writer};

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_gets_each_code_signed_and_the_database_keeps_none() {
    let ((_dir, db), (_dev_dir, dev_db)) = (sqlite(), sqlite());
    writer::a_sent_code_is_nowhere_in_the_database_files(&db, &dev_db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_a_failing_receiver_missed_arrive_once_after_a_restart() {
    let (_dir, db) = sqlite();
    writer::messages_a_failing_receiver_missed_arrive_once_after_a_restart(&db, 1).await;
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
