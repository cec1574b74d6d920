//! Clerk's TOTP half of the service: enrollment, the sign-in check (its
//! cheap step, the backup-code hash under the gate, the second step),
//! backup codes, deletions. Each is a load, a library transition and a
//! compare-and-set through the shared transition loop.

use std::sync::Arc;

use axum::http::StatusCode;
use otpkit::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes};
use otpkit::clerk::DeletedTotp;
use otpkit::record::{Enrollment, Verification};
use otpkit::{Keyring, StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource};

use crate::client::Client;
use crate::clock::now;
use crate::error::ApiError;
use crate::store::Table;

use super::{Change, Service, Stored};

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

/// A line for a lock: the failure that locked a kind of code, and a code
/// refused because its kind is locked.
fn log_refusal(user_id: &str, outcome: &TotpOutcome) {
    if let TotpOutcome::Locked { code_type, until } = outcome {
        tracing::info!(
            user = %crate::logs::masked_user(user_id),
            code_type = code_type.as_str(),
            locked_until = until,
            "code refused: this kind of code is locked for the user"
        );
    } else if let TotpOutcome::Invalid {
        code_type,
        failures,
        locked_until: Some(until),
    } = outcome
    {
        tracing::info!(
            user = %crate::logs::masked_user(user_id),
            code_type = code_type.as_str(),
            failures,
            locked_until = until,
            "wrong code: the user's codes of this kind are now locked"
        );
    }
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

impl Service {
    /// Clerk's `createTOTP`: a new secret, returned once with its URI.
    /// Again while unverified replaces it; a verified one is a conflict.
    ///
    /// # Errors
    /// 409 when the user has a verified TOTP.
    pub async fn create_totp(&self, user_id: &str) -> Result<Enrollment, ApiError> {
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
    /// unverified one, `verify_totp` on a verified one, for `client` when
    /// a trusted peer named the end user (then the per-client throttle
    /// applies too; without one, the record's budgets alone).
    /// Every outcome that changed the record is saved, failures included.
    ///
    /// In one pass: the client's throttle; then load → the library's cheap
    /// first step → compare-and-set. A backup code's attempt is reserved by
    /// that save (counted before it is hashed), so however many requests
    /// race, a user costs at most the backup budget's free failures + 1
    /// hashes; the hash then runs once, under the [`HashGate`](crate::limits::HashGate), outside
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
        client: Option<&Client>,
    ) -> Result<(TotpOutcome, Option<TotpResource>), ApiError> {
        let attempt = client
            .map(|client| self.throttle.begin(client, user_id))
            .transpose()?;
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
                let checked = ticket.run(move || Ok(check.run(&pepper.pepper)?)).await?;
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
                    .run(move || Ok(BackupCodeSet::generate(&options, &settings.pepper, now)?))
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
        log_refusal(user_id, &outcome);
        match (&outcome, attempt) {
            (TotpOutcome::Valid { .. }, Some(attempt)) => attempt.right(),
            (TotpOutcome::Invalid { .. }, Some(attempt)) => attempt.wrong(),
            _ => {}
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
    /// under the [`HashGate`](crate::limits::HashGate), before the compare-and-set; it replaces the
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
                    &settings.pepper,
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
                .map_err(|_| ApiError::not_found("backup codes"))?;
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
}
