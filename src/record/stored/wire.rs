//! The record as a versioned stored form. Every string that holds a
//! secret is a `Zeroizing<String>`, both ways.

use alloc::borrow::ToOwned;
use alloc::string::String;
#[cfg(feature = "seal")]
use alloc::vec::Vec;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::StoredTotpRecord;
use crate::algorithm::Algorithm;
use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupHashScheme};
#[cfg(feature = "seal")]
use crate::encoding::binding::Binding;
use crate::engine::{MAX_WINDOW, TimeStep, Totp};
use crate::error::Error;
use crate::record::{Lockout, Throttle, TotpRecord};
#[cfg(feature = "seal")]
use crate::seal::SealedSecret;
use crate::secret::Secret;

/// Backup-code options as stored in a record.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct BackupSettings {
    count: usize,
    length: usize,
    /// 0 for HMAC-SHA-256, else PBKDF2 iterations.
    pbkdf2_iterations: u32,
}

/// The stored form. `secret` is the sealed secret
/// (`$otpkit-xchacha20poly1305$…`) or, opted into by name, the plain
/// Base32 secret; the two cannot be confused, as `$` is not Base32.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(super) struct Record {
    version: u32,
    id: String,
    issuer: String,
    account: String,
    secret: Zeroizing<String>,
    algorithm: String,
    digits: u8,
    period: u64,
    window: u64,
    verified: bool,
    last_used_step: Option<TimeStep>,
    backup_codes: Option<BackupCodeSet>,
    backup_settings: Option<BackupSettings>,
    lockout: Lockout,
    failures: u32,
    locked_until: Option<u64>,
    /// When the last wrong TOTP code came; absent in records stored
    /// before the quiet period existed (`updated_at` stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_at: Option<u64>,
    /// Absent in records stored before backup codes had their own
    /// budget: [`Lockout::for_backup_codes`].
    #[serde(default = "Lockout::for_backup_codes")]
    backup_lockout: Lockout,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    backup_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup_locked_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup_failed_at: Option<u64>,
    created_at: u64,
    updated_at: u64,
    /// Present (true) only for a record imported with a key shorter
    /// than 128 bits.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    legacy_short_secret: bool,
    /// Steps of clock drift learned; absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    drift: i64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
fn is_zero(value: &i64) -> bool {
    *value == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

/// A budget's stored fields, checked the way [`Record::check`] does.
fn check_budget(
    lockout: &Lockout,
    throttle: &Throttle,
    updated_at: u64,
    what: &'static str,
) -> Result<(), Error> {
    // Each wrong code past the free ones sets a lock, and a right one
    // clears both: a count past the free failures without a lock (or
    // the reverse) was not written by a transition.
    if throttle.locked_until.is_some() != (throttle.failures > lockout.free_failures()) {
        return Err(bad(what));
    }
    if throttle
        .locked_until
        .is_some_and(|until| until > updated_at.saturating_add(Lockout::MAX_LOCK))
    {
        return Err(bad("a lock ends more than a day after updated_at"));
    }
    if throttle.failed_at.is_some_and(|at| at > updated_at) {
        return Err(bad("a failure is dated after updated_at"));
    }
    Ok(())
}

/// How a record's secret is stored.
pub(super) enum StoredSecret {
    #[cfg(feature = "seal")]
    Sealed(SealedSecret),
    Plain,
}

impl Record {
    /// The stored form of `record`, with `secret` as its secret text.
    pub(super) fn new(record: &TotpRecord, secret: Zeroizing<String>) -> Self {
        let totp = &record.totp;
        Self {
            version: 2,
            id: record.id.clone(),
            issuer: record.issuer.clone(),
            account: record.account.clone(),
            secret,
            algorithm: totp.algorithm().as_str().to_owned(),
            digits: totp.digits(),
            period: totp.period(),
            window: totp.window().0,
            verified: record.verified,
            last_used_step: record.last_used_step,
            backup_codes: record.backup_codes.clone(),
            backup_settings: record.backup_options.map(|o| BackupSettings {
                count: o.count_value(),
                length: o.length_value(),
                pbkdf2_iterations: match o.scheme_value() {
                    BackupHashScheme::Pbkdf2Sha256 { iterations } => iterations,
                    BackupHashScheme::HmacSha256 => 0,
                },
            }),
            lockout: record.lockout,
            failures: record.totp_throttle.failures,
            locked_until: record.totp_throttle.locked_until,
            failed_at: record.totp_throttle.failed_at,
            backup_lockout: record.backup_lockout,
            backup_failures: record.backup_throttle.failures,
            backup_locked_until: record.backup_throttle.locked_until,
            backup_failed_at: record.backup_throttle.failed_at,
            created_at: record.created_at,
            updated_at: record.updated_at,
            legacy_short_secret: record.legacy_secret,
            drift: record.drift,
        }
    }

    pub(super) fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn set_secret(&mut self, secret: Zeroizing<String>) {
        self.secret = secret;
    }

    /// The secret's stored text: sealed, or plain Base32.
    pub(super) fn secret_text(&self) -> &str {
        &self.secret
    }

    /// Version 1: otpkit 0.1's form, its secret bound to its id only.
    #[cfg(feature = "seal")]
    pub(super) const fn is_legacy(&self) -> bool {
        self.version == 1
    }

    /// What the sealed secret is bound to: version 2, every field but
    /// the secret; version 1 (otpkit 0.1), the id alone.
    #[cfg(feature = "seal")]
    pub(super) fn context(&self) -> Vec<u8> {
        if self.is_legacy() {
            let mut context = b"totp-record:".to_vec();
            context.extend_from_slice(self.id.as_bytes());
            return context;
        }
        let mut b = Binding::new("otpkit totp-record v2");
        b.text(&self.id)
            .text(&self.issuer)
            .text(&self.account)
            .text(&self.algorithm)
            .num(u64::from(self.digits))
            .num(self.period)
            .num(self.window)
            .flag(self.verified)
            .opt(self.last_used_step.map(TimeStep::value));
        match &self.backup_codes {
            Some(set) => set.bind_into(b.flag(true)),
            None => {
                b.flag(false);
            }
        }
        match &self.backup_settings {
            Some(settings) => {
                let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
                b.flag(true)
                    .num(count(settings.count))
                    .num(count(settings.length))
                    .num(u64::from(settings.pbkdf2_iterations));
            }
            None => {
                b.flag(false);
            }
        }
        for lockout in [&self.lockout, &self.backup_lockout] {
            b.num(u64::from(lockout.free_failures()))
                .num(lockout.cooldown())
                .num(lockout.max_lock())
                .num(lockout.quiet_period());
        }
        b.num(u64::from(self.failures))
            .opt(self.locked_until)
            .opt(self.failed_at)
            .num(u64::from(self.backup_failures))
            .opt(self.backup_locked_until)
            .opt(self.backup_failed_at)
            .num(self.created_at)
            .num(self.updated_at)
            .flag(self.legacy_short_secret)
            .signed(self.drift);
        b.into_bytes()
    }

    /// The key id in a sealed secret's text, read without parsing it
    /// all (it was checked on load).
    pub(super) fn sealed_key_id(&self) -> Option<&str> {
        let params = self.secret.strip_prefix('$')?.split('$').nth(1)?;
        params.strip_prefix("v=1,k=")
    }

    /// Whether the secret is sealed, and by what.
    pub(super) fn stored_secret(&self) -> Result<StoredSecret, Error> {
        if !self.secret.starts_with('$') {
            return Ok(StoredSecret::Plain);
        }
        #[cfg(feature = "seal")]
        return Ok(StoredSecret::Sealed(self.secret.parse()?));
        #[cfg(not(feature = "seal"))]
        return Err(Error::FeatureDisabled { feature: "seal" });
    }

    /// The plain secret of an unsealed record.
    pub(super) fn plain_secret(&self) -> Result<Secret, Error> {
        Secret::from_base32_allow_short(&self.secret)
    }

    /// Checks everything a transition relies on, but the secret, so
    /// that no stored value can switch a check off or make a right code
    /// fail.
    pub(super) fn check(&self) -> Result<(), Error> {
        if self.version != 1 && self.version != 2 {
            return Err(bad("unsupported record version"));
        }
        if self.id.is_empty() {
            return Err(bad("id is empty"));
        }
        if self.updated_at < self.created_at {
            return Err(bad("updated_at is before created_at"));
        }
        if !self.verified && (self.last_used_step.is_some() || self.backup_codes.is_some()) {
            return Err(bad("an unverified record has a used step or backup codes"));
        }
        check_budget(
            &self.lockout,
            &self.totp_throttle(),
            self.updated_at,
            "failures and locked_until disagree",
        )?;
        check_budget(
            &self.backup_lockout,
            &self.backup_throttle(),
            self.updated_at,
            "backup_failures and backup_locked_until disagree",
        )?;
        if self.drift.unsigned_abs() > TotpRecord::MAX_DRIFT.unsigned_abs() {
            return Err(bad("drift is more than 20 steps"));
        }
        crate::engine::check_digits(self.digits)?;
        if self.period == 0 {
            return Err(Error::ZeroPeriod);
        }
        if self.window > MAX_WINDOW {
            return Err(Error::WindowTooLarge {
                steps: self.window,
                max: MAX_WINDOW,
            });
        }
        self.algorithm.parse::<Algorithm>()?;
        self.backup_options()?;
        match self.stored_secret()? {
            #[cfg(feature = "seal")]
            StoredSecret::Sealed(_) => Ok(()),
            StoredSecret::Plain => self.check_length(&self.plain_secret()?),
        }
    }

    /// A short key loads only into a record imported with one.
    fn check_length(&self, secret: &Secret) -> Result<(), Error> {
        if secret.len() < 16 && !self.legacy_short_secret {
            return Err(Error::SecretTooShort {
                bits: secret.len().saturating_mul(8),
            });
        }
        Ok(())
    }

    fn backup_options(&self) -> Result<Option<BackupCodeOptions>, Error> {
        self.backup_settings
            .as_ref()
            .map(|b| {
                let scheme = match b.pbkdf2_iterations {
                    0 => BackupHashScheme::HmacSha256,
                    iterations => BackupHashScheme::Pbkdf2Sha256 { iterations },
                };
                let options = BackupCodeOptions::default()
                    .count(b.count)
                    .length(b.length)
                    .scheme(scheme);
                options.check().map(|()| options)
            })
            .transpose()
    }

    fn totp_throttle(&self) -> Throttle {
        Throttle {
            failures: self.failures,
            locked_until: self.locked_until,
            failed_at: self
                .failed_at
                .or((self.failures > 0).then_some(self.updated_at)),
        }
    }

    fn backup_throttle(&self) -> Throttle {
        Throttle {
            failures: self.backup_failures,
            locked_until: self.backup_locked_until,
            failed_at: self
                .backup_failed_at
                .or((self.backup_failures > 0).then_some(self.updated_at)),
        }
    }

    /// The record, with its secret opened by the caller.
    pub(super) fn build(&self, secret: Secret) -> Result<TotpRecord, Error> {
        self.check()?;
        self.check_length(&secret)?;
        let totp = Totp::builder(secret)
            .algorithm(self.algorithm.parse()?)
            .digits(self.digits)
            .period(self.period)
            .window(self.window)
            .build()?;
        Ok(TotpRecord {
            id: self.id.clone(),
            issuer: self.issuer.clone(),
            account: self.account.clone(),
            totp,
            verified: self.verified,
            last_used_step: self.last_used_step,
            backup_codes: self.backup_codes.clone(),
            backup_options: self.backup_options()?,
            lockout: self.lockout,
            backup_lockout: self.backup_lockout,
            totp_throttle: self.totp_throttle(),
            backup_throttle: self.backup_throttle(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            legacy_secret: self.legacy_short_secret,
            drift: self.drift,
        })
    }
}

/// What is wrong with JSON that does not deserialize as a record: the
/// first field, in the stored form's order, that is missing or does
/// not read as its type. Only the field's name is reported.
pub(super) fn damaged(json: &str) -> Error {
    use serde_json::{Map, Value};
    let Ok(mut map) = serde_json::from_str::<Map<String, Value>>(json) else {
        return bad("not a JSON object");
    };
    let reason = damaged_field(&map);
    // The secret's text, plain in an unsealed row, is wiped, not just
    // freed.
    if let Some(Value::String(secret)) = map.get_mut("secret") {
        zeroize::Zeroize::zeroize(secret);
    }
    bad(reason)
}

/// The reason [`damaged`] gives for the fields in `map`.
fn damaged_field(map: &serde_json::Map<String, serde_json::Value>) -> &'static str {
    macro_rules! fields {
        ($($name:literal: $ty:ty, $required:literal;)*) => {
            $(match map.get($name) {
                Some(value) if <$ty>::deserialize(value).is_err() => {
                    return concat!("the field `", $name, "` is damaged");
                }
                Some(_) => {}
                None if $required => {
                    return concat!("the field `", $name, "` is missing");
                }
                None => {}
            })*
            let known = [$($name),*];
            if map.keys().any(|key| !known.contains(&key.as_str())) {
                return "a field otpkit does not write";
            }
        };
    }
    fields! {
        "version": u32, true;
        "id": String, true;
        "issuer": String, true;
        "account": String, true;
        "secret": Zeroizing<String>, true;
        "algorithm": String, true;
        "digits": u8, true;
        "period": u64, true;
        "window": u64, true;
        "verified": bool, true;
        "last_used_step": Option<TimeStep>, false;
        "backup_codes": Option<BackupCodeSet>, false;
        "backup_settings": Option<BackupSettings>, false;
        "lockout": Lockout, true;
        "failures": u32, true;
        "locked_until": Option<u64>, false;
        "failed_at": Option<u64>, false;
        "backup_lockout": Lockout, false;
        "backup_failures": u32, false;
        "backup_locked_until": Option<u64>, false;
        "backup_failed_at": Option<u64>, false;
        "created_at": u64, true;
        "updated_at": u64, true;
        "legacy_short_secret": bool, false;
        "drift": i64, false;
    }
    "it does not read as a record"
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidTotpRecord { reason }
}

impl Serialize for StoredTotpRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StoredTotpRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let record = Record::deserialize(d)?;
        record.check().map_err(serde::de::Error::custom)?;
        Ok(Self(record))
    }
}
