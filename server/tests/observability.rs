//! What an operator reads: one log line per request, lock and throttle at
//! info, no colour codes in a file, JSON lines on a flag; `/metrics` behind
//! a key of its own, with route and status on the latency histogram.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, sqlite, wrong_code};

#[tokio::test(flavor = "multi_thread")]
async fn a_request_a_lock_and_a_throttle_each_leave_a_line() {
    let (_dir, db) = sqlite();
    let mut command = Server::command(&db, &["--trusted-proxy", "127.0.0.1"]);
    // stderr is a pipe here, as a file would be: no colour codes either way.
    command.env_remove("NO_COLOR");
    let server = Server::spawn(command, &db);
    let backend = server.client();
    let (uri, _) = backend.enroll_verified("alice-in-logs").await;
    let wrong = wrong_code(&uri);
    let path = "/v1/users/alice-in-logs/verify_totp";
    // A named stranger: three wrong codes, then throttled.
    let stranger = server.client().for_end_user("198.51.100.7");
    for _ in 0..4 {
        stranger.post(path, json!({ "code": wrong })).await;
    }
    // Unnamed: three more lock the TOTP (six in all).
    for _ in 0..3 {
        backend.post(path, json!({ "code": wrong })).await;
    }
    let (status, _) = backend.post(path, json!({ "code": wrong })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let log = server.stop_and_log();
    assert!(!log.contains('\u{1b}'), "colour codes in a file:\n{log}");
    let requests: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" request ") || line.ends_with(" request"))
        .filter(|line| line.contains("route=/v1/users/{user_id}/verify_totp"))
        .collect();
    // Enrollment's own requests aside: 4 + 3 + 1 verify_totp calls here.
    assert_eq!(requests.len(), 8, "{log}");
    assert!(
        requests.iter().all(|line| line.contains("user=al…gs")),
        "{log}"
    );
    assert!(
        !log.contains("alice-in-logs"),
        "a user id in the logs:\n{log}"
    );
    assert!(
        requests[0].contains("status=422") && requests[0].contains("outcome=form_code_incorrect"),
        "{}",
        requests[0]
    );
    assert!(
        requests[3].contains("status=429") && requests[3].contains("outcome=too_many_requests")
    );
    assert!(requests[7].contains("status=403") && requests[7].contains("outcome=user_locked"));
    let count = |needle: &str| log.lines().filter(|line| line.contains(needle)).count();
    assert_eq!(count("client throttled"), 1, "{log}");
    assert_eq!(count("are now locked"), 1, "{log}");
    assert_eq!(count("kind of code is locked"), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_a_line() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--log-format", "json"]);
    server.client().enroll_verified("json").await;
    let log = server.stop_and_log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["route"] == json!("/v1/users/{user_id}/totp")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_answer_their_own_key_and_label_routes() {
    let (_dir, db) = sqlite();
    let metrics_key = "metrics-key-0123456789abcdef";
    let mut command = Server::command(&db, &[]);
    command.env("OTPKIT_METRICS_KEY", metrics_key);
    let server = Server::spawn(command, &db);
    let api = server.client();
    api.enroll_verified("m").await;
    let (status, _) = api.get("/metrics").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the API key no longer opens /metrics"
    );
    let scraper = server.client().with_key(Some(metrics_key));
    let (status, body) = scraper.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = body.as_str().unwrap();
    assert!(
        text.contains(
            "otpkit_http_request_duration_seconds_count{route=\"/v1/users/{user_id}/totp/attempt_verification\",status=\"200\"} 1"
        ),
        "{text}"
    );
    // The metrics key opens nothing else.
    let (status, _) = scraper.get("/v1/users/m/totp").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
