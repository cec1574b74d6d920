//! A writer of the database without the keys (an injection elsewhere, a
//! write-capable role, a restored backup): a row copied over another
//! user's, or changed in any field, is refused, never served; rows sealed
//! by otpkit 0.1 are refused until `otpkit-server rekey` binds them. And
//! what only tells of the past (quota windows, sent codes) is purged.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::writer::{self, row, write_row};
use crate::support::{SEALING_KEYS, Server, code_at, sqlite, verdict};

/// The SQLite half of the scenario; PostgreSQL's is in the interop tests.
#[tokio::test(flavor = "multi_thread")]
async fn a_row_copied_over_another_users_or_changed_is_refused() {
    let (_dir, db) = sqlite();
    writer::rows_moved_or_changed_are_refused(&db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_sealed_by_0_1_are_refused_until_rekey_binds_them() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let (uri, _) = server.client().enroll_verified("old").await;
    server.stop();
    // The row as otpkit 0.1 sealed it: version 1, bound to its id only.
    let mut stored: Value = serde_json::from_str(&row(&db, "old").await).unwrap();
    let keyring: otpkit::Keyring = SEALING_KEYS.parse().unwrap();
    let context = format!("totp-record:{}", stored["id"].as_str().unwrap());
    let sealed = keyring.seal(uri.secret(), context.as_bytes()).unwrap();
    stored["version"] = json!(1);
    stored["secret"] = json!(sealed.to_string());
    write_row(&db, "old", &stored.to_string()).await;

    let server = Server::start(&db);
    let (status, _) = server
        .client()
        .post(
            "/v1/users/old/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        server.logs("rekey"),
        "the log says what to do:\n{}",
        server.log()
    );
    server.stop();

    let mut rekey = Server::command(&db, &["rekey"]);
    let output = rekey.stdout(std::process::Stdio::piped()).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("re-sealed 1 records"));

    let server = Server::start(&db);
    let (status, body) = server
        .client()
        .post(
            "/v1/users/old/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
}

/// The purge: quota windows that ended more than a day ago, outbox
/// messages older than a day, queued messages older than an hour and
/// authentications expired more than a day ago go; current ones stay.
#[tokio::test(flavor = "multi_thread")]
async fn the_purge_drops_only_what_tells_of_the_past() {
    let (_dir, db) = sqlite();
    let store = otpkit_server::store::Store::connect(&db, Some(1))
        .await
        .unwrap();
    let now = 1_800_000_000u64;
    let now_i = i64::try_from(now).unwrap();
    for (scope, start) in [
        ("send_phone/day", now_i - 3 * 86_400),
        ("send_phone/day", now_i - 86_400),
        ("send_phone/hour", now_i - 3600),
    ] {
        assert!(
            store
                .take_quota(scope, "+14155550100", start, 5)
                .await
                .unwrap()
        );
    }
    store
        .push_outbox(
            "+14155550100",
            "old code 111111",
            (now_i - 2 * 86_400) * 1000,
        )
        .await
        .unwrap();
    store
        .push_outbox("+14155550100", "new code 222222", (now_i - 60) * 1000)
        .await
        .unwrap();
    // Authentications: one expired two days ago, one an hour ago; each
    // queued with a message (recent: kept), and a message never taken in
    // two hours (its code expired long ago: dropped).
    use otpkit_server::store::{Purged, QueuedMessage};
    let queued = |id: &str, created_at: i64| QueuedMessage {
        id: id.to_owned(),
        sealed: "sealed".to_owned(),
        created_at,
        attempts: 3,
        due_at: created_at,
    };
    for (uuid, expired) in [("old-auth", now - 2 * 86_400), ("recent-auth", now - 3600)] {
        let message = queued(&format!("message-of-{uuid}"), (now_i - 60) * 1000);
        store
            .insert_authentication(uuid, "customer", "+14155550100", "{}", expired, &message)
            .await
            .unwrap();
    }
    store
        .insert_message(&queued("stale", (now_i - 7200) * 1000))
        .await
        .unwrap();
    // Feedback: one given 31 days ago (gone), one yesterday (kept).
    for (uuid, days) in [("old-feedback", 31), ("new-feedback", 1)] {
        let created_at = (now_i - days * 86_400) * 1000;
        let stored = store
            .insert_feedback(uuid, "customer", "+14155550100", uuid, created_at)
            .await
            .unwrap();
        assert!(stored);
    }
    let purged = Purged {
        quotas: 1,
        messages: 2,
        authentications: 1,
        feedback: 1,
        enrollments: 0,
        tombstones: 0,
    };
    assert_eq!(store.purge(now, 86_400, 86_400).await.unwrap(), purged);
    assert_eq!(
        store.purge(now, 86_400, 86_400).await.unwrap(),
        Purged::default()
    );
    let owner = |uuid: &'static str| {
        let store = store.clone();
        async move { store.authentication_owner(uuid).await.unwrap() }
    };
    assert!(owner("old-auth").await.is_none());
    assert!(owner("recent-auth").await.is_some());
    assert_eq!(store.sealed_messages().await.unwrap().len(), 2);
    let left = store.outbox("+14155550100").await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].body.contains("222222"));
    // The day window of yesterday still counts: it was not deleted.
    assert!(
        store
            .take_quota("send_phone/day", "+14155550100", now_i - 86_400, 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_quota("send_phone/day", "+14155550100", now_i - 86_400, 2)
            .await
            .unwrap()
    );
    store.close().await;
}

/// A Ding authentication's row as stored (`{"state", "tag"}`), and its
/// owner columns.
async fn authentication_row(database: &str, uuid: &str) -> (String, String, String) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    let row: (String, String, String) = sqlx::query_as(
        "SELECT challenge, customer_uuid, phone_number FROM authentications WHERE uuid = $1",
    )
    .bind(uuid)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    row
}

async fn write_authentication(database: &str, uuid: &str, row: &(String, String, String)) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    sqlx::query(
        "UPDATE authentications SET challenge = $1, customer_uuid = $2, phone_number = $3 \
         WHERE uuid = $4",
    )
    .bind(&row.0)
    .bind(&row.1)
    .bind(&row.2)
    .bind(uuid)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// A writer without the keys resets an authentication's attempts, copies
/// another authentication's row over it, or points its phone number or
/// customer elsewhere: each is refused (a 500, logged), never a fresh
/// guess or a code sent to another phone; the original row serves again.
#[tokio::test(flavor = "multi_thread")]
async fn an_authentication_changed_or_moved_by_a_writer_is_refused() {
    use crate::support::CUSTOMER;
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let (uuid, code) = api.authenticate("+14155550800").await;
    let (other, _) = api.authenticate("+14155550801").await;
    let check = |code: &str| json!({ "customer_uuid": CUSTOMER, "authentication_uuid": uuid, "check_code": code });
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        let (status, body) = api.post("/v1/check", check(wrong)).await;
        assert_eq!(
            (status, body["status"].clone()),
            (StatusCode::OK, json!("invalid"))
        );
    }
    let original = authentication_row(&db, &uuid).await;
    let (copied, _, _) = authentication_row(&db, &other).await;

    // The attempts reset to 0 inside the state, the tag kept.
    let mut stored: Value = serde_json::from_str(&original.0).unwrap();
    let mut state: Value = serde_json::from_str(stored["state"].as_str().unwrap()).unwrap();
    assert_eq!(state["challenge"]["attempts"], json!(2), "{state}");
    state["challenge"]["attempts"] = json!(0);
    stored["state"] = json!(state.to_string());
    let reset = (stored.to_string(), original.1.clone(), original.2.clone());
    // Another authentication's whole row; the columns moved elsewhere.
    let moved = (copied, original.1.clone(), original.2.clone());
    let rephoned = (
        original.0.clone(),
        original.1.clone(),
        "+14155550899".to_owned(),
    );
    let recustomered = (
        original.0.clone(),
        "00000000-0000-4000-8000-000000000001".to_owned(),
        original.2.clone(),
    );
    for (what, row) in [
        ("reset", &reset),
        ("copied", &moved),
        ("rephoned", &rephoned),
    ] {
        write_authentication(&db, &uuid, row).await;
        let (status, body) = api.post("/v1/check", check(&code)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
        let retry = json!({ "customer_uuid": CUSTOMER, "authentication_uuid": uuid });
        let (status, body) = api.post("/v1/retry", retry).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
    }
    let (status, outbox) = api.get("/dev/outbox?phone_number=%2B14155550899").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        outbox["messages"],
        json!([]),
        "no code went to the writer's phone"
    );
    write_authentication(&db, &uuid, &recustomered).await;
    let moved_check = json!({
        "customer_uuid": recustomered.1,
        "authentication_uuid": uuid,
        "check_code": code,
    });
    let (status, body) = api.post("/v1/check", moved_check).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(server.logs("a row was changed"), "{}", server.log());

    // Put back: the code checks, with the attempts it really has left.
    write_authentication(&db, &uuid, &original).await;
    let (status, body) = api.post("/v1/check", check(&code)).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("valid")),
        "{body}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn unverified_enrollments_past_their_grace_are_purged() {
    let (_dir, db) = sqlite();
    crate::support::scenarios::purge_of_unverified_enrollments(&db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_sharing_a_database_purge_once_an_interval() {
    let (_dir, db) = sqlite();
    crate::support::scenarios::one_purge_an_interval(&db).await;
}

/// A deleted TOTP leaves a tombstone (its version kept, so nothing in
/// flight can save over a new enrollment); the purge dates it when it
/// first sees it and deletes it a day later, not before. A tombstone
/// filled again and emptied again is dated anew. Once tombstones are gone,
/// a new enrollment starts above the highest version they had: no (user,
/// version) pair is used twice.
#[tokio::test(flavor = "multi_thread")]
async fn tombstones_go_a_day_after_the_purge_first_sees_them() {
    use otpkit_server::store::{Store, TOMBSTONE_KEEP};
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    let api = server.client();
    for user in ["gone", "back"] {
        api.enroll_verified(user).await;
        let (status, _) = api
            .send("DELETE", &format!("/v1/users/{user}/totp"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let rows = || async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db).await.unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT user_id, version FROM totp ORDER BY user_id")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows
    };
    assert_eq!(rows().await.len(), 2, "two tombstones");
    let store = Store::connect(&db, Some(1)).await.unwrap();
    let now = crate::support::unix_now();
    let keep = u64::try_from(TOMBSTONE_KEEP).unwrap();
    assert_eq!(
        store.purge(now, 86_400, 86_400).await.unwrap().tombstones,
        0
    );
    // "back" enrolls again (its tombstone filled, at its next version) and
    // is deleted again: its tombstone is new.
    api.enroll("back").await;
    let (status, _) = api.send("DELETE", "/v1/users/back/totp", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        store
            .purge(now + keep - 60, 86_400, 86_400)
            .await
            .unwrap()
            .tombstones,
        0,
        "within the day"
    );
    let later = now + keep + 60;
    assert_eq!(
        store.purge(later, 86_400, 86_400).await.unwrap().tombstones,
        1
    );
    assert_eq!(
        rows().await,
        vec![("back".to_owned(), 5)],
        "only the new one is left"
    );
    assert_eq!(
        store
            .purge(later + keep, 86_400, 86_400)
            .await
            .unwrap()
            .tombstones,
        1
    );
    store.close().await;
    assert!(rows().await.is_empty());
    // A user whose tombstone went enrolls again above every version a
    // purged tombstone had ("back" reached 5).
    let uri = api.enroll("gone").await;
    assert_eq!(rows().await, vec![("gone".to_owned(), 6)]);
    let (status, body) = api
        .post(
            "/v1/users/gone/totp/attempt_verification",
            json!({ "code": code_at(&uri, 0) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop();
}
