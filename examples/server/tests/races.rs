//! Races through HTTP: 32 clients at once against one server process on
//! one SQLite file. A code is accepted once, every wrong code is counted,
//! a challenge never gives an extra guess.

mod common;

use common::{
    CUSTOMER, Server, code_at, count, race, sqlite, stored_challenge, stored_record, wrong_code,
};
use serde_json::{Value, json};

const CLIENTS: usize = 32;

fn reasons(answers: &[Value]) -> Vec<&str> {
    answers
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_right_totp_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    for trial in 0..3 {
        let user = format!("totp-race-{trial}");
        let (uri, _) = api.enroll_verified(&user).await;
        let code = code_at(&uri, 1);
        let answers = race(
            &api,
            &format!("/v1/users/{user}/verify_totp"),
            vec![json!({ "code": code }); CLIENTS],
        )
        .await;
        assert_eq!(
            count(&answers, "verified", json!(true)),
            1,
            "trial {trial}: {answers:?}"
        );
        // The others were refused as replays (which count as failures, so
        // the user locks after five of them).
        assert!(
            reasons(&answers)
                .iter()
                .all(|r| *r == "replayed" || *r == "locked"),
            "{answers:?}"
        );
        let stored = stored_record(&db, &user).await;
        assert_eq!(stored["failures"].as_u64(), Some(6), "{stored}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_backup_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    for trial in 0..2 {
        let user = format!("backup-race-{trial}");
        let (_, backup) = api.enroll_verified(&user).await;
        let body = json!({ "code": backup[trial] });
        let answers = race(
            &api,
            &format!("/v1/users/{user}/verify_totp"),
            vec![body; CLIENTS],
        )
        .await;
        assert_eq!(
            count(&answers, "verified", json!(true)),
            1,
            "trial {trial}: {answers:?}"
        );
        assert_eq!(count(&answers, "code_type", json!("backup_code")), 1);
        assert!(
            reasons(&answers)
                .iter()
                .all(|r| *r == "used" || *r == "locked"),
            "{answers:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_wrong_codes_are_all_counted() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();
    let (uri, _) = api.enroll_verified("guesser").await;
    let wrong = wrong_code(&uri);
    let answers = race(
        &api,
        "/v1/users/guesser/verify_totp",
        vec![json!({ "code": wrong }); CLIENTS],
    )
    .await;
    let invalid = reasons(&answers)
        .iter()
        .filter(|r| **r == "invalid")
        .count();
    let locked = reasons(&answers).iter().filter(|r| **r == "locked").count();
    // Five free failures, the sixth locks; every later one is refused
    // unchecked. None is lost: each answer is one of the two.
    assert_eq!((invalid, locked), (6, CLIENTS - 6), "{answers:?}");
    let stored = stored_record(&db, "guesser").await;
    assert_eq!(stored["failures"].as_u64(), Some(6));
    assert!(stored["locked_until"].as_u64().is_some());
    let (_, after) = api
        .post(
            "/v1/users/guesser/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(after["reason"], json!("locked"));
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_checks_never_exceed_the_attempts() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let api = server.client();

    // All wrong: exactly the policy's 5 attempts are counted.
    let (uuid, code) = api.authenticate("+14155550101").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body =
        json!({ "authentication_uuid": uuid, "check_code": wrong, "customer_uuid": CUSTOMER });
    let answers = race(&api, "/v1/check", vec![body; CLIENTS]).await;
    assert_eq!(
        count(&answers, "status", json!("invalid")),
        4,
        "{answers:?}"
    );
    assert_eq!(
        count(&answers, "status", json!("rate_limited")),
        CLIENTS - 4
    );
    let stored = stored_challenge(&db, &uuid).await;
    assert_eq!(
        (stored["attempts"].as_u64(), stored["status"].as_str()),
        (Some(5), Some("failed"))
    );

    // Right and wrong mixed: at most one valid, never a sixth attempt.
    for trial in 0..3 {
        let (uuid, code) = api.authenticate(&format!("+1415555020{trial}")).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let bodies = (0..CLIENTS)
            .map(|i| {
                let guess = if i % 2 == 0 { code.as_str() } else { wrong };
                json!({ "authentication_uuid": uuid, "check_code": guess, "customer_uuid": CUSTOMER })
            })
            .collect();
        let answers = race(&api, "/v1/check", bodies).await;
        let valid = count(&answers, "status", json!("valid"));
        assert!(valid <= 1, "{answers:?}");
        let stored = stored_challenge(&db, &uuid).await;
        assert!(stored["attempts"].as_u64().unwrap() <= 5, "{stored}");
        let verified = stored["status"] == json!("verified");
        assert_eq!(verified, valid == 1, "{stored} {answers:?}");
        if verified {
            assert_eq!(
                count(&answers, "status", json!("already_validated"))
                    + valid
                    + count(&answers, "status", json!("invalid")),
                CLIENTS
            );
        }
    }
}
