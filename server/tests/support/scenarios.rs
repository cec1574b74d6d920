//! The races, written once for any set of server instances on one
//! database: the SQLite tests run them on one process with 32 clients,
//! the PostgreSQL tests on three processes with 48, requests round-robin.

use serde_json::{Value, json};

use super::{
    CUSTOMER, Client, code_at, count, race_spread, stored_challenge, stored_record, verdict,
    wrong_code,
};

fn reasons(answers: &[Value]) -> Vec<&str> {
    answers
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect()
}

fn how_many(answers: &[Value], reason: &str) -> usize {
    reasons(answers).iter().filter(|r| **r == reason).count()
}

/// `n` clients send one right TOTP code at once: exactly one is accepted;
/// the others are replays, refused and not counted (nothing is written).
pub async fn one_totp_code(clients: &[Client], db: &str, user: &str, n: usize) {
    let (uri, _) = clients[0].enroll_verified(user).await;
    let body = json!({ "code": code_at(&uri, 1) });
    let answers = race_spread(
        clients,
        &format!("/v1/users/{user}/verify_totp"),
        vec![body; n],
    )
    .await;
    assert_eq!(count(&answers, "verified", json!(true)), 1, "{answers:?}");
    assert_eq!(how_many(&answers, "replayed"), n - 1, "{answers:?}");
    let stored = stored_record(db, user).await;
    assert_eq!(stored["failures"].as_u64(), Some(0), "{stored}");
}

/// `n` clients send an enrollment's first right code at once: exactly one
/// verifies it and shows backup codes (made before its compare-and-set,
/// under the hashing queue); the others find it verified already (409), or
/// the queue full (429, nothing changed). The codes shown are the stored
/// ones.
pub async fn one_first_code(clients: &[Client], user: &str, n: usize) {
    let uri = clients[0].enroll(user).await;
    let body = json!({ "code": code_at(&uri, 0) });
    let path = format!("/v1/users/{user}/totp/attempt_verification");
    let answers = race_spread(clients, &path, vec![body; n]).await;
    let verified: Vec<&Value> = answers
        .iter()
        .filter(|a| a["verified"] == json!(true))
        .collect();
    assert_eq!(verified.len(), 1, "{answers:?}");
    let refused = |code: &str| answers.iter().filter(|a| a["code"] == json!(code)).count();
    let (verified_already, busy) = (
        refused("totp_already_verified"),
        refused("too_many_requests"),
    );
    assert_eq!(verified_already + busy, n - 1, "{answers:?}");
    let shown = verified[0]["backup_codes"]
        .as_array()
        .expect("backup codes shown");
    assert_eq!(shown.len(), 10, "{answers:?}");
    let (status, body) = clients[1]
        .post(
            &format!("/v1/users/{user}/verify_totp"),
            json!({ "code": shown[0] }),
        )
        .await;
    assert_eq!(
        verdict(status, &body)["code_type"],
        json!("backup_code"),
        "{body}"
    );
}

/// `n` clients send one backup code at once: exactly one is accepted.
pub async fn one_backup_code(clients: &[Client], user: &str, n: usize) {
    let (_, backup) = clients[0].enroll_verified(user).await;
    let body = json!({ "code": backup[3] });
    let answers = race_spread(
        clients,
        &format!("/v1/users/{user}/verify_totp"),
        vec![body; n],
    )
    .await;
    assert_eq!(count(&answers, "verified", json!(true)), 1, "{answers:?}");
    assert_eq!(count(&answers, "code_type", json!("backup_code")), 1);
    // Every attempt is counted before it is hashed (the hash budget), so
    // past the backup budget's eleven in flight the rest are refused as
    // locked, unhashed, until the right one lands and resets it.
    assert_eq!(
        how_many(&answers, "used") + how_many(&answers, "locked"),
        n - 1,
        "{answers:?}"
    );
}

/// `n` clients send wrong codes at once: five free failures, the sixth
/// locks, every later one is refused unchecked, none is lost; the user
/// ends locked on every instance.
pub async fn wrong_codes(clients: &[Client], db: &str, user: &str, n: usize) {
    let (uri, _) = clients[0].enroll_verified(user).await;
    let path = format!("/v1/users/{user}/verify_totp");
    let answers = race_spread(clients, &path, vec![json!({ "code": wrong_code(&uri) }); n]).await;
    assert_eq!(
        (how_many(&answers, "invalid"), how_many(&answers, "locked")),
        (6, n - 6),
        "{answers:?}"
    );
    let stored = stored_record(db, user).await;
    assert_eq!(stored["failures"].as_u64(), Some(6));
    assert!(stored["locked_until"].as_u64().is_some());
    for client in clients {
        let (status, after) = client
            .post(&path, json!({ "code": code_at(&uri, 1) }))
            .await;
        assert_eq!(verdict(status, &after)["reason"], json!("locked"));
    }
}

/// `n` clients check one Ding authentication at once, all with a wrong
/// code, or (`mixed`) half right and half wrong: never more than the
/// policy's 5 attempts, at most one `valid`, and the stored status agrees
/// with the answers.
pub async fn ding_checks(clients: &[Client], db: &str, phone: &str, n: usize, mixed: bool) {
    let (uuid, code) = clients[0].authenticate(phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bodies = (0..n)
        .map(|i| {
            let guess = if mixed && i % 2 == 0 {
                code.as_str()
            } else {
                wrong
            };
            json!({ "authentication_uuid": uuid, "check_code": guess, "customer_uuid": CUSTOMER })
        })
        .collect();
    let answers = race_spread(clients, "/v1/check", bodies).await;
    let valid = count(&answers, "status", json!("valid"));
    let stored = stored_challenge(db, &uuid).await;
    let attempts = stored["attempts"].as_u64().unwrap();
    assert!(valid <= 1 && attempts <= 5, "{stored} {answers:?}");
    assert_eq!(
        stored["status"] == json!("verified"),
        valid == 1,
        "{stored} {answers:?}"
    );
    if !mixed {
        assert_eq!(
            count(&answers, "status", json!("invalid")),
            4,
            "{answers:?}"
        );
        assert_eq!(count(&answers, "status", json!("rate_limited")), n - 4);
        assert_eq!((attempts, stored["status"].as_str()), (5, Some("failed")));
    }
}

/// `n` sends of a code to `phone` at once, spread over `clients`: the
/// answers (all 200: a quota answers with a status).
pub async fn sends(clients: &[Client], phone: &str, n: usize) -> Vec<Value> {
    let body = json!({ "customer_uuid": CUSTOMER, "phone_number": phone });
    race_spread(clients, "/v1/authentication", vec![body; n]).await
}

/// The `status` of each answer.
pub fn statuses(answers: &[Value]) -> Vec<&str> {
    answers
        .iter()
        .map(|a| a["status"].as_str().unwrap_or("?"))
        .collect()
}

/// How many of `statuses` are `status`.
pub fn how_many_of(statuses: &[&str], status: &str) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// The uuids of the answers that created an authentication.
pub fn pending(answers: &[Value]) -> Vec<String> {
    answers
        .iter()
        .filter_map(|a| a["authentication_uuid"].as_str().map(str::to_owned))
        .collect()
}

/// Every code the dev outbox holds for `phone`.
pub async fn outbox_codes(api: &Client, phone: &str) -> Vec<String> {
    let query = phone.replace('+', "%2B");
    let (_, outbox) = api.get(&format!("/dev/outbox?phone_number={query}")).await;
    outbox["messages"]
        .as_array()
        .expect("the outbox")
        .iter()
        .map(|m| {
            let body = m["body"].as_str().unwrap();
            body.rsplit(' ').next().unwrap().to_owned()
        })
        .collect()
}

/// The purge of unverified enrollments, on `db`: none goes within its
/// grace; past it, the unverified ones become tombstones (the API finds no
/// TOTP; the user enrolls again, at a version never used before) and the
/// verified one stays and signs in.
pub async fn purge_of_unverified_enrollments(db: &str) {
    use otpkit_server::store::Store;
    let server = super::Server::start(db);
    let api = server.client();
    api.enroll("idle-1").await;
    api.enroll("idle-2").await;
    let (uri, _) = api.enroll_verified("kept").await;
    let store = Store::connect(db, Some(1)).await.unwrap();
    let now = super::unix_now();
    let day = 86_400;
    let purged = store.purge(now, day, 2 * day).await.unwrap();
    assert_eq!(purged.enrollments, 0, "within the grace");
    let purged = store.purge(now + 3 * day, 10 * day, 2 * day).await.unwrap();
    assert_eq!(purged.enrollments, 2, "past the grace");
    assert_eq!(
        store
            .purge(now + 3 * day, 10 * day, 2 * day)
            .await
            .unwrap()
            .enrollments,
        0
    );
    store.close().await;
    for user in ["idle-1", "idle-2"] {
        let (status, _) = api.get(&format!("/v1/users/{user}/totp")).await;
        assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "{user}");
    }
    let again = api.enroll("idle-1").await;
    let (status, body) = api
        .post(
            "/v1/users/idle-1/totp/attempt_verification",
            json!({ "code": code_at(&again, 0) }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (status, body) = api
        .post(
            "/v1/users/kept/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
    // idle-2's tombstone goes a day after the purge first saw it; it then
    // enrolls above every version a purged tombstone had.
    let before = stored_version(db, "idle-2").await; // its tombstone's
    let store = Store::connect(db, Some(1)).await.unwrap();
    let purged = store
        .purge(now + 10 * day, 20 * day, 20 * day)
        .await
        .unwrap();
    assert_eq!(purged.tombstones, 1, "idle-2's");
    store.close().await;
    api.enroll("idle-2").await;
    assert!(
        stored_version(db, "idle-2").await > before,
        "a version never used"
    );
    server.stop();
}

/// Instances sharing a database purge once an interval between them: the
/// first to claim it at a tick purges; the others, ticking within the
/// interval, skip it; a claim is due again a tenth of the interval early
/// (ticks rounded to the second never skip one); of many claims racing at
/// the same moment exactly one wins; a claim dated ahead by a fast clock
/// holds no one off.
pub async fn one_purge_an_interval(db: &str) {
    use otpkit_server::store::Store;
    let stores = [
        Store::connect(db, Some(2)).await.unwrap(),
        Store::connect(db, Some(2)).await.unwrap(),
    ];
    let [a, b] = &stores;
    let (now, every) = (super::unix_now(), 600);
    assert!(a.claim_purge(now, every).await.unwrap(), "the first claim");
    assert!(!b.claim_purge(now, every).await.unwrap(), "the same tick");
    assert!(!b.claim_purge(now + 300, every).await.unwrap());
    assert!(!a.claim_purge(now + 539, every).await.unwrap(), "early");
    assert!(b.claim_purge(now + 540, every).await.unwrap(), "due");
    // Sixteen claims at once, from both instances: one purge.
    let later = now + 10 * every;
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        racing.spawn(async move { store.claim_purge(later, every).await.unwrap() });
    }
    let won = racing.join_all().await.into_iter().filter(|won| *won);
    assert_eq!(won.count(), 1, "exactly one claim of sixteen");
    // An interval of one second: every tick purges.
    assert!(a.claim_purge(later + 1, 1).await.unwrap());
    assert!(b.claim_purge(later + 1, 1).await.unwrap());
    // A claim from a clock a day fast holds the others off for no longer
    // than an interval of theirs.
    assert!(a.claim_purge(later + 86_400, every).await.unwrap());
    assert!(
        b.claim_purge(later + 2, every).await.unwrap(),
        "from the future"
    );
    assert!(!a.claim_purge(later + 3, every).await.unwrap());
    // A claim given back (its purge failed): the next tick claims.
    b.release_purge(later + 2).await.unwrap();
    assert!(a.claim_purge(later + 4, every).await.unwrap(), "given back");
    // The purge itself: run by one instance an interval.
    let next = later + 10 * every;
    let purged = a.purge_if_due(next, every, 86_400, 86_400).await.unwrap();
    assert!(purged.is_some(), "a's purge");
    let skipped = b
        .purge_if_due(next + 1, every, 86_400, 86_400)
        .await
        .unwrap();
    assert_eq!(skipped, None, "a's purge was b's too");
    // A deleted row is written again by the next claim.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    sqlx::query("DELETE FROM purge_schedule")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(
        b.claim_purge(next + 2, every).await.unwrap(),
        "the row written again"
    );
    assert!(!a.claim_purge(next + 3, every).await.unwrap());
    for store in stores {
        store.close().await;
    }
}

/// The version of `user`'s TOTP row.
async fn stored_version(db: &str, user: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM totp WHERE user_id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    version
}
