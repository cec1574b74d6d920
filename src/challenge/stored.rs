//! The stored JSON form, version 1.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use super::{ChallengePolicy, OtpChallenge, SALT_LEN, Strategy, VerificationStatus};
use crate::encoding::hex;
use crate::error::Error;
use crate::pepper::HASH_LEN;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u32,
    strategy: Strategy,
    digits: u8,
    ttl: u64,
    max_attempts: u32,
    max_retries: u32,
    retry_cooldown: u64,
    peppered: bool,
    salt: String,
    code_hash: String,
    status: VerificationStatus,
    attempts: u32,
    retries: u32,
    created_at: u64,
    expire_at: u64,
    sent_at: u64,
    verified_at: Option<u64>,
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidChallengeRecord { reason }
}

impl TryFrom<Wire> for OtpChallenge {
    type Error = Error;

    fn try_from(w: Wire) -> Result<Self, Error> {
        if w.version != 1 {
            return Err(bad("unsupported record version"));
        }
        let policy = ChallengePolicy {
            digits: w.digits,
            ttl: w.ttl,
            max_attempts: w.max_attempts,
            max_retries: w.max_retries,
            retry_cooldown: w.retry_cooldown,
        };
        // The builder's bounds, alike: no stored policy grants more.
        policy.check().map_err(|e| match e {
            Error::InvalidPolicy { reason } => bad(reason),
            _ => bad("digits out of range"),
        })?;
        if w.attempts > w.max_attempts || w.retries > w.max_retries {
            return Err(bad("more attempts or retries than the policy allows"));
        }
        if w.created_at.checked_add(w.ttl) != Some(w.expire_at) || w.sent_at < w.created_at {
            return Err(bad("inconsistent times"));
        }
        let verified = w.status == VerificationStatus::Verified;
        if verified != w.verified_at.is_some() {
            return Err(bad("verified_at must be set exactly when verified"));
        }
        if w.status == VerificationStatus::Failed && w.attempts < w.max_attempts {
            return Err(bad("failed before the attempts were spent"));
        }
        if w.status == VerificationStatus::Unverified && w.attempts >= w.max_attempts {
            return Err(bad("unverified with no attempts left"));
        }
        if w.status == VerificationStatus::Verified && w.attempts == 0 {
            return Err(bad("verified without an attempt"));
        }
        if w.sent_at >= w.expire_at
            || w.verified_at
                .is_some_and(|at| at < w.sent_at || at >= w.expire_at)
        {
            return Err(bad("inconsistent times"));
        }
        Ok(Self {
            strategy: w.strategy,
            policy,
            peppered: w.peppered,
            salt: hex::decode::<SALT_LEN>(&w.salt).ok_or(bad("salt is not 16 bytes of hex"))?,
            code_hash: hex::decode::<HASH_LEN>(&w.code_hash)
                .ok_or(bad("code_hash is not 32 bytes of hex"))?,
            status: w.status,
            attempts: w.attempts,
            retries: w.retries,
            created_at: w.created_at,
            expire_at: w.expire_at,
            sent_at: w.sent_at,
            verified_at: w.verified_at,
        })
    }
}

impl Serialize for OtpChallenge {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            version: 1,
            strategy: self.strategy.clone(),
            digits: self.policy.digits,
            ttl: self.policy.ttl,
            max_attempts: self.policy.max_attempts,
            max_retries: self.policy.max_retries,
            retry_cooldown: self.policy.retry_cooldown,
            peppered: self.peppered,
            salt: hex::encode(&self.salt),
            code_hash: hex::encode(&self.code_hash),
            status: self.status,
            attempts: self.attempts,
            retries: self.retries,
            created_at: self.created_at,
            expire_at: self.expire_at,
            sent_at: self.sent_at,
            verified_at: self.verified_at,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for OtpChallenge {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::try_from(Wire::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
