//! A Ding authentication as stored: otpkit's challenge, whose customer and
//! phone number it is, and the events Ding's status call reports (each
//! code sent, each check that counted). The service stores it
//! authenticated as a whole (see `service`), so its owner is checked
//! against the row's columns on every load.
//! Events are added only by transitions that change the challenge, so
//! their number is bounded by its policy (sends ≤ 1 + retries, checks ≤
//! attempts + 1), however many requests arrive.

use otpkit::challenge::{CheckOutcome, OtpChallenge};
use serde::{Deserialize, Serialize};

/// One thing that happened to an authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A code was handed to the sender.
    Attempt {
        /// The attempt's id.
        id: String,
        /// 1 for the first code, then one more per retry.
        attempt_number: u32,
        /// Unix seconds.
        created_at: u64,
    },
    /// A check that counted (or that found the authentication expired).
    Check {
        /// The check's id.
        id: String,
        /// Ding's check status: `valid`, `invalid`, `rate_limited`,
        /// `expired_auth`.
        status: String,
        /// Unix seconds.
        created_at: u64,
    },
}

/// The stored state of one authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// The customer it was created for (canonical UUID).
    pub customer_uuid: String,
    /// Where its codes go.
    pub phone_number: String,
    /// The library's state machine.
    pub challenge: OtpChallenge,
    /// What happened, oldest first.
    pub events: Vec<Event>,
    /// The end user's address it was created for (Ding's `ip`, or a named
    /// end user), whose send quota its retries take from too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user: Option<String>,
}

impl Authentication {
    /// A new authentication of `customer_uuid` to `phone_number` whose
    /// first code goes out at `now`.
    #[must_use]
    pub fn new(customer_uuid: &str, phone_number: &str, challenge: OtpChallenge, now: u64) -> Self {
        let mut authentication = Self {
            customer_uuid: customer_uuid.to_owned(),
            phone_number: phone_number.to_owned(),
            challenge,
            events: Vec::new(),
            end_user: None,
        };
        authentication.sent(now);
        authentication
    }

    /// Records that a code (the first, or a retry's) went to the sender.
    pub fn sent(&mut self, now: u64) {
        let attempts = self
            .events
            .iter()
            .filter(|event| matches!(event, Event::Attempt { .. }))
            .count();
        self.events.push(Event::Attempt {
            id: uuid::Uuid::new_v4().to_string(),
            attempt_number: u32::try_from(attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1),
            created_at: now,
        });
    }

    /// Records a check that changed the challenge.
    pub fn checked(&mut self, outcome: &CheckOutcome, now: u64) {
        self.events.push(Event::Check {
            id: uuid::Uuid::new_v4().to_string(),
            status: check_status(outcome).to_owned(),
            created_at: now,
        });
    }
}

/// Ding's check status for an outcome (`None` for a malformed code, which
/// Ding answers with an error, not a status).
#[must_use]
pub const fn check_status(outcome: &CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Valid => "valid",
        CheckOutcome::Invalid { .. } => "invalid",
        CheckOutcome::AlreadyVerified => "already_validated",
        CheckOutcome::Locked => "rate_limited",
        CheckOutcome::Expired => "expired_auth",
        _ => "unknown",
    }
}
