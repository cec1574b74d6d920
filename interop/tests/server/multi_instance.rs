//! Three server processes on one PostgreSQL database, requests spread
//! round-robin: a code is accepted once across instances, every failure is
//! counted, a challenge never gives an extra guess, and an instance killed
//! mid-flow leaves nothing half-written.
//!
//! Needs `OTPKIT_TEST_POSTGRES` (set by `.ci/test`, which starts a
//! throwaway cluster); each test gets its own database.

use crate::server_support::{
    CUSTOMER, Client, Server, many_clients, postgres, scenarios, stored_record, verdict, writer,
    wrong_code,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENTS: usize = 48;
const INSTANCES: usize = 3;

fn start(database: &str) -> (Vec<Server>, Vec<Client>) {
    // Hashing queues for every request: these races are about
    // exactly-once across instances, not the queue.
    let servers: Vec<Server> = (0..INSTANCES)
        .map(|_| Server::start_with(database, &["--dev", "--hash-queue", "64"]))
        .collect();
    // Client i is on instance i % 3, from its own loopback address.
    let clients = many_clients(&servers, CLIENTS);
    (servers, clients)
}

fn reasons(answers: &[Value]) -> Vec<&str> {
    answers
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_code_is_accepted_once_across_instances() {
    let db = postgres().await;
    let (_servers, clients) = start(&db);
    for trial in 0..2 {
        scenarios::one_totp_code(&clients, &db, &format!("totp-{trial}"), CLIENTS).await;
        scenarios::one_backup_code(&clients, &format!("backup-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_codes_on_all_instances_are_all_counted() {
    let db = postgres().await;
    let (_servers, clients) = start(&db);
    scenarios::wrong_codes(&clients, &db, "guesser", CLIENTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ding_checks_across_instances_never_exceed_the_attempts() {
    let db = postgres().await;
    let (_servers, clients) = start(&db);
    scenarios::ding_checks(&clients, &db, "+14155550300", CLIENTS, false).await;
    for trial in 1..3 {
        let phone = format!("+1415555030{trial}");
        scenarios::ding_checks(&clients, &db, &phone, CLIENTS, true).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_killed_mid_flow_loses_nothing() {
    let db = postgres().await;
    let (mut servers, clients) = start(&db);
    let (uri, backup) = clients[0].enroll_verified("carol").await;
    let (uuid, sms) = clients[1].authenticate("+14155550400").await;

    // Wrong codes on all three; instance 0 is SIGKILLed while they fly.
    let wrong = wrong_code(&uri);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let api = clients[i % INSTANCES].clone();
            let body = json!({ "code": wrong });
            tokio::spawn(async move {
                api.send("POST", "/v1/users/carol/verify_totp", Some(body))
                    .await
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    servers.remove(0).kill();
    let mut answered = Vec::new();
    for task in tasks {
        // Answered (a 4xx Clerk error for each wrong code), or cut off.
        if let Ok((status, body)) = task.await
            && (status.is_success() || status.is_client_error())
        {
            answered.push(verdict(status, &body));
        }
    }
    // The survivors answered everything sent to them.
    assert!(
        answered.len() >= CLIENTS * 2 / 3,
        "{} answers",
        answered.len()
    );
    let stored = stored_record(&db, "carol").await;
    let failures = stored["failures"].as_u64().unwrap();
    let invalid = reasons(&answered)
        .iter()
        .filter(|r| **r == "invalid")
        .count() as u64;
    // Every failure a client was told of is stored (a killed instance may
    // have saved one it could not report).
    assert!(
        invalid <= failures && failures <= 6,
        "{failures} stored, {invalid} told"
    );

    // The others go on: the SMS code checks once, on either survivor.
    let check =
        json!({ "authentication_uuid": uuid, "check_code": sms, "customer_uuid": CUSTOMER });
    let (_, body) = clients[1].post("/v1/check", check.clone()).await;
    assert_eq!(body["status"], json!("valid"));
    let (_, body) = clients[2].post("/v1/check", check.clone()).await;
    assert_eq!(body["status"], json!("already_validated"));

    // A restarted instance sees everything.
    let restarted = Server::start(&db);
    let api = restarted.client();
    let (_, body) = api.post("/v1/check", check).await;
    assert_eq!(body["status"], json!("already_validated"));
    let (status, body) = api.get("/v1/users/carol/totp").await;
    assert_eq!(
        (status, body["verified"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, body) = api
        .post("/v1/users/carol/verify_totp", json!({ "code": backup[0] }))
        .await;
    // A backup code works whether or not the wrong TOTP codes locked the
    // TOTP (its own budget), and resets the failures.
    assert_eq!(
        verdict(status, &body)["code_type"],
        json!("backup_code"),
        "{body}"
    );
    assert_eq!(stored_record(&db, "carol").await["failures"], json!(0));
}

/// SMS pumping across instances: 50 sends at once to one number, spread
/// over three instances, deliver at most the number's hourly quota (5),
/// because the quota is counted in the database they share.
#[tokio::test(flavor = "multi_thread")]
async fn fifty_sends_to_one_number_across_instances_deliver_at_most_the_quota() {
    let db = postgres().await;
    let (_servers, clients) = start(&db);
    let answers = scenarios::sends(&clients, "+14155550900", 50).await;
    let statuses = scenarios::statuses(&answers);
    assert_eq!(
        scenarios::how_many_of(&statuses, "pending"),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        scenarios::how_many_of(&statuses, "rate_limited"),
        45,
        "{statuses:?}"
    );
    let delivered = scenarios::outbox_codes(&clients[0], "+14155550900").await;
    assert_eq!(delivered.len(), 5, "{delivered:?}");
}

/// The purge's JSON query on PostgreSQL (its own syntax): unverified
/// enrollments past their grace become tombstones, verified ones stay.
#[tokio::test(flavor = "multi_thread")]
async fn unverified_enrollments_past_their_grace_are_purged_on_postgres() {
    let db = postgres().await;
    scenarios::purge_of_unverified_enrollments(&db).await;
}

/// The purge's claim on PostgreSQL: one purge an interval for all the
/// instances, exactly one winner of claims racing.
#[tokio::test(flavor = "multi_thread")]
async fn instances_purge_once_an_interval_on_postgres() {
    let db = postgres().await;
    scenarios::one_purge_an_interval(&db).await;
}

/// A database writer without the keys, on PostgreSQL: a row copied from
/// another user (whole, or its sealed secret alone) or edited in place is
/// refused, never a sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn rows_moved_or_changed_by_a_writer_are_refused_on_postgres() {
    let db = postgres().await;
    writer::rows_moved_or_changed_are_refused(&db).await;
}

/// The delete / re-create race, eight times, across instances: the
/// verification in flight on one, the deletion and re-creation on another.
#[tokio::test(flavor = "multi_thread")]
async fn in_flight_verifications_never_land_on_a_re_created_enrollment_on_postgres() {
    let db = postgres().await;
    let servers: Vec<Server> = (0..INSTANCES)
        .map(|_| Server::start_with(&db, &[]))
        .collect();
    writer::in_flight_verifications_never_land_on_a_re_created_enrollment(&servers, 8).await;
    for server in servers {
        server.stop();
    }
}

/// After a send, no file of the PostgreSQL cluster holds the SMS code
/// (the search does find a `--dev` outbox's).
#[tokio::test(flavor = "multi_thread")]
async fn a_sent_code_is_nowhere_in_the_postgres_files() {
    let (db, dev_db) = (postgres().await, postgres().await);
    writer::a_sent_code_is_nowhere_in_the_database_files(&db, &dev_db).await;
}

/// Messages a failing receiver missed arrive exactly once after a
/// restart, with three instances' retry workers competing for them.
#[tokio::test(flavor = "multi_thread")]
async fn missed_messages_arrive_once_across_three_restarted_instances() {
    let db = postgres().await;
    writer::messages_a_failing_receiver_missed_arrive_once_after_a_restart(&db, INSTANCES).await;
}

/// Key rotation while three instances serve a load of verifications:
/// `rekey` leaves nothing on the old key, which can then be dropped.
#[tokio::test(flavor = "multi_thread")]
async fn rekey_under_load_across_instances_leaves_nothing_on_the_old_key() {
    let db = postgres().await;
    writer::rekey_under_load_leaves_nothing_on_the_old_key(&db, INSTANCES).await;
}
