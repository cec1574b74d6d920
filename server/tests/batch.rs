//! Batched writes: many requests' compare-and-sets commit in one
//! transaction, and a batch that fails is rolled back whole, with no
//! request in it answered as saved.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Server, sqlite, stored_record, wrong_code};

/// A trigger that makes every update of one user's row fail, as a full
/// disk or a lost connection would fail a commit.
async fn poison(database: &str, user: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER poison BEFORE UPDATE ON totp WHEN OLD.user_id = '{user}' \
         BEGIN SELECT RAISE(ABORT, 'injected: this row cannot be written'); END"
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_batch_answers_none_of_its_requests_as_saved() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let users: Vec<String> = (0..31)
        .map(|i| format!("user-{i}"))
        .chain(["poison".to_owned()])
        .collect();
    let mut codes = BTreeMap::new();
    for user in &users {
        let (uri, _) = api.enroll_verified(user).await;
        codes.insert(user.clone(), wrong_code(&uri));
    }
    poison(&db, "poison").await;

    // Six rounds: every user sends one wrong code, all at once. A wrong
    // code is saved as a failure (the sixth locks), so each answer says
    // whether its write committed: 422 it did, 500 it did not.
    let mut told = BTreeMap::<String, u64>::new();
    let mut failed_beside_the_poison = 0;
    for round in 0..6u8 {
        // Each round from another address: one client's wrong codes are
        // throttled before they could lock a user.
        let api = server.client_at(10 + round);
        let barrier = Arc::new(tokio::sync::Barrier::new(users.len()));
        let tasks: Vec<_> = users
            .iter()
            .map(|user| {
                let (api, barrier, user) = (api.clone(), Arc::clone(&barrier), user.clone());
                let body = json!({ "code": codes[&user] });
                tokio::spawn(async move {
                    barrier.wait().await;
                    let path = format!("/v1/users/{user}/verify_totp");
                    let (status, body) = api.post(&path, body).await;
                    (user, status, body)
                })
            })
            .collect();
        for task in tasks {
            let (user, status, body) = task.await.unwrap();
            match status {
                StatusCode::UNPROCESSABLE_ENTITY => {
                    assert_ne!(user, "poison", "the poisoned row was answered as saved");
                    assert_eq!(body["errors"][0]["meta"]["reason"], json!("invalid"));
                    *told.entry(user).or_default() += 1;
                }
                StatusCode::INTERNAL_SERVER_ERROR => {
                    if user != "poison" {
                        failed_beside_the_poison += 1;
                    }
                }
                other => panic!("{user}: {other} {body}"),
            }
        }
    }
    // Exactly the failures the clients were told of are stored: a write in
    // a failed batch was not saved, one answered 422 was.
    for user in &users {
        let stored = stored_record(&db, user).await;
        let expected = told.get(user).copied().unwrap_or(0);
        assert_eq!(
            stored["failures"].as_u64(),
            Some(expected),
            "{user}: {stored}"
        );
    }
    // And batching happened: some requests shared the poison's batch.
    assert!(
        failed_beside_the_poison > 0,
        "no request ever shared a batch with the poisoned one"
    );
    assert!(
        server
            .log()
            .contains("a batch of writes failed; none was saved")
    );
    server.stop();
}

/// Batched loads: hundreds of concurrent loads of thirty rows (each asked
/// many times), of a missing row and of a tombstone, each answered with
/// its own row, in fewer statements than loads.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_loads_are_read_together_and_each_gets_its_own_row() {
    use otpkit_server::store::{Store, Table, statements_sent};

    let (_dir, db) = sqlite();
    let store = Store::connect(&db, None)
        .await
        .unwrap()
        .with_write_batches(64);
    for i in 0..30 {
        assert!(
            store
                .insert_totp(&format!("user-{i}"), &format!("{{\"n\":{i}}}"))
                .await
                .unwrap()
        );
    }
    let gone = store.load(Table::Totp, "user-29").await.unwrap().unwrap();
    assert!(
        store
            .compare_and_delete(Table::Totp, "user-29", gone.version)
            .await
            .unwrap()
    );

    let before = statements_sent();
    let loads: Vec<_> = (0..300)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = if n % 50 == 7 {
                    "nobody".to_owned()
                } else {
                    format!("user-{}", n % 30)
                };
                (key.clone(), store.load(Table::Totp, &key).await.unwrap())
            })
        })
        .collect();
    for load in loads {
        let (key, row) = load.await.unwrap();
        match key.as_str() {
            "nobody" | "user-29" => assert!(row.is_none(), "{key}"),
            _ => {
                let n: usize = key["user-".len()..].parse().unwrap();
                let row = row.unwrap_or_else(|| panic!("{key} has a row"));
                assert_eq!(row.json, format!("{{\"n\":{n}}}"));
                assert_eq!(row.version, 1);
            }
        }
    }
    let statements = statements_sent() - before;
    assert!(statements < 300, "{statements} statements for 300 loads");
}
