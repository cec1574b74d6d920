//! What the server does, as calls into otpkit: load a state, run one pure
//! transition, save it with a compare-and-set. No 2FA decision is made
//! here: codes, URIs, backup codes, lockouts and challenges are the
//! library's.
//!
//! Both the JSON API and the demo pages call these functions.
//!
//! [`totp`] holds Clerk's half (enrollment, sign-in checks, backup codes),
//! [`ding`] Ding's (authentications sent by SMS, checks, retries, quotas);
//! this module the state both share and the transition loop.

pub mod ding;
pub mod totp;

use std::sync::Arc;

use axum::http::StatusCode;
use otpkit::challenge::ChallengePolicy;
use otpkit::record::EnrollmentOptions;
use otpkit::{Keyring, Pepper};

use crate::delivery::Delivery;
use crate::error::ApiError;
use crate::limits::{ClientThrottle, HashGate, Limits};
use crate::metrics::Metrics;
use crate::sender::Sender;
use crate::store::{QueuedMessage, Store, Table};

/// The secrets and settings every request uses.
pub struct Settings {
    /// Seals TOTP secrets at rest; opens them with any of its keys.
    pub keyring: Arc<Keyring>,
    /// Keys the hashes of backup codes and one-time codes.
    pub pepper: Pepper,
    /// The issuer shown in authenticator apps.
    pub issuer: String,
    /// New TOTP enrollments.
    pub enrollment: EnrollmentOptions,
    /// Ding authentications.
    pub challenge: ChallengePolicy,
}

/// The server's state: the store, the settings, the sender, the limits
/// and the metrics. Cloned for every request, so it is one `Arc`: a clone
/// is one atomic increment, not one per part.
#[derive(Clone)]
pub struct Service(Arc<State>);

/// What a [`Service`] holds.
pub struct State {
    store: Store,
    settings: Arc<Settings>,
    delivery: Delivery,
    limits: Arc<Limits>,
    gate: HashGate,
    throttle: Arc<ClientThrottle>,
    metrics: Arc<Metrics>,
}

impl std::ops::Deref for Service {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

/// What a transition does to the stored row.
enum Change<S> {
    /// Nothing changed: nothing to save.
    Keep,
    /// Save this state.
    Put(S),
    /// Save this state and, in the same transaction, queue this message
    /// (a retry's new code).
    PutAndQueue(S, QueuedMessage),
    /// Delete the row.
    Delete,
}

/// A state kept as JSON in a versioned table.
trait Stored: Sized + Send + 'static {
    const TABLE: Table;
    /// The state stored under `key`.
    fn decode(json: &str, key: &str, keyring: &Keyring) -> Result<Self, ApiError>;
    /// The JSON to store under `key`.
    fn encode(&self, key: &str, keyring: &Keyring) -> Result<String, ApiError>;
}

/// A request loses a compare-and-set only when another one saved in
/// between; this many losses in a row means something is wrong.
const MAX_ROUNDS: usize = 1000;

impl Service {
    /// A service over `store`, sending codes with `sender` (`None`: none
    /// configured, sends are refused), under `limits`.
    #[must_use]
    pub fn new(
        store: Store,
        settings: Settings,
        sender: Option<Arc<dyn Sender>>,
        limits: Limits,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let settings = Arc::new(settings);
        let keyring = Arc::clone(&settings.keyring);
        Self(Arc::new(State {
            delivery: Delivery::new(store.clone(), keyring, sender, Arc::clone(&metrics)),
            store,
            settings,
            gate: HashGate::new(&limits, Arc::clone(&metrics)),
            throttle: Arc::new(ClientThrottle::new(&limits, Arc::clone(&metrics))),
            limits: Arc::new(limits),
            metrics,
        }))
    }

    /// The durable outbox, whose retries [`Delivery::retry_due`] runs.
    #[must_use]
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The id of the key new rows are sealed with.
    #[must_use]
    pub fn sealing_key_id(&self) -> &str {
        self.settings.keyring.sealing_key_id()
    }

    /// The database this service reads and writes.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The counters `GET /metrics` shows.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Load, transition, compare-and-set; on a lost race, again from the
    /// fresh row, so the transition always runs on what was last saved.
    /// The transition runs inline: every one is cheap (opening and sealing
    /// a record is an AEAD over a few bytes); the slow hashes (backup codes
    /// checked or made) run before or after it, under the [`HashGate`].
    async fn transition<S: Stored, R>(
        &self,
        key: &str,
        step: impl Fn(Option<S>) -> Result<(Change<S>, R), ApiError>,
    ) -> Result<R, ApiError> {
        for _ in 0..MAX_ROUNDS {
            let row = self.store.load(S::TABLE, key).await?;
            let version = row.as_ref().map(|row| row.version);
            let state = row
                .map(|row| S::decode(&row.json, key, &self.settings.keyring))
                .transpose()?;
            let (change, result) = step(state)?;
            let change = match change {
                Change::Put(state) => Change::Put(state.encode(key, &self.settings.keyring)?),
                Change::PutAndQueue(state, message) => {
                    Change::PutAndQueue(state.encode(key, &self.settings.keyring)?, message)
                }
                Change::Keep => Change::Keep,
                Change::Delete => Change::Delete,
            };
            let saved = match (change, version) {
                (Change::Keep, _) | (Change::Delete, None) => true,
                (Change::Put(json), Some(version)) => {
                    self.store
                        .compare_and_set(S::TABLE, key, version, json)
                        .await?
                }
                (Change::PutAndQueue(json, message), Some(version)) => {
                    self.store
                        .compare_and_set_queuing(S::TABLE, key, version, json, &message)
                        .await?
                }
                (Change::Put(json), None) if S::TABLE == Table::Totp => {
                    self.store.insert_totp(key, &json).await?
                }
                (Change::Put(_) | Change::PutAndQueue(..), None) => {
                    return Err(ApiError::internal(&"a transition created a challenge row"));
                }
                (Change::Delete, Some(version)) => {
                    self.store
                        .compare_and_delete(S::TABLE, key, version)
                        .await?
                }
            };
            if saved {
                return Ok(result);
            }
        }
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "contention",
            "too many concurrent updates of this record; try again",
        ))
    }
}
