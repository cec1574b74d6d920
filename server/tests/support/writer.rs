//! What someone who can write the database, or a crash, can do to stored
//! state, written once for any database: the server tests run these on
//! SQLite files, the interop tests on PostgreSQL (several instances where
//! the scenario takes them). Every server here is in production mode:
//! keys from the environment, no `--dev`.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::webhook::{Receiver, check, code_of, database_files, production, readable_in, send};
use super::{Server, code_at, verdict};

/// The stored record of `user`, as the database holds it.
pub async fn row(database: &str, user: &str) -> String {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    let (record,): (String,) = sqlx::query_as("SELECT record FROM totp WHERE user_id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    record
}

/// Writes `record` into `user`'s row, as a writer without the keys can.
pub async fn write_row(database: &str, user: &str, record: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    sqlx::query("UPDATE totp SET record = $1 WHERE user_id = $2")
        .bind(record)
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Mallory's whole row copied over the victim's, her sealed secret alone
/// copied into it, or a field of the victim's row edited in place (the
/// lockout weakened, the failures reset, a used backup code marked
/// unused): each is refused with a 500, never a sign-in. Put back as it
/// was, the row serves again.
pub async fn rows_moved_or_changed_are_refused(db: &str) {
    let server = Server::start_with(db, &[]);
    let api = server.client();
    let (mallory, _) = api.enroll_verified("mallory").await;
    let (victim, backup) = api.enroll_verified("victim").await;
    let (status, _) = api
        .post("/v1/users/victim/verify_totp", json!({ "code": backup[0] }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .post(
            "/v1/users/victim/verify_totp",
            json!({ "code": super::wrong_code(&victim) }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let original = row(db, "victim").await; // one backup code used, one failure
    let verify = |code: String| {
        let api = api.clone();
        async move {
            api.post("/v1/users/victim/verify_totp", json!({ "code": code }))
                .await
        }
    };
    let refused = |status: StatusCode, body: &Value, what: &str| {
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
        assert!(body.to_string().contains("internal"), "{what}: {body}");
    };

    // Mallory's whole row over the victim's: her codes do not sign in as
    // the victim.
    let mallorys = row(db, "mallory").await;
    write_row(db, "victim", &mallorys).await;
    let (status, body) = verify(code_at(&mallory, 1)).await;
    refused(status, &body, "Mallory's row");

    // Her sealed secret alone in the victim's row.
    let mut moved: Value = serde_json::from_str(&original).unwrap();
    let theirs: Value = serde_json::from_str(&mallorys).unwrap();
    moved["secret"] = theirs["secret"].clone();
    write_row(db, "victim", &moved.to_string()).await;
    let (status, body) = verify(code_at(&mallory, 1)).await;
    refused(status, &body, "Mallory's sealed secret");

    // The victim's own row, one field edited in place.
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 3] = [
        ("a weakened lockout", |r| {
            r["lockout"] =
                json!({"free_failures": 20, "cooldown": 1, "max_lock": 1, "quiet_period": 2});
        }),
        ("failures reset", |r| r["failures"] = json!(0)),
        ("a used backup code unused", |r| {
            for code in r["backup_codes"]["codes"].as_array_mut().unwrap() {
                code["used"] = json!(false);
            }
        }),
    ];
    for (what, edit) in edits {
        let mut edited: Value = serde_json::from_str(&original).unwrap();
        edit(&mut edited);
        assert_ne!(
            edited.to_string(),
            original,
            "{what}: the edit changes the row"
        );
        write_row(db, "victim", &edited.to_string()).await;
        let (status, body) = verify(backup[0].clone()).await;
        refused(status, &body, what);
    }
    assert!(server.logs_any(&["another account's", "does not open"]));

    // Put back as it was, it serves again (and the used code stays used).
    write_row(db, "victim", &original).await;
    let (status, body) = verify(backup[0].clone()).await;
    assert_eq!(verdict(status, &body)["reason"], json!("used"), "{body}");
    let (status, body) = verify(code_at(&victim, 1)).await;
    assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
    server.stop();
}

/// A first verification in flight (its ten backup codes being made) while
/// the enrollment is deleted and created again, `trials` times, the
/// deletion and creation sent to another instance than the verification
/// when there are several: the new enrollment is always left unverified
/// (the old request's compare-and-set never lands on it), and its own
/// code verifies it.
pub async fn in_flight_verifications_never_land_on_a_re_created_enrollment(
    servers: &[Server],
    trials: usize,
) {
    let (first, other) = (servers[0].client(), servers[servers.len() - 1].client());
    for trial in 0..trials {
        let user = format!("aba-{trial}");
        let old = first.enroll(&user).await;
        let path = format!("/v1/users/{user}/totp/attempt_verification");
        let in_flight = {
            let (api, path) = (first.clone(), path.clone());
            let body = json!({ "code": code_at(&old, 0) });
            tokio::spawn(async move { api.post(&path, body).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (status, _) = other
            .send("DELETE", &format!("/v1/users/{user}/totp"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let new = other.enroll(&user).await;
        assert_ne!(new.secret(), old.secret());
        let _ = in_flight.await.unwrap();
        let (_, read) = other.get(&format!("/v1/users/{user}/totp")).await;
        assert_eq!(
            read["verified"],
            json!(false),
            "trial {trial}: the old request's save landed on the new enrollment"
        );
        let (status, body) = first.post(&path, json!({ "code": code_at(&new, 0) })).await;
        assert_eq!(status, StatusCode::OK, "trial {trial}: {body}");
    }
}

/// A send through the webhook: the receiver has the signed message before
/// the answer, its code checks, and after the server stops no file of the
/// database holds the code or the text; the same search does find the
/// code a `--dev` server on `dev_db` keeps in its outbox (so it can fail).
pub async fn a_sent_code_is_nowhere_in_the_database_files(db: &str, dev_db: &str) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let server = production(db, &url);
    let api = server.client();
    let (status, created) = send(&api, "+14155550600").await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["status"], json!("pending"), "{created}");
    let uuid = created["authentication_uuid"].as_str().unwrap();
    // Sent before the answer: the receiver has it already.
    let got = receiver.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["to"], json!("+14155550600"));
    let code = code_of(&got[0]);
    assert_eq!(check(&api, uuid, &code).await["status"], json!("valid"));
    // No dev outbox without --dev.
    let (status, _) = api.get("/dev/outbox?phone_number=%2B14155550600").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop();
    assert!(
        !readable_in(&database_files(db).await, &code),
        "the SMS code is readable at rest"
    );
    // The search finds a code kept in clear: the --dev outbox's.
    let dev = Server::start(dev_db);
    let (_, shown) = dev.client().authenticate("+14155550600").await;
    dev.stop();
    assert!(
        readable_in(&database_files(dev_db).await, &shown),
        "the search sees a code in clear"
    );
}

/// With the receiver failing, three sends succeed (each message kept,
/// sealed, retried; no retry of the user's spent) and a retry fails too;
/// the servers stop; the receiver comes back and `instances` servers
/// start on the database: each message arrives exactly once (distinct
/// ids, no duplicate 2.5 s later, whichever instance's worker took it),
/// each code checks valid, and none is readable in the database files.
pub async fn messages_a_failing_receiver_missed_arrive_once_after_a_restart(
    db: &str,
    instances: usize,
) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    *receiver.failing.lock().unwrap() = true;
    let server = production(db, &url);
    let api = server.client();
    let phones = ["+14155550601", "+14155550602", "+14155550603"];
    let mut uuids = Vec::new();
    for phone in phones {
        let (status, created) = send(&api, phone).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        uuids.push(created["authentication_uuid"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a retry fails too
    server.stop();
    assert!(receiver.messages().is_empty());
    // Back up, and the servers too: every message comes, once.
    *receiver.failing.lock().unwrap() = false;
    let servers: Vec<Server> = (0..instances).map(|_| production(db, &url)).collect();
    let got = receiver.wait_for(phones.len()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // room for a duplicate
    let got_after = receiver.messages();
    assert_eq!(got_after.len(), phones.len(), "exactly once: {got_after:?}");
    let mut ids: Vec<&str> = got.iter().map(|m| m["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), phones.len());
    // Each code checks against its own authentication.
    for (n, (phone, uuid)) in phones.iter().zip(&uuids).enumerate() {
        let api = servers[n % servers.len()].client();
        let message = got.iter().find(|m| m["to"] == json!(phone)).unwrap();
        let code = code_of(message);
        assert_eq!(check(&api, uuid, &code).await["status"], json!("valid"));
    }
    for server in servers {
        server.stop();
    }
    let files = database_files(db).await;
    for code in got.iter().map(code_of) {
        assert!(
            !readable_in(&files, &code),
            "the SMS code is readable at rest"
        );
    }
}

/// Rotation while serving: `instances` servers on `new,old` take a load of
/// verifications from 24 client addresses (every one a write racing
/// `rekey`'s compare-and-sets) while `rekey` runs; then `keys` counts no
/// row on the old key, and a server with the new key alone signs every
/// user in.
pub async fn rekey_under_load_leaves_nothing_on_the_old_key(db: &str, instances: usize) {
    use super::{SEALING_KEYS, wrong_code};
    let new_key =
        "otpkit-key:v1:next:202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    let both = format!("{new_key},{SEALING_KEYS}");
    let server = Server::start_with(db, &[]);
    let api = server.client();
    let mut users = Vec::new();
    for n in 0..24 {
        let user = format!("load-{n}");
        let (uri, backup) = api.enroll_verified(&user).await;
        users.push((user, uri, backup));
    }
    server.stop();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let command = |args: &[&str], keys: &str| {
        let mut command = Server::command(db, args);
        command
            .env("OTPKIT_SEALING_KEYS", keys)
            .env("OTPKIT_SMS_WEBHOOK_KEY", super::webhook::WEBHOOK_KEY)
            .stdout(std::process::Stdio::piped());
        command
    };
    let before = command(&["keys"], &both).output().unwrap();
    let said = String::from_utf8_lossy(&before.stdout).into_owned();
    assert!(said.contains("key test: 24 TOTP records"), "{said}");
    assert!(said.contains("24 records need rekey"), "{said}");

    let servers: Vec<Server> = (0..instances)
        .map(|_| Server::spawn(command(&["--sms-webhook", &url], &both), db))
        .collect();
    let load: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, (user, uri, _))| {
            let api = servers[n % instances].client_at(u8::try_from(n + 2).unwrap());
            let (path, uri) = (format!("/v1/users/{user}/verify_totp"), uri.clone());
            tokio::spawn(async move {
                for _ in 0..2 {
                    let (status, _) = api.post(&path, json!({ "code": wrong_code(&uri) })).await;
                    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
                }
                let (status, body) = api.post(&path, json!({ "code": code_at(&uri, 1) })).await;
                assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
            })
        })
        .collect();
    let mut rekey = command(&["rekey"], &both);
    let rekeyed = tokio::task::spawn_blocking(move || rekey.output().unwrap())
        .await
        .unwrap();
    for task in load {
        task.await.unwrap();
    }
    assert!(
        rekeyed.status.success(),
        "{}",
        String::from_utf8_lossy(&rekeyed.stderr)
    );
    // A Ding authentication made now is tagged with the new key.
    let (status, body) = send(&servers[0].client(), "+14155550900").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for server in servers {
        server.stop();
    }

    let after = command(&["keys"], &both).output().unwrap();
    let said = String::from_utf8_lossy(&after.stdout).into_owned();
    assert!(said.contains("key next: 24 TOTP records"), "{said}");
    assert!(said.contains("key next: 1 Ding authentications"), "{said}");
    assert!(!said.contains("key test"), "{said}");
    assert!(said.ends_with("0 records need rekey\n"), "{said}");

    // The old key dropped: every record opens, every user signs in.
    let server = Server::spawn(command(&[], new_key), db);
    let api = server.client();
    for (user, _, backup) in &users {
        let (status, body) = api
            .post(
                &format!("/v1/users/{user}/verify_totp"),
                json!({ "code": backup[0] }),
            )
            .await;
        assert_eq!(
            verdict(status, &body)["code_type"],
            json!("backup_code"),
            "{body}"
        );
    }
    server.stop();
}
