//! What the server does, as calls into otpkit: load a state, run one pure
//! transition, save it with a compare-and-set. No 2FA decision is made
//! here: codes, URIs, backup codes, lockouts and challenges are the
//! library's.
//!
//! Both the JSON API and the demo pages call these functions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use otpkit::backup::{BackupCodeOptions, BackupCodes};
use otpkit::challenge::{ChallengePolicy, CheckOutcome, OtpChallenge, RetryOutcome};
use otpkit::clerk::{DeletedTotp, Strategy};
use otpkit::record::EnrollmentOptions;
use otpkit::{Keyring, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource};

use crate::authentication::Authentication as DingState;
use crate::error::ApiError;
use crate::store::{OutboxMessage, Store, Table};

/// A future a [`Sender`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>>;

/// Delivers a one-time code: an SMS gateway in production.
pub trait Sender: Send + Sync {
    /// Sends `body` to `phone_number`.
    fn send<'a>(&'a self, phone_number: &'a str, body: &'a str) -> SendFuture<'a>;
}

/// The built-in sender: stores each message in the `outbox` table and logs
/// that it did (the recipient, not the code).
#[derive(Debug, Clone)]
pub struct OutboxSender {
    store: Store,
}

impl OutboxSender {
    /// A sender writing to `store`'s outbox.
    #[must_use]
    pub const fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Sender for OutboxSender {
    fn send<'a>(&'a self, phone_number: &'a str, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            self.store
                .push_outbox(phone_number, body, now_millis())
                .await?;
            tracing::info!(to = %masked(phone_number), "one-time code stored in the outbox");
            Ok(())
        })
    }
}

/// A phone number as logs show it: the country code's first digit and the
/// last two digits, the rest masked (`+1••••••••00` for +14155550100), enough to tell
/// messages apart without keeping a list of users' numbers in the logs.
#[must_use]
pub fn masked(phone_number: &str) -> String {
    let digits: Vec<char> = phone_number.chars().filter(char::is_ascii_digit).collect();
    let shown_tail = digits.len().saturating_sub(2).max(1);
    digits
        .iter()
        .enumerate()
        .map(|(i, &d)| if i == 0 || i >= shown_tail { d } else { '•' })
        .fold(String::from("+"), |mut out, c| {
            out.push(c);
            out
        })
}

/// The secrets and settings every request uses.
pub struct Settings {
    /// Seals TOTP secrets at rest; opens them with any of its keys.
    pub keyring: Keyring,
    /// Keys the hashes of backup codes and one-time codes.
    pub pepper: Pepper,
    /// The issuer shown in authenticator apps.
    pub issuer: String,
    /// New TOTP enrollments.
    pub enrollment: EnrollmentOptions,
    /// Ding authentications.
    pub challenge: ChallengePolicy,
}

/// The server's state: the store, the settings and the sender.
#[derive(Clone)]
pub struct Service {
    store: Store,
    settings: Arc<Settings>,
    sender: Arc<dyn Sender>,
}

/// What a transition does to the stored row.
enum Change<S> {
    /// Nothing changed: nothing to save.
    Keep,
    /// Save this state.
    Put(S),
    /// Delete the row.
    Delete,
}

/// A state kept as JSON in a versioned table.
trait Stored: Sized + Send + 'static {
    const TABLE: Table;
    fn decode(json: &str, settings: &Settings) -> Result<Self, ApiError>;
    fn encode(&self, settings: &Settings) -> Result<String, ApiError>;
}

impl Stored for TotpRecord {
    const TABLE: Table = Table::Totp;

    fn decode(json: &str, settings: &Settings) -> Result<Self, ApiError> {
        let stored: StoredTotpRecord = serde_json::from_str(json)
            .map_err(|e| ApiError::internal(&format_args!("stored TOTP record: {e}")))?;
        Ok(stored.open(&settings.keyring)?)
    }

    fn encode(&self, settings: &Settings) -> Result<String, ApiError> {
        serde_json::to_string(&self.seal(&settings.keyring)?).map_err(|e| ApiError::internal(&e))
    }
}

impl Stored for DingState {
    const TABLE: Table = Table::Authentication;

    fn decode(json: &str, _: &Settings) -> Result<Self, ApiError> {
        Self::from_json(json)
            .map_err(|e| ApiError::internal(&format_args!("stored authentication: {e}")))
    }

    fn encode(&self, _: &Settings) -> Result<String, ApiError> {
        serde_json::to_string(self).map_err(|e| ApiError::internal(&e))
    }
}

/// A request loses a compare-and-set only when another one saved in
/// between; this many losses in a row means something is wrong.
const MAX_ROUNDS: usize = 1000;

/// The current Unix time, seconds.
#[must_use]
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// 400 `no_associated_auth_found`, Ding's answer for an authentication
/// it does not know (or that belongs to another customer).
fn no_such_authentication() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_associated_auth_found",
        "no authentication with this UUID for this customer",
    )
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
    /// A service over `store`, sending codes with `sender`.
    #[must_use]
    pub fn new(store: Store, settings: Settings, sender: Arc<dyn Sender>) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            sender,
        }
    }

    /// Load, transition, compare-and-set; on a lost race, again from the
    /// fresh row, so the transition always runs on what was last saved.
    /// The transition (and the sealing, and slow backup-code hashing)
    /// runs on the blocking pool, off the request threads.
    async fn transition<S: Stored, R: Send + 'static>(
        &self,
        key: &str,
        step: impl Fn(Option<S>) -> Result<(Change<S>, R), ApiError> + Send + Sync + 'static,
    ) -> Result<R, ApiError> {
        let step = Arc::new(step);
        for _ in 0..MAX_ROUNDS {
            let row = self.store.load(S::TABLE, key).await?;
            let version = row.as_ref().map(|row| row.version);
            let (settings, step) = (Arc::clone(&self.settings), Arc::clone(&step));
            let (change, result) = tokio::task::spawn_blocking(move || {
                let state = row.map(|row| S::decode(&row.json, &settings)).transpose()?;
                let (change, result) = step(state)?;
                let change = match change {
                    Change::Put(state) => Change::Put(state.encode(&settings)?),
                    Change::Keep => Change::Keep,
                    Change::Delete => Change::Delete,
                };
                Ok::<_, ApiError>((change, result))
            })
            .await
            .map_err(|e| ApiError::internal(&e))??;
            let saved = match (change, version) {
                (Change::Keep, _) | (Change::Delete, None) => true,
                (Change::Put(json), Some(version)) => {
                    self.store
                        .compare_and_set(S::TABLE, key, version, json)
                        .await?
                }
                (Change::Put(json), None) if S::TABLE == Table::Totp => {
                    self.store.insert_totp(key, &json).await?
                }
                (Change::Put(_), None) => {
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
    /// unverified one, `verify_totp` on a verified one. Every outcome that
    /// changed the record is saved, failures included.
    ///
    /// # Errors
    /// 404 without a TOTP, or without one in the expected state
    /// (`verified`).
    pub async fn check_totp(
        &self,
        user_id: &str,
        code: String,
        verified: bool,
    ) -> Result<(TotpOutcome, Option<TotpResource>), ApiError> {
        let settings = Arc::clone(&self.settings);
        self.transition(user_id, move |record: Option<TotpRecord>| {
            let record = match record {
                Some(record) if record.is_verified() == verified => record,
                Some(_) if verified => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "totp_not_verified",
                        "this user's TOTP is not verified yet: attempt_verification first",
                    ));
                }
                Some(_) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "totp_already_verified",
                        "this user's TOTP is verified already: use verify_totp",
                    ));
                }
                None => return Err(ApiError::not_found("TOTP")),
            };
            let (next, outcome) = record.verify(&code, Some(&settings.pepper), now())?;
            // The view to answer with, only for an accepted code.
            let resource = outcome.is_valid().then(|| next.resource());
            let change = if next == record {
                Change::Keep
            } else {
                Change::Put(next)
            };
            Ok((change, (outcome, resource)))
        })
        .await
    }

    /// The user's TOTP, without secret or URI.
    ///
    /// # Errors
    /// 404 without a TOTP.
    pub async fn totp(&self, user_id: &str) -> Result<TotpResource, ApiError> {
        let row = self.store.load(Table::Totp, user_id).await?;
        let row = row.ok_or_else(|| ApiError::not_found("TOTP"))?;
        let settings = Arc::clone(&self.settings);
        tokio::task::spawn_blocking(
            move || Ok(TotpRecord::decode(&row.json, &settings)?.resource()),
        )
        .await
        .map_err(|e| ApiError::internal(&e))?
    }

    /// Clerk's `createBackupCode`: a new set replacing the old one, returned
    /// once, with the record's times (Unix seconds).
    ///
    /// # Errors
    /// 404 without a TOTP, 409 before it is verified.
    pub async fn regenerate_backup_codes(
        &self,
        user_id: &str,
    ) -> Result<(BackupCodes, u64), ApiError> {
        let settings = Arc::clone(&self.settings);
        self.transition(user_id, move |record: Option<TotpRecord>| {
            let record = record.ok_or_else(|| ApiError::not_found("TOTP"))?;
            if !record.is_verified() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "totp_not_verified",
                    "backup codes come with a verified TOTP: verify it first",
                ));
            }
            let now = now();
            let (next, codes) = record.regenerate_backup_codes(
                &BackupCodeOptions::default(),
                Some(&settings.pepper),
                now,
            )?;
            Ok((Change::Put(next), (codes, now)))
        })
        .await
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

    /// Ding's "send a code": a new challenge, stored, then its code sent.
    ///
    /// # Errors
    /// A database or sender failure.
    pub async fn create_authentication(
        &self,
        customer_uuid: &str,
        phone_number: &str,
    ) -> Result<Authentication, ApiError> {
        let settings = Arc::clone(&self.settings);
        let created_at = now();
        let (code, challenge) = OtpChallenge::create(
            Strategy::PhoneCode,
            &settings.challenge,
            Some(&settings.pepper),
            created_at,
        )?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let expires_at = challenge.expire_at();
        let json = DingState::new(challenge, created_at).encode(&settings)?;
        self.store
            .insert_authentication(&uuid, customer_uuid, phone_number, &json)
            .await?;
        let body = format!("Your verification code is {code}");
        self.sender.send(phone_number, &body).await?;
        Ok(Authentication {
            uuid,
            created_at,
            expires_at,
        })
    }

    /// The phone number of `customer_uuid`'s authentication `uuid`.
    async fn authentication_of(&self, uuid: &str, customer_uuid: &str) -> Result<String, ApiError> {
        match self.store.authentication_owner(uuid).await? {
            Some((customer, phone)) if customer == customer_uuid => Ok(phone),
            _ => Err(no_such_authentication()),
        }
    }

    /// Ding's status of an authentication: its phone number and state.
    ///
    /// # Errors
    /// 404 (`no_associated_auth_found`) for an unknown authentication.
    pub async fn authentication(&self, uuid: &str) -> Result<(String, DingState), ApiError> {
        let (_, phone) = self
            .store
            .authentication_owner(uuid)
            .await?
            .ok_or_else(no_such_authentication)?;
        let row = self
            .store
            .load(Table::Authentication, uuid)
            .await?
            .ok_or_else(no_such_authentication)?;
        Ok((phone, DingState::decode(&row.json, &self.settings)?))
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

    /// Ding's "check a code".
    ///
    /// # Errors
    /// 404 for an unknown authentication or another customer's.
    pub async fn check(
        &self,
        uuid: &str,
        customer_uuid: &str,
        code: String,
    ) -> Result<CheckOutcome, ApiError> {
        self.authentication_of(uuid, customer_uuid).await?;
        let settings = Arc::clone(&self.settings);
        self.transition(uuid, move |state: Option<DingState>| {
            let mut state = state.ok_or_else(no_such_authentication)?;
            let now = now();
            let (next, outcome) = state.challenge.check(&code, Some(&settings.pepper), now)?;
            if next == state.challenge {
                return Ok((Change::Keep, outcome));
            }
            state.challenge = next;
            state.checked(&outcome, now);
            Ok((Change::Put(state), outcome))
        })
        .await
    }

    /// Ding's "retry": a new code after the cool-down, sent once saved.
    /// Returns the outcome and when it was decided (Unix seconds).
    ///
    /// # Errors
    /// 404 for an unknown authentication or another customer's.
    pub async fn retry(
        &self,
        uuid: &str,
        customer_uuid: &str,
    ) -> Result<(RetryOutcome, u64), ApiError> {
        let phone_number = self.authentication_of(uuid, customer_uuid).await?;
        let settings = Arc::clone(&self.settings);
        let (outcome, at) = self
            .transition(uuid, move |state: Option<DingState>| {
                let mut state = state.ok_or_else(no_such_authentication)?;
                let now = now();
                let (next, outcome) = state.challenge.retry(Some(&settings.pepper), now)?;
                if next == state.challenge {
                    return Ok((Change::Keep, (outcome, now)));
                }
                state.challenge = next;
                if matches!(outcome, RetryOutcome::Sent { .. }) {
                    state.sent(now);
                }
                Ok((Change::Put(state), (outcome, now)))
            })
            .await?;
        if let RetryOutcome::Sent { code, .. } = &outcome {
            let body = format!("Your verification code is {code}");
            self.sender.send(&phone_number, &body).await?;
        }
        Ok((outcome, at))
    }

    /// What the built-in sender sent to `phone_number`.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, phone_number: &str) -> Result<Vec<OutboxMessage>, ApiError> {
        Ok(self.store.outbox(phone_number).await?)
    }
}
