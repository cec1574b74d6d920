//! The batched reader: many requests' loads in one statement.
//!
//! The same rule as the batched writer ([`super::batch`]): a request's load
//! is queued with a channel for its answer; one task per instance takes
//! what is queued (up to [`MAX_BATCH`] keys, after one yield that lets the
//! requests already running queue theirs, never waiting for more: a lone
//! request is read at once, alone) and reads every key of it with one
//! `SELECT … WHERE key IN (…)` per table, the keys deduplicated. Under load
//! the batch grows while the previous one is in flight, so the database
//! sees one statement for many requests instead of one each, and on a
//! network one round trip.
//!
//! The reader keeps a connection of its own, out of the pool; when a batch
//! fails because that connection broke, it is read again once on a fresh
//! one (a read changes nothing, so that is always safe).

use std::collections::HashMap;

use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::{Table, Versioned, count_statement};

/// The most keys one statement reads.
pub const MAX_BATCH: usize = 64;

/// What a queued load is answered with.
type Answer = Result<Option<Versioned>, String>;

/// One load waiting for the reader.
struct Read {
    table: Table,
    key: String,
    answer: oneshot::Sender<Answer>,
}

/// The handle requests queue their loads on; the task ends when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct Loader {
    queue: mpsc::Sender<Read>,
}

impl Loader {
    /// Starts the reader task on `pool`.
    #[must_use]
    pub fn start(pool: AnyPool) -> Self {
        let (queue, receiver) = mpsc::channel(16 * MAX_BATCH);
        tokio::spawn(run(pool, receiver));
        Self { queue }
    }

    /// The state under `key`, in the next batch of reads.
    ///
    /// # Errors
    /// The batch's statement failed, or the reader has stopped.
    pub async fn load(&self, table: Table, key: &str) -> Result<Option<Versioned>, sqlx::Error> {
        let (answer, answered) = oneshot::channel();
        let read = Read {
            table,
            key: key.to_owned(),
            answer,
        };
        let stopped = || sqlx::Error::PoolClosed;
        self.queue.send(read).await.map_err(|_| stopped())?;
        answered
            .await
            .map_err(|_| stopped())?
            .map_err(|cause| sqlx::Error::Protocol(format!("batched read failed: {cause}")))
    }
}

async fn run(pool: AnyPool, mut receiver: mpsc::Receiver<Read>) {
    let mut connection: Option<AnyConnection> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        super::batch::gather(&mut receiver, &mut batch, MAX_BATCH).await;
        let reused = connection.is_some();
        let mut result = attempt(&mut connection, &pool, &batch).await;
        if let Err(error) = &result
            && reused
            && super::batch::broken(error)
        {
            result = attempt(&mut connection, &pool, &batch).await;
        }
        match result {
            Ok(rows) => {
                // A key asked by several requests: a copy each.
                for read in batch.drain(..) {
                    let state = rows.get(&(read.table, read.key)).cloned();
                    let _ = read.answer.send(Ok(state));
                }
            }
            Err(error) => {
                let cause = error.to_string();
                tracing::error!(%cause, reads = batch.len(), "a batch of reads failed");
                for read in batch.drain(..) {
                    let _ = read.answer.send(Err(cause.clone()));
                }
            }
        }
    }
}

/// The rows found for a batch's keys, by (table, key): a key without one
/// has no row (or a tombstone).
type Found = HashMap<(Table, String), Versioned>;

/// Reads `batch` on `connection` (a fresh one from `pool` if none),
/// keeping the connection only if it worked.
async fn attempt(
    connection: &mut Option<AnyConnection>,
    pool: &AnyPool,
    batch: &[Read],
) -> Result<Found, sqlx::Error> {
    let mut open = match connection.take() {
        Some(open) => open,
        None => pool.acquire().await.map(PoolConnection::detach)?,
    };
    let result = read_all(&mut open, batch).await;
    if result.is_ok() {
        *connection = Some(open);
    }
    result
}

/// One `SELECT … IN (…)` per table of the batch (almost always one).
async fn read_all(connection: &mut AnyConnection, batch: &[Read]) -> Result<Found, sqlx::Error> {
    let mut rows = Found::with_capacity(batch.len());
    for table in [Table::Totp, Table::Authentication] {
        let mut keys: Vec<&str> = batch
            .iter()
            .filter(|read| read.table == table)
            .map(|read| read.key.as_str())
            .collect();
        if keys.is_empty() {
            continue;
        }
        keys.sort_unstable();
        keys.dedup();
        let (name, key_column, data) = table.sql();
        let placeholders = (1..=keys.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {key_column}, version, {data} FROM {name} \
             WHERE {key_column} IN ({placeholders}) AND {data} <> ''"
        );
        let mut query = sqlx::query(&sql);
        for key in &keys {
            query = query.bind(*key);
        }
        count_statement();
        for row in query.fetch_all(&mut *connection).await? {
            let key: String = row.try_get(0)?;
            let state = Versioned {
                version: row.try_get(1)?,
                json: row.try_get(2)?,
            };
            rows.insert((table, key), state);
        }
    }
    Ok(rows)
}
