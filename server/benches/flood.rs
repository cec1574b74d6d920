//! Flood: 16 clients (127.0.0.2 … 127.0.0.17) send wrong backup codes at
//! distinct users as fast as they can, each one's hash ~10 ms of CPU, while
//! one more client (127.0.0.100) makes cheap requests (`verify_totp` with
//! a user's TOTP code: one HMAC). Reports the cheap requests' p50/p99, the
//! flood's answered and refused (429) rates and the hashes per second,
//! for the server as configured by default (hashing on the cores but one,
//! a short queue) and, in the same run, with hashing on every core and a
//! queue of 10 000 (nothing refused), and optionally a baseline build
//! (before the gate, every request hashed on its own blocking thread).
//!
//! ```sh
//! cargo bench -p otpkit-server --bench flood
//! ```
//! Settings (environment): `OTPKIT_BENCH_SECONDS` per run (default 10),
//! `OTPKIT_BENCH_REPEAT` (runs per row, default 3, interleaved: the median
//! by cheap p99 is shown), `OTPKIT_BENCH_BASELINE` (another build of
//! `otpkit-server`, say the last release's, run the same way as a third
//! row; a build without `/metrics` shows no hash count).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otpkit::backup::BackupCodeOptions;
use otpkit::{BackupCodeSet, Keyring, Pepper, Secret, Totp, TotpRecord};

#[path = "common/stored_form.rs"]
mod stored_form;
#[path = "../tests/support/mod.rs"]
mod support;
use stored_form::{Form, form_of, stored_for};

/// The binary the launcher starts: this package's, built for the bench.
const SERVER_BIN: &str = env!("CARGO_BIN_EXE_otpkit-server");

use support::{API_KEY, PEPPER, SEALING_KEYS, Server};

const FLOODERS: u8 = 16;
/// Users the flood cycles through: more than it can lock in a run.
const USERS: usize = 20_000;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Seeds `USERS` verified records, all with one set of backup codes
/// (hashed once: the set is data, and the flood's codes are wrong anyway).
async fn seed(database: &str, binary: &str, form: Form) -> Vec<Totp> {
    // Migrated by the build under test (a baseline may know fewer
    // migrations than this build).
    // (Killed, not stopped: its migrations committed before it listened.)
    Server::spawn(Server::command_of(binary, database, &[]), database).kill();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    let keyring: Keyring = SEALING_KEYS.parse().unwrap();
    let pepper = Pepper::new(PEPPER.as_bytes()).unwrap();
    let (_, set) = BackupCodeSet::generate(&BackupCodeOptions::default(), &pepper, now()).unwrap();
    let options = stored_form::seed_options();
    let mut transaction = pool.begin().await.unwrap();
    let mut totps = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let user = format!("user-{i}");
        let record = TotpRecord::import("bench", &user, Secret::generate(), &options, None, now())
            .unwrap()
            .with_backup_codes(set.clone())
            .unwrap();
        let json = stored_for(form, &record, &keyring);
        sqlx::query("INSERT INTO totp (user_id, version, record) VALUES ($1, 1, $2)")
            .bind(&user)
            .bind(&json)
            .execute(&mut *transaction)
            .await
            .unwrap();
        totps.push(record.totp().clone());
    }
    transaction.commit().await.unwrap();
    pool.close().await;
    totps
}

struct Run {
    cheap: Vec<Duration>,
    flood_answered: usize,
    flood_refused: usize,
    hashes: Option<u64>,
    seconds: f64,
}

impl Run {
    fn cheap_percentile(&self, p: f64) -> Duration {
        let i = ((self.cheap.len() as f64 - 1.0) * p).round() as usize;
        self.cheap[i]
    }
}

fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

/// The server's hash count; `None` for a build without `/metrics`.
async fn hashes(base: &str) -> Option<u64> {
    let text = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("otpkit_backup_code_hashes_total "))
        .map(|n| n.parse().unwrap())
}

async fn flood(base: &str, totps: Arc<Vec<Totp>>, seconds: u64) -> Run {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let next_user = Arc::new(AtomicUsize::new(0));
    let before = hashes(base).await;
    let started = Instant::now();
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|i| {
            let (http, next_user, base) =
                (client_from(2 + i), Arc::clone(&next_user), base.to_owned());
            tokio::spawn(async move {
                let (mut answered, mut refused) = (0, 0);
                while Instant::now() < deadline {
                    let user = next_user.fetch_add(1, Ordering::Relaxed) % USERS;
                    let response = http
                        .post(format!("{base}/v1/users/user-{user}/verify_totp"))
                        .bearer_auth(API_KEY)
                        .json(&serde_json::json!({ "code": "2345-6789-ab" }))
                        .send()
                        .await
                        .expect("an answer");
                    match response.status().as_u16() {
                        429 => refused += 1,
                        _ => answered += 1,
                    }
                    let _ = response.bytes().await;
                }
                (answered, refused)
            })
        })
        .collect();
    let cheap = {
        let (http, base, totps) = (client_from(100), base.to_owned(), Arc::clone(&totps));
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut user = USERS / 2;
            while Instant::now() < deadline {
                user = (user + 1) % USERS;
                let code = totps[user].generate_at(now()).unwrap().to_string();
                let sent = Instant::now();
                let response = http
                    .post(format!("{base}/v1/users/user-{user}/verify_totp"))
                    .bearer_auth(API_KEY)
                    .json(&serde_json::json!({ "code": code }))
                    .send()
                    .await
                    .expect("an answer");
                assert_ne!(
                    response.status().as_u16(),
                    429,
                    "a cheap request was refused"
                );
                let _ = response.bytes().await;
                latencies.push(sent.elapsed());
            }
            latencies
        })
    };
    let mut run = Run {
        cheap: cheap.await.unwrap(),
        flood_answered: 0,
        flood_refused: 0,
        hashes: None,
        seconds: 0.0,
    };
    for task in flooders {
        let (answered, refused) = task.await.unwrap();
        run.flood_answered += answered;
        run.flood_refused += refused;
    }
    run.seconds = started.elapsed().as_secs_f64();
    run.hashes = hashes(base)
        .await
        .zip(before)
        .map(|(after, before)| after - before);
    run.cheap.sort();
    run
}

fn main() {
    let seconds = setting("OTPKIT_BENCH_SECONDS", 10) as u64;
    let repeat = setting("OTPKIT_BENCH_REPEAT", 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("flood.db").display());
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let wide = cores.to_string();
    let mut modes: Vec<(&str, String, Vec<&str>)> = vec![
        ("default gate", SERVER_BIN.to_owned(), vec![]),
        (
            "all cores, queue 10 000",
            SERVER_BIN.to_owned(),
            vec!["--hash-concurrency", &wide, "--hash-queue", "10000"],
        ),
    ];
    if let Ok(baseline) = std::env::var("OTPKIT_BENCH_BASELINE") {
        modes.push(("baseline build", baseline, vec![]));
    }
    println!(
        "{FLOODERS} clients flood wrong backup codes at distinct users, one client makes cheap \
         requests; {seconds} s per run, median of {repeat} interleaved runs (by cheap p99), {cores} cores"
    );
    println!(
        "| server | cheap p50 | cheap p99 | cheap req/s | flood answered/s | flood refused (429)/s | hashes/s | runs (cheap p99) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let forms: Vec<Form> = modes
        .iter()
        .map(|(_, binary, _)| form_of(binary, &runtime))
        .collect();
    let mut runs: Vec<Vec<Run>> = modes.iter().map(|_| Vec::new()).collect();
    for _ in 0..repeat {
        for (mode, (_, binary, args)) in modes.iter().enumerate() {
            for file in ["flood.db", "flood.db-wal", "flood.db-shm"] {
                let _ = std::fs::remove_file(dir.path().join(file));
            }
            let totps = Arc::new(runtime.block_on(seed(&database, binary, forms[mode])));
            let server = Server::spawn(Server::command_of(binary, &database, args), &database);
            runs[mode].push(runtime.block_on(flood(&server.base, totps, seconds)));
            server.stop();
        }
    }
    for (mode, runs) in runs.iter_mut().enumerate() {
        runs.sort_by_key(|run| run.cheap_percentile(0.99));
        let all: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.1} ms", r.cheap_percentile(0.99).as_secs_f64() * 1e3))
            .collect();
        let run = &runs[runs.len() / 2];
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.0} | {:.0} | {:.0} | {} | {} |",
            modes[mode].0,
            run.cheap_percentile(0.50).as_secs_f64() * 1e3,
            run.cheap_percentile(0.99).as_secs_f64() * 1e3,
            run.cheap.len() as f64 / run.seconds,
            run.flood_answered as f64 / run.seconds,
            run.flood_refused as f64 / run.seconds,
            run.hashes.map_or("—".to_owned(), |h| format!(
                "{:.0}",
                h as f64 / run.seconds
            )),
            all.join(", ")
        );
    }
}
