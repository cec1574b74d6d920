//! The database: rows of JSON state, each with a version that every write
//! checks and bumps (compare-and-set). SQLite and PostgreSQL run the same
//! queries through sqlx's `Any` driver; only the migrations differ (the
//! outbox's auto-increment key).

use std::str::FromStr;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};
use zeroize::Zeroizing;

pub mod batch;
pub mod url;

use batch::Writer;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file, the embedded default (`sqlite://otpkit.db`).
    Sqlite,
    /// A server shared by several instances (`postgres://…`).
    Postgres,
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(format!(
                "unsupported database URL {:?}: use sqlite://FILE or postgres://…",
                url.split_once(':').map_or(url, |(scheme, _)| scheme)
            )),
        }
    }
}

/// What a commit on SQLite survives (`PRAGMA synchronous`; PostgreSQL
/// has its own settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `FULL`: the WAL is synced at every commit, so a committed write
    /// survives a power loss or an OS crash (the default).
    #[default]
    Full,
    /// `NORMAL`: synced at checkpoints only. A crash of this process
    /// loses nothing, but a power loss or an OS crash may undo the last
    /// commits: a used backup code or TOTP step could be accepted again,
    /// counted failures forgotten.
    Normal,
}

impl FromStr for Durability {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            _ => Err("expected full or normal".to_owned()),
        }
    }
}

/// The versioned tables: one JSON state per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `totp`: a user's TOTP record, keyed by user id.
    Totp,
    /// `authentications`: a Ding challenge, keyed by its UUID.
    Authentication,
}

impl Table {
    /// The table's name, key column and state column.
    pub(crate) const fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Totp => ("totp", "user_id", "record"),
            Self::Authentication => ("authentications", "uuid", "challenge"),
        }
    }
}

/// A state as read, with the version a save must still find.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The row's version when read.
    pub version: i64,
    /// The state, as JSON.
    pub json: String,
}

/// What a [`Store::purge`] deleted, rows of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Past quota windows.
    pub quotas: u64,
    /// Old dev outbox messages and expired queued ones.
    pub messages: u64,
    /// Authentications expired long enough ago.
    pub authentications: u64,
    /// Ding feedback older than [`FEEDBACK_KEEP`].
    pub feedback: u64,
    /// Unverified enrollments past their grace period (now tombstones).
    pub enrollments: u64,
    /// Tombstones of deleted TOTP rows, a day after the purge first saw
    /// them.
    pub tombstones: u64,
}

/// How long Ding feedback is kept, seconds (30 days): long enough to
/// refuse the same feedback twice for a sign-up, no longer.
pub const FEEDBACK_KEEP: i64 = 30 * 86_400;

/// How long a tombstone (a deleted TOTP row, its version kept) stays after
/// the purge first sees it, seconds. It exists so that a request that read
/// the deleted state cannot save over a state created after the deletion
/// (ABA). When it goes, the highest version it had is kept in
/// `version_floor` and a new row starts above it, so even then no (key,
/// version) pair is used twice.
pub const TOMBSTONE_KEEP: i64 = 86_400;

/// How long a queued message is tried, seconds: past it, its code has
/// expired (Ding's codes live 10 minutes at most), so it is dropped.
pub const MESSAGE_LIFETIME: i64 = 3600;

/// A queued message's row: sealed, with its lease.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    /// Its id (what the seal is bound to).
    pub id: String,
    /// Recipient and text, sealed.
    pub sealed: String,
    /// When it was queued, Unix milliseconds.
    pub created_at: i64,
    /// Failed sends so far.
    pub attempts: i64,
    /// When the next attempt may start (the end of the current lease),
    /// Unix milliseconds.
    pub due_at: i64,
}

/// A message the `--dev` outbox stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxMessage {
    /// The recipient.
    pub phone_number: String,
    /// The text.
    pub body: String,
    /// When it was sent, Unix milliseconds.
    pub sent_at: i64,
}

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// SQLite's checkpointer: every second, a PASSIVE checkpoint (it never
/// waits for or blocks a writer) copies the WAL into the database file, so
/// the WAL stays small without a checkpoint landing inside a request's
/// commit. Ends when the pool is closed.
async fn checkpoints(pool: AnyPool) {
    let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "WAL checkpoint failed; the next one retries");
        }
    }
}

/// The connection pool, which backend it talks to, and the batched writer
/// when compare-and-sets are batched.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Option<Writer>,
}

impl Store {
    /// Connects, creating a SQLite file if missing (WAL mode), and runs
    /// the migrations. `max_connections` defaults to 4 for SQLite (in WAL
    /// mode reads run in parallel and each write holds the lock for one
    /// short statement; measured with the load bench, 4 connections
    /// doubled the throughput of 1 and more gained little) and 16 for
    /// PostgreSQL.
    ///
    /// # Errors
    /// An unsupported URL, an unreachable database, or a failed migration.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Self, sqlx::Error> {
        Self::connect_with(url, max_connections, Durability::default()).await
    }

    /// [`Store::connect`], with SQLite's commits as durable as
    /// `durability` says.
    ///
    /// # Errors
    /// As [`Store::connect`].
    pub async fn connect_with(
        url: &str,
        max_connections: Option<u32>,
        durability: Durability,
    ) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let backend: Backend = url
            .parse()
            .map_err(|e: String| sqlx::Error::Configuration(e.into()))?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                // A new file is created private (0600) before SQLite
                // opens it; its -wal and -shm files inherit that.
                if let Some(file) = url::sqlite_file(url) {
                    url::create_private(&file).map_err(|e| {
                        sqlx::Error::Configuration(
                            format!("creating {}: {e}", file.display()).into(),
                        )
                    })?;
                }
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let default_connections = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.unwrap_or(default_connections))
            // A SQLite connection is a file handle in this process: it
            // cannot go stale, so no ping (a round trip to its worker
            // thread) before each use. PostgreSQL's are checked.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never block the writer. FULL sync
                        // (the default) fsyncs the WAL at each commit (a
                        // batch's, shared by its requests), NORMAL only at
                        // checkpoints (see [`Durability`]). No checkpoint
                        // inside a commit (its fsync would stall every
                        // request of a batch): the checkpointer task runs
                        // them beside the writes.
                        let synchronous = match durability {
                            Durability::Full => "FULL",
                            Durability::Normal => "NORMAL",
                        };
                        connection
                            .execute(
                                format!(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                                     PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;"
                                )
                                .as_str(),
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await?;
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoints(pool.clone()));
        }
        Ok(Self {
            pool,
            backend,
            writer: None,
        })
    }

    /// Batches compare-and-sets: up to `max_batch` requests' updates in one
    /// transaction ([`batch`]); 1 keeps one transaction per write.
    /// Needs a tokio runtime (the writer is a task).
    #[must_use]
    pub fn with_write_batches(mut self, max_batch: usize) -> Self {
        self.writer =
            (max_batch > 1).then(|| Writer::start(self.pool.clone(), self.backend, max_batch));
        self
    }

    /// Which database this is.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The state under `key`, with its version; `None` for no row, or for
    /// the tombstone a deletion leaves.
    ///
    /// # Errors
    /// A database error.
    pub async fn load(&self, table: Table, key: &str) -> Result<Option<Versioned>, sqlx::Error> {
        let (name, key_column, data) = table.sql();
        let row = sqlx::query(&format!(
            "SELECT version, {data} FROM {name} WHERE {key_column} = $1 AND {data} <> ''"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Versioned {
                version: row.try_get(0)?,
                json: row.try_get(1)?,
            })
        })
        .transpose()
    }

    /// Up to `limit` keys of `table` after `after`, in order, without
    /// tombstones: for walking every row in pages.
    ///
    /// # Errors
    /// A database error.
    pub async fn keys_after(
        &self,
        table: Table,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let (name, key_column, data) = table.sql();
        let rows = sqlx::query(&format!(
            "SELECT {key_column} FROM {name} WHERE {key_column} > $1 AND {data} <> '' \
             ORDER BY {key_column} LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| row.try_get(0)).collect()
    }

    /// How many rows `table` holds (tombstones aside).
    ///
    /// # Errors
    /// A database error.
    pub async fn count(&self, table: Table) -> Result<usize, sqlx::Error> {
        let (name, _, data) = table.sql();
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {name} WHERE {data} <> ''"))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Every Ding authentication's stored JSON (for `keys`).
    ///
    /// # Errors
    /// A database error.
    pub async fn stored_authentications(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query("SELECT challenge FROM authentications WHERE challenge <> ''")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect()
    }

    /// Every queued message's id and sealed text.
    ///
    /// # Errors
    /// A database error.
    pub async fn sealed_messages(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query("SELECT id, sealed FROM messages ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Replaces a queued message's sealed text if it is still `old`:
    /// false when it was sent (deleted) meanwhile.
    ///
    /// # Errors
    /// A database error.
    pub async fn reseal_message(
        &self,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE messages SET sealed = $1 WHERE id = $2 AND sealed = $3")
            .bind(new)
            .bind(id)
            .bind(old)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    /// Saves `json` under `key` if the row still has `version`: false when
    /// another request saved first (reload and run the transition again).
    /// With batched writes, answered once its batch has committed.
    ///
    /// # Errors
    /// A database error (with batches: the batch's, none of it saved).
    pub async fn compare_and_set(
        &self,
        table: Table,
        key: &str,
        version: i64,
        json: String,
    ) -> Result<bool, sqlx::Error> {
        if let Some(writer) = &self.writer {
            return writer.compare_and_set(table, key, version, json).await;
        }
        let mut connection = self.pool.acquire().await?;
        update_if_version(&mut connection, table, key, version, &json).await
    }

    /// [`Store::compare_and_set`] and, in the same transaction, queues
    /// `message`: both or neither (a retry's new code is never saved
    /// without its message, nor queued for a retry that lost its race).
    /// Not batched: retries are rare.
    ///
    /// # Errors
    /// A database error (nothing saved).
    pub async fn compare_and_set_queuing(
        &self,
        table: Table,
        key: &str,
        version: i64,
        json: String,
        message: &QueuedMessage,
    ) -> Result<bool, sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        if !update_if_version(&mut transaction, table, key, version, &json).await? {
            transaction.rollback().await?;
            return Ok(false);
        }
        insert_message(&mut transaction, message).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Deletes the state under `key` if the row still has `version`. The
    /// row stays as a tombstone (an empty state) with its version bumped,
    /// so versions only ever grow: a request that read the deleted state
    /// can never save over a state created after it (no ABA).
    ///
    /// # Errors
    /// A database error.
    pub async fn compare_and_delete(
        &self,
        table: Table,
        key: &str,
        version: i64,
    ) -> Result<bool, sqlx::Error> {
        let (name, key_column, data) = table.sql();
        let done = sqlx::query(&format!(
            "UPDATE {name} SET {data} = '', version = version + 1 \
             WHERE {key_column} = $1 AND version = $2 AND {data} <> ''"
        ))
        .bind(key)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates a user's TOTP: a new row just above the version floor (1
    /// until a tombstone was purged), or the user's tombstone filled again
    /// at its next version; false if the user has one.
    ///
    /// # Errors
    /// A database error.
    pub async fn insert_totp(&self, user_id: &str, json: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO totp (user_id, version, record) \
             VALUES ($1, (SELECT floor FROM version_floor WHERE name = 'totp') + 1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET record = excluded.record, \
             version = totp.version + 1, deleted_at = NULL WHERE totp.record = ''",
        )
        .bind(user_id)
        .bind(json)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a new Ding authentication at version 1.
    ///
    /// # Errors
    /// A database error (a UUID collision among them).
    pub async fn insert_authentication(
        &self,
        uuid: &str,
        customer_uuid: &str,
        phone_number: &str,
        json: &str,
        expires_at: u64,
        message: &QueuedMessage,
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO authentications \
             (uuid, customer_uuid, phone_number, version, challenge, expires_at) \
             VALUES ($1, $2, $3, 1, $4, $5)",
        )
        .bind(uuid)
        .bind(customer_uuid)
        .bind(phone_number)
        .bind(json)
        .bind(i64::try_from(expires_at).unwrap_or(i64::MAX))
        .execute(&mut *transaction)
        .await?;
        insert_message(&mut transaction, message).await?;
        transaction.commit().await
    }

    /// Queues a message on its own (the service queues each with the
    /// write it belongs to).
    ///
    /// # Errors
    /// A database error.
    pub async fn insert_message(&self, message: &QueuedMessage) -> Result<(), sqlx::Error> {
        let mut connection = self.pool.acquire().await?;
        insert_message(&mut connection, message).await
    }

    /// Up to `limit` queued messages due by `now` (Unix ms), the most
    /// overdue first.
    ///
    /// # Errors
    /// A database error.
    pub async fn due_messages(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<QueuedMessage>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, sealed, created_at, attempts, due_at FROM messages \
             WHERE due_at <= $1 ORDER BY due_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(QueuedMessage {
                    id: row.try_get(0)?,
                    sealed: row.try_get(1)?,
                    created_at: row.try_get(2)?,
                    attempts: row.try_get(3)?,
                    due_at: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Takes the lease of a message read with `due_at`, until `until`:
    /// `false` when another instance took it first.
    ///
    /// # Errors
    /// A database error.
    pub async fn claim_message(
        &self,
        id: &str,
        due_at: i64,
        until: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE messages SET due_at = $1 WHERE id = $2 AND due_at = $3")
            .bind(until)
            .bind(id)
            .bind(due_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A failed send: the message (still under the lease ending `due_at`)
    /// is due again at `next`, after `attempts` failures.
    ///
    /// # Errors
    /// A database error.
    pub async fn defer_message(
        &self,
        id: &str,
        due_at: i64,
        attempts: i64,
        next: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE messages SET due_at = $1, attempts = $2 WHERE id = $3 AND due_at = $4")
            .bind(next)
            .bind(attempts)
            .bind(id)
            .bind(due_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A message was taken by its sender: gone.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_message(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM messages WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The customer and phone number of an authentication (they never
    /// change, so reading them once per request is enough).
    ///
    /// # Errors
    /// A database error.
    pub async fn authentication_owner(
        &self,
        uuid: &str,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row =
            sqlx::query("SELECT customer_uuid, phone_number FROM authentications WHERE uuid = $1")
                .bind(uuid)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }

    /// Takes one from the quota `scope` of `subject` in the window that
    /// starts at `window_start`: `false` (nothing taken) when `limit` are
    /// used. One atomic statement, so instances sharing the database never
    /// take more than the limit between them.
    ///
    /// # Errors
    /// A database error.
    pub async fn take_quota(
        &self,
        scope: &str,
        subject: &str,
        window_start: i64,
        limit: u32,
    ) -> Result<bool, sqlx::Error> {
        if limit == 0 {
            return Ok(false);
        }
        let taken = sqlx::query(
            "INSERT INTO quota (scope, subject, window_start, used) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, subject, window_start) DO UPDATE SET used = quota.used + 1 \
             WHERE quota.used < $4 RETURNING used",
        )
        .bind(scope)
        .bind(subject)
        .bind(window_start)
        .bind(i64::from(limit))
        .fetch_optional(&self.pool)
        .await?;
        Ok(taken.is_some())
    }

    /// Gives back one taken by [`Store::take_quota`].
    ///
    /// # Errors
    /// A database error.
    pub async fn give_back_quota(
        &self,
        scope: &str,
        subject: &str,
        window_start: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE quota SET used = used - 1 \
             WHERE scope = $1 AND subject = $2 AND window_start = $3 AND used > 0",
        )
        .bind(scope)
        .bind(subject)
        .bind(window_start)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores Ding feedback; `false` when the same feedback (customer,
    /// number and status) was stored before.
    ///
    /// # Errors
    /// A database error.
    pub async fn insert_feedback(
        &self,
        uuid: &str,
        customer_uuid: &str,
        phone_number: &str,
        status: &str,
        created_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO feedback (uuid, customer_uuid, phone_number, status, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(uuid)
        .bind(customer_uuid)
        .bind(phone_number)
        .bind(status)
        .bind(created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Appends a message to the outbox.
    ///
    /// # Errors
    /// A database error.
    pub async fn push_outbox(
        &self,
        phone_number: &str,
        body: &str,
        sent_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO outbox (phone_number, body, sent_at) VALUES ($1, $2, $3)")
            .bind(phone_number)
            .bind(body)
            .bind(sent_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The messages sent to `phone_number`, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, phone_number: &str) -> Result<Vec<OutboxMessage>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT phone_number, body, sent_at FROM outbox WHERE phone_number = $1 ORDER BY id",
        )
        .bind(phone_number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutboxMessage {
                    phone_number: row.try_get(0)?,
                    body: row.try_get(1)?,
                    sent_at: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// Deletes what only tells of the past, as of Unix time `now`: quota
    /// windows that ended more than a day ago (a day window, at most two
    /// days old, is still counted), `--dev` outbox messages older than a
    /// day (they hold the codes sent, in plaintext), queued messages never
    /// taken within [`MESSAGE_LIFETIME`] (their codes have expired), and
    /// authentications that expired more than `keep_expired` seconds ago
    /// (their status reads as unknown after that), unverified TOTP
    /// enrollments untouched for `enrollment_grace` seconds (they become
    /// tombstones), and tombstones [`TOMBSTONE_KEEP`] after a purge first
    /// saw them.
    ///
    /// # Errors
    /// A database error.
    pub async fn purge(
        &self,
        now: u64,
        keep_expired: u64,
        enrollment_grace: u64,
    ) -> Result<Purged, sqlx::Error> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let keep_expired = i64::try_from(keep_expired).unwrap_or(i64::MAX);
        let enrollment_grace = i64::try_from(enrollment_grace).unwrap_or(i64::MAX);
        let execute = |sql: &'static str, before: i64| async move {
            Ok::<_, sqlx::Error>(
                sqlx::query(sql)
                    .bind(before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected(),
            )
        };
        let quotas = execute(
            "DELETE FROM quota WHERE window_start < $1",
            now.saturating_sub(2 * 86_400),
        )
        .await?;
        let outbox = execute(
            "DELETE FROM outbox WHERE sent_at < $1",
            now.saturating_sub(86_400).saturating_mul(1000),
        )
        .await?;
        let unsent = execute(
            "DELETE FROM messages WHERE created_at < $1",
            now.saturating_sub(MESSAGE_LIFETIME).saturating_mul(1000),
        )
        .await?;
        let authentications = execute(
            "DELETE FROM authentications WHERE expires_at < $1",
            now.saturating_sub(keep_expired),
        )
        .await?;
        let feedback = execute(
            "DELETE FROM feedback WHERE created_at < $1",
            now.saturating_sub(FEEDBACK_KEEP).saturating_mul(1000),
        )
        .await?;
        let enrollments = self.purge_enrollments(now, enrollment_grace).await?;
        let tombstones = self.purge_tombstones(now).await?;
        Ok(Purged {
            quotas,
            messages: outbox.saturating_add(unsent),
            authentications,
            feedback,
            enrollments,
            tombstones,
        })
    }

    /// Tombstones: dated when a purge first sees them, deleted
    /// [`TOMBSTONE_KEEP`] after, in one transaction with the version floor
    /// raised to the highest version deleted (a new row starts above it).
    async fn purge_tombstones(&self, now: i64) -> Result<u64, sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE totp SET deleted_at = $1 WHERE record = '' AND deleted_at IS NULL")
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        let before = now.saturating_sub(TOMBSTONE_KEEP);
        sqlx::query(
            "UPDATE version_floor SET floor = (SELECT MAX(v) FROM (\
             SELECT floor AS v FROM version_floor WHERE name = 'totp' UNION ALL \
             SELECT version AS v FROM totp WHERE record = '' AND deleted_at < $1) AS versions) \
             WHERE name = 'totp'",
        )
        .bind(before)
        .execute(&mut *transaction)
        .await?;
        let deleted = sqlx::query("DELETE FROM totp WHERE record = '' AND deleted_at < $1")
            .bind(before)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        transaction.commit().await?;
        Ok(deleted)
    }

    /// Unverified enrollments not touched for `grace` seconds become
    /// tombstones (emptied, their version bumped, as a delete does: a
    /// request still in flight on one loses its compare-and-set and finds
    /// no TOTP, and a new enrollment of the user never reuses a version).
    async fn purge_enrollments(&self, now: i64, grace: i64) -> Result<u64, sqlx::Error> {
        // The stored form's plain fields (the secret is the only sealed
        // one), read by each database's JSON functions.
        let (verified, updated_at) = match self.backend {
            Backend::Sqlite => (
                "json_extract(record, '$.verified') = 0",
                "json_extract(record, '$.updated_at')",
            ),
            Backend::Postgres => (
                "(record::jsonb ->> 'verified') = 'false'",
                "(record::jsonb ->> 'updated_at')::bigint",
            ),
        };
        let done = sqlx::query(&format!(
            "UPDATE totp SET record = '', version = version + 1 \
             WHERE record <> '' AND {verified} AND {updated_at} < $1"
        ))
        .bind(now.saturating_sub(grace))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The secrets a `--dev` server before 0.2 kept in the database
    /// (`dev_secrets`: name and value), to move into its keys file.
    ///
    /// # Errors
    /// A database error.
    pub async fn legacy_dev_secrets(
        &self,
    ) -> Result<Vec<(String, Zeroizing<String>)>, sqlx::Error> {
        let rows = sqlx::query("SELECT name, value FROM dev_secrets")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, Zeroizing::new(row.try_get(1)?))))
            .collect()
    }

    /// Deletes the keys [`Store::legacy_dev_secrets`] read, once they are
    /// in the keys file.
    ///
    /// # Errors
    /// A database error.
    pub async fn forget_legacy_dev_secrets(&self) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM dev_secrets")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The compare-and-set itself, on `connection` (a transaction or not):
/// `json` saved under `key` and the version bumped if the row still has
/// `version`.
async fn update_if_version(
    connection: &mut sqlx::AnyConnection,
    table: Table,
    key: &str,
    version: i64,
    json: &str,
) -> Result<bool, sqlx::Error> {
    let (name, key_column, data) = table.sql();
    let done = sqlx::query(&format!(
        "UPDATE {name} SET {data} = $1, version = version + 1 \
         WHERE {key_column} = $2 AND version = $3"
    ))
    .bind(json)
    .bind(key)
    .bind(version)
    .execute(connection)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts a queued message on `connection` (a transaction or not).
async fn insert_message(
    connection: &mut sqlx::AnyConnection,
    message: &QueuedMessage,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (id, sealed, created_at, attempts, due_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&message.id)
    .bind(&message.sealed)
    .bind(message.created_at)
    .bind(message.attempts)
    .bind(message.due_at)
    .execute(connection)
    .await?;
    Ok(())
}
