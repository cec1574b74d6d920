//! Every endpoint of the HTTP API against a real server process on a real
//! SQLite file: Clerk's JSON shapes key by key, every error, the route
//! list, caching and the demo (Ding's are in `ding_api.rs`).

use std::collections::BTreeSet;

use crate::support::{CUSTOMER, Client, Server, code_at, sqlite, unix_now, verdict, wrong_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// A documented Clerk object, from the library's golden fixtures.
fn golden(name: &str) -> Value {
    let path = format!(
        "{}/../tests/fixtures/clerk/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `code` of a Ding error (flat: `{"code","message"}`).
pub fn ding_error(body: &Value) -> &str {
    assert!(body["message"].is_string(), "{body}");
    body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a Ding error body: {body}"))
}

pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error body: {body}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_totp_flow_end_to_end() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();

    // Create: the documented creation object, secret and URI once.
    let (status, created) = api.send("POST", "/v1/users/alice/totp", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&created), keys(&golden("totp-created")));
    assert_eq!(
        (created["object"].as_str(), created["verified"].as_bool()),
        (Some("totp"), Some(false))
    );
    assert!(created["backup_codes"].is_null());
    let uri: otpkit::OtpAuthUri = created["uri"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        uri.secret().to_base32().as_str(),
        created["secret"].as_str().unwrap()
    );
    assert_eq!(
        (uri.issuer(), uri.account()),
        (Some("otpkit demo"), "alice")
    );

    // Again while unverified: a new secret replaces the old one.
    let (status, again) = api.send("POST", "/v1/users/alice/totp", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(again["secret"], created["secret"]);
    let uri: otpkit::OtpAuthUri = again["uri"].as_str().unwrap().parse().unwrap();

    // Read: no secret, no URI.
    let (status, read) = api.get("/v1/users/alice/totp").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&read), keys(&golden("totp-read")));
    assert_eq!(read["id"], again["id"]);

    // verify_totp before verification: not yet.
    let (status, body) = api
        .post(
            "/v1/users/alice/verify_totp",
            json!({ "code": code_at(&uri, 0) }),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "totp_not_verified")
    );

    // Wrong, malformed, then right: verified with backup codes once.
    let path = "/v1/users/alice/totp/attempt_verification";
    let (status, body) = api.post(path, json!({ "code": wrong_code(&uri) })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect")
    );
    assert_eq!(
        body["errors"][0]["meta"],
        json!({ "reason": "invalid", "param_name": "code" })
    );
    assert!(body["errors"][0]["long_message"].is_string(), "{body}");
    let (status, body) = api.post(path, json!({ "code": "12" })).await;
    assert_eq!(
        (status, error_code(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid"
        )
    );
    let (status, verified) = api.post(path, json!({ "code": code_at(&uri, 0) })).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(
        keys(&verified),
        keys(&golden("totp-verified-with-backup-codes"))
    );
    assert_eq!(verified["verified"], json!(true));
    let backup: Vec<String> = serde_json::from_value(verified["backup_codes"].clone()).unwrap();
    assert_eq!(backup.len(), 10);
    let (status, body) = api.post(path, json!({ "code": code_at(&uri, 1) })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "totp_already_verified")
    );
    let (status, body) = api.send("POST", "/v1/users/alice/totp", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "totp_already_enabled")
    );
    let (_, read) = api.get("/v1/users/alice/totp").await;
    assert_eq!(
        (read["verified"].as_bool(), read.get("secret")),
        (Some(true), Some(&Value::Null))
    );

    // verify_totp: a fresh code once, then a replay; a backup code once.
    let verify = "/v1/users/alice/verify_totp";
    let next = code_at(&uri, 1);
    let (status, ok) = api.post(verify, json!({ "code": next })).await;
    assert_eq!(
        (status, ok.clone()),
        (
            StatusCode::OK,
            json!({ "verified": true, "code_type": "totp" })
        )
    );
    // Every refusal is a 4xx Clerk error, never a 200: an application
    // that lets the user in when verifyTOTP returns is right.
    let (status, replay) = api.post(verify, json!({ "code": next })).await;
    assert_eq!(
        verdict(status, &replay),
        json!({ "verified": false, "reason": "replayed", "code": "form_code_incorrect", "status": 422 })
    );
    let (status, ok) = api.post(verify, json!({ "code": backup[0] })).await;
    assert_eq!(
        (status, ok),
        (
            StatusCode::OK,
            json!({ "verified": true, "code_type": "backup_code" })
        )
    );
    let (status, used) = api.post(verify, json!({ "code": backup[0] })).await;
    assert_eq!(
        verdict(status, &used),
        json!({ "verified": false, "reason": "used", "code": "form_code_incorrect", "status": 422 })
    );
    let (status, typo) = api.post(verify, json!({ "code": "12 34" })).await;
    assert_eq!(
        verdict(status, &typo),
        json!({ "verified": false, "reason": "malformed", "code": "form_param_format_invalid", "status": 422 })
    );

    // New backup codes replace the old set.
    let (status, set) = api.send("POST", "/v1/users/alice/backup_codes", None).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let expected: BTreeSet<String> = ["object", "id", "codes", "created_at", "updated_at"]
        .map(String::from)
        .into();
    assert_eq!(keys(&set), expected);
    assert_eq!(set["object"], json!("backup_code"));
    assert_eq!(set["codes"].as_array().unwrap().len(), 10);
    assert!(
        set["created_at"].as_u64().unwrap() > 1_700_000_000_000,
        "milliseconds"
    );
    let (status, old) = api.post(verify, json!({ "code": backup[1] })).await;
    assert_eq!(verdict(status, &old)["reason"], json!("invalid"));
    let (_, new) = api.post(verify, json!({ "code": set["codes"][0] })).await;
    assert_eq!(new["code_type"], json!("backup_code"));

    // Delete the backup codes: the TOTP stays, the codes go, and the next
    // right code issues none.
    let (status, deleted) = api
        .send("DELETE", "/v1/users/alice/backup_code", None)
        .await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({ "user_id": "alice" }))
    );
    // (No set to check it against: not a TOTP code either, so a typo.)
    let (status, gone) = api.post(verify, json!({ "code": set["codes"][1] })).await;
    assert_eq!(verdict(status, &gone)["reason"], json!("malformed"));
    let (status, body) = api
        .send("DELETE", "/v1/users/alice/backup_code", None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "resource_not_found")
    );
    let (_, read) = api.get("/v1/users/alice/totp").await;
    assert_eq!(read["verified"], json!(true));

    // Delete the TOTP: Clerk's `{"user_id"}`.
    let (status, deleted) = api.send("DELETE", "/v1/users/alice/totp", None).await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({ "user_id": "alice" }))
    );
    for (method, path) in [
        ("GET", "/v1/users/alice/totp"),
        ("DELETE", "/v1/users/alice/totp"),
        ("DELETE", "/v1/users/alice/backup_code"),
        ("POST", "/v1/users/alice/backup_codes"),
    ] {
        let (status, body) = api.send(method, path, None).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "resource_not_found")
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn locked_users_are_told_until_when() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let (uri, _) = api.enroll_verified("bob").await;
    let wrong = wrong_code(&uri);
    let mut reasons = Vec::new();
    // Seven wrong codes through one backend (no end user named).
    for _ in 0..7 {
        let (status, body) = server
            .client()
            .post("/v1/users/bob/verify_totp", json!({ "code": wrong }))
            .await;
        reasons.push((status, body));
    }
    assert!(reasons[..5].iter().all(|(status, body)| {
        verdict(*status, body)
            == json!({"verified": false, "reason": "invalid", "code": "form_code_incorrect", "status": 422})
    }));
    let locking = &reasons[5].1["errors"][0];
    assert_eq!(locking["meta"]["reason"], json!("invalid"));
    let until = locking["meta"]["locked_until"]
        .as_u64()
        .expect("the locking failure says until when (Unix ms)");
    assert!(until > unix_now() * 1000);
    // Then Clerk's `user_locked`, with the seconds left.
    let (status, locked) = &reasons[6];
    assert_eq!(*status, StatusCode::FORBIDDEN, "{locked}");
    let locked = &locked["errors"][0];
    assert_eq!(locked["code"], json!("user_locked"));
    let left = locked["meta"]["lockout_expires_in_seconds"]
        .as_u64()
        .unwrap();
    assert!(
        left > 0 && left <= (until / 1000).saturating_sub(unix_now()) + 1,
        "{locked}"
    );
    // Locked: even the right code is not checked.
    let (status, body) = api
        .post(
            "/v1/users/bob/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(verdict(status, &body)["reason"], json!("locked"));
    // backup codes for an unverified TOTP: a conflict.
    api.enroll("carol").await;
    let (status, body) = api.send("POST", "/v1/users/carol/backup_codes", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "totp_not_verified")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_typed_errors_never_a_500() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    api.enroll_verified("dave").await;
    let path = "/v1/users/dave/verify_totp";

    let (status, body) = api
        .raw(path, "application/json", b"{\"code\":".to_vec())
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    let (status, body) = api
        .raw(path, "application/json", b"{\"code\":123456}".to_vec())
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request_body")
    );
    let (status, body) = api.raw(path, "application/json", b"{}".to_vec()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request_body")
    );
    let (status, body) = api
        .raw(path, "text/plain", b"{\"code\":\"123456\"}".to_vec())
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    // Too large: always a 413 in the API's shape, never a connection
    // reset (the server reads what the client sends before it answers)
    // and never a 500; both with a length given up front and chunked.
    let huge = serde_json::to_vec(&json!({ "code": "1".repeat(100_000) })).unwrap();
    for n in 0..12 {
        let body = match n % 3 {
            0 => vec![b' '; 6 << 20],
            1 => vec![b' '; 1 << 20],
            _ => huge.clone(),
        };
        // On a client of its own: a fresh connection each time.
        let once = Client::new(&api.base);
        let answer = once.try_raw(path, "application/json", body.clone()).await;
        let (status, body) = answer.unwrap_or_else(|e| panic!("send {n}: {e:?}"));
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            "send {n}"
        );
    }
    for n in 0..4 {
        let answer = chunked_post(&api.base, path, 32, 64 << 10).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "chunked send {n}: {answer}"
        );
        assert!(
            answer.contains("body_too_large"),
            "chunked send {n}: {answer}"
        );
    }
    assert_eq!(api.get("/healthz").await.0, StatusCode::OK);
    let (status, body) = api
        .raw(path, "application/json", b"\xff\xfe".to_vec())
        .await;
    assert!(status.is_client_error(), "{status} {body}");

    // Unknown users, bad user ids, unknown routes.
    let (status, body) = api
        .post("/v1/users/nobody/verify_totp", json!({ "code": "123456" }))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "resource_not_found")
    );
    let (status, body) = api
        .post(
            "/v1/users/nobody/totp/attempt_verification",
            json!({ "code": "123456" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let long = "x".repeat(129);
    for bad in [long.as_str(), "a%20b", "%3Cscript%3E", "%FF"] {
        let (status, body) = api.get(&format!("/v1/users/{bad}/totp")).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_user_id")
        );
    }
    let (status, body) = api.get("/v1/nothing").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert!(!server.log().contains("ERROR"), "{}", server.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_key_is_required_and_no_detail_leaks() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let (status, body) = Client::new(&server.base)
        .with_key(None)
        .get("/healthz")
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    for key in [None, Some("wrong-key-0123456789"), Some("")] {
        let api = server.client().with_key(key);
        for (method, path) in [
            ("POST", "/v1/users/alice/totp"),
            ("GET", "/v1/users/alice/totp"),
            ("POST", "/v1/users/alice/verify_totp"),
            ("POST", "/v1/authentication"),
            ("POST", "/v1/check"),
            ("GET", "/dev/outbox?phone_number=%2B14155550100"),
        ] {
            let (status, body) = api.send(method, path, Some(json!({}))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            let message = "a valid API key is required (x-api-key, or Authorization: Bearer)";
            let expected = if path.starts_with("/v1/users") || path.starts_with("/dev") {
                json!({ "errors": [{ "code": "unauthorized", "message": message, "long_message": message }] })
            } else {
                json!({ "code": "unauthorized", "message": message })
            };
            assert_eq!(body, expected, "{method} {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_dev_there_is_no_outbox_and_no_demo() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let api = server.client();
    let (status, _) = api.get("/dev/outbox?phone_number=%2B14155550100").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get("/demo").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The API itself works.
    api.enroll_verified("erin").await;
    server.stop();
}

/// POSTs `chunks` chunks of `size` spaces with chunked transfer encoding
/// (no length up front) on a connection of its own, sending them all
/// before reading; the answer's head and body as text.
async fn chunked_post(base: &str, path: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        crate::support::API_KEY
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for n in 0..chunks {
        stream
            .write_all(chunk.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("chunk {n}: {e}"));
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer))
            .await
        {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break;
                }
            }
            Ok(Err(e)) => panic!("reading the answer: {e}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Whether `haystack` holds `needle` anywhere.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_is_readable_in_the_database_files_or_the_logs() {
    let (dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let (uri, backup) = api.enroll_verified("zoe").await;
    let (_, sms) = api.authenticate("+14155550500").await;
    // Phone numbers are logged masked (first and last two digits); the
    // line may be read after the answer (stderr is read by a thread).
    assert!(server.logs("+1••••••••00"), "{}", server.log());
    let log = server.log();
    server.stop();

    let secret = uri.secret();
    let base32 = secret.to_base32().to_string();
    let hex: String = secret
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut needles: Vec<Vec<u8>> = vec![
        base32.clone().into_bytes(),
        base32.to_ascii_lowercase().into_bytes(),
        hex.into_bytes(),
        secret.expose_secret().to_vec(),
        crate::support::PEPPER.as_bytes().to_vec(),
    ];
    needles.extend(backup.iter().map(|code| code.clone().into_bytes()));
    // The database file and whatever SQLite keeps beside it (WAL, SHM);
    // not the --dev keys file, whose job is to hold the pepper.
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dev-keys") {
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        files += 1;
        for needle in &needles {
            assert!(!holds(&bytes, needle), "a secret is readable at rest");
        }
    }
    assert!(files >= 1);
    // Nor in what the server logged: no key, secret, code, API key or
    // phone number.
    for needle in needles.iter().chain([
        &crate::support::API_KEY.as_bytes().to_vec(),
        &sms.clone().into_bytes(),
        &b"+14155550500".to_vec(),
        &b"4155550500".to_vec(),
    ]) {
        assert!(
            !holds(log.as_bytes(), needle),
            "a secret is in the log:\n{log}"
        );
    }
}

/// `GET /openapi.json` is the document, and every route it lists is one the
/// server has (answered by its handler, not by the fallback's 404 or a
/// 405); the dev routes are not in it.
#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_every_route_and_each_answers() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let api = server.client();
    let (status, document) = Client::new(&server.base)
        .with_key(None)
        .get("/openapi.json")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], json!("3.1.0"));
    let mut listed = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            listed.insert(format!("{} {path}", method.to_uppercase()));
            let concrete = path
                .replace("{user_id}", "openapi-user")
                .replace("{auth_uuid}", "e0e7b0e9-739d-424b-922f-1c2cb48ab077");
            let (status, body) = api
                .send(&method.to_uppercase(), &concrete, Some(json!({})))
                .await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                status != StatusCode::NOT_FOUND || error_code(&body) != "not_found",
                "{method} {path} is not a route: {body}"
            );
        }
    }
    let expected: BTreeSet<String> = [
        "POST /v1/users/{user_id}/totp",
        "GET /v1/users/{user_id}/totp",
        "DELETE /v1/users/{user_id}/totp",
        "POST /v1/users/{user_id}/totp/attempt_verification",
        "POST /v1/users/{user_id}/verify_totp",
        "POST /v1/users/{user_id}/backup_codes",
        "DELETE /v1/users/{user_id}/backup_code",
        "DELETE /v1/users/{user_id}/mfa",
        "POST /v1/authentication",
        "GET /v1/authentication/{auth_uuid}",
        "POST /v1/authentication/feedback",
        "POST /v1/check",
        "POST /v1/retry",
        "GET /healthz",
        "GET /readyz",
        "GET /openapi.json",
        "GET /metrics",
    ]
    .map(String::from)
    .into();
    assert_eq!(listed, expected, "the routes of src/api and the document");
    server.stop();
}

/// Nothing the API or the demo answers may be cached: some answers carry a
/// secret, an otpauth:// URI or backup codes.
#[tokio::test(flavor = "multi_thread")]
async fn no_answer_may_be_cached() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let http = reqwest::Client::new();
    let key = crate::support::API_KEY;
    for (method, path, body) in [
        ("POST", "/v1/users/cache/totp", json!({})),
        ("GET", "/v1/users/cache/totp", json!({})),
        (
            "POST",
            "/v1/users/cache/verify_totp",
            json!({ "code": "123456" }),
        ),
        (
            "POST",
            "/v1/authentication",
            json!({ "customer_uuid": CUSTOMER, "phone_number": "+14155550199" }),
        ),
        ("POST", "/v1/check", json!({})),
        ("GET", "/v1/users/cache/totp", json!(null)),
    ] {
        let request = match method {
            "GET" => http.get(format!("{}{path}", server.base)),
            _ => http.post(format!("{}{path}", server.base)).json(&body),
        };
        let response = request.bearer_auth(key).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{method} {path}"
        );
    }
    let demo = http
        .get(format!("{}/demo", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(demo.headers()["cache-control"], "no-store");
    server.stop();
}

/// The demo's forms accept a POST only with the page's token in both the
/// cookie and the form, and not from another origin: an empty token in an
/// empty cookie, or a right token sent from another site, enrolls nothing.
#[tokio::test(flavor = "multi_thread")]
async fn demo_forms_refuse_empty_tokens_and_other_origins() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let (http, token) = demo_session(&server).await;
    let post = |cookie: String, token: String, origin: Option<String>| {
        let mut request = http
            .post(format!("{}/demo/enroll", server.base))
            .header("cookie", cookie)
            .form(&[("csrf", token), ("user_id", "victim".to_owned())]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let refused = [
        ("otpkit_demo_csrf=".to_owned(), String::new(), None),
        (
            format!("otpkit_demo_csrf={token}"),
            token.clone(),
            Some("https://evil.example".to_owned()),
        ),
        (
            format!("otpkit_demo_csrf={token}"),
            token.clone(),
            Some("null".to_owned()),
        ),
    ];
    for (cookie, form, origin) in refused {
        let response = post(cookie, form, origin.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let (status, _) = server.client().get("/v1/users/victim/totp").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was enrolled");
    // The page's own origin, with its token: accepted.
    let own = server.base.clone();
    let response = post(format!("otpkit_demo_csrf={token}"), token, Some(own))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop();
}

/// The demo pages (no API key) live in their own namespace: enrolling
/// "alice" there leaves the API's alice untouched (her pending enrollment,
/// her backup codes), and a demo form naming an API user reaches nobody.
#[tokio::test(flavor = "multi_thread")]
async fn demo_users_live_apart_from_the_apis() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let alice = api.enroll("alice").await;
    let (http, token) = demo_session(&server).await;
    let post = |path: &str, form: Vec<(&str, String)>| {
        let mut form = form;
        form.push(("csrf", token.clone()));
        http.post(format!("{}{path}", server.base))
            .header("cookie", format!("otpkit_demo_csrf={token}"))
            .header("origin", server.base.clone())
            .form(&form)
            .send()
    };
    // The demo enrolls its own alice: shown as "alice (demo)".
    let enrolled = post("/demo/enroll", vec![("user_id", "alice".to_owned())])
        .await
        .unwrap();
    assert_eq!(enrolled.status(), StatusCode::OK);
    assert!(
        enrolled
            .text()
            .await
            .unwrap()
            .contains("alice%20%28demo%29")
    );
    // The API's alice still has her own pending enrollment: her code
    // verifies it (the demo did not replace it).
    let (status, body) = api
        .post(
            "/v1/users/alice/totp/attempt_verification",
            json!({ "code": code_at(&alice, 0) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Her code on the demo's sign-in reaches the demo's alice, not her.
    let signed = post(
        "/demo/sign-in",
        vec![
            ("user_id", "alice".to_owned()),
            ("code", code_at(&alice, 1)),
        ],
    )
    .await
    .unwrap();
    let said = signed.text().await.unwrap();
    assert!(!said.contains("Valid: signed in"), "{said}");
    assert!(
        said.contains("not verified"),
        "the demo's alice has not verified: {said}"
    );
    let (_, read) = api.get("/v1/users/alice/totp").await;
    assert_eq!(read["verified"], json!(true), "{read}");
    server.stop();
}

/// A browser's visit to the demo: its client and the page's CSRF token
/// (the cookie's value).
async fn demo_session(server: &Server) -> (reqwest::Client, String) {
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/demo", server.base))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, token)| token.to_owned())
        .unwrap();
    (http, token)
}
