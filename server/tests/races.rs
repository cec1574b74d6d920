//! Races through HTTP: 32 clients at once against one server process on
//! one SQLite file. A code is accepted once, every wrong code is counted,
//! a challenge never gives an extra guess. (The same scenarios run on
//! three processes over PostgreSQL in `multi_instance.rs`.)

use crate::support::{Server, scenarios, sqlite};

const CLIENTS: usize = 32;

#[tokio::test(flavor = "multi_thread")]
async fn one_right_totp_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    for trial in 0..3 {
        scenarios::one_totp_code(&[server.client()], &db, &format!("totp-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_backup_code_is_accepted_once_of_32() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    for trial in 0..2 {
        scenarios::one_backup_code(&[server.client()], &format!("backup-{trial}"), CLIENTS).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_wrong_codes_are_all_counted() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    scenarios::wrong_codes(&[server.client()], &db, "guesser", CLIENTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_checks_never_exceed_the_attempts() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    scenarios::ding_checks(&[server.client()], &db, "+14155550101", CLIENTS, false).await;
    for trial in 0..3 {
        let phone = format!("+1415555020{trial}");
        scenarios::ding_checks(&[server.client()], &db, &phone, CLIENTS, true).await;
    }
}
