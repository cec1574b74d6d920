//! The database's floor: the statements the server sends for a scenario,
//! driven straight from the bench process (no HTTP, no crypto, no JSON
//! parsing), on the same database, in the same run. Two floors:
//! - per request: a `SELECT` by key and, when the request writes, a
//!   compare-and-set `UPDATE`, each its own transaction (what the server
//!   sends unbatched);
//! - set-based: [`SET`] requests at a time as one `SELECT … IN (…)` and
//!   one `UPDATE … FROM (VALUES …)` (what the batched server aims at).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

/// Requests per statement in the set-based floor.
pub const SET: usize = 16;

/// What a floor run did.
pub struct Floor {
    pub requests: usize,
    pub seconds: f64,
    pub statements: usize,
}

impl Floor {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// A pool like the server's: `connections` of them, SQLite waiting on its
/// lock and syncing as the server does (FULL).
async fn pool(database: &str, connections: usize) -> AnyPool {
    sqlx::any::install_default_drivers();
    let sqlite = database.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(connections as u32)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if sqlite {
                    for pragma in ["PRAGMA busy_timeout = 5000", "PRAGMA synchronous = FULL"] {
                        sqlx::query(pragma).execute(&mut *connection).await?;
                    }
                }
                Ok(())
            })
        })
        .connect(database)
        .await
        .expect("the bench's database")
}

/// Drives the floor for `seconds` with `clients` tasks over `users` seeded
/// users: every request writes (`write_always`, wrong codes) or only a
/// user's first (right codes: the rest are replays, which write nothing).
pub async fn run(
    database: &str,
    users: usize,
    clients: usize,
    seconds: u64,
    set_based: bool,
    write_always: bool,
) -> Floor {
    let postgres = database.starts_with("postgres");
    let pool = pool(database, clients).await;
    let next = Arc::new(AtomicUsize::new(0));
    let written: Arc<Vec<AtomicBool>> =
        Arc::new((0..users).map(|_| AtomicBool::new(false)).collect());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (pool, next, written) = (pool.clone(), Arc::clone(&next), Arc::clone(&written));
            tokio::spawn(async move {
                let (mut requests, mut statements) = (0usize, 0usize);
                let per_turn = if set_based { SET } else { 1 };
                while Instant::now() < deadline {
                    let keys: Vec<String> = (0..per_turn)
                        .map(|_| format!("user-{}", next.fetch_add(1, Ordering::Relaxed) % users))
                        .collect();
                    let rows = select(&pool, &keys).await;
                    statements += if set_based { 1 } else { keys.len() };
                    let writes: Vec<(String, i64, String)> = rows
                        .into_iter()
                        .filter(|(key, _, _)| {
                            let user: usize = key["user-".len()..].parse().unwrap();
                            write_always || !written[user].swap(true, Ordering::Relaxed)
                        })
                        .collect();
                    if set_based {
                        if !writes.is_empty() {
                            update_set(&pool, &writes, postgres).await;
                            statements += 1;
                        }
                    } else {
                        for (key, version, json) in &writes {
                            sqlx::query(
                                "UPDATE totp SET record = $1, version = version + 1 \
                                 WHERE user_id = $2 AND version = $3",
                            )
                            .bind(json)
                            .bind(key)
                            .bind(version)
                            .execute(&pool)
                            .await
                            .unwrap();
                            statements += 1;
                        }
                    }
                    requests += keys.len();
                }
                (requests, statements)
            })
        })
        .collect();
    let mut floor = Floor {
        requests: 0,
        seconds: 0.0,
        statements: 0,
    };
    for task in tasks {
        let (requests, statements) = task.await.unwrap();
        floor.requests += requests;
        floor.statements += statements;
    }
    floor.seconds = started.elapsed().as_secs_f64();
    pool.close().await;
    floor
}

/// `keys`' rows: one `SELECT` each (per request) or one for all (set-based,
/// when `keys` has several).
async fn select(pool: &AnyPool, keys: &[String]) -> Vec<(String, i64, String)> {
    let mut rows = Vec::with_capacity(keys.len());
    if keys.len() == 1 {
        let row =
            sqlx::query("SELECT version, record FROM totp WHERE user_id = $1 AND record <> ''")
                .bind(&keys[0])
                .fetch_one(pool)
                .await
                .unwrap();
        rows.push((keys[0].clone(), row.get(0), row.get(1)));
        return rows;
    }
    let placeholders: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT user_id, version, record FROM totp WHERE user_id IN ({}) AND record <> ''",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key);
    }
    for row in query.fetch_all(pool).await.unwrap() {
        rows.push((row.get(0), row.get(1), row.get(2)));
    }
    rows
}

/// One `UPDATE … FROM (VALUES …)` for `rows` (distinct keys), as the
/// server's batch writer sends it.
async fn update_set(pool: &AnyPool, rows: &[(String, i64, String)], postgres: bool) {
    let mut rows: Vec<&(String, i64, String)> = rows.iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.dedup_by(|a, b| a.0 == b.0);
    let (text, bigint) = if postgres {
        ("::text", "::bigint")
    } else {
        ("", "")
    };
    let values: Vec<String> = (0..rows.len())
        .map(|n| {
            format!(
                "(${}{text}, ${}{bigint}, ${}{text})",
                3 * n + 1,
                3 * n + 2,
                3 * n + 3
            )
        })
        .collect();
    let sql = format!(
        "UPDATE totp SET record = v.column3, version = totp.version + 1 \
         FROM (VALUES {}) AS v WHERE totp.user_id = v.column1 AND totp.version = v.column2 \
         RETURNING totp.user_id",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (key, version, json) in rows {
        query = query.bind(key).bind(*version).bind(json);
    }
    query.fetch_all(pool).await.unwrap();
}
