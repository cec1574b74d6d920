//! The batched writer: many requests' compare-and-sets in one transaction.
//!
//! A request's save is queued with a channel for its answer. One task per
//! instance takes what is queued (up to [`MAX_BATCH`], no waiting for more:
//! under light load a batch is one write and costs no latency; under heavy
//! load batches grow and commits become rarer), runs each row's
//! `UPDATE … WHERE key = $k AND version = $v` in one transaction, commits,
//! and only then answers each request with its own row's result. A lost
//! compare-and-set is `false` for that request alone (it reloads and runs
//! its transition again); a failed statement or commit rolls the whole
//! batch back and answers every request in it with the error, so none is
//! told it was saved.
//!
//! The rows of a batch are written in key order, so two instances' batches
//! on PostgreSQL lock shared rows in the same order and cannot deadlock.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::store::Table;

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
    pub fn start(pool: AnyPool, max_batch: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, receiver, max_batch.clamp(1, MAX_BATCH)));
        Self { queue }
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
        json: &str,
    ) -> Result<bool, sqlx::Error> {
        let (answer, answered) = oneshot::channel();
        let write = Write {
            table,
            key: key.to_owned(),
            version,
            json: json.to_owned(),
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

async fn run(pool: AnyPool, mut receiver: mpsc::Receiver<Write>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        batch.sort_by(|a, b| (a.table, &a.key).cmp(&(b.table, &b.key)));
        match commit(&pool, &batch).await {
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

/// Runs the batch's updates in one transaction: whether each row was
/// saved, in the batch's order; an error rolls back all of them.
async fn commit(pool: &AnyPool, batch: &[Write]) -> Result<Vec<bool>, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let mut saved = Vec::with_capacity(batch.len());
    for write in batch {
        let (name, key_column, data) = write.table.sql();
        let done = sqlx::query(&format!(
            "UPDATE {name} SET {data} = $1, version = version + 1 \
             WHERE {key_column} = $2 AND version = $3"
        ))
        .bind(&write.json)
        .bind(&write.key)
        .bind(write.version)
        .execute(&mut *transaction)
        .await?;
        saved.push(done.rows_affected() == 1);
    }
    transaction.commit().await?;
    Ok(saved)
}
