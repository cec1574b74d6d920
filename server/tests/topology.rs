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
        .post("/v1/users/victim/verify_totp", json!({ "code": backup[0] }))
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
    assert_eq!(
        stored["failures"],
        json!(3),
        "the throttled ones cost nothing"
    );
    let (status, body) = user
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(accepted(status, &body), json!("totp"));
    let (status, body) = user
        .post("/v1/users/victim/verify_totp", json!({ "code": backup[0] }))
        .await;
    assert_eq!(accepted(status, &body), json!("backup_code"));
    // The backend calling without a name is not the stranger's bucket.
    let (status, body) = server
        .client()
        .post("/v1/users/victim/verify_totp", json!({ "code": backup[1] }))
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
    assert_eq!(
        wrong_codes(&garbled, "victim", &wrong, 4).await,
        [422, 422, 422, 429]
    );
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

const TENANT_A: &str = "6b1d5a0e-3c4f-4e8a-9f21-0a1b2c3d4e5f";
const TENANT_B: &str = "7c2e6b1f-4d50-4f9b-8a32-1b2c3d4e5f60";

/// A `--dev` server (its outbox shows the codes) with two Ding tenants:
/// the server and each tenant's client, from one backend address each.
fn two_tenants(
    db: &str,
    args: &[&str],
) -> (Server, crate::support::Client, crate::support::Client) {
    let (key_a, key_b) = ("tenant-a-key-0123456789", "tenant-b-key-0123456789");
    let mut command = Server::command(db, &[&["--dev"], args].concat());
    command.env(
        "OTPKIT_DING_KEYS",
        format!("{key_a}={TENANT_A};{key_b}={TENANT_B}"),
    );
    let server = Server::spawn(command, db);
    let (a, b) = (
        server.client().with_key(Some(key_a)),
        server.client().with_key(Some(key_b)),
    );
    (server, a, b)
}

async fn send(tenant: &crate::support::Client, customer: &str, phone: &str) -> Value {
    let (status, body) = tenant
        .post(
            "/v1/authentication",
            json!({ "customer_uuid": customer, "phone_number": phone }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn check(tenant: &crate::support::Client, customer: &str, uuid: &str, code: &str) -> String {
    let (status, body) = tenant
        .post(
            "/v1/check",
            json!({ "customer_uuid": customer, "authentication_uuid": uuid, "check_code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_tenant_using_all_its_sends_and_checks_changes_nothing_for_another() {
    let (_dir, db) = sqlite();
    let (server, a, b) = two_tenants(&db, &[]);
    let phone = "+14155550900";
    // Tenant A: its five sends to the number, then rate_limited.
    let mut pending = Vec::new();
    for _ in 0..7 {
        let sent = send(&a, TENANT_A, phone).await;
        if sent["status"] == json!("pending") {
            pending.push(sent["authentication_uuid"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(sent["status"], json!("rate_limited"), "{sent}");
        }
    }
    assert_eq!(pending.len(), 5);
    // … and its fifteen checks of the hour, spread over its
    // authentications (three each), then refused unchecked.
    let codes = server.client().last_code(phone).await;
    let wrong = if codes == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut statuses = Vec::new();
    for uuid in &pending {
        for _ in 0..4 {
            statuses.push(check(&a, TENANT_A, uuid, wrong).await);
        }
    }
    let compared = statuses.iter().filter(|s| *s != "rate_limited").count();
    assert_eq!(compared, 15, "the cap compares at most 15: {statuses:?}");
    // Tenant B: its own five sends to the same number, and its right
    // code checks valid.
    let mut b_pending = Vec::new();
    for _ in 0..5 {
        let sent = send(&b, TENANT_B, phone).await;
        assert_eq!(sent["status"], json!("pending"), "{sent}");
        b_pending.push(sent["authentication_uuid"].as_str().unwrap().to_owned());
    }
    let code = server.client().last_code(phone).await;
    let last = b_pending.last().unwrap();
    assert_eq!(check(&b, TENANT_B, last, wrong).await, "invalid");
    assert_eq!(check(&b, TENANT_B, last, &code).await, "valid");
    // And B's sixth is refused by B's own quota, not A's.
    let sent = send(&b, TENANT_B, phone).await;
    assert_eq!(sent["status"], json!("rate_limited"), "{sent}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_cap_counts_every_compared_code_the_last_attempt_included() {
    let (_dir, db) = sqlite();
    // A cap of 7 a number an hour; each authentication has 5 attempts.
    let (server, a, _) = two_tenants(&db, &["--sms-checks-per-hour", "7"]);
    let phone = "+14155550901";
    let first = send(&a, TENANT_A, phone).await;
    let first = first["authentication_uuid"].as_str().unwrap().to_owned();
    let code = server.client().last_code(phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Five wrong codes spend the first authentication; the fifth answers
    // "rate_limited" (attempts spent) and was compared all the same.
    let statuses = [
        check(&a, TENANT_A, &first, wrong).await,
        check(&a, TENANT_A, &first, wrong).await,
        check(&a, TENANT_A, &first, wrong).await,
        check(&a, TENANT_A, &first, wrong).await,
        check(&a, TENANT_A, &first, wrong).await,
    ];
    assert_eq!(&statuses[..4], &["invalid"; 4], "{statuses:?}");
    // A sixth on a spent authentication compares nothing and costs nothing.
    check(&a, TENANT_A, &first, wrong).await;
    let second = send(&a, TENANT_A, phone).await;
    let second = second["authentication_uuid"].as_str().unwrap().to_owned();
    let code = server.client().last_code(phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Five compared so far: two more, then refused, the right code too.
    assert_eq!(check(&a, TENANT_A, &second, wrong).await, "invalid");
    assert_eq!(check(&a, TENANT_A, &second, wrong).await, "invalid");
    assert_eq!(check(&a, TENANT_A, &second, &code).await, "rate_limited");
    let stored = crate::support::stored_challenge(&db, &second).await;
    assert_eq!(
        stored["attempts"],
        json!(2),
        "the refused check compared nothing: {stored}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_is_limited_per_tenant() {
    let (_dir, db) = sqlite();
    let (_server, a, b) = two_tenants(&db, &["--sms-customer-per-hour", "3"]);
    let feedback = |tenant: &crate::support::Client, customer: &'static str, n: u32| {
        let tenant = tenant.clone();
        async move {
            let phone = format!("+1415555{n:04}");
            let body =
                json!({ "customer_uuid": customer, "phone_number": phone, "status": "onboarded" });
            tenant.post("/v1/authentication/feedback", body).await.0
        }
    };
    for n in 0..3 {
        assert_eq!(feedback(&a, TENANT_A, n).await, StatusCode::OK);
    }
    assert_eq!(
        feedback(&a, TENANT_A, 3).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(feedback(&b, TENANT_B, 4).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn dings_ip_field_is_the_end_users_address_for_the_send_quota() {
    let (_dir, db) = sqlite();
    let (_server, a, b) = two_tenants(&db, &["--sms-address-per-hour", "3"]);
    let send_from = |tenant: &crate::support::Client,
                     customer: &'static str,
                     n: u32,
                     ip: &'static str| {
        let tenant = tenant.clone();
        async move {
            let body = json!({ "customer_uuid": customer, "phone_number": format!("+1415555{n:04}"), "ip": ip });
            tenant.post("/v1/authentication", body).await
        }
    };
    // One end user's address: three sends (to three numbers), then
    // rate_limited, taking nothing from the numbers' quotas.
    let mut statuses = Vec::new();
    for n in 0..4 {
        let (status, body) = send_from(&a, TENANT_A, n, "198.51.100.7").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        statuses.push(body["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses, ["pending", "pending", "pending", "rate_limited"]);
    // Another end user (in another form: a port, IPv6 per /64), another
    // tenant: their own counts.
    let (_, body) = send_from(&a, TENANT_A, 3, "198.51.100.8:4711").await;
    assert_eq!(body["status"], json!("pending"), "{body}");
    let (_, body) = send_from(&b, TENANT_B, 10, "198.51.100.7").await;
    assert_eq!(body["status"], json!("pending"), "{body}");
    for n in 20..23 {
        let (_, body) = send_from(&a, TENANT_A, n, "[2001:db8:1:2::1]:443").await;
        assert_eq!(body["status"], json!("pending"), "{body}");
    }
    let (_, body) = send_from(&a, TENANT_A, 23, "2001:db8:1:2::ffff").await;
    assert_eq!(
        body["status"],
        json!("rate_limited"),
        "the same /64: {body}"
    );
    // Not an address: a 400 that does not repeat it.
    let (status, body) = send_from(&a, TENANT_A, 30, "not-an-address").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!body.to_string().contains("not-an-address"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_pay_the_address_quota_and_refused_sends_leave_no_rows() {
    let (_dir, db) = sqlite();
    let (_server, a, _) = two_tenants(
        &db,
        &["--sms-address-per-hour", "2", "--sms-retry-cooldown", "1"],
    );
    let body =
        json!({ "customer_uuid": TENANT_A, "phone_number": "+14155550950", "ip": "198.51.100.9" });
    let (_, created) = a.post("/v1/authentication", body).await;
    assert_eq!(created["status"], json!("pending"), "{created}");
    let uuid = created["authentication_uuid"].as_str().unwrap().to_owned();
    let retry = || {
        let a = a.clone();
        let uuid = uuid.clone();
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            let (_, body) = a
                .post(
                    "/v1/retry",
                    json!({ "customer_uuid": TENANT_A, "authentication_uuid": uuid }),
                )
                .await;
            body["status"].as_str().unwrap().to_owned()
        }
    };
    // The creation and one retry spend the address's two sends an hour.
    assert_eq!(retry().await, "approved");
    assert_eq!(retry().await, "rate_limited");
    // Refused sends (the address's quota spent) to new numbers leave no
    // quota rows behind.
    let rows = || async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM quota")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    };
    let before = rows().await;
    for n in 0..5 {
        let body = json!({ "customer_uuid": TENANT_A, "phone_number": format!("+1415555096{n}"), "ip": "198.51.100.9" });
        let (_, refused) = a.post("/v1/authentication", body).await;
        assert_eq!(refused["status"], json!("rate_limited"), "{refused}");
    }
    assert_eq!(rows().await, before, "refused sends left quota rows");
}
