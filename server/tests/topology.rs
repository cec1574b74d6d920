//! The defenses as deployed: Clerk's and Ding's routes are called by the
//! application's backend, so a stranger and the user they attack reach the
//! server from one address, the backend's. Each sentence of the server
//! README's "What a stranger who knows a user id can do" is attacked here
//! from one backend address: with no end user named (as the official SDKs
//! call, unchanged), and with the end users named in `X-Forwarded-For` by
//! a trusted backend.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, code_at, sqlite, stored_record, verdict, wrong_code};

const THROTTLED: &str = "otpkit_refusals_total{reason=\"client_throttled\"}";

/// `n` wrong codes for `user`, one after the other: their statuses.
async fn wrong_codes(api: &crate::support::Client, user: &str, code: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let (status, _) = api
            .post(
                &format!("/v1/users/{user}/verify_totp"),
                json!({ "code": code }),
            )
            .await;
        statuses.push(status.as_u16());
    }
    statuses
}

fn accepted(status: StatusCode, body: &Value) -> Value {
    let verdict = verdict(status, body);
    assert_eq!(verdict["verified"], json!(true), "{status} {body}");
    verdict["code_type"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn from_one_backend_a_strangers_three_wrong_codes_leave_the_users_code_valid() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    // The backend: one address for the stranger and the user alike.
    let backend = server.client();
    let (uri, _) = backend.enroll_verified("victim").await;
    let statuses = wrong_codes(&backend, "victim", &wrong_code(&uri), 3).await;
    assert_eq!(statuses, [422; 3]);
    let (status, body) = backend
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("totp"));
    assert_eq!(backend.metric(THROTTLED).await, 0, "no client was named");
}

#[tokio::test(flavor = "multi_thread")]
async fn from_one_backend_twelve_wrong_codes_leave_the_users_backup_code_valid() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let backend = server.client();
    let (uri, backup) = backend.enroll_verified("victim").await;
    let statuses = wrong_codes(&backend, "victim", &wrong_code(&uri), 12).await;
    // Five free failures, the sixth locks the TOTP (30 s), the rest are
    // refused as locked, uncounted: never a 429 for the backend.
    assert_eq!(&statuses[..6], &[422; 6], "{statuses:?}");
    assert!(statuses[6..].iter().all(|&s| s == 403), "{statuses:?}");
    let stored = stored_record(&db, "victim").await;
    assert_eq!(stored["failures"], json!(6), "{stored}");
    let (status, body) = backend
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": backup[0] }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("backup_code"));
}

#[tokio::test(flavor = "multi_thread")]
async fn from_one_backend_wrong_backup_codes_leave_the_users_totp_valid() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let backend = server.client();
    let (uri, _) = backend.enroll_verified("victim").await;
    // Backup-code-shaped guesses: ten free, the eleventh locks backup
    // codes; the TOTP is another budget.
    let statuses = wrong_codes(&backend, "victim", "2345-6789-ab", 12).await;
    assert_eq!(&statuses[..11], &[422; 11], "{statuses:?}");
    assert_eq!(statuses[11], 403, "{statuses:?}");
    let (status, body) = backend
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("totp"));
}

#[tokio::test(flavor = "multi_thread")]
async fn named_end_users_a_strangers_twenty_wrong_codes_leave_the_user_a_way_in() {
    let (_dir, db) = sqlite();
    // The backend (127.0.0.1) is trusted to name its end users.
    let server = Server::start_with(&db, &["--trusted-proxy", "127.0.0.1"]);
    let stranger = server.client().for_end_user("198.51.100.7");
    let user = server.client().for_end_user("203.0.113.5");
    let (uri, backup) = user.enroll_verified("victim").await;
    let statuses = wrong_codes(&stranger, "victim", &wrong_code(&uri), 20).await;
    assert_eq!(&statuses[..3], &[422; 3], "{statuses:?}");
    assert!(statuses[3..].iter().all(|&s| s == 429), "{statuses:?}");
    assert_eq!(stranger.metric(THROTTLED).await, 17);
    let stored = stored_record(&db, "victim").await;
    assert_eq!(stored["failures"], json!(3), "the throttled ones cost nothing");
    let (status, body) = user
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("totp"));
    let (status, body) = user
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": backup[0] }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("backup_code"));
    // The backend calling without a name is not the stranger's bucket.
    let (status, body) = server
        .client()
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": backup[1] }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("backup_code"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_forwarded_for_is_its_own_client_never_the_backends() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--trusted-proxy", "127.0.0.0/8"]);
    let (uri, _) = server.client().enroll_verified("victim").await;
    let wrong = wrong_code(&uri);
    // Three wrong codes under a name that is no address: that name is
    // throttled, nobody else.
    let garbled = server.client().for_end_user("not-an-address");
    assert_eq!(wrong_codes(&garbled, "victim", &wrong, 4).await, [422, 422, 422, 429]);
    let user = server.client().for_end_user("[2001:db8:1:2::5]:443");
    let (status, body) = user
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("totp"));
    // The backend's own address appended by a proxy chain is skipped:
    // the client is the right-most untrusted entry.
    let chained = server
        .client()
        .for_end_user("192.0.2.44, 127.0.0.5, 127.0.0.6");
    let statuses = wrong_codes(&chained, "victim", &wrong, 4).await;
    assert_eq!(statuses, [422, 422, 422, 429]);
}
