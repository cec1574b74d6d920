//! The limits, attacked through HTTP: the hash budget, the per-client
//! throttle behind a trusted proxy, the lockout strangers can't use, SMS
//! quotas, and slow connections. (The same attacks from one backend
//! address, as deployed, are in `topology.rs`.) (The SMS quotas across three PostgreSQL instances are in
//! the interop package's `multi_instance.rs`.)

use std::io::Write as _;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    CUSTOMER, Client, Server, code_at, many_clients, race_spread, scenarios, sqlite, verdict,
    wrong_code,
};

const HASHES: &str = "otpkit_backup_code_hashes_total";

/// `n` clients at once send a wrong backup code for one user: only the
/// attempts reserved before the backup budget locks are hashed. The
/// answers, and how many hashes they cost.
async fn wrong_backup_codes_at_once(
    clients: &[Client],
    user: &str,
    n: usize,
) -> (otpkit::OtpAuthUri, Vec<Value>, u64) {
    let (uri, _) = clients[0].enroll_verified(user).await;
    let before = clients[0].metric(HASHES).await;
    let body = json!({ "code": "2345-6789-ab" });
    let path = format!("/v1/users/{user}/verify_totp");
    let answers = race_spread(&clients[..n], &path, vec![body; n]).await;
    (uri, answers, clients[0].metric(HASHES).await - before)
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_and_sixty_four_wrong_backup_codes_cost_at_most_eleven_hashes() {
    let (_dir, db) = sqlite();
    // A queue for everyone: the bound must come from the reservation, not
    // from refusing requests.
    let server = Server::start_with(&db, &["--dev", "--hash-queue", "128"]);
    let clients = many_clients(std::slice::from_ref(&server), 64);
    let api = server.client();
    for (user, n) in [("thirty-two", 32), ("sixty-four", 64)] {
        let (uri, answers, hashed) = wrong_backup_codes_at_once(&clients, user, n).await;
        let reasons: Vec<_> = answers
            .iter()
            .map(|a| a["reason"].as_str().unwrap_or("?"))
            .collect();
        let invalid = reasons.iter().filter(|r| **r == "invalid").count();
        let locked = reasons.iter().filter(|r| **r == "locked").count();
        // Ten free failures, the eleventh locks: 11 hashes, all wrong.
        assert_eq!(
            (hashed, invalid, locked),
            (11, 11, n - 11),
            "{n}: {reasons:?}"
        );
        let stored = crate::support::stored_record(&db, user).await;
        assert_eq!(stored["backup_failures"], json!(11), "{stored}");
        assert_eq!(stored["failures"], json!(0), "the TOTP budget is untouched");
        // The TOTP still signs the user in.
        let path = format!("/v1/users/{user}/verify_totp");
        let (status, body) = api.post(&path, json!({ "code": code_at(&uri, 1) })).await;
        assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_hashing_queue_refuses_at_once_with_retry_after() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(
        &db,
        &["--dev", "--hash-concurrency", "1", "--hash-queue", "0"],
    );
    let api = server.client();
    for i in 0..16 {
        api.enroll_verified(&format!("flooded-{i}")).await;
    }
    // 16 wrong backup codes at 16 users at once: one hashes at a time and
    // none may wait, so most are refused without a hash.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let barrier = barrier.clone();
            let url = format!("{}/v1/users/flooded-{i}/verify_totp", server.base);
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .local_address(std::net::IpAddr::from([127, 0, 0, 40 + i]))
                    .build()
                    .unwrap();
                barrier.wait().await;
                let response = http
                    .post(url)
                    .bearer_auth(crate::support::API_KEY)
                    .json(&json!({ "code": "2345-6789-ab" }))
                    .send()
                    .await
                    .unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (
                    response.status(),
                    retry_after,
                    response.json::<Value>().await.unwrap(),
                )
            })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        let (status, retry_after, body) = task.await.unwrap();
        match status {
            StatusCode::UNPROCESSABLE_ENTITY => {}
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert_eq!(
                    body["errors"][0]["code"],
                    json!("too_many_requests"),
                    "{body}"
                );
                assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
            }
            other => panic!("{other} {body}"),
        }
    }
    assert!(refused > 0, "a full queue refuses");
    let api = server.client();
    assert_eq!(
        api.metric("otpkit_refusals_total{reason=\"hash_queue_full\"}")
            .await,
        refused
    );
    // A refused request cost its user nothing.
    let mut untouched = 0;
    for i in 0..16 {
        let stored = crate::support::stored_record(&db, &format!("flooded-{i}")).await;
        untouched += u64::from(stored.get("backup_failures").is_none());
    }
    assert_eq!(untouched, refused);
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_replays_lock_nobody_and_a_locked_totp_leaves_backup_codes_working() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client_at(2);
    let (uri, backup) = api.enroll_verified("alice").await;
    let used = code_at(&uri, 1);
    let (status, body) = api
        .post("/v1/users/alice/verify_totp", json!({ "code": used }))
        .await;
    assert_eq!(verdict(status, &body)["verified"], json!(true));
    // Ten replays (a double submit, a second tab): refused, not counted,
    // and not held against the client either.
    for _ in 0..10 {
        let (status, body) = api
            .post("/v1/users/alice/verify_totp", json!({ "code": used }))
            .await;
        assert_eq!(
            verdict(status, &body)["reason"],
            json!("replayed"),
            "{body}"
        );
    }
    let stored = crate::support::stored_record(&db, "alice").await;
    assert_eq!(stored["failures"], json!(0), "{stored}");
    let (status, body) = api
        .post("/v1/users/alice/verify_totp", json!({ "code": backup[0] }))
        .await;
    assert_eq!(
        verdict(status, &body)["code_type"],
        json!("backup_code"),
        "{body}"
    );

    // A stranger through the same backend locks the TOTP: backup codes
    // still work.
    let wrong = wrong_code(&uri);
    for _ in 0..6 {
        let (status, _) = api
            .post("/v1/users/alice/verify_totp", json!({ "code": wrong }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, body) = api
        .post(
            "/v1/users/alice/verify_totp",
            json!({ "code": code_at(&uri, 0) }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the TOTP is locked: {body}");
    let (status, body) = api
        .post("/v1/users/alice/verify_totp", json!({ "code": backup[1] }))
        .await;
    assert_eq!(
        verdict(status, &body)["code_type"],
        json!("backup_code"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_regenerations_never_show_codes_that_are_not_stored() {
    let (_dir, db) = sqlite();
    // One hash at a time: the six load the same set, then hash in turn.
    let server = Server::start_with(
        &db,
        &["--dev", "--hash-concurrency", "1", "--hash-queue", "16"],
    );
    let clients = many_clients(std::slice::from_ref(&server), 6);
    clients[0].enroll_verified("regen").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(6));
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                client.post("/v1/users/regen/backup_codes", json!({})).await
            })
        })
        .collect();
    let mut shown = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => shown.push(body["codes"].as_array().unwrap().clone()),
            StatusCode::CONFLICT => {
                assert_eq!(body["errors"][0]["code"], json!("backup_codes_changed"))
            }
            other => panic!("{other} {body}"),
        }
    }
    // Before, all six answered 200 and five showed dead codes; now a
    // regeneration that finds the set it saw replaced is refused.
    assert!(
        !shown.is_empty() && shown.len() < 6,
        "{} of 6 answered with codes",
        shown.len()
    );
    // The last set shown is the stored one: its code works; every other
    // set shown was replaced by a regeneration that saw it (so it was
    // true when shown). Sets answered at once cannot both be right: only
    // one set's codes work.
    let api = server.client_at(20);
    let mut working = 0;
    for (i, codes) in shown.iter().enumerate() {
        let code = codes[i % codes.len()].as_str().unwrap();
        let (status, _) = api
            .post("/v1/users/regen/verify_totp", json!({ "code": code }))
            .await;
        working += usize::from(status == StatusCode::OK);
    }
    assert_eq!(working, 1, "{} sets shown", shown.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn sms_quotas_per_number_and_customer_and_the_check_cap() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(
        &db,
        &[
            "--dev",
            "--sms-customer-per-hour",
            "8",
            "--sms-checks-per-hour",
            "7",
            "--sms-countries",
            "1,33",
        ],
    );
    let clients = many_clients(std::slice::from_ref(&server), 4);
    // One number: the first five go out, the rest are rate_limited.
    let first = scenarios::sends(&clients, "+14155550700", 12).await;
    let answers = &first;
    let statuses = scenarios::statuses(answers);
    assert_eq!(
        scenarios::how_many_of(&statuses, "pending"),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        scenarios::how_many_of(&statuses, "rate_limited"),
        7,
        "{statuses:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| (a["status"] == json!("pending")) == a.get("authentication_uuid").is_some())
    );
    let api = server.client();
    let codes = scenarios::outbox_codes(&api, "+14155550700").await;
    assert_eq!(codes.len(), 5, "{codes:?}");
    // The customer's eight: three more numbers get one each, then spam.
    for phone in ["+14155550701", "+14155550702", "+14155550703"] {
        let answers = scenarios::sends(&clients, phone, 1).await;
        assert_eq!(scenarios::statuses(&answers), ["pending"]);
    }
    let answers = scenarios::sends(&clients, "+14155550704", 1).await;
    assert_eq!(scenarios::statuses(&answers), ["spam_detected"]);
    // Another country: refused.
    let (status, body) = api
        .post(
            "/v1/authentication",
            json!({ "customer_uuid": CUSTOMER, "phone_number": "+447700900000" }),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("unsupported_region")),
        "{body}"
    );
    // Three guesses at each of the first number's five authentications:
    // seven are checked, the rest refused unchecked.
    let wrong = ["000000", "111111", "222222", "333333", "444444", "555555"]
        .into_iter()
        .find(|c| !codes.iter().any(|code| code == c))
        .unwrap();
    let mut statuses = Vec::new();
    for uuid in scenarios::pending(&first) {
        for _ in 0..3 {
            let (_, body) = api
                .post("/v1/check", json!({ "customer_uuid": CUSTOMER, "authentication_uuid": uuid, "check_code": wrong }))
                .await;
            statuses.push(body["status"].as_str().unwrap().to_owned());
        }
    }
    let guesses = statuses.iter().filter(|s| *s == "invalid").count();
    assert_eq!(guesses, 7, "{statuses:?}");
    assert!(
        statuses[7..].iter().all(|s| s == "rate_limited"),
        "{statuses:?}"
    );
    assert_eq!(
        api.metric("otpkit_refusals_total{reason=\"phone_checks\"}")
            .await,
        8
    );
    assert_eq!(
        api.metric("otpkit_sms_sends_total{result=\"sent\"}").await,
        8
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn half_sent_requests_are_dropped_and_new_clients_are_served() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(
        &db,
        &["--dev", "--connection-limit", "50", "--header-timeout", "1"],
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    // 300 connections, each with half a request, held open.
    let mut idle = Vec::new();
    for _ in 0..300 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        idle.push(stream);
    }
    // A new client is still served, within a few header timeouts.
    let started = Instant::now();
    let (status, body) = server.client().get("/healthz").await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // The half-sent ones were closed by the server.
    std::thread::sleep(Duration::from_millis(1500));
    // (Closed: the read ends, with nothing or an error answer; open: it
    // would block until the read timeout.)
    let mut closed = 0;
    for stream in &mut idle[..50] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 256];
        closed += usize::from(std::io::Read::read(stream, &mut buf).is_ok());
    }
    assert_eq!(closed, 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_need_the_api_key() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let (status, _) = server.client().with_key(None).get("/metrics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let api = server.client();
    assert_eq!(
        api.metric("otpkit_verifications_total{outcome=\"valid\",code_type=\"totp\"}")
            .await,
        0
    );
    api.enroll_verified("m").await;
    assert_eq!(
        api.metric("otpkit_verifications_total{outcome=\"valid\",code_type=\"totp\"}")
            .await,
        1
    );
}

/// Behind a trusted proxy the client is the address its
/// `X-Forwarded-For` names; any other peer names nobody, whatever it
/// claims: its requests meet the user's own budget only.
#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_proxy_names_the_client_and_no_one_else_can() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--dev", "--trusted-proxy", "127.0.0.9"]);
    let (uri, _) = server.client().enroll_verified("bob").await;
    let wrong = wrong_code(&uri);
    let from = |peer: u8, forwarded: &'static str| {
        let url = format!("{}/v1/users/bob/verify_totp", server.base);
        let body = json!({ "code": wrong });
        async move {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, peer]))
                .build()
                .unwrap()
                .post(url)
                .bearer_auth(crate::support::API_KEY)
                .header("x-forwarded-for", forwarded)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Through the proxy, one client (the last address it appended): three
    // wrong codes, then throttled.
    for _ in 0..3 {
        assert_eq!(
            from(9, "203.0.113.7, 198.51.100.1").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        from(9, "203.0.113.9, 198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not.
    assert_eq!(
        from(9, "198.51.100.2").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A peer that is not trusted names nobody: the user's budget alone
    // (four failures so far).
    assert_eq!(
        from(10, "198.51.100.3").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        from(10, "198.51.100.4").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        from(10, "198.51.100.5").await,
        StatusCode::FORBIDDEN,
        "the sixth failure locked bob"
    );
    for _ in 0..3 {
        assert_eq!(from(10, "198.51.100.6").await, StatusCode::FORBIDDEN);
    }
}
