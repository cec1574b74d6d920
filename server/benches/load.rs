//! Load: N concurrent clients drive `verify_totp` on loopback for a bounded
//! time against the release server; reports requests/s and p50/p99
//! latency per database and scenario.
//!
//! ```sh
//! cargo bench -p otpkit-server --bench load
//! OTPKIT_BENCH_POSTGRES=postgres://user@127.0.0.1:5432/db cargo bench -p otpkit-server --bench load
//! ```
//! Settings (environment): `OTPKIT_BENCH_CLIENTS` (default 32),
//! `OTPKIT_BENCH_SECONDS` per row (default 10), `OTPKIT_BENCH_USERS`
//! (default 60000: enough that no user locks during a wrong-code row),
//! `OTPKIT_BENCH_MAX_CONNECTIONS` (the servers' pool),
//! `OTPKIT_BENCH_POSTGRES` (adds PostgreSQL rows: 1 instance, 3 with
//! the same clients, 3 with three times the clients),
//! `OTPKIT_BENCH_REPEAT` (runs per row, default 3: the median is shown),
//! `OTPKIT_BENCH_SCENARIOS` (`wrong` or `right`: one scenario only),
//! `OTPKIT_BENCH_DATABASES=postgres` (PostgreSQL only),
//! `OTPKIT_BENCH_INSTANCES` (`1` or `3`: one PostgreSQL row only),
//! `OTPKIT_BENCH_MODES=batched` (the batched modes only),
//! `OTPKIT_BENCH_WARMUP` (seconds of load before each measured run, not
//! counted: connections opened, statements prepared, the purge at start
//! done; default 1),
//! `OTPKIT_BENCH_BASELINE` (the path of another build of `otpkit-server`,
//! say the last release's: its rows run interleaved with this build's, and
//! the ratio column compares this build with it; SQLite runs this build
//! at the baseline's `synchronous = NORMAL` then, plus a row at its own
//! default, FULL), `OTPKIT_BENCH_SQLITE_SYNC=both` (adds a batched row at
//! `synchronous = NORMAL` beside the default FULL, and prints their
//! ratio).
//!
//! Every database and scenario runs in two modes, alternating run after
//! run: with `--write-batch 1` (one statement per load, one transaction
//! per write) and batched (the default: concurrent loads in one `SELECT`,
//! up to 64 compare-and-sets in one `UPDATE`), each run on a freshly
//! seeded database; each row is the median run, and the ratio is the
//! batched median over the unbatched one, measured in the same process on
//! the same machine.
//!
//! Beside the server's rows, each database runs its floor, interleaved
//! (`common/floor.rs`): the statements the server sends for the scenario,
//! driven from this process with no HTTP or crypto, per request and
//! set-based; each server row prints its ratio to the per-request floor.
//! Each row also prints, from the servers' `/metrics` and `/proc`, the
//! statements sent per request (round trips), the lost compare-and-sets
//! per request (retries), and the CPU time per request of the servers and
//! of PostgreSQL's processes.
//!
//! Several instances share the machine's cores: each gets cores ÷
//! instances worker threads (`TOKIO_WORKER_THREADS`, at least one), as an
//! operator running several on one machine would set them; one instance
//! gets them all.
//!
//! Users are seeded straight into the database (verified records, sealed,
//! no backup codes: a backup-code hash costs 12 ms by design and is not
//! what this measures), then each request sends one user's code:
//! - `right codes`: the current code of the next user in turn: accepted
//!   the first time in a time step (a write: the used step), a replay
//!   after that (no write since 0.2; a build before it counted replays as
//!   failures, a write).
//! - `wrong codes`: a wrong code; each user locks after six, after which
//!   requests are refused without a write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otpkit::{Keyring, Secret, Totp, TotpRecord};

// The tests' server launcher and keys: a release server on a free
// loopback port, started and stopped the same way.
#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/floor.rs"]
mod floor;
#[path = "common/stored_form.rs"]
mod stored_form;
#[path = "../tests/support/mod.rs"]
mod support;
use stored_form::{Form, form_of, stored_for};

/// The binary the launcher starts: this package's, built for the bench.
const SERVER_BIN: &str = env!("CARGO_BIN_EXE_otpkit-server");

use support::{API_KEY, SEALING_KEYS, Server};

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

/// Seeds `users` verified records (in one transaction); returns their
/// generators.
async fn seed(database: &str, users: usize, binary: &str, form: Form) -> Vec<Totp> {
    // Migrated by the build under test (a baseline may know fewer
    // migrations than this build).
    // (Killed, not stopped: its migrations committed before it listened.)
    Server::spawn(Server::command_of(binary, database, &[]), database).kill();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    let mut transaction = pool.begin().await.unwrap();
    let keyring: Keyring = SEALING_KEYS.parse().unwrap();
    let options = stored_form::seed_options();
    let mut totps = Vec::with_capacity(users);
    for i in 0..users {
        let user = format!("user-{i}");
        let record =
            TotpRecord::import("bench", &user, Secret::generate(), &options, None, now()).unwrap();
        let json = stored_for(form, &record, &keyring);
        sqlx::query("INSERT INTO totp (user_id, version, record) VALUES ($1, 1, $2)")
            .bind(&user)
            .bind(&json)
            .execute(&mut *transaction)
            .await
            .expect("a fresh database");
        totps.push(record.totp().clone());
    }
    transaction.commit().await.unwrap();
    pool.close().await;
    totps
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    RightCodes,
    WrongCodes,
}

struct Report {
    requests: usize,
    seconds: f64,
    latencies: Vec<Duration>,
    outcomes: std::collections::BTreeMap<String, usize>,
    /// From the servers' `/metrics` (none from a build without them):
    /// statements sent and compare-and-sets lost over the run.
    statements: Option<u64>,
    lost: Option<u64>,
    /// CPU seconds over the run: the servers', PostgreSQL's.
    cpu: (f64, f64),
}

impl Report {
    /// Requests per second.
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

async fn drive(
    bases: &[String],
    totps: Arc<Vec<Totp>>,
    scenario: Scenario,
    clients: usize,
    seconds: u64,
) -> Report {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let next_user = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (http, totps, next_user) =
                (http.clone(), Arc::clone(&totps), Arc::clone(&next_user));
            let base = bases[client % bases.len()].clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
                while Instant::now() < deadline {
                    let user = next_user.fetch_add(1, Ordering::Relaxed) % totps.len();
                    let right = totps[user].generate_at(now()).unwrap().to_string();
                    let code = match scenario {
                        Scenario::RightCodes => right,
                        Scenario::WrongCodes if right == "000000" => "111111".to_owned(),
                        Scenario::WrongCodes => "000000".to_owned(),
                    };
                    let sent = Instant::now();
                    let response = http
                        .post(format!("{base}/v1/users/user-{user}/verify_totp"))
                        .bearer_auth(API_KEY)
                        .json(&serde_json::json!({ "code": code }))
                        .send()
                        .await
                        .expect("an answer");
                    let status = response.status();
                    let body: serde_json::Value = response.json().await.expect("JSON");
                    latencies.push(sent.elapsed());
                    let outcome = body["errors"][0]["meta"]["reason"]
                        .as_str()
                        .or(body["code_type"].as_str())
                        .map_or_else(|| format!("? {status} {body}"), str::to_owned);
                    *outcomes.entry(outcome).or_default() += 1;
                }
                (latencies, outcomes)
            })
        })
        .collect();
    let mut report = Report {
        requests: 0,
        seconds: 0.0,
        latencies: Vec::new(),
        outcomes: Default::default(),
        statements: None,
        lost: None,
        cpu: (0.0, 0.0),
    };
    for task in tasks {
        let (latencies, outcomes) = task.await.unwrap();
        report.latencies.extend(latencies);
        for (outcome, n) in outcomes {
            *report.outcomes.entry(outcome).or_default() += n;
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    // An answer that is no verification (a 500 from a record the server
    // cannot load, a 429) would make a fast, meaningless row.
    assert!(
        !report
            .outcomes
            .keys()
            .any(|outcome| outcome.starts_with('?')),
        "answers that are not verifications: {:?}",
        report.outcomes.iter().take(3).collect::<Vec<_>>()
    );
    report.requests = report.latencies.len();
    report.latencies.sort();
    report
}

fn main() {
    // Run as `cargo bench`: criterion-style filters and --bench are ignored.
    let clients = setting("OTPKIT_BENCH_CLIENTS", 32);
    let seconds = setting("OTPKIT_BENCH_SECONDS", 10) as u64;
    let users = setting("OTPKIT_BENCH_USERS", 60_000);
    let warmup = setting("OTPKIT_BENCH_WARMUP", 1) as u64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // (database, URL, instances, clients).
    let mut targets: Vec<(String, String, usize, usize)> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    // `OTPKIT_BENCH_DATABASES=postgres` leaves SQLite out.
    if std::env::var("OTPKIT_BENCH_DATABASES").as_deref() != Ok("postgres") {
        targets.push(("SQLite".into(), sqlite, 1, clients));
    }
    if let Ok(postgres) = std::env::var("OTPKIT_BENCH_POSTGRES") {
        // `OTPKIT_BENCH_INSTANCES=3` (or `1`): one instance count only.
        // Three instances run twice: with the clients of one (each sees a
        // third of them), and with three times as many (each sees as many
        // as the one instance did: more instances for more users).
        let instances = std::env::var("OTPKIT_BENCH_INSTANCES");
        if instances.as_deref() != Ok("3") {
            targets.push(("PostgreSQL".into(), postgres.clone(), 1, clients));
        }
        if instances.as_deref() != Ok("1") {
            targets.push(("PostgreSQL".into(), postgres.clone(), 3, clients));
            targets.push(("PostgreSQL".into(), postgres, 3, 3 * clients));
        }
    }
    let repeat = setting("OTPKIT_BENCH_REPEAT", 3);
    // `OTPKIT_BENCH_SCENARIOS=wrong` (or `right`) runs one scenario.
    let scenarios: Vec<Scenario> = match std::env::var("OTPKIT_BENCH_SCENARIOS").as_deref() {
        Ok("wrong") => vec![Scenario::WrongCodes],
        Ok("right") => vec![Scenario::RightCodes],
        _ => vec![Scenario::RightCodes, Scenario::WrongCodes],
    };
    println!(
        "verify_totp on loopback: {clients} clients, {seconds} s per run, {users} users, \
         each row the median of {repeat} interleaved runs"
    );
    println!(
        "| database | instances | scenario | mode | requests/s | p50 | p99 | ratio | / floor | statements/req | retries/req | server CPU/req | PostgreSQL CPU/req | runs (req/s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    // (build, binary, --write-batch, form, SQLite synchronous): this
    // build unbatched and batched, and the baseline's the same way when
    // one is given (this build then at the baseline's NORMAL, plus a row
    // at its own FULL).
    let baseline = std::env::var("OTPKIT_BENCH_BASELINE").ok();
    let both_syncs = std::env::var("OTPKIT_BENCH_SQLITE_SYNC").is_ok_and(|v| v == "both");
    let ours = if baseline.is_some() { NORMAL } else { DEFAULT };
    let mut modes: Vec<Mode> = vec![
        (
            "this build",
            SERVER_BIN.to_owned(),
            "1",
            Form::Current,
            ours,
        ),
        (
            "this build",
            SERVER_BIN.to_owned(),
            "64",
            Form::Current,
            ours,
        ),
    ];
    if baseline.is_some() || both_syncs {
        let other = if baseline.is_some() { FULL } else { NORMAL };
        modes.push((
            "this build",
            SERVER_BIN.to_owned(),
            "64",
            Form::Current,
            other,
        ));
    }
    // `OTPKIT_BENCH_MODES=batched`: the batched rows only.
    let batched_only = std::env::var("OTPKIT_BENCH_MODES").is_ok_and(|v| v == "batched");
    if batched_only {
        modes.retain(|(_, _, batch, _, _)| *batch != "1");
    }
    if let Some(baseline) = &baseline {
        let form = form_of(baseline, &runtime);
        // A baseline from before batching has one mode (and no flag).
        if batches(baseline) {
            if !batched_only {
                modes.push(("baseline", baseline.clone(), "1", form, DEFAULT));
            }
            modes.push(("baseline", baseline.clone(), "64", form, DEFAULT));
        } else {
            modes.push(("baseline", baseline.clone(), UNBATCHED, form, DEFAULT));
        }
    }
    // Each database's per-request floor by scenario, for the rows of more
    // instances (which share the one-instance floor: the same database).
    let mut known_floors = std::collections::HashMap::<(String, &str), f64>::new();
    // This build's batched median per PostgreSQL scenario and (instances,
    // clients): (requests/s, PostgreSQL CPU µs/req, statements/req), for
    // the comparison of instance counts printed at the end.
    let mut scale = Vec::<(&str, usize, usize, (f64, f64, f64))>::new();
    for (name, database, instances, clients) in targets {
        for scenario in scenarios.iter().copied() {
            // The modes alternate, run after run, so a slow moment of the
            // machine falls on all of them.
            let mut runs: Vec<Vec<Report>> = modes.iter().map(|_| Vec::new()).collect();
            // The floor (per request, set-based) once per database.
            let mut floors: [Vec<floor::Floor>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..repeat {
                if instances == 1 {
                    for (set_based, floors) in [false, true].into_iter().zip(floors.iter_mut()) {
                        if name == "PostgreSQL" {
                            runtime.block_on(reset_postgres(&database));
                        } else {
                            for file in ["bench.db", "bench.db-wal", "bench.db-shm"] {
                                let _ = std::fs::remove_file(dir.path().join(file));
                            }
                        }
                        runtime.block_on(seed(&database, users, SERVER_BIN, Form::Current));
                        floors.push(runtime.block_on(floor::run(
                            &database,
                            users,
                            clients,
                            seconds,
                            set_based,
                            scenario == Scenario::WrongCodes,
                        )));
                    }
                }
                for (mode, (build, binary, batch, form, sync)) in modes.iter().enumerate() {
                    // The SQLite synchronous setting means nothing elsewhere:
                    // one row of this build's batched mode is enough.
                    if name != "SQLite" && *build == "this build" && *sync == FULL {
                        continue;
                    }
                    let run = || -> Report {
                        if name == "PostgreSQL" {
                            runtime.block_on(reset_postgres(&database));
                        } else {
                            for file in ["bench.db", "bench.db-wal", "bench.db-shm"] {
                                let _ = std::fs::remove_file(dir.path().join(file));
                            }
                        }
                        let totps =
                            Arc::new(runtime.block_on(seed(&database, users, binary, *form)));
                        let mut args: Vec<String> = std::env::var("OTPKIT_BENCH_MAX_CONNECTIONS")
                            .map(|n| vec!["--max-connections".to_owned(), n])
                            .unwrap_or_default();
                        if *batch != UNBATCHED {
                            args.extend(["--write-batch".to_owned(), (*batch).to_owned()]);
                        }
                        if !sync.is_empty() {
                            args.extend(["--sqlite-synchronous".to_owned(), (*sync).to_owned()]);
                        }
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        let servers: Vec<Server> = (0..instances)
                            .map(|_| {
                                let mut command = Server::command_of(binary, &database, &args);
                                // The machine's cores shared between the
                                // instances, as an operator sizes them.
                                command.env("TOKIO_WORKER_THREADS", workers(instances).to_string());
                                Server::spawn(command, &database)
                            })
                            .collect();
                        let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
                        let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
                        // Unmeasured: connections opened, statements
                        // prepared, the purge at start done.
                        if warmup > 0 {
                            runtime.block_on(drive(
                                &bases,
                                Arc::clone(&totps),
                                scenario,
                                clients,
                                warmup,
                            ));
                        }
                        let counted = |servers: &[Server]| runtime.block_on(counters(servers));
                        let (before, cpu_before) = (counted(&servers), cpu::Sample::take(&pids));
                        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            runtime.block_on(drive(&bases, totps, scenario, clients, seconds))
                        }));
                        let mut report = report.unwrap_or_else(|_| {
                            let log = servers.first().map(Server::log).unwrap_or_default();
                            let tail: Vec<&str> = log.lines().rev().take(5).collect();
                            panic!("the run of {binary} {args:?} failed; the server's last lines: {tail:#?}")
                        });
                        report.cpu = cpu::Sample::take(&pids).since(&cpu_before);
                        let after = counted(&servers);
                        if let (Some(b), Some(a)) = (before, after) {
                            report.statements = Some(a.0 - b.0);
                            report.lost = Some(a.1 - b.1);
                        }
                        report
                    };
                    runs[mode].push(run());
                }
            }
            let label = match scenario {
                Scenario::RightCodes => "right codes",
                Scenario::WrongCodes => "wrong codes",
            };
            let medians: Vec<f64> = runs
                .iter_mut()
                .map(|reports| {
                    reports.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
                    reports
                        .get(reports.len() / 2)
                        .map_or(f64::NAN, Report::rate)
                })
                .collect();
            let floor_medians: Vec<f64> = floors
                .iter_mut()
                .map(|floors| {
                    floors.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
                    floors
                        .get(floors.len() / 2)
                        .map_or(f64::NAN, floor::Floor::rate)
                })
                .collect();
            let floor_per_request = *known_floors
                .entry((name.clone(), label))
                .or_insert(floor_medians[0]);
            for (mode, reports) in runs.iter().enumerate() {
                let Some(median) = reports.get(reports.len() / 2) else {
                    continue; // a mode this database does not run
                };
                let (build, _, batch, _, sync) = &modes[mode];
                let writes = match *batch {
                    UNBATCHED => "no batching",
                    "1" => "unbatched",
                    _ => "batched (≤ 64)",
                };
                let writes = match (name.as_str(), effective(build, sync)) {
                    ("SQLite", FULL) => format!("{writes}, synchronous FULL"),
                    ("SQLite", NORMAL) => format!("{writes}, synchronous NORMAL"),
                    _ => writes.to_owned(),
                };
                // With a baseline: against the baseline's same mode (or
                // its only one); without: against this build unbatched.
                let reference = modes
                    .iter()
                    .position(|(b, _, m, _, _)| {
                        *b == "baseline" && (*m == *batch || *m == UNBATCHED)
                    })
                    .or_else(|| {
                        modes
                            .iter()
                            .position(|(b, _, m, _, _)| *b == "baseline" && *m == "64")
                    })
                    .unwrap_or(0);
                let all: Vec<String> = reports.iter().map(|r| format!("{:.0}", r.rate())).collect();
                let per_request = |n: Option<u64>| {
                    n.map_or("—".to_owned(), |n| {
                        format!("{:.3}", n as f64 / median.requests as f64)
                    })
                };
                let cpu =
                    |seconds: f64| format!("{:.0} µs", seconds * 1e6 / median.requests as f64);
                if name == "PostgreSQL" && *build == "this build" && *batch == "64" {
                    let requests = median.requests as f64;
                    let statements = median.statements.map_or(f64::NAN, |n| n as f64 / requests);
                    let database_cpu = median.cpu.1 * 1e6 / requests;
                    let row = (medians[mode], database_cpu, statements);
                    scale.push((label, instances, clients, row));
                }
                println!(
                    "| {name} | {instances} ({clients} clients) | {label} | {build}, {writes} | {:.0} | {:.2} ms | {:.2} ms | {:.2}x | {:.2}x | {} | {} | {} | {} | {} |",
                    median.rate(),
                    median.percentile(0.50).as_secs_f64() * 1e3,
                    median.percentile(0.99).as_secs_f64() * 1e3,
                    medians[mode] / medians[reference],
                    medians[mode] / floor_per_request,
                    per_request(median.statements),
                    per_request(median.lost),
                    cpu(median.cpu.0),
                    if name == "PostgreSQL" {
                        cpu(median.cpu.1)
                    } else {
                        "—".to_owned()
                    },
                    all.join(", ")
                );
            }
            for (floors, kind) in floors
                .iter()
                .zip(["per request", "set-based (16 a statement)"])
            {
                let Some(median) = floors.get(floors.len() / 2) else {
                    continue;
                };
                let all: Vec<String> = floors.iter().map(|f| format!("{:.0}", f.rate())).collect();
                println!(
                    "| {name} | — | {label} | floor: {kind} | {:.0} | | | | | {:.3} | | | | {} |",
                    median.rate(),
                    median.statements as f64 / median.requests as f64,
                    all.join(", ")
                );
            }
            // This build's batched rows at FULL and at NORMAL: what the sync
            // at each commit costs.
            let batched_at = |sync: &str| {
                modes.iter().position(|(b, _, m, _, s)| {
                    *b == "this build" && *m == "64" && effective(b, s) == sync
                })
            };
            if name == "SQLite"
                && let (Some(full), Some(normal)) = (batched_at(FULL), batched_at(NORMAL))
            {
                println!(
                    "SQLite {label}, batched: synchronous FULL / NORMAL = {:.2}x",
                    medians[full] / medians[normal]
                );
            }
        }
    }
    // Each PostgreSQL row of more instances against the one instance's.
    for &(label, instances, clients, (rate, cpu, statements)) in &scale {
        let Some(&(_, _, _, (one, one_cpu, one_statements))) =
            scale.iter().find(|(l, i, _, _)| *l == label && *i == 1)
        else {
            continue;
        };
        if instances > 1 {
            println!(
                "PostgreSQL {label}, batched: {instances} instances ({clients} clients) / 1 = {:.2}x; \
                 PostgreSQL CPU/req {cpu:.0} µs / {one_cpu:.0} µs; statements/req {statements:.3} / {one_statements:.3}",
                rate / one
            );
        }
    }
}

/// Each instance's worker threads: the machine's cores shared between
/// `instances` (at least one each), as the server README advises for
/// instances sharing a machine; one instance gets every core (tokio's
/// default). Set through `TOKIO_WORKER_THREADS`, which every build's
/// runtime reads, the baseline's too.
fn workers(instances: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (cores / instances).max(1)
}

/// The synchronous setting a row ran at (a baseline's default: NORMAL,
/// the only one before 0.3; this build's: FULL).
fn effective(build: &str, sync: &'static str) -> &'static str {
    match (build, sync) {
        ("baseline", DEFAULT) => NORMAL,
        (_, DEFAULT) => FULL,
        (_, sync) => sync,
    }
}

/// A row's build, binary, `--write-batch`, stored form and
/// `--sqlite-synchronous` (empty: the build's default).
type Mode = (&'static str, String, &'static str, Form, &'static str);

/// The build's own `--sqlite-synchronous` (and a baseline's, which may not
/// know the flag).
const DEFAULT: &str = "";
/// `--sqlite-synchronous full`.
const FULL: &str = "full";
/// `--sqlite-synchronous normal` (before 0.3 the only setting).
const NORMAL: &str = "normal";

/// The `--write-batch` of a build from before batching existed: none.
const UNBATCHED: &str = "none";

/// Whether the server `binary` batches writes (knows `--write-batch`).
fn batches(binary: &str) -> bool {
    let help = std::process::Command::new(binary)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{binary} --help: {e}"));
    String::from_utf8_lossy(&help.stdout).contains("--write-batch")
}

/// (statements sent, compare-and-sets lost) summed over `servers`, from
/// their `/metrics`; `None` from a build that does not count them.
async fn counters(servers: &[Server]) -> Option<(u64, u64)> {
    let http = reqwest::Client::new();
    let mut sum = (0, 0);
    for server in servers {
        let text = http
            .get(format!("{}/metrics", server.base))
            .bearer_auth(API_KEY)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let value = |name: &str| -> Option<u64> {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        };
        sum.0 += value("otpkit_db_statements_total ")?;
        sum.1 += value("otpkit_db_lost_compare_and_sets_total ")?;
    }
    Some(sum)
}

/// Empties the PostgreSQL database the bench was given (its own).
async fn reset_postgres(database: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await.unwrap();
    // Every table: the next run's build migrates its own schema.
    for statement in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
}
