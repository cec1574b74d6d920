//! Ding's endpoints against a real server process on a real SQLite file:
//! send, check and retry, attempts and retries running out, input
//! validation, and tenants acting only for their customers.

use std::collections::BTreeSet;

use crate::api::{ding_error, keys};
use crate::support::{CUSTOMER, Server, sqlite};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn rfc3339_seconds(text: &str) -> u64 {
    let time = humantime::parse_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    time.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread")]
async fn ding_send_check_retry() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let phone = "+14155550100";

    let (status, created) = api
        .post(
            "/v1/authentication",
            json!({ "customer_uuid": CUSTOMER, "phone_number": phone, "ip": "192.0.2.1" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let expected: BTreeSet<String> = ["authentication_uuid", "status", "created_at", "expires_at"]
        .map(String::from)
        .into();
    assert_eq!(keys(&created), expected);
    assert_eq!(created["status"], json!("pending"));
    let (from, to) = (
        rfc3339_seconds(created["created_at"].as_str().unwrap()),
        rfc3339_seconds(created["expires_at"].as_str().unwrap()),
    );
    assert_eq!(to - from, 600);
    let uuid = created["authentication_uuid"].as_str().unwrap().to_owned();
    let code = api.last_code(phone).await;
    assert_eq!(code.len(), 6);

    let check = |code: &str, customer: &str| json!({ "authentication_uuid": uuid, "check_code": code, "customer_uuid": customer });
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = api.post("/v1/check", check(wrong, CUSTOMER)).await;
    assert_eq!(
        (status, body.clone()),
        (
            StatusCode::OK,
            json!({ "authentication_uuid": uuid, "status": "invalid" })
        )
    );
    // Not a code: Ding's 400 `bad_request`, and no attempt counted.
    let (status, body) = api.post("/v1/check", check("12", CUSTOMER)).await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    // Another customer's authentication does not exist for you.
    let (status, body) = api
        .post(
            "/v1/check",
            check(&code, "3c8b3a46-881e-4cdd-93a6-f7f238bf020a"),
        )
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "no_associated_auth_found")
    );

    // Retry within the cool-down: refused with when and how many left.
    let retry = json!({ "authentication_uuid": uuid, "customer_uuid": CUSTOMER });
    let (status, body) = api.post("/v1/retry", retry.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let expected: BTreeSet<String> = [
        "authentication_uuid",
        "status",
        "created_at",
        "next_retry_at",
        "remaining_retry",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&body), expected);
    assert_eq!(
        (body["status"].as_str(), body["remaining_retry"].as_u64()),
        (Some("rate_limited"), Some(3))
    );
    assert_eq!(
        rfc3339_seconds(body["next_retry_at"].as_str().unwrap()),
        from + 30
    );

    // The same customer and authentication in other spellings of a UUID
    // (upper case, braces): canonicalized, so the same ones.
    let upper = |text: &str| text.to_uppercase();
    let braced = json!({
        "authentication_uuid": format!("{{{}}}", upper(&uuid)),
        "check_code": code,
        "customer_uuid": upper(CUSTOMER),
    });
    let (status, body) = api.post("/v1/check", braced).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "authentication_uuid": uuid, "status": "valid" })
    );
    let (_, body) = api.post("/v1/check", check(&code, CUSTOMER)).await;
    assert_eq!(body["status"], json!("already_validated"));
    let (_, body) = api.post("/v1/check", check(&code, CUSTOMER)).await;
    assert_eq!(body["status"], json!("already_validated"));
    let (_, body) = api.post("/v1/retry", retry).await;
    assert_eq!(
        body,
        json!({ "authentication_uuid": uuid, "status": "already_validated", "created_at": body["created_at"] }),
        "no field is null: one with no value is left out"
    );
    let stored = crate::support::stored_challenge(&db, &uuid).await;
    assert_eq!(
        (stored["attempts"].as_u64(), stored["status"].as_str()),
        (Some(2), Some("verified"))
    );

    // The status: the number, and what happened (one send, two counted
    // checks), never the code.
    let (status, body) = api.get(&format!("/v1/authentication/{uuid}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        keys(&body),
        ["uuid", "phone_number", "created_at", "events"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        (body["uuid"].as_str(), body["phone_number"].as_str()),
        (Some(uuid.as_str()), Some(phone))
    );
    let events = body["events"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["status"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("attempt", "-"), ("check", "invalid"), ("check", "valid")]
    );
    assert_eq!(events[0]["attempt_number"], json!(1));
    assert!(
        !body.to_string().contains(&code),
        "the code is never repeated: {body}"
    );
    // Unknown, and not a UUID.
    let (status, body) = api
        .get("/v1/authentication/e0e7b0e9-739d-424b-922f-1c2cb48ab077")
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "no_associated_auth_found")
    );
    let (status, body) = api.get("/v1/authentication/nope").await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "invalid_auth_uuid")
    );

    // Feedback: once per status.
    let feedback = |status: &str| json!({ "customer_uuid": CUSTOMER, "phone_number": phone, "status": status });
    let (status, body) = api
        .post("/v1/authentication/feedback", feedback("onboarded"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        uuid::Uuid::parse_str(body["uuid"].as_str().unwrap()).is_ok(),
        "{body}"
    );
    let (status, body) = api
        .post("/v1/authentication/feedback", feedback("onboarded"))
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "duplicated_feedback_status")
    );
    let (status, body) = api
        .post("/v1/authentication/feedback", feedback("maybe"))
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "invalid_feedback_status")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ding_attempts_run_out_and_retries_send_new_codes() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let phone = "+442071838750";
    let (uuid, first) = api.authenticate(phone).await;

    // After the cool-down, a retry sends a new code; the old one stops working.
    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
    let retry = json!({ "authentication_uuid": uuid, "customer_uuid": CUSTOMER });
    let (_, body) = api.post("/v1/retry", retry.clone()).await;
    assert_eq!(
        (body["status"].as_str(), body["remaining_retry"].as_u64()),
        (Some("approved"), Some(2))
    );
    let second = api.last_code(phone).await;
    let check = |code: &str| json!({ "authentication_uuid": uuid, "check_code": code, "customer_uuid": CUSTOMER });
    if first != second {
        let (_, body) = api.post("/v1/check", check(&first)).await;
        assert_eq!(body["status"], json!("invalid"));
    }
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (_, body) = api.post("/v1/check", check(wrong)).await;
        statuses.push(body["status"].as_str().unwrap().to_owned());
    }
    assert!(
        statuses
            .iter()
            .all(|s| s == "invalid" || s == "rate_limited"),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().map(String::as_str), Some("rate_limited"));
    // Spent: even the right code is refused, and no retry revives it.
    let (_, body) = api.post("/v1/check", check(&second)).await;
    assert_eq!(body["status"], json!("rate_limited"));
    let (_, body) = api.post("/v1/retry", retry).await;
    assert_eq!(body["status"], json!("denied"));
    let stored = crate::support::stored_challenge(&db, &uuid).await;
    assert_eq!(
        (stored["attempts"].as_u64(), stored["status"].as_str()),
        (Some(5), Some("failed"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ding_input_is_validated() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    for (customer, phone, code) in [
        ("not-a-uuid", "+14155550100", "bad_request"),
        (CUSTOMER, "4155550100", "invalid_phone_number"),
        (CUSTOMER, "+1", "invalid_phone_number"),
        (CUSTOMER, "+1415555010O", "invalid_phone_number"),
    ] {
        let (status, body) = api
            .post(
                "/v1/authentication",
                json!({ "customer_uuid": customer, "phone_number": phone }),
            )
            .await;
        assert_eq!(
            (status, ding_error(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{phone}"
        );
    }
    let unknown = json!({ "authentication_uuid": "e0e7b0e9-739d-424b-922f-1c2cb48ab077", "check_code": "123456", "customer_uuid": CUSTOMER });
    let (status, body) = api.post("/v1/check", unknown).await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "no_associated_auth_found")
    );
    let (status, body) = api
        .post(
            "/v1/check",
            json!({ "authentication_uuid": "x", "check_code": "1", "customer_uuid": CUSTOMER }),
        )
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "invalid_auth_uuid")
    );
    // A body that does not fit: Ding's 400 `bad_request`, naming the
    // field, never repeating a value.
    let (status, body) = api
        .post("/v1/retry", json!({ "customer_uuid": CUSTOMER }))
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("authentication_uuid"),
        "{body}"
    );
    let (status, body) = api
        .post(
            "/v1/retry",
            json!({ "customer_uuid": "s3cr3t-value", "authentication_uuid": 7 }),
        )
        .await;
    assert_eq!(
        (status, ding_error(&body)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(!body.to_string().contains("s3cr3t"), "{body}");
    // Ding's SDKs send the key as x-api-key; Bearer in any case works too.
    let key = crate::support::API_KEY;
    for (name, value) in [
        ("x-api-key", key.to_owned()),
        ("authorization", format!("bearer {key}")),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/check", api.base))
            .header(name, value)
            .json(&json!({ "authentication_uuid": "x", "check_code": "1", "customer_uuid": CUSTOMER }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
    }
}

/// Ding tenants: a tenant's key acts for its customers only. Another
/// customer's authentication is answered as unknown (check, retry,
/// status), a send or feedback for another customer is 403, and a
/// tenant's key opens no Clerk route.
#[tokio::test(flavor = "multi_thread")]
async fn ding_tenants_act_only_for_their_customers() {
    const A: &str = "6b1d5a0e-3c4f-4e8a-9f21-0a1b2c3d4e5f";
    const B: &str = "7c2e6b1f-4d50-4f9b-8a32-1b2c3d4e5f60";
    let (key_a, key_b) = ("tenant-a-key-0123456789", "tenant-b-key-0123456789");
    let (_dir, db) = sqlite();
    let mut command = Server::command(&db, &["--dev"]);
    // The configured customers in another spelling: compared canonically.
    command.env(
        "OTPKIT_DING_KEYS",
        format!("{key_a}={};\n{key_b}={{{B}}}", A.to_uppercase()),
    );
    let server = Server::spawn(command, &db);
    let (a, b) = (
        server.client().with_key(Some(key_a)),
        server.client().with_key(Some(key_b)),
    );
    let send =
        |customer: &str| json!({ "customer_uuid": customer, "phone_number": "+14155550700" });
    let (status, created) = a.post("/v1/authentication", send(A)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let uuid = created["authentication_uuid"].as_str().unwrap().to_owned();
    let code = server.client().last_code("+14155550700").await;

    // B, naming A's customer or its own: answered exactly as an
    // authentication that does not exist.
    let unknown = "00000000-0000-4000-8000-000000000000";
    let answers = |uuid: &str, customer: &str| {
        let (b, uuid, customer, code) = (
            b.clone(),
            uuid.to_owned(),
            customer.to_owned(),
            code.clone(),
        );
        async move {
            let check = json!({ "customer_uuid": customer, "authentication_uuid": uuid, "check_code": code });
            let retry = json!({ "customer_uuid": customer, "authentication_uuid": uuid });
            let shown = |(status, body): (StatusCode, Value)| {
                (status, body["code"].clone(), body["message"].clone())
            };
            [
                shown(b.post("/v1/check", check).await),
                shown(b.post("/v1/retry", retry).await),
                shown(b.get(&format!("/v1/authentication/{uuid}")).await),
            ]
        }
    };
    let refused = answers(unknown, B).await;
    assert_eq!(
        refused[0].1,
        json!("no_associated_auth_found"),
        "{refused:?}"
    );
    for customer in [A, B] {
        assert_eq!(answers(&uuid, customer).await, refused, "{customer}");
    }
    // A send or feedback for another customer: refused (Ding's shape
    // knows no 403; its `bad_request`, saying why).
    let feedback =
        json!({ "customer_uuid": A, "phone_number": "+14155550700", "status": "onboarded" });
    for (path, body) in [
        ("/v1/authentication", send(A)),
        ("/v1/authentication/feedback", feedback),
    ] {
        let (status, body) = b.post(path, body).await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("bad_request")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("does not act for this customer"),
            "{body}"
        );
    }
    // A tenant's key is no Clerk key; an unknown key is no key.
    let (status, _) = a.send("POST", "/v1/users/zed/totp", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let stranger = server.client().with_key(Some("nobody-key-0123456789"));
    assert_eq!(
        stranger.post("/v1/authentication", send(A)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A itself: its status, its code; B never spent A's attempts.
    let (status, body) = a.get(&format!("/v1/authentication/{uuid}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let check = json!({ "customer_uuid": A, "authentication_uuid": uuid, "check_code": code });
    let (status, body) = a.post("/v1/check", check).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("valid")),
        "{body}"
    );
    server.stop();

    // A bad list stops the start, naming the entry and never the key.
    for bad in [
        "short=".to_owned() + A,
        format!("{key_a}=not-a-uuid"),
        key_a.to_owned(),
    ] {
        let output = Server::command(&db, &["--dev"])
            .env("OTPKIT_DING_KEYS", &bad)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("OTPKIT_DING_KEYS: entry 1"), "{said}");
        assert!(!said.contains(key_a) && !said.contains("short"), "{said}");
    }
}
