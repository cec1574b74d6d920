//! Races through HTTP: 32 clients at once (each from its own loopback
//! address, so no per-client limit applies) against one server process on
//! one SQLite file. A code is accepted once, every wrong code is counted,
//! a challenge never gives an extra guess. (The same scenarios run on
//! three processes over PostgreSQL in `multi_instance.rs`.)

use crate::support::{Server, many_clients, scenarios, sqlite};

const CLIENTS: usize = 32;

#[tokio::test(flavor = "multi_thread")]
async fn one_right_totp_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let clients = many_clients(std::slice::from_ref(&server), CLIENTS);
    for trial in 0..3 {
        scenarios::one_totp_code(&clients, &db, &format!("totp-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_first_code_verifies_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let clients = many_clients(std::slice::from_ref(&server), CLIENTS);
    for trial in 0..2 {
        scenarios::one_first_code(&clients, &format!("first-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_backup_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    // A hashing queue for all 32: this race is about exactly-once, not
    // the queue (see limits.rs for that).
    let server = Server::start_with(&db, &["--dev", "--hash-queue", "64"]);
    let clients = many_clients(std::slice::from_ref(&server), CLIENTS);
    for trial in 0..2 {
        scenarios::one_backup_code(&clients, &format!("backup-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_wrong_codes_are_all_counted() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let clients = many_clients(std::slice::from_ref(&server), CLIENTS);
    scenarios::wrong_codes(&clients, &db, "guesser", CLIENTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_checks_never_exceed_the_attempts() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let clients = many_clients(std::slice::from_ref(&server), CLIENTS);
    scenarios::ding_checks(&clients, &db, "+14155550101", CLIENTS, false).await;
    for trial in 0..3 {
        let phone = format!("+1415555020{trial}");
        scenarios::ding_checks(&clients, &db, &phone, CLIENTS, true).await;
    }
}

/// The ABA race, five times, in production mode: a first verification is
/// in flight (its ten new backup codes being made, milliseconds), the TOTP
/// is deleted and created again meanwhile. The old request's save must not
/// land on the new enrollment: versions never restart, so its
/// compare-and-set fails and it runs again on the new record, where the
/// old secret's code is wrong. (PostgreSQL's run, across instances, is in
/// the interop tests.)
#[tokio::test(flavor = "multi_thread")]
async fn a_verification_in_flight_never_lands_on_a_re_created_enrollment() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
    crate::support::writer::in_flight_verifications_never_land_on_a_re_created_enrollment(
        std::slice::from_ref(&server),
        5,
    )
    .await;
    server.stop();
}
