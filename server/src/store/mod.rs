//! The database: rows of JSON state, each with a version that every write
//! checks and bumps (compare-and-set). SQLite and PostgreSQL run the same
//! queries through sqlx's `Any` driver; only the migrations differ (the
//! outbox's auto-increment key).

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};
use zeroize::Zeroizing;

pub mod batch;
pub mod loads;
mod open;
mod purge;
pub mod url;

pub use open::Durability;
pub use purge::{FEEDBACK_KEEP, Purged, TOMBSTONE_KEEP};

use batch::Writer;
use loads::Loader;

/// Statements this process sent the database (each a round trip; `BEGIN`
/// and `COMMIT` included): `otpkit_db_statements_total`, and the load
/// bench's statements per request.
static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts one statement sent.
pub(crate) fn count_statement() {
    STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Statements this process has sent the database.
#[must_use]
pub fn statements_sent() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Compare-and-sets that found the row changed (the request reloads and
/// runs its transition again): `otpkit_db_lost_compare_and_sets_total`.
static LOST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Compare-and-sets this process lost to another writer.
#[must_use]
pub fn lost_compare_and_sets() -> u64 {
    LOST.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts `saved` when it is a lost compare-and-set; passes it on.
fn lost_if_not(saved: bool) -> bool {
    if !saved {
        LOST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    saved
}

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

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

/// The connection pool, which backend it talks to, and the batched reader
/// and writer when loads and compare-and-sets are batched.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    loader: Option<Loader>,
    writer: Option<Writer>,
}

impl Store {
    /// Batches loads and compare-and-sets: concurrent requests' loads in
    /// one statement ([`loads`]), and up to `max_batch` requests' updates in
    /// one statement or transaction ([`batch`]); 1 keeps one statement per
    /// load and one transaction per write. Needs a tokio runtime (the
    /// reader and the writer are tasks).
    #[must_use]
    pub fn with_write_batches(mut self, max_batch: usize) -> Self {
        let batched = max_batch > 1;
        self.writer = batched.then(|| Writer::start(self.pool.clone(), self.backend, max_batch));
        self.loader = batched.then(|| Loader::start(self.pool.clone()));
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
        if let Some(loader) = &self.loader {
            return loader.load(table, key).await;
        }
        count_statement();
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
            return writer
                .compare_and_set(table, key, version, json)
                .await
                .map(lost_if_not);
        }
        let mut connection = self.pool.acquire().await?;
        count_statement();
        update_if_version(&mut connection, table, key, version, &json)
            .await
            .map(lost_if_not)
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
        // A window given back to nothing keeps no row: refused requests
        // (a new number, a new address each time) leave the table as it
        // was.
        sqlx::query(
            "DELETE FROM quota WHERE scope = $1 AND subject = $2 AND window_start = $3 AND used <= 0",
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

    /// Whether this instance can serve: the database answers a query
    /// within `timeout`, and the batch writer (if any) takes writes.
    ///
    /// # Errors
    /// What is wrong, in a few words.
    pub async fn ready(&self, timeout: std::time::Duration) -> Result<(), String> {
        // The reason is for anyone who asks (no key): a fixed phrase; the
        // database's own message, which may name its user or host, is
        // logged.
        match tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Err(_) => return Err(format!("the database did not answer within {timeout:?}")),
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: the database refused a query");
                return Err("the database refused a query".to_owned());
            }
            Ok(Ok(_)) => {}
        }
        match self.writer.as_ref().and_then(Writer::unready) {
            Some(why) => Err(why.to_owned()),
            None => Ok(()),
        }
    }

    /// Notes that rows may be sealed with `key_id` (before an instance
    /// seals with it).
    ///
    /// # Errors
    /// A database error.
    pub async fn note_sealing_key(&self, key_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO sealing_keys (key_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The keys rows may be sealed with (one small table: no scan).
    ///
    /// # Errors
    /// A database error.
    pub async fn sealing_keys(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT key_id FROM sealing_keys ORDER BY key_id")
            .fetch_all(&self.pool)
            .await
    }

    /// Forgets every sealing key but `key_id` (after `rekey` re-sealed
    /// every row with it).
    ///
    /// # Errors
    /// A database error.
    pub async fn forget_sealing_keys_but(&self, key_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sealing_keys WHERE key_id <> $1")
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        Ok(())
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
