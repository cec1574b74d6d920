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

/// A retry's new code is saved with its message or not at all: with the
/// database refusing to queue a message (a trigger standing in for a
/// crash or a full disk between the two writes), the retry fails and is
/// not spent; once the database takes messages again, the same retry is
/// approved with the retries it had, and its message arrives.
#[tokio::test(flavor = "multi_thread")]
async fn a_retry_is_saved_with_its_message_or_not_at_all() {
    use crate::support::webhook::{check, code_of};
    let (_dir, db) = sqlite();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let mut command = Server::command(&db, &["--sms-webhook", &url, "--sms-retry-cooldown", "1"]);
    command.env("OTPKIT_SMS_WEBHOOK_KEY", WEBHOOK_KEY);
    let server = Server::spawn(command, &db);
    let api = server.client();
    let (_, created) = send(&api, "+14155550605").await;
    let uuid = created["authentication_uuid"].as_str().unwrap().to_owned();
    assert_eq!(receiver.messages().len(), 1);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    let trigger = "CREATE TRIGGER refuse_messages BEFORE INSERT ON messages \
                   BEGIN SELECT RAISE(ABORT, 'no room for messages'); END";
    sqlx::query(trigger).execute(&pool).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let retry = json!({ "authentication_uuid": uuid, "customer_uuid": crate::support::CUSTOMER });
    let (status, body) = api.post("/v1/retry", retry.clone()).await;
    assert_eq!(status, Status::INTERNAL_SERVER_ERROR, "{body}");
    let (_, read) = api.get(&format!("/v1/authentication/{uuid}")).await;
    let attempts = read["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == json!("attempt"))
        .count();
    assert_eq!(attempts, 1, "the failed retry was not saved: {read}");

    sqlx::query("DROP TRIGGER refuse_messages")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (status, body) = api.post("/v1/retry", retry).await;
    assert_eq!(status, Status::OK, "{body}");
    assert_eq!(body["status"], json!("approved"), "{body}");
    assert_eq!(
        body["remaining_retry"],
        json!(2),
        "no retry was spent: {body}"
    );
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        check(&api, &uuid, &code_of(&got[1])).await["status"],
        json!("valid")
    );
    server.stop();
}
