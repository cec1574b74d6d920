//! What the server does, as calls into otpkit: load a state, run one pure
//! transition, save it with a compare-and-set. No 2FA decision is made
//! here: codes, URIs, backup codes, lockouts and challenges are the
//! library's.
//!
//! Both the JSON API and the demo pages call these functions.

use std::sync::Arc;

use axum::http::StatusCode;
use std::net::IpAddr;

use otpkit::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes};
use otpkit::challenge::{ChallengePolicy, CheckOutcome, OtpChallenge, RetryOutcome};
use otpkit::clerk::{DeletedTotp, Strategy};
use otpkit::record::{EnrollmentOptions, Verification};
use otpkit::{Keyring, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource};

use crate::authentication::Authentication as DingState;
use crate::clock::{now, now_millis};
use crate::delivery::Delivery;
use crate::error::ApiError;
use crate::limits::{ClientThrottle, HashGate, Limits};
use crate::metrics::{Metrics, Refusal, Send as SendResult};
use crate::sender::Sender;
use crate::store::{OutboxMessage, QueuedMessage, Store, Table};

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
/// and the metrics.
#[derive(Clone)]
pub struct Service {
    store: Store,
    settings: Arc<Settings>,
    delivery: Delivery,
    limits: Arc<Limits>,
    gate: HashGate,
    throttle: Arc<ClientThrottle>,
    metrics: Arc<Metrics>,
}

/// What the first, cheap step of a sign-in check left to do.
enum Checked {
    /// Decided: the outcome, and the view to answer with when valid.
    Done(TotpOutcome, Option<TotpResource>),
    /// A backup code to hash (its attempt reserved in the saved record),
    /// with its place in the hashing queue.
    Hash(otpkit::record::BackupCodeCheck, crate::limits::Ticket),
    /// A first right code: its backup codes to make (nothing saved yet),
    /// with a place in the hashing queue.
    Issue(BackupCodeOptions, crate::limits::Ticket),
}

/// The user's record, in the state the route expects (`verified` or not).
fn in_state(record: Option<TotpRecord>, verified: bool) -> Result<TotpRecord, ApiError> {
    match record {
        Some(record) if record.is_verified() == verified => Ok(record),
        Some(_) if verified => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "totp_not_verified",
            "this user's TOTP is not verified yet: attempt_verification first",
        )),
        Some(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "totp_already_verified",
            "this user's TOTP is verified already: use verify_totp",
        )),
        None => Err(ApiError::not_found("TOTP")),
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

impl Stored for TotpRecord {
    const TABLE: Table = Table::Totp;

    /// Opens the record and checks that it is the user's: the sealed
    /// secret binds every field, the account (the user id) among them, so
    /// a row copied over another user's, or changed at all, is refused.
    fn decode(json: &str, user_id: &str, keyring: &Keyring) -> Result<Self, ApiError> {
        let stored: StoredTotpRecord = serde_json::from_str(json)
            .map_err(|e| ApiError::internal(&format_args!("stored TOTP record: {e}")))?;
        let record = stored.open(keyring).map_err(|e| {
            ApiError::internal(&format_args!("the stored TOTP record of {user_id:?}: {e}"))
        })?;
        if record.account() != user_id {
            return Err(ApiError::internal(&format_args!(
                "the stored TOTP record of {user_id:?} is another account's (a row was moved)"
            )));
        }
        Ok(record)
    }

    /// Sealed: the record binds its account (the user id) itself.
    fn encode(&self, _: &str, keyring: &Keyring) -> Result<String, ApiError> {
        serde_json::to_string(&self.seal(keyring)?).map_err(|e| ApiError::internal(&e))
    }
}

/// An authentication as stored: its state's JSON, and a tag that
/// authenticates it (bound to the row's UUID).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedAuthentication {
    state: String,
    tag: String,
}

/// What an authentication's tag binds: the row's UUID and the state's
/// exact bytes.
fn authentication_binding(uuid: &str, state: &str) -> Vec<u8> {
    let mut bound = b"otpkit-server/authentication\0".to_vec();
    bound.extend_from_slice(uuid.as_bytes());
    bound.push(0);
    bound.extend_from_slice(state.as_bytes());
    bound
}

impl Stored for DingState {
    const TABLE: Table = Table::Authentication;

    /// Opens the row stored under `uuid`: the tag is the keyring's AEAD
    /// over the state's digest with the UUID and the state as associated
    /// data, so a writer without the keys who edits any field (attempts,
    /// times, the customer, the phone number), copies a row under another
    /// UUID or writes a state of its own is refused. Rows stored before
    /// 0.2 (no tag) are refused too: they expired within minutes.
    fn decode(json: &str, uuid: &str, keyring: &Keyring) -> Result<Self, ApiError> {
        let refused = |why: &dyn std::fmt::Display| {
            ApiError::internal(&format_args!("the stored authentication {uuid}: {why}"))
        };
        let sealed: SealedAuthentication = serde_json::from_str(json)
            .map_err(|e| refused(&format_args!("{e} (stored before 0.2, or changed)")))?;
        let tag = sealed.tag.parse().map_err(|e| refused(&e))?;
        let digest = keyring
            .open(&tag, &authentication_binding(uuid, &sealed.state))
            .map_err(|e| refused(&e))?;
        let ours: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(sealed.state.as_bytes()).into();
        if digest.expose_secret() != ours {
            return Err(refused(&"its tag is another state's"));
        }
        serde_json::from_str(&sealed.state).map_err(|e| refused(&e))
    }

    fn encode(&self, uuid: &str, keyring: &Keyring) -> Result<String, ApiError> {
        let state = serde_json::to_string(self).map_err(|e| ApiError::internal(&e))?;
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(state.as_bytes()).into();
        let tag = keyring.seal(
            &otpkit::Secret::from_bytes(&digest)?,
            &authentication_binding(uuid, &state),
        )?;
        let sealed = SealedAuthentication {
            state,
            tag: tag.to_string(),
        };
        serde_json::to_string(&sealed).map_err(|e| ApiError::internal(&e))
    }
}

/// `json`, a Ding authentication stored under `uuid`, with its tag made
/// again under the first sealing key (`otpkit-server rekey`); `None` when
/// it is on that key already.
///
/// # Errors
/// A row no configured key opens, or one that was changed.
pub fn retag_authentication(
    json: &str,
    uuid: &str,
    keyring: &Keyring,
) -> Result<Option<String>, ApiError> {
    let sealed: SealedAuthentication =
        serde_json::from_str(json).map_err(|e| ApiError::internal(&e))?;
    let tag: otpkit::seal::SealedSecret = sealed.tag.parse().map_err(|e| ApiError::internal(&e))?;
    if tag.key_id() == keyring.sealing_key_id() {
        return Ok(None);
    }
    DingState::decode(json, uuid, keyring)?
        .encode(uuid, keyring)
        .map(Some)
}

/// The send quotas of a phone number and of a customer, hour and day:
/// (the number's, the customer's).
fn send_quotas<'a>(
    sms: &crate::limits::SmsLimits,
    customer_uuid: &'a str,
    phone_number: &'a str,
    now: u64,
) -> ([Quota<'a>; 2], [Quota<'a>; 2]) {
    (
        [
            Quota::new(
                "send_phone/hour",
                phone_number,
                now,
                3600,
                sms.phone_per_hour,
            ),
            Quota::new(
                "send_phone/day",
                phone_number,
                now,
                86_400,
                sms.phone_per_day,
            ),
        ],
        [
            Quota::new(
                "send_customer/hour",
                customer_uuid,
                now,
                3600,
                sms.customer_per_hour,
            ),
            Quota::new(
                "send_customer/day",
                customer_uuid,
                now,
                86_400,
                sms.customer_per_day,
            ),
        ],
    )
}

/// The authentication, if it is `customer_uuid`'s and goes to
/// `phone_number` (the row's columns): the authenticated state says whose
/// it is, so a column a writer changed (another customer, another phone)
/// is caught.
fn owned(
    state: Option<DingState>,
    customer_uuid: &str,
    phone_number: &str,
) -> Result<DingState, ApiError> {
    let state = state.ok_or_else(no_such_authentication)?;
    if state.customer_uuid != customer_uuid || state.phone_number != phone_number {
        return Err(ApiError::internal(&format_args!(
            "an authentication's customer or phone number column does not match its \
             authenticated state (a row was changed); customer {customer_uuid}"
        )));
    }
    Ok(state)
}

/// The text of a message carrying `code`.
fn text_of(code: &str) -> String {
    format!("Your verification code is {code}")
}

/// Save `next` only if the transition changed something.
fn changed(before: &TotpRecord, next: TotpRecord) -> Change<TotpRecord> {
    if &next == before {
        Change::Keep
    } else {
        Change::Put(next)
    }
}

/// Backup codes come with a verified TOTP: 409 before.
fn verified_for_backup_codes(record: &TotpRecord) -> Result<(), ApiError> {
    if record.is_verified() {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "totp_not_verified",
        "backup codes come with a verified TOTP: verify it first",
    ))
}

/// A request loses a compare-and-set only when another one saved in
/// between; this many losses in a row means something is wrong.
const MAX_ROUNDS: usize = 1000;

/// 400 `no_associated_auth_found`, Ding's answer for an authentication
/// it does not know (or that belongs to another customer).
pub fn no_such_authentication() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_associated_auth_found",
        "no authentication with this UUID for this customer",
    )
}

/// What a Ding "send a code" did.
#[derive(Debug, Clone)]
pub enum Created {
    /// A new authentication; its code was sent.
    Pending(Authentication),
    /// The phone number's quota is used up: nothing sent (Ding's
    /// `rate_limited`).
    RateLimited {
        /// Unix seconds.
        created_at: u64,
    },
    /// The customer's quota is used up: nothing sent (Ding's
    /// `spam_detected`).
    SpamDetected {
        /// Unix seconds.
        created_at: u64,
    },
}

/// An answer, or a refusal by a quota before anything was checked or sent.
#[derive(Debug, Clone)]
pub enum Limited<T> {
    /// What the library's transition decided.
    Done(T),
    /// A quota is used up (Ding's `rate_limited`).
    Refused,
}

/// One quota to take from: its scope, subject, window and limit.
struct Quota<'a> {
    scope: &'static str,
    subject: &'a str,
    window: i64,
    limit: u32,
}

impl<'a> Quota<'a> {
    /// The quota `scope` (which names its window's length) of `subject`
    /// in the window of `seconds` around `now`.
    fn new(scope: &'static str, subject: &'a str, now: u64, seconds: u64, limit: u32) -> Self {
        Self {
            scope,
            subject,
            window: i64::try_from(now - now % seconds).unwrap_or(i64::MAX),
            limit,
        }
    }
}

/// A new Ding authentication.
#[derive(Debug, Clone)]
pub struct Authentication {
    /// Its id.
    pub uuid: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
}

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
        Self {
            delivery: Delivery::new(store.clone(), keyring, sender, Arc::clone(&metrics)),
            store,
            settings,
            gate: HashGate::new(&limits, Arc::clone(&metrics)),
            throttle: Arc::new(ClientThrottle::new(&limits, Arc::clone(&metrics))),
            limits: Arc::new(limits),
            metrics,
        }
    }

    /// The durable outbox, whose retries [`Delivery::retry_due`] runs.
    #[must_use]
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
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

    /// Clerk's `createTOTP`: a new secret, returned once with its URI.
    /// Again while unverified replaces it; a verified one is a conflict.
    ///
    /// # Errors
    /// 409 when the user has a verified TOTP.
    pub async fn create_totp(&self, user_id: &str) -> Result<TotpResource, ApiError> {
        let settings = Arc::clone(&self.settings);
        let account = user_id.to_owned();
        self.transition(user_id, move |record: Option<TotpRecord>| {
            if record.is_some_and(|record| record.is_verified()) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "totp_already_enabled",
                    "this user already has a verified TOTP; delete it first",
                ));
            }
            let (record, created) =
                TotpRecord::create(&settings.issuer, &account, &settings.enrollment, now())?;
            Ok((Change::Put(record), created))
        })
        .await
    }

    /// Checks a code against the user's TOTP: `attempt_verification` on an
    /// unverified one, `verify_totp` on a verified one, from `client`.
    /// Every outcome that changed the record is saved, failures included.
    ///
    /// In one pass: the client's throttle; then load → the library's cheap
    /// first step → compare-and-set. A backup code's attempt is reserved by
    /// that save (counted before it is hashed), so however many requests
    /// race, a user costs at most the backup budget's free failures + 1
    /// hashes; the hash then runs once, under the [`HashGate`], outside
    /// any retry; and its result is applied with a second compare-and-set.
    ///
    /// # Errors
    /// 404 without a TOTP, or without one in the expected state
    /// (`verified`); 429 when this client is throttled for this user or
    /// the hashing queue is full.
    pub async fn check_totp(
        &self,
        user_id: &str,
        code: String,
        verified: bool,
        client: IpAddr,
    ) -> Result<(TotpOutcome, Option<TotpResource>), ApiError> {
        let attempt = self.throttle.begin(client, user_id)?;
        // One time for the check and, after the codes were made, its
        // second step: the hashing's time moves no code out of its window.
        let at = now();
        let step = |record: Option<TotpRecord>, issuing: Option<&(BackupCodes, BackupCodeSet)>| {
            let record = in_state(record, verified)?;
            let verification = match issuing {
                None => record.begin_verify(&code, at)?,
                Some((codes, set)) => record.begin_verify_issuing(&code, at, codes, set)?,
            };
            Ok(match verification {
                Verification::Decided(next, outcome) => {
                    // The view to answer with, only for an accepted code.
                    let resource = outcome.is_valid().then(|| next.resource());
                    (changed(&record, next), Checked::Done(outcome, resource))
                }
                // A place in the queue before the reservation: a refusal
                // here costs the user nothing.
                Verification::CheckBackupCode(reserved, check) => (
                    Change::Put(reserved),
                    Checked::Hash(check, self.gate.admit()?),
                ),
                Verification::IssueBackupCodes(options) => {
                    (Change::Keep, Checked::Issue(options, self.gate.admit()?))
                }
            })
        };
        let (outcome, resource) = match self.transition(user_id, |r| step(r, None)).await? {
            Checked::Done(outcome, resource) => (outcome, resource),
            Checked::Hash(check, ticket) => {
                let pepper = Arc::clone(&self.settings);
                let checked = ticket
                    .run(move || Ok(check.run(Some(&pepper.pepper))?))
                    .await?;
                self.transition(user_id, |record: Option<TotpRecord>| {
                    let record = record.ok_or_else(|| ApiError::not_found("TOTP"))?;
                    let (next, outcome) = record.finish_verify(&checked, now());
                    let resource = outcome.is_valid().then(|| next.resource());
                    Ok((changed(&record, next), (outcome, resource)))
                })
                .await?
            }
            Checked::Issue(options, ticket) => {
                // The first right code: its backup codes are made once,
                // then issued by a transition that checks the code again
                // on the record as stored by then (a request that lost the
                // race finds its code replayed, and its codes unused).
                let settings = Arc::clone(&self.settings);
                let now = now();
                let made = ticket
                    .run(move || {
                        Ok(BackupCodeSet::generate(
                            &options,
                            Some(&settings.pepper),
                            now,
                        )?)
                    })
                    .await?;
                match self.transition(user_id, |r| step(r, Some(&made))).await? {
                    Checked::Done(outcome, resource) => (outcome, resource),
                    Checked::Hash(..) | Checked::Issue(..) => {
                        return Err(ApiError::internal(
                            &"a check with its backup codes made asked for more work",
                        ));
                    }
                }
            }
        };
        self.metrics.verification(&outcome);
        match &outcome {
            TotpOutcome::Valid { .. } => attempt.right(),
            TotpOutcome::Invalid { .. } => attempt.wrong(),
            _ => drop(attempt),
        }
        Ok((outcome, resource))
    }

    /// The user's TOTP, without secret or URI.
    ///
    /// # Errors
    /// 404 without a TOTP.
    pub async fn totp(&self, user_id: &str) -> Result<TotpResource, ApiError> {
        let row = self.store.load(Table::Totp, user_id).await?;
        let row = row.ok_or_else(|| ApiError::not_found("TOTP"))?;
        Ok(TotpRecord::decode(&row.json, user_id, &self.settings.keyring)?.resource())
    }

    /// Clerk's `createBackupCode`: a new set replacing the old one, returned
    /// once, with the record's times (Unix seconds). The set is hashed once,
    /// under the [`HashGate`], before the compare-and-set; it replaces the
    /// set this request saw, and only that: if another regeneration landed
    /// meanwhile this one is refused (409), so every set of codes a
    /// response shows is the one stored.
    ///
    /// # Errors
    /// 404 without a TOTP, 409 before it is verified or when another
    /// regeneration won the race, 429 when the hashing queue is full.
    pub async fn regenerate_backup_codes(
        &self,
        user_id: &str,
    ) -> Result<(BackupCodes, u64), ApiError> {
        let row = self.store.load(Table::Totp, user_id).await?;
        let row = row.ok_or_else(|| ApiError::not_found("TOTP"))?;
        let seen = TotpRecord::decode(&row.json, user_id, &self.settings.keyring)?;
        verified_for_backup_codes(&seen)?;
        let settings = Arc::clone(&self.settings);
        let now = now();
        let (codes, set) = self
            .gate
            .admit()?
            .run(move || {
                Ok(BackupCodeSet::generate(
                    &BackupCodeOptions::default(),
                    Some(&settings.pepper),
                    now,
                )?)
            })
            .await?;
        let seen = seen.backup_codes().cloned();
        self.transition(user_id, move |record: Option<TotpRecord>| {
            let record = record.ok_or_else(|| ApiError::not_found("TOTP"))?;
            verified_for_backup_codes(&record)?;
            if record.backup_codes() != seen.as_ref() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "backup_codes_changed",
                    "the backup codes changed while these were made (another regeneration?): \
                     the codes that request showed are the valid ones; regenerate again if needed",
                ));
            }
            let next =
                record.with_new_backup_codes(set.clone(), BackupCodeOptions::default(), now)?;
            Ok((Change::Put(next), ()))
        })
        .await?;
        Ok((codes, now))
    }

    /// Clerk's `deleteUserTOTP`: deletes the record, backup codes with it.
    ///
    /// # Errors
    /// 404 without a TOTP.
    pub async fn delete_totp(&self, user_id: &str) -> Result<DeletedTotp, ApiError> {
        self.transition(user_id, |record: Option<TotpRecord>| {
            let record = record.ok_or_else(|| ApiError::not_found("TOTP"))?;
            Ok((Change::Delete, record.disable()))
        })
        .await
    }

    /// Clerk's `deleteUserBackupCodes`: the record keeps its TOTP secret
    /// and loses its backup codes (none are issued again until
    /// regenerated).
    ///
    /// # Errors
    /// 404 without a TOTP, or without backup codes.
    pub async fn delete_backup_codes(&self, user_id: &str) -> Result<(), ApiError> {
        self.transition(user_id, |record: Option<TotpRecord>| {
            let record = record.ok_or_else(|| ApiError::not_found("TOTP"))?;
            let next = record
                .remove_backup_codes(now())
                .ok_or_else(|| ApiError::not_found("backup codes"))?;
            Ok((Change::Put(next), ()))
        })
        .await
    }

    /// Clerk's `disableUserMFA`: every second factor this server keeps
    /// (the TOTP record and its backup codes) is removed. Idempotent: a
    /// user without any is answered the same way.
    ///
    /// # Errors
    /// A database error.
    pub async fn disable_mfa(&self, user_id: &str) -> Result<(), ApiError> {
        self.transition(user_id, |record: Option<TotpRecord>| {
            Ok((
                if record.is_some() {
                    Change::Delete
                } else {
                    Change::Keep
                },
                (),
            ))
        })
        .await
    }

    /// Ding's "send a code": the country allow-list and the send quotas
    /// first (per phone number, then per customer, per hour and per day,
    /// counted in the database every instance shares), then a new
    /// challenge, stored, then its code sent.
    ///
    /// # Errors
    /// 400 `unsupported_region` for a country not allowed; a database or
    /// sender failure.
    pub async fn create_authentication(
        &self,
        customer_uuid: &str,
        phone_number: &str,
    ) -> Result<Created, ApiError> {
        self.delivery.ready()?;
        let sms = &self.limits.sms;
        if !sms.allows(phone_number) {
            self.metrics.refused(Refusal::Region);
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_region",
                "codes are not sent to this country calling code here",
            ));
        }
        let created_at = now();
        if let Some(refused) = self
            .take_send_quotas(customer_uuid, phone_number, created_at)
            .await?
        {
            self.metrics.send(SendResult::Refused);
            return Ok(refused(created_at));
        }
        let settings = Arc::clone(&self.settings);
        let (code, challenge) = OtpChallenge::create(
            Strategy::PhoneCode,
            &settings.challenge,
            Some(&settings.pepper),
            created_at,
        )?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let expires_at = challenge.expire_at();
        let json = DingState::new(customer_uuid, phone_number, challenge, created_at)
            .encode(&uuid, &settings.keyring)?;
        // The message is queued with the authentication (one
        // transaction), then sent: a failed send is retried, not lost.
        let (message, queued) =
            self.delivery
                .seal(phone_number, text_of(&code.to_string()), now_millis())?;
        self.store
            .insert_authentication(
                &uuid,
                customer_uuid,
                phone_number,
                &json,
                expires_at,
                &queued,
            )
            .await?;
        self.delivery
            .send_now(&message, queued.attempts, queued.due_at)
            .await;
        Ok(Created::Pending(Authentication {
            uuid,
            created_at,
            expires_at,
        }))
    }

    /// Takes one send from each quota of the phone number and the
    /// customer; `Some` (what to answer, nothing taken) when one is used
    /// up: the phone number's is `rate_limited`, the customer's
    /// `spam_detected`, as Ding answers.
    async fn take_send_quotas(
        &self,
        customer_uuid: &str,
        phone_number: &str,
        now: u64,
    ) -> Result<Option<fn(u64) -> Created>, ApiError> {
        let (phone, customer) = send_quotas(&self.limits.sms, customer_uuid, phone_number, now);
        if !self.take_all(&phone).await? {
            self.metrics.refused(Refusal::PhoneQuota);
            return Ok(Some(|at| Created::RateLimited { created_at: at }));
        }
        if !self.take_all(&customer).await? {
            self.give_back_all(&phone).await?;
            self.metrics.refused(Refusal::CustomerQuota);
            return Ok(Some(|at| Created::SpamDetected { created_at: at }));
        }
        Ok(None)
    }

    /// Takes one from every quota, or from none: `false` when one is used
    /// up (the ones taken before it are given back).
    async fn take_all(&self, quotas: &[Quota<'_>]) -> Result<bool, ApiError> {
        for (i, quota) in quotas.iter().enumerate() {
            let taken = self
                .store
                .take_quota(quota.scope, quota.subject, quota.window, quota.limit)
                .await?;
            if !taken {
                self.give_back_all(&quotas[..i]).await?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn give_back_all(&self, quotas: &[Quota<'_>]) -> Result<(), ApiError> {
        for quota in quotas {
            self.store
                .give_back_quota(quota.scope, quota.subject, quota.window)
                .await?;
        }
        Ok(())
    }

    /// The phone number of `customer_uuid`'s authentication `uuid`.
    async fn authentication_of(&self, uuid: &str, customer_uuid: &str) -> Result<String, ApiError> {
        match self.store.authentication_owner(uuid).await? {
            Some((customer, phone)) if customer == customer_uuid => Ok(phone),
            _ => Err(no_such_authentication()),
        }
    }

    /// Ding's status of an authentication: its customer, phone number and
    /// state.
    ///
    /// # Errors
    /// 404 (`no_associated_auth_found`) for an unknown authentication.
    pub async fn authentication(
        &self,
        uuid: &str,
    ) -> Result<(String, String, DingState), ApiError> {
        let (customer, phone) = self
            .store
            .authentication_owner(uuid)
            .await?
            .ok_or_else(no_such_authentication)?;
        let row = self
            .store
            .load(Table::Authentication, uuid)
            .await?
            .ok_or_else(no_such_authentication)?;
        let state = owned(
            Some(DingState::decode(&row.json, uuid, &self.settings.keyring)?),
            &customer,
            &phone,
        )?;
        Ok((customer, phone, state))
    }

    /// Ding's feedback on a phone number: stored once per status.
    ///
    /// # Errors
    /// 400 `duplicated_feedback_status` for the same feedback again.
    pub async fn feedback(
        &self,
        customer_uuid: &str,
        phone_number: &str,
        status: &str,
    ) -> Result<String, ApiError> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let stored = self
            .store
            .insert_feedback(&uuid, customer_uuid, phone_number, status, now_millis())
            .await?;
        if !stored {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "duplicated_feedback_status",
                "this feedback was given for this phone number already",
            ));
        }
        Ok(uuid)
    }

    /// Ding's "check a code", within the phone number's cap on checks
    /// across its authentications (a check that spends no attempt is given
    /// back).
    ///
    /// # Errors
    /// 404 for an unknown authentication or another customer's.
    pub async fn check(
        &self,
        uuid: &str,
        customer_uuid: &str,
        code: String,
    ) -> Result<Limited<CheckOutcome>, ApiError> {
        let phone_number = self.authentication_of(uuid, customer_uuid).await?;
        let sms = &self.limits.sms;
        let at = now();
        let cap = [
            Quota::new(
                "check_phone/hour",
                &phone_number,
                at,
                3600,
                sms.checks_per_hour,
            ),
            Quota::new(
                "check_phone/day",
                &phone_number,
                at,
                86_400,
                sms.checks_per_day,
            ),
        ];
        if !self.take_all(&cap).await? {
            self.metrics.refused(Refusal::PhoneChecks);
            return Ok(Limited::Refused);
        }
        let settings = Arc::clone(&self.settings);
        let outcome = self
            .transition(uuid, |state: Option<DingState>| {
                let mut state = owned(state, customer_uuid, &phone_number)?;
                let now = now();
                let (next, outcome) = state.challenge.check(&code, Some(&settings.pepper), now)?;
                if next == state.challenge {
                    return Ok((Change::Keep, outcome));
                }
                state.challenge = next;
                state.checked(&outcome, now);
                Ok((Change::Put(state), outcome))
            })
            .await;
        if !matches!(
            outcome,
            Ok(CheckOutcome::Valid | CheckOutcome::Invalid { .. })
        ) {
            self.give_back_all(&cap).await?;
        }
        Ok(Limited::Done(outcome?))
    }

    /// Ding's "retry": a new code after the cool-down, within the send
    /// quotas, sent once saved. Returns the outcome and when it was decided
    /// (Unix seconds).
    ///
    /// # Errors
    /// 404 for an unknown authentication or another customer's.
    pub async fn retry(
        &self,
        uuid: &str,
        customer_uuid: &str,
    ) -> Result<(Limited<RetryOutcome>, u64), ApiError> {
        self.delivery.ready()?;
        let phone_number = self.authentication_of(uuid, customer_uuid).await?;
        let at = now();
        if self
            .take_send_quotas(customer_uuid, &phone_number, at)
            .await?
            .is_some()
        {
            self.metrics.send(SendResult::Refused);
            return Ok((Limited::Refused, at));
        }
        let settings = Arc::clone(&self.settings);
        let delivery = &self.delivery;
        let retried = self
            .transition(uuid, |state: Option<DingState>| {
                let mut state = owned(state, customer_uuid, &phone_number)?;
                let now = now();
                let (next, outcome) = state.challenge.retry(Some(&settings.pepper), now)?;
                if next == state.challenge {
                    return Ok((Change::Keep, (outcome, now, None)));
                }
                state.challenge = next;
                let RetryOutcome::Sent { code, .. } = &outcome else {
                    return Ok((Change::Put(state), (outcome, now, None)));
                };
                // The new code's message is queued with the saved state
                // (one transaction), then sent: a crash between costs
                // neither the retry nor the message.
                state.sent(now);
                let (message, queued) =
                    delivery.seal(&phone_number, text_of(&code.to_string()), now_millis())?;
                let due_at = queued.due_at;
                Ok((
                    Change::PutAndQueue(state, queued),
                    (outcome, now, Some((message, due_at))),
                ))
            })
            .await;
        if !matches!(retried, Ok((RetryOutcome::Sent { .. }, _, _))) {
            self.give_back_send_quotas(customer_uuid, &phone_number, at)
                .await?;
        }
        let (outcome, at, queued) = retried?;
        if let Some((message, due_at)) = queued {
            self.delivery.send_now(&message, 0, due_at).await;
        }
        Ok((Limited::Done(outcome), at))
    }

    async fn give_back_send_quotas(
        &self,
        customer_uuid: &str,
        phone_number: &str,
        now: u64,
    ) -> Result<(), ApiError> {
        let (phone, customer) = send_quotas(&self.limits.sms, customer_uuid, phone_number, now);
        self.give_back_all(&phone).await?;
        self.give_back_all(&customer).await
    }

    /// What the built-in sender sent to `phone_number`.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, phone_number: &str) -> Result<Vec<OutboxMessage>, ApiError> {
        Ok(self.store.outbox(phone_number).await?)
    }
}
