//! Opening the database: a SQLite file created private (or an existing
//! one only, for the operator's commands), its durability, the
//! migrations, and SQLite's checkpointer.

use std::str::FromStr;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use super::{Backend, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, Store, url};

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
        Self::open(url, max_connections, durability, true).await
    }

    /// Connects to a database that exists and holds otpkit's schema, and
    /// brings it up to date as a start would; never creates one. For the
    /// operator's commands, which must not answer about an empty database
    /// made by a misspelled URL.
    ///
    /// # Errors
    /// No SQLite file at the URL's path, a database without otpkit's
    /// tables (both named with the URL, without its password), or what
    /// [`Store::connect`] reports.
    pub async fn connect_existing(
        url: &str,
        max_connections: Option<u32>,
    ) -> Result<Self, sqlx::Error> {
        let shown = url::redacted(url);
        if let Some(file) = url::sqlite_file(url)
            && !file.is_file()
        {
            return Err(sqlx::Error::Configuration(
                format!("no database at {shown}: {} does not exist", file.display()).into(),
            ));
        }
        let store = Self::open(url, max_connections, Durability::default(), false).await?;
        let schema = sqlx::query("SELECT version FROM totp LIMIT 1")
            .fetch_optional(&store.pool)
            .await;
        if schema.is_err() {
            store.close().await;
            return Err(sqlx::Error::Configuration(
                format!(
                    "{shown} holds no otpkit data (no totp table): is it the server's --database?"
                )
                .into(),
            ));
        }
        Ok(store)
    }

    /// Connects; `create` makes a missing SQLite file (private), else
    /// opens only an existing one and runs migrations only where otpkit's
    /// schema already is.
    async fn open(
        url: &str,
        max_connections: Option<u32>,
        durability: Durability,
        create: bool,
    ) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let backend: Backend = url
            .parse()
            .map_err(|e: String| sqlx::Error::Configuration(e.into()))?;
        let url = match backend {
            Backend::Sqlite => {
                let mode = url
                    .split_once('?')
                    .and_then(|(_, query)| {
                        query.split('&').find_map(|pair| pair.strip_prefix("mode="))
                    })
                    .map(str::to_owned);
                let with = |mode: &str| {
                    let separator = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{separator}mode={mode}")
                };
                match (create, mode.as_deref()) {
                    (false, None) => with("rw"),
                    (false, Some(_)) | (true, Some("ro" | "memory")) => url.to_owned(),
                    (true, mode) => {
                        // A new file is created private (0600) before
                        // SQLite opens it; its -wal and -shm files inherit
                        // that.
                        if let Some(file) = url::sqlite_file(url) {
                            url::create_private(&file).map_err(|e| {
                                sqlx::Error::Configuration(
                                    format!("creating {}: {e}", file.display()).into(),
                                )
                            })?;
                        }
                        match mode {
                            None => with("rwc"),
                            Some(_) => url.to_owned(),
                        }
                    }
                }
            }
            Backend::Postgres => url.to_owned(),
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
                        // An existing database is otpkit's in WAL mode already
                        // (the mode is kept in the file): one opened only to
                        // be checked is not converted.
                        let wal = if create {
                            "PRAGMA journal_mode = WAL; "
                        } else {
                            ""
                        };
                        connection
                            .execute(
                                format!(
                                    "{wal}PRAGMA synchronous = {synchronous}; \
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
        // An existing database is migrated only if it is otpkit's: an
        // empty one (a misspelled name) stays empty.
        let ours = create
            || sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
                .fetch_optional(&pool)
                .await
                .is_ok();
        if ours {
            migrations.run(&pool).await?;
        }
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoints(pool.clone()));
        }
        Ok(Self {
            pool,
            backend,
            loader: None,
            writer: None,
        })
    }
}
