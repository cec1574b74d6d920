//! Ding's half of the service: authentications sent by SMS (quotas,
//! the sealed message queued with the state), checks, retries, status and
//! feedback, each authentication stored authenticated as a whole and bound
//! to its UUID, customer and phone number.

use std::sync::Arc;

use axum::http::StatusCode;
use otpkit::Keyring;
use otpkit::challenge::{CheckOutcome, OtpChallenge, RetryOutcome};
use otpkit::clerk::Strategy;

use crate::authentication::Authentication as DingState;
use crate::client::Client;
use crate::clock::{now, now_millis};
use crate::error::ApiError;
use crate::metrics::{Refusal, Send as SendResult};
use crate::store::{OutboxMessage, Table};

use super::{Change, Service, Stored};

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

/// How many times one customer's per-number quota a number may receive
/// across every customer: a ceiling against SMS bombing of one phone from
/// many tenants, high enough that no tenant's traffic, up to its own
/// quota, ever reaches it.
pub const ALL_CUSTOMERS_FACTOR: u32 = 4;

/// The send quotas, in the order they are taken, each with the refusal
/// it stands for: the end user's address's for this customer (an hour,
/// when an address is known), the phone number's for this customer, the
/// phone number's across customers ([`ALL_CUSTOMERS_FACTOR`] times the
/// last; all three `rate_limited`), and the customer's (hour and day;
/// `spam_detected`). The customer's comes last, so sends refused for a
/// number never hold its customer's quota, not even while they race.
fn send_quotas(
    sms: &crate::limits::SmsLimits,
    customer_uuid: &str,
    phone_number: &str,
    end_user: Option<&str>,
    now: u64,
) -> Vec<(Refusal, Vec<Quota>)> {
    let hour_and_day = |scope: [&'static str; 2], subject: String, limits: [u32; 2]| {
        vec![
            Quota::new(scope[0], subject.clone(), now, 3600, limits[0]),
            Quota::new(scope[1], subject, now, 86_400, limits[1]),
        ]
    };
    let phone = [sms.phone_per_hour, sms.phone_per_day];
    let mut groups = Vec::with_capacity(4);
    if let Some(address) = end_user {
        groups.push((
            Refusal::AddressQuota,
            vec![Quota::new(
                "send_customer_address/hour",
                format!("{customer_uuid} {address}"),
                now,
                3600,
                sms.address_per_hour,
            )],
        ));
    }
    groups.push((
        Refusal::PhoneQuota,
        hour_and_day(
            ["send_customer_phone/hour", "send_customer_phone/day"],
            format!("{customer_uuid} {phone_number}"),
            phone,
        ),
    ));
    groups.push((
        Refusal::PhoneAllCustomers,
        hour_and_day(
            ["send_phone/hour", "send_phone/day"],
            phone_number.to_owned(),
            phone.map(|limit| limit.saturating_mul(ALL_CUSTOMERS_FACTOR)),
        ),
    ));
    groups.push((
        Refusal::CustomerQuota,
        hour_and_day(
            ["send_customer/hour", "send_customer/day"],
            customer_uuid.to_owned(),
            [sms.customer_per_hour, sms.customer_per_day],
        ),
    ));
    groups
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
struct Quota {
    scope: &'static str,
    subject: String,
    window: i64,
    limit: u32,
}

impl Quota {
    /// The quota `scope` (which names its window's length) of `subject`
    /// in the window of `seconds` around `now`.
    fn new(scope: &'static str, subject: String, now: u64, seconds: u64, limit: u32) -> Self {
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
        end_user: Option<&Client>,
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
        let end_user = end_user.map(ToString::to_string);
        let end_user = end_user.as_deref();
        if let Some(refused) = self
            .take_send_quotas(customer_uuid, phone_number, end_user, created_at)
            .await?
        {
            self.metrics.send(SendResult::Refused);
            return Ok(refused(created_at));
        }
        let created = self
            .create_and_send(customer_uuid, phone_number, end_user, created_at)
            .await;
        if created.is_err() {
            // Nothing was stored or sent: the sends go back.
            self.give_back_send_quotas(customer_uuid, phone_number, end_user, created_at)
                .await?;
        }
        created
    }

    /// A new challenge, stored with its message queued (one transaction),
    /// then sent: a failed send is retried, not lost.
    async fn create_and_send(
        &self,
        customer_uuid: &str,
        phone_number: &str,
        end_user: Option<&str>,
        created_at: u64,
    ) -> Result<Created, ApiError> {
        let settings = Arc::clone(&self.settings);
        let (code, challenge) = OtpChallenge::create(
            Strategy::PhoneCode,
            &settings.challenge,
            &settings.pepper,
            created_at,
        )?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let expires_at = challenge.expire_at();
        let mut state = DingState::new(customer_uuid, phone_number, challenge, created_at);
        state.end_user = end_user.map(str::to_owned);
        let json = state.encode(&uuid, &settings.keyring)?;
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
        end_user: Option<&str>,
        now: u64,
    ) -> Result<Option<fn(u64) -> Created>, ApiError> {
        let groups = send_quotas(&self.limits.sms, customer_uuid, phone_number, end_user, now);
        for (taken, (refusal, quotas)) in groups.iter().enumerate() {
            if self.take_all(quotas).await? {
                continue;
            }
            for (_, earlier) in &groups[..taken] {
                self.give_back_all(earlier).await?;
            }
            self.metrics.refused(*refusal);
            tracing::info!(
                customer = customer_uuid,
                to = %crate::sender::masked(phone_number),
                reason = refusal.label(),
                "send refused by a quota"
            );
            return Ok(Some(match refusal {
                Refusal::CustomerQuota => |at| Created::SpamDetected { created_at: at },
                _ => |at| Created::RateLimited { created_at: at },
            }));
        }
        Ok(None)
    }

    /// Takes one from every quota, or from none: `false` when one is used
    /// up (the ones taken before it are given back).
    async fn take_all(&self, quotas: &[Quota]) -> Result<bool, ApiError> {
        for (i, quota) in quotas.iter().enumerate() {
            let taken = self
                .store
                .take_quota(quota.scope, &quota.subject, quota.window, quota.limit)
                .await?;
            if !taken {
                self.give_back_all(&quotas[..i]).await?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn give_back_all(&self, quotas: &[Quota]) -> Result<(), ApiError> {
        for quota in quotas {
            self.store
                .give_back_quota(quota.scope, &quota.subject, quota.window)
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
        let at = now();
        let quota = [Quota::new(
            "feedback_customer/hour",
            customer_uuid.to_owned(),
            at,
            3600,
            self.limits.sms.customer_per_hour,
        )];
        if !self.take_all(&quota).await? {
            self.metrics.refused(Refusal::FeedbackQuota);
            return Err(crate::limits::too_many(
                "this customer gave too much feedback this hour; try again later",
                3600 - at % 3600,
            ));
        }
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
        let subject = format!("{customer_uuid} {phone_number}");
        let cap = [
            Quota::new(
                "check_customer_phone/hour",
                subject.clone(),
                at,
                3600,
                sms.checks_per_hour,
            ),
            Quota::new(
                "check_customer_phone/day",
                subject,
                at,
                86_400,
                sms.checks_per_day,
            ),
        ];
        if !self.take_all(&cap).await? {
            self.metrics.refused(Refusal::PhoneChecks);
            tracing::info!(
                customer = customer_uuid,
                to = %crate::sender::masked(&phone_number),
                "check refused by the number's check cap: no code compared"
            );
            return Ok(Limited::Refused);
        }
        let settings = Arc::clone(&self.settings);
        let outcome = self
            .transition(uuid, |state: Option<DingState>| {
                let mut state = owned(state, customer_uuid, &phone_number)?;
                let now = now();
                let (next, outcome) = state.challenge.check(&code, &settings.pepper, now)?;
                if next == state.challenge {
                    return Ok((Change::Keep, (outcome, false)));
                }
                // A code was compared when the state moved on a right
                // code, a wrong one, or the last wrong one (which answers
                // `Locked` as it spends the final attempt).
                let compared = matches!(
                    outcome,
                    CheckOutcome::Valid | CheckOutcome::Invalid { .. } | CheckOutcome::Locked
                );
                state.challenge = next;
                state.checked(&outcome, now);
                Ok((Change::Put(state), (outcome, compared)))
            })
            .await;
        if !matches!(outcome, Ok((_, true))) {
            self.give_back_all(&cap).await?;
        }
        Ok(Limited::Done(outcome?.0))
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
        let (customer, phone_number, seen) = self.authentication(uuid).await?;
        if customer != customer_uuid {
            return Err(no_such_authentication());
        }
        // The address it was created for pays for its retries too.
        let end_user = seen.end_user;
        let end_user = end_user.as_deref();
        let at = now();
        if self
            .take_send_quotas(customer_uuid, &phone_number, end_user, at)
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
                let (next, outcome) = state.challenge.retry(&settings.pepper, now)?;
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
            self.give_back_send_quotas(customer_uuid, &phone_number, end_user, at)
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
        end_user: Option<&str>,
        now: u64,
    ) -> Result<(), ApiError> {
        for (_, quotas) in send_quotas(&self.limits.sms, customer_uuid, phone_number, end_user, now)
        {
            self.give_back_all(&quotas).await?;
        }
        Ok(())
    }

    /// What the built-in sender sent to `phone_number`.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, phone_number: &str) -> Result<Vec<OutboxMessage>, ApiError> {
        Ok(self.store.outbox(phone_number).await?)
    }
}
