//! The batched writer: many requests' compare-and-sets in one transaction.
//!
//! A request's save is queued with a channel for its answer. One task per
//! instance takes what is queued (up to [`MAX_BATCH`], after one yield that
//! lets the requests already running queue theirs; no waiting for more:
//! under light load a batch is one write and costs no latency; under heavy
//! load batches grow and commits become rarer), runs each row's
//! `UPDATE … WHERE key = $k AND version = $v` in one transaction, commits,
//! and only then answers each request with its own row's result. A lost
//! compare-and-set is `false` for that request alone (it reloads and runs
//! its transition again); a failed statement or commit rolls the whole
//! batch back and answers every request in it with the error, so none is
//! told it was saved.
//!
//! The writer keeps a connection of its own. When a batch fails because
//! that connection broke (the database restarted, a failover, a network
//! cut), the batch is retried once on a fresh connection before anyone is
//! answered: safe under compare-and-set, since a batch that did commit
//! before the break makes the retry find every version moved, so each
//! request loses its compare-and-set and runs its transition again on the
//! row as stored. So a database that restarts costs requests only while it
//! is down, not the first batch after it is back. A batch of distinct rows
//! of one table is one `UPDATE … FROM (VALUES …) … RETURNING key`, atomic
//! on its own, on both databases (set-based: one statement for the whole
//! batch, however many requests it holds; PostgreSQL's values typed by
//! casts); rows of two tables, or a row written twice, take a transaction
//! of one statement each, in key order. PostgreSQL locks a statement's rows
//! in the order its plan meets them, so two instances' batches sharing
//! rows may deadlock; PostgreSQL then aborts one, which nothing saved, and
//! that batch is run again (compare-and-set makes every rerun safe).

use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use super::{Backend, Table, count_statement};

/// The most writes one transaction takes.
pub const MAX_BATCH: usize = 64;

/// What a queued write is answered with: saved or not, or why the batch
/// failed.
type Answer = Result<bool, String>;

/// One compare-and-set waiting for the writer.
struct Write {
    table: Table,
    key: String,
    version: i64,
    json: String,
    answer: oneshot::Sender<Answer>,
}

/// Writes that may wait for the writer; a request finding the queue full
/// waits for room (each request has at most one write queued).
const QUEUE: usize = 16 * MAX_BATCH;

/// The handle requests queue their writes on; the task ends when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Write>,
}

impl Writer {
    /// Starts the writer task on `pool`, taking up to `max_batch` writes
    /// per transaction.
    #[must_use]
    pub fn start(pool: AnyPool, backend: Backend, max_batch: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, backend, receiver, max_batch.clamp(1, MAX_BATCH)));
        Self { queue }
    }

    /// Why the writer cannot take writes, if it cannot: its task has
    /// stopped. (A batch that failed is no reason: the next one starts on
    /// a fresh connection, so the database answering is what counts.)
    #[must_use]
    pub fn unready(&self) -> Option<&'static str> {
        self.queue
            .is_closed()
            .then_some("the batch writer has stopped")
    }

    /// Saves `json` under `key` if the row still has `version`, in the next
    /// batch; answered once that batch has committed.
    ///
    /// # Errors
    /// The batch's statement or commit failed (nothing of it was saved), or
    /// the writer has stopped.
    pub async fn compare_and_set(
        &self,
        table: Table,
        key: &str,
        version: i64,
        json: String,
    ) -> Result<bool, sqlx::Error> {
        let (answer, answered) = oneshot::channel();
        let write = Write {
            table,
            key: key.to_owned(),
            version,
            json,
            answer,
        };
        let stopped = || sqlx::Error::PoolClosed;
        self.queue.send(write).await.map_err(|_| stopped())?;
        answered
            .await
            .map_err(|_| stopped())?
            .map_err(|cause| sqlx::Error::Protocol(format!("batched write failed: {cause}")))
    }
}

async fn run(
    pool: AnyPool,
    backend: Backend,
    mut receiver: mpsc::Receiver<Write>,
    max_batch: usize,
) {
    // The writer's own connection, out of the pool: no acquire, release or
    // ping per batch. After an error it is replaced.
    let mut connection: Option<AnyConnection> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        gather(&mut receiver, &mut batch, max_batch).await;
        batch.sort_by(|a, b| (a.table, &a.key).cmp(&(b.table, &b.key)));
        let reused = connection.is_some();
        let mut result = attempt(&mut connection, &pool, backend, &batch).await;
        if let Err(error) = &result
            && reused
            && broken(error)
        {
            tracing::warn!(
                cause = %error,
                writes = batch.len(),
                "the writer's connection broke; the batch is retried once on a fresh one"
            );
            result = attempt(&mut connection, &pool, backend, &batch).await;
        }
        // Aborted by PostgreSQL to break a deadlock with another instance's
        // batch (or a serialization failure): nothing of it was saved.
        for _ in 0..3 {
            match &result {
                Err(error) if aborted(error) => {
                    tracing::debug!(cause = %error, "a batch was aborted; it runs again");
                    result = attempt(&mut connection, &pool, backend, &batch).await;
                }
                _ => break,
            }
        }
        match result {
            Ok(saved) => {
                for (write, saved) in batch.drain(..).zip(saved) {
                    let _ = write.answer.send(Ok(saved));
                }
            }
            Err(error) => {
                let cause = error.to_string();
                tracing::error!(%cause, writes = batch.len(), "a batch of writes failed; none was saved");
                for write in batch.drain(..) {
                    let _ = write.answer.send(Err(cause.clone()));
                }
            }
        }
    }
}

/// The most yields [`gather`] makes while company keeps coming.
const GATHER_YIELDS: usize = 8;

/// Lets the requests already running queue theirs before a batch goes: a
/// yield (microseconds; every runnable task runs once), then, while the
/// batch holds company and each yield brought more, another, up to
/// [`GATHER_YIELDS`]. A lone request goes after one yield: nothing waits
/// on a timer, and under load batches grow to what is in flight (with
/// several instances each sees a part of it, so this is where their
/// batches are made).
pub(super) async fn gather<T>(receiver: &mut mpsc::Receiver<T>, batch: &mut Vec<T>, max: usize) {
    for round in 0..GATHER_YIELDS {
        tokio::task::yield_now().await;
        let before = batch.len();
        while batch.len() < max {
            match receiver.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let alone = batch.len() < 2;
        let nobody_came = batch.len() == before && round > 0;
        if alone || nobody_came || batch.len() >= max {
            break;
        }
    }
}

/// Commits `batch` on `connection` (a fresh one from `pool` if none),
/// keeping the connection only if it worked.
async fn attempt(
    connection: &mut Option<AnyConnection>,
    pool: &AnyPool,
    backend: Backend,
    batch: &[Write],
) -> Result<Vec<bool>, sqlx::Error> {
    let mut open = match connection.take() {
        Some(open) => open,
        None => pool.acquire().await.map(PoolConnection::detach)?,
    };
    let result = commit(&mut open, backend, batch).await;
    if result.is_ok() {
        *connection = Some(open);
    }
    result
}

/// Whether `error` says the connection itself is gone (rather than a
/// statement failing on a live one): an I/O error (a reset, an EOF), a
/// closed connection, or PostgreSQL's connection-exception (08…) and
/// operator-intervention (57P…) states, which it sends as it shuts down.
pub(super) fn broken(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Protocol(message) => message.contains("EOF") || message.contains("closed"),
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Whether PostgreSQL aborted the statement to break a deadlock (40P01) or
/// a serialization failure (40001): the transaction saved nothing.
fn aborted(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if database.code().is_some_and(|code| code == "40P01" || code == "40001"))
}

/// Runs the batch's updates atomically: whether each row was saved, in
/// the batch's order; an error saves none of them.
///
/// A batch of distinct rows is one statement per table (almost always
/// one), which the database runs as its own transaction: one call to the
/// database per batch. A second write of a row already in the batch runs
/// in an explicit transaction, one statement per row in key order.
async fn commit(
    connection: &mut AnyConnection,
    backend: Backend,
    batch: &[Write],
) -> Result<Vec<bool>, sqlx::Error> {
    let distinct = batch
        .windows(2)
        .all(|pair| (pair[0].table, &pair[0].key) != (pair[1].table, &pair[1].key));
    if distinct {
        return update_all(connection, backend, batch).await;
    }
    count_statement();
    let mut transaction = connection.begin().await?;
    let mut saved = Vec::with_capacity(batch.len());
    for write in batch {
        count_statement();
        saved.push(
            super::update_if_version(
                &mut transaction,
                write.table,
                &write.key,
                write.version,
                &write.json,
            )
            .await?,
        );
    }
    count_statement();
    transaction.commit().await?;
    Ok(saved)
}

/// The batch's distinct rows in one `UPDATE … FROM (VALUES …) RETURNING
/// key` per table (one statement when, as almost always, they are rows of
/// one table).
async fn update_all(
    connection: &mut AnyConnection,
    backend: Backend,
    batch: &[Write],
) -> Result<Vec<bool>, sqlx::Error> {
    let tables: Vec<Table> = batch.iter().map(|write| write.table).collect();
    if tables.windows(2).any(|pair| pair[0] != pair[1]) {
        // Two tables: a transaction around one statement each.
        count_statement();
        let mut transaction = connection.begin().await?;
        let mut saved = Vec::with_capacity(batch.len());
        for table in [Table::Totp, Table::Authentication] {
            let rows: Vec<&Write> = batch.iter().filter(|write| write.table == table).collect();
            saved.extend(update_rows(&mut transaction, backend, table, &rows).await?);
        }
        count_statement();
        transaction.commit().await?;
        return Ok(saved);
    }
    let rows: Vec<&Write> = batch.iter().collect();
    update_rows(connection, backend, batch[0].table, &rows).await
}

/// One statement updating `rows` of `table` (distinct keys): whether each
/// was saved.
async fn update_rows(
    connection: &mut AnyConnection,
    backend: Backend,
    table: Table,
    rows: &[&Write],
) -> Result<Vec<bool>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (name, key_column, data) = table.sql();
    // PostgreSQL types a VALUES list's parameters from their first use:
    // the casts say text, bigint, text (SQLite needs none, and has no `::`).
    let (text, bigint) = match backend {
        Backend::Postgres => ("::text", "::bigint"),
        Backend::Sqlite => ("", ""),
    };
    let values = (0..rows.len())
        .map(|n| {
            format!(
                "(${}{text}, ${}{bigint}, ${}{text})",
                3 * n + 1,
                3 * n + 2,
                3 * n + 3
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE {name} SET {data} = v.column3, version = {name}.version + 1 \
         FROM (VALUES {values}) AS v \
         WHERE {name}.{key_column} = v.column1 AND {name}.version = v.column2 \
         RETURNING {name}.{key_column}"
    );
    let mut query = sqlx::query(&sql);
    for write in rows {
        query = query.bind(&write.key).bind(write.version).bind(&write.json);
    }
    count_statement();
    let updated: Vec<String> = query
        .fetch_all(&mut *connection)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(rows
        .iter()
        .map(|write| updated.contains(&write.key))
        .collect())
}
