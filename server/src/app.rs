//! The application composed: the settings a start resolves to
//! ([`Config`]), the keys from the environment or `--dev`'s file, the
//! router with its limits ([`app`]), and the run loop with its background
//! work and shutdown ([`run`]). `launch` (the command line) and
//! `operations` (the operator's commands) stand on it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use otpkit::Keyring;
use otpkit::Pepper;
use otpkit::challenge::ChallengePolicy;
use otpkit::record::EnrollmentOptions;
use zeroize::Zeroizing;

use crate::api::{ApiKey, AppState};
use crate::dev_keys::DevKeys;
use crate::error::ApiError;
use crate::error::StartError;
use crate::sender::{DevOutbox, Sender, Webhook};
use crate::service::{Service, Settings};
use crate::store::Store;

/// How to run: the command line, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// `sqlite://FILE` or `postgres://…`.
    pub database: String,
    /// The environment variable holding the API key.
    pub api_key_env: String,
    /// The environment variable holding the sealing keys (`new,old`).
    pub sealing_keys_env: String,
    /// The environment variable holding the pepper.
    pub pepper_env: String,
    /// The environment variable listing Ding tenants' keys
    /// (`KEY=UUID[,UUID…];…`; unset or empty: none).
    pub ding_keys_env: String,
    /// Demo pages, the outbox route, and the demo's own keys (refusing
    /// production keys).
    pub dev: bool,
    /// Where `--dev` keeps its keys (default: beside a SQLite database,
    /// `FILE.dev-keys`).
    pub dev_keys: Option<std::path::PathBuf>,
    /// The issuer shown in authenticator apps.
    pub issuer: String,
    /// Ding authentications' policy: digits, lifetime, attempts, retries
    /// and their cool-down.
    pub challenge: ChallengePolicy,
    /// The database pool's size (default: 4 on SQLite, 16 on PostgreSQL).
    pub max_connections: Option<u32>,
    /// The most compare-and-sets committed in one transaction (1: one
    /// transaction per write).
    pub write_batch: usize,
    /// What a SQLite commit survives (`PRAGMA synchronous`).
    pub durability: crate::store::Durability,
    /// Serve even when rows are sealed with keys the keyring lacks.
    pub allow_missing_keys: bool,
    /// The environment variable holding the metrics key (unset: the API
    /// key opens `/metrics`).
    pub metrics_key_env: String,
    /// The limits: hashing, clients, SMS.
    pub limits: crate::limits::Limits,
    /// Where SMS messages go: a webhook URL (its key in
    /// `sms_webhook_key_env`); without one, the `--dev` outbox in `--dev`,
    /// else none (sending a code answers 503).
    pub sms_webhook: Option<String>,
    /// The environment variable holding the webhook's HMAC key.
    pub sms_webhook_key_env: String,
    /// Connections: how many at once, and how long a client may take.
    pub connections: crate::listen::Connections,
    /// The purge's schedule.
    pub purge: Purge,
}

/// When the purge runs, and what it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Purge {
    /// Time between two purges (each instance ticks on its own; the first
    /// to tick in an interval purges for all, with its own settings, so
    /// instances sharing a database need the same: [`Store::claim_purge`]).
    pub every: std::time::Duration,
    /// How long an expired authentication is kept (its status readable).
    pub keep_expired: std::time::Duration,
    /// How long an unverified enrollment may wait for its first code.
    pub enrollment_grace: std::time::Duration,
}

impl Default for Purge {
    fn default() -> Self {
        Self {
            every: std::time::Duration::from_secs(600),
            keep_expired: std::time::Duration::from_secs(86_400),
            enrollment_grace: std::time::Duration::from_secs(86_400),
        }
    }
}

/// A production secret from its environment variable (wiped when
/// dropped, once parsed into the key types that keep it).
fn from_env(var: &str, what: &str) -> Result<Zeroizing<String>, String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
        _ => Err(format!("no {what}: set {var}")),
    }
}

/// The key `/metrics` answers to instead of the API key, if its variable
/// is set.
fn metrics_key(config: &Config) -> Result<Option<ApiKey>, StartError> {
    let var = &config.metrics_key_env;
    match std::env::var(var) {
        Ok(key) if !key.is_empty() => {
            let key = Zeroizing::new(key);
            ApiKey::new(&key)
                .map(Some)
                .map_err(|e| StartError(format!("{var}: {e}")))
        }
        _ => Ok(None),
    }
}

/// The production keys, parsed, or every problem with them at once (a
/// missing variable, a key too short), each naming its variable.
fn production_keys(config: &Config) -> Result<(ApiKey, Keyring, Pepper), StartError> {
    let (api_key_var, keyring_var, pepper_var) = (
        &config.api_key_env,
        &config.sealing_keys_env,
        &config.pepper_env,
    );
    let api_key = from_env(api_key_var, "API key")
        .and_then(|key| ApiKey::new(&key).map_err(|e| format!("{api_key_var}: {e}")));
    let keyring = from_env(keyring_var, "sealing keys").and_then(|keys| {
        keys.parse::<Keyring>()
            .map_err(|e| format!("{keyring_var}: {e}"))
    });
    let pepper = from_env(pepper_var, "pepper").and_then(|pepper| {
        Pepper::new(pepper.as_bytes()).map_err(|e| format!("{pepper_var}: {e}"))
    });
    match (api_key, keyring, pepper) {
        (Ok(api_key), Ok(keyring), Ok(pepper)) => Ok((api_key, keyring, pepper)),
        (api_key, keyring, pepper) => {
            let problems: Vec<String> = [api_key.err(), keyring.err(), pepper.err()]
                .into_iter()
                .flatten()
                .collect();
            Err(StartError(format!(
                "{}; `otpkit-server secrets` prints a new set (or run with --dev for a demo)",
                problems.join("; ")
            )))
        }
    }
}

/// Refuses to serve when rows may be sealed with a key the keyring lacks
/// (one small query: the keys instances have sealed with), unless
/// `anyway`; then notes the sealing key before anything is sealed with it.
async fn check_keys_in_use(
    store: &Store,
    keyring: &Keyring,
    var: &str,
    anyway: bool,
) -> Result<(), StartError> {
    let database = |e: sqlx::Error| StartError(format!("reading the sealing keys in use: {e}"));
    let missing: Vec<String> = store
        .sealing_keys()
        .await
        .map_err(database)?
        .into_iter()
        .filter(|id| !keyring.has_key(id))
        .collect();
    if !missing.is_empty() {
        let ids = missing.join(", ");
        if !anyway {
            return Err(StartError(format!(
                "rows in this database are sealed with key {ids}, which {var} lacks: their users' \
                 2FA would fail. Add the key (new,old…), or start with --allow-missing-keys to \
                 serve anyway"
            )));
        }
        tracing::warn!(
            missing = %ids,
            "serving with sealing keys missing (--allow-missing-keys): rows sealed with them fail"
        );
    }
    store
        .note_sealing_key(keyring.sealing_key_id())
        .await
        .map_err(database)
}

/// `--dev`'s keys, from their file (written at first start). Refuses
/// production keys in the environment, and moves keys an older `--dev`
/// server kept in the database into the file.
async fn demo_keys(store: &Store, config: &Config) -> Result<DevKeys, StartError> {
    let set: Vec<&str> = [
        &config.api_key_env,
        &config.sealing_keys_env,
        &config.pepper_env,
    ]
    .into_iter()
    .filter(|var| std::env::var_os(var).is_some_and(|value| !value.is_empty()))
    .map(String::as_str)
    .collect();
    if !set.is_empty() {
        return Err(StartError(format!(
            "--dev makes its own keys and refuses production ones: unset {} (or run without --dev)",
            set.join(", ")
        )));
    }
    let path = crate::dev_keys::path(&config.database, config.dev_keys.as_deref())?;
    let database = |e: sqlx::Error| StartError(format!("reading the old --dev keys: {e}"));
    let legacy = store.legacy_dev_secrets().await.map_err(database)?;
    let legacy = DevKeys::from_pairs(legacy);
    let (keys, created) = crate::dev_keys::load_or_create(&path, legacy.clone())?;
    if created {
        // Printed once, at first start; the file keeps it.
        println!(
            "dev API key: {} (kept with the other --dev keys in {})",
            *keys.api_key,
            path.display()
        );
    }
    if let Some(legacy) = legacy {
        if legacy != keys {
            return Err(StartError(format!(
                "the database holds the keys an older --dev server sealed its records with, and \
                 {} holds others: delete that file to move the database's keys into it",
                path.display()
            )));
        }
        store.forget_legacy_dev_secrets().await.map_err(database)?;
        tracing::info!(file = %path.display(), "moved the --dev keys out of the database");
    }
    Ok(keys)
}

/// The configured sealing keys (in `--dev`, the demo's).
pub(crate) async fn keyring(store: &Store, config: &Config) -> Result<Keyring, StartError> {
    let (keys, var) = if config.dev {
        (
            demo_keys(store, config).await?.sealing_keys,
            "the --dev keys' sealing_keys",
        )
    } else {
        (
            from_env(&config.sealing_keys_env, "sealing keys").map_err(StartError)?,
            config.sealing_keys_env.as_str(),
        )
    };
    keys.parse().map_err(|e| StartError(format!("{var}: {e}")))
}

/// The configured SMS sender: the webhook, else (`--dev` only) the dev
/// outbox, else none.
fn sender(config: &Config, store: &Store) -> Result<Option<Arc<dyn Sender>>, StartError> {
    if let Some(url) = &config.sms_webhook {
        let var = &config.sms_webhook_key_env;
        let key = Zeroizing::new(std::env::var(var).unwrap_or_default());
        if key.is_empty() {
            return Err(StartError(format!(
                "--sms-webhook needs its HMAC key: set {var} (at least {} bytes)",
                crate::sender::MIN_KEY
            )));
        }
        let webhook = Webhook::new(url, key.as_bytes()).map_err(StartError)?;
        return Ok(Some(Arc::new(webhook)));
    }
    if config.dev {
        return Ok(Some(Arc::new(DevOutbox::new(store.clone()))));
    }
    tracing::warn!("no SMS sender (--sms-webhook): Ding's send and retry answer 503 no_sender");
    Ok(None)
}

/// The application: routes, state, limits; and the service, whose
/// background work [`run`] starts.
///
/// # Errors
/// Missing or invalid keys.
pub async fn app(config: &Config, store: Store) -> Result<(Router, Service), StartError> {
    // An issuer no authenticator app can show is refused now, not at each
    // enrollment (user ids are checked by the routes; any one stands in).
    if let Err(e) =
        otpkit::TotpRecord::create(&config.issuer, "user", &EnrollmentOptions::default(), 0)
    {
        return Err(StartError(format!("--issuer: {e}")));
    }
    let (api_key, keyring, pepper, keyring_var) = if config.dev {
        let keys = demo_keys(&store, config).await?;
        let what = |name: &str| format!("the --dev keys' {name}");
        let api_key = ApiKey::new(&keys.api_key)
            .map_err(|e| StartError(format!("{}: {e}", what("api_key"))))?;
        let keyring: Keyring = keys
            .sealing_keys
            .parse()
            .map_err(|e| StartError(format!("{}: {e}", what("sealing_keys"))))?;
        let pepper = Pepper::new(keys.pepper.as_bytes())
            .map_err(|e| StartError(format!("{}: {e}", what("pepper"))))?;
        (api_key, keyring, pepper, what("sealing_keys"))
    } else {
        let (api_key, keyring, pepper) = production_keys(config)?;
        (api_key, keyring, pepper, config.sealing_keys_env.clone())
    };
    check_keys_in_use(&store, &keyring, &keyring_var, config.allow_missing_keys).await?;
    let ding_keys = Zeroizing::new(std::env::var(&config.ding_keys_env).unwrap_or_default());
    let ding_keys = crate::api::DingKeys::parse(&ding_keys)
        .map_err(|e| StartError(format!("{}: {e}", config.ding_keys_env)))?;
    let settings = Settings {
        keyring: Arc::new(keyring),
        pepper,
        issuer: config.issuer.clone(),
        enrollment: EnrollmentOptions::default(),
        challenge: config.challenge,
    };
    let sender = sender(config, &store)?;
    let service = Service::new(store, settings, sender, config.limits.clone());
    let state = AppState {
        service: service.clone(),
        api_key: Arc::new(api_key),
        ding_keys: Arc::new(ding_keys),
        metrics_key: metrics_key(config)?.map(Arc::new),
    };
    let openapi = || async {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            crate::api::OPENAPI,
        )
    };
    let mut app = crate::api::router(state, config.dev)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", {
            let service = service.clone();
            get(move || ready(service.clone()))
        })
        .route("/openapi.json", get(openapi));
    let service_for_timing = service.clone();
    if config.dev {
        app = app.merge(crate::demo::router(service.clone()));
    }
    let mut app = app
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") });
    if config.dev {
        app = app.layer(axum::middleware::from_fn(crate::demo::loopback_host_only));
    }
    let app = app
        .layer(DefaultBodyLimit::max(crate::api::BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            service_for_timing,
            crate::api::timed,
        ))
        .layer(axum::Extension(Arc::new(
            config.limits.trusted_proxies.clone(),
        )));
    Ok((app, service))
}

/// How long `/readyz` waits for the database.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /readyz`: 200 `ready` when the database answers within
/// [`READY_TIMEOUT`] and the batch writer takes writes, else 503 with the
/// reason (a load balancer's or Kubernetes' readiness probe; `/healthz`
/// is the liveness one).
async fn ready(service: Service) -> axum::response::Response {
    use axum::response::IntoResponse;
    match service.store().ready(READY_TIMEOUT).await {
        Ok(()) => "ready".into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response(),
    }
}

/// Runs the server until SIGTERM or Ctrl-C, then finishes the requests in
/// flight and closes the database.
///
/// # Errors
/// A database that cannot be opened, missing keys, an address in use.
pub async fn run(config: Config) -> Result<(), StartError> {
    if config.dev && !config.listen.ip().is_loopback() {
        // The demo pages and the outbox need no API key for the pages and
        // show SMS codes: only this machine may reach them.
        return Err(StartError(format!(
            "--dev listens on loopback only (127.0.0.1 or ::1), not {}: the demo pages and \
             the outbox are for this machine",
            config.listen
        )));
    }
    if config.dev {
        // Before the database: a PostgreSQL demo needs --dev-keys.
        crate::dev_keys::path(&config.database, config.dev_keys.as_deref())?;
    }
    let store = Store::connect_with(&config.database, config.max_connections, config.durability)
        .await
        .map_err(|e| {
            StartError(format!(
                "opening {}: {e}",
                crate::store::url::redacted(&config.database)
            ))
        })?
        .with_write_batches(config.write_batch);
    let (app, service) = app(&config, store.clone()).await?;
    let shutdown = shutdown();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError(format!("listening on {}: {e}", config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| StartError(format!("listening on {}: {e}", config.listen)))?;
    tracing::info!("otpkit-server listening on http://{address}");
    if config.dev {
        tracing::info!("demo: http://{address}/demo");
    }
    let purging = tokio::spawn(purges(
        store.clone(),
        config.purge,
        service.sealing_key_id().to_owned(),
    ));
    let (stop_retrying, stop) = tokio::sync::watch::channel(false);
    let retrying = tokio::spawn(service.delivery().clone().retry_due(stop));
    crate::listen::serve(listener, app, config.connections, shutdown).await;
    purging.abort();
    // A retry round under way finishes (a send is bounded by the sender's
    // timeout), so no message stays claimed by a stopped instance.
    let _ = stop_retrying.send(true);
    let _ = retrying.await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Every `purge.every` (and at start): the sealing key noted again, and,
/// unless another instance sharing the database purged within the
/// interval ([`Store::claim_purge`]), [`Store::purge`]: past quota
/// windows, old or expired messages, authentications expired more than
/// `purge.keep_expired` ago, and unverified enrollments idle longer than
/// `purge.enrollment_grace` go.
async fn purges(store: Store, purge: Purge, sealing_key: String) {
    let mut ticks = tokio::time::interval(purge.every);
    loop {
        ticks.tick().await;
        // Again at each purge: a `rekey` that ran meanwhile forgot the
        // keys it saw no row on, but this instance still seals with its
        // own, and a start's key check must know it.
        if let Err(error) = store.note_sealing_key(&sealing_key).await {
            tracing::warn!(%error, "noting the sealing key failed; the next purge retries");
        }
        let (keep, grace) = (
            purge.keep_expired.as_secs(),
            purge.enrollment_grace.as_secs(),
        );
        let (now, every) = (crate::clock::now(), purge.every.as_secs());
        match store.purge_if_due(now, every, keep, grace).await {
            // Another instance purged within the interval: ours too.
            Ok(None) => tracing::debug!("the purge of this interval was another instance's"),
            Ok(Some(done)) if done == crate::store::Purged::default() => {}
            Ok(Some(done)) => tracing::info!(
                quotas = done.quotas,
                messages = done.messages,
                authentications = done.authentications,
                feedback = done.feedback,
                enrollments = done.enrollments,
                tombstones = done.tombstones,
                "purged what only tells of the past"
            ),
            Err(error) => tracing::warn!(%error, "purge failed; the next one retries"),
        }
    }
}

/// SIGTERM or Ctrl-C. The handlers are installed when this is called, not
/// when the future is first polled, so a signal that comes right after
/// the server says it listens still shuts it down cleanly.
fn shutdown() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = wait(signals.0.take()) => {},
                () = wait(signals.1.take()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
