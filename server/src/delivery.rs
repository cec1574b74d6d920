//! The durable outbox: every one-time code message is kept, sealed, in the
//! `messages` table until its [`Sender`] took it, then deleted.
//!
//! - **No readable code at rest**: a queued message (recipient and text)
//!   is sealed with the server's keyring, bound to its id; the database
//!   holds no code in clear (the `--dev` outbox aside).
//! - **Neither lost nor burnt**: the message is stored before the request
//!   is answered (with its authentication, or with a retry's saved state,
//!   in one transaction), then sent
//!   at once; a send that fails leaves it queued (the request still
//!   succeeds: no retry of the user's is used up) and a worker on every
//!   instance tries it again, backing off from 1 s to 5 min.
//! - **Once per instance at a time**: an attempt first claims the message
//!   by moving its `due_at` forward from the value it read (a
//!   compare-and-set, a lease of [`LEASE_MS`]); a crash mid-send leaves it
//!   to be claimed again when the lease ends. Delivery is at least once:
//!   a send whose answer is lost is sent again, with the same id, for the
//!   receiver to drop.
//! - **Not forever**: a message older than its code's lifetime is dropped
//!   by the purge, sent or not (the code could no longer be checked).

use std::sync::Arc;

use otpkit::{Keyring, Secret};
use zeroize::Zeroizing;

use crate::clock::now_millis;
use crate::error::ApiError;
use crate::metrics::{Metrics, Send as SendResult};
use crate::sender::{Message, Sender};
use crate::store::{QueuedMessage, Store};

/// How long a claimed message is left to the instance sending it.
pub const LEASE_MS: i64 = 30_000;

/// The wait before attempt `n + 1` after `n` failures: 1 s doubling, at
/// most 5 minutes.
#[must_use]
pub fn backoff_ms(attempts: i64) -> i64 {
    1000_i64
        .saturating_mul(1 << attempts.clamp(0, 9))
        .min(300_000)
}

/// Seals, queues, sends and retries messages.
#[derive(Clone)]
pub struct Delivery {
    store: Store,
    keyring: Arc<Keyring>,
    sender: Option<Arc<dyn Sender>>,
    metrics: Arc<Metrics>,
}

/// The associated data a message is sealed for: its id.
fn context(id: &str) -> Vec<u8> {
    format!("otpkit-server/message:{id}").into_bytes()
}

/// A queued message's sealed text (`sealed`, of message `id`) sealed
/// again under the first of `keyring`'s keys (`otpkit-server rekey`);
/// `None` when it is on that key already.
///
/// # Errors
/// A text no configured key opens for this id.
pub fn reseal(id: &str, sealed: &str, keyring: &Keyring) -> Result<Option<String>, String> {
    let sealed: otpkit::seal::SealedSecret = sealed.parse().map_err(|e| format!("{e}"))?;
    if sealed.key_id() == keyring.sealing_key_id() {
        return Ok(None);
    }
    let plain = keyring
        .open(&sealed, &context(id))
        .map_err(|e| e.to_string())?;
    let again = keyring
        .seal(&plain, &context(id))
        .map_err(|e| e.to_string())?;
    Ok(Some(again.to_string()))
}

impl Delivery {
    /// A delivery through `sender` (`None`: no sender configured; sending
    /// a code is refused), sealing with `keyring`.
    #[must_use]
    pub fn new(
        store: Store,
        keyring: Arc<Keyring>,
        sender: Option<Arc<dyn Sender>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            keyring,
            sender,
            metrics,
        }
    }

    /// `Ok` when a sender is configured: checked before anything is
    /// taken from a quota or created.
    ///
    /// # Errors
    /// 503 `no_sender` when none is.
    pub fn ready(&self) -> Result<(), ApiError> {
        if self.sender.is_some() {
            return Ok(());
        }
        Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no_sender",
            "this server has no SMS sender configured: start it with --sms-webhook",
        ))
    }

    /// A new message to `to` saying `text`, and its sealed row, claimed
    /// by this instance until `now_ms` + [`LEASE_MS`] (it is sent at once
    /// by [`Delivery::send_now`]).
    ///
    /// # Errors
    /// 503 when no sender is configured; a sealing failure.
    pub fn seal(
        &self,
        to: &str,
        text: String,
        now_ms: i64,
    ) -> Result<(Message, QueuedMessage), ApiError> {
        self.ready()?;
        let message = Message {
            id: uuid::Uuid::new_v4().to_string(),
            to: to.to_owned(),
            text: Zeroizing::new(text),
            created_at: now_ms,
        };
        let plain = Zeroizing::new(
            serde_json::to_vec(&(&message.to, message.text.as_str()))
                .map_err(|e| ApiError::internal(&e))?,
        );
        let secret = Secret::from_bytes(&plain)?;
        let sealed = self.keyring.seal(&secret, &context(&message.id))?;
        let row = QueuedMessage {
            id: message.id.clone(),
            sealed: sealed.to_string(),
            created_at: now_ms,
            attempts: 0,
            due_at: now_ms.saturating_add(LEASE_MS),
        };
        Ok((message, row))
    }

    /// Sends a message this instance holds the lease of (`due_at` as
    /// stored): deleted once taken, else due again after a backoff.
    /// Failures are logged and counted, never returned: the message stays
    /// queued.
    pub async fn send_now(&self, message: &Message, attempts: i64, due_at: i64) {
        let Some(sender) = &self.sender else { return };
        match sender.send(message).await {
            Ok(()) => {
                self.metrics.send(SendResult::Sent);
                if let Err(error) = self.store.delete_message(&message.id).await {
                    tracing::warn!(%error, id = %message.id, "a sent message could not be deleted; it may be sent again");
                }
            }
            Err(cause) => {
                self.metrics.send(SendResult::Failed);
                let next = now_millis().saturating_add(backoff_ms(attempts));
                tracing::warn!(%cause, id = %message.id, attempts = attempts + 1, "a message was not taken; it stays queued");
                if let Err(error) = self
                    .store
                    .defer_message(&message.id, due_at, attempts.saturating_add(1), next)
                    .await
                {
                    tracing::warn!(%error, id = %message.id, "a message could not be rescheduled; its lease will end");
                }
            }
        }
    }

    /// Every second, claims the messages that are due (a failed send's
    /// retry, or one whose sender crashed) and sends them, until `stop`
    /// says so; a round under way is finished first, so a clean shutdown
    /// never leaves a message claimed (it would wait for its lease to end).
    pub async fn retry_due(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.sender.is_none() {
            return;
        }
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            if let Err(error) = self.retry_once().await {
                tracing::warn!(%error, "retrying queued messages failed; the next tick tries again");
            }
        }
    }

    async fn retry_once(&self) -> Result<(), sqlx::Error> {
        let now = now_millis();
        for row in self.store.due_messages(now, 32).await? {
            let lease = now.saturating_add(LEASE_MS);
            if !self.store.claim_message(&row.id, row.due_at, lease).await? {
                continue; // another instance took it
            }
            match self.open(&row) {
                Ok(message) => self.send_now(&message, row.attempts, lease).await,
                Err(error) => {
                    // Sealed with a key no longer configured, or changed
                    // in the database: never sent, dropped by the purge.
                    tracing::error!(id = %row.id, %error, "a queued message does not open");
                }
            }
        }
        Ok(())
    }

    /// The message a row holds.
    fn open(&self, row: &QueuedMessage) -> Result<Message, String> {
        let sealed = row.sealed.parse().map_err(|e| format!("{e}"))?;
        let plain = self
            .keyring
            .open(&sealed, &context(&row.id))
            .map_err(|e| e.to_string())?;
        let (to, text): (String, String) =
            serde_json::from_slice(plain.expose_secret()).map_err(|e| e.to_string())?;
        Ok(Message {
            id: row.id.clone(),
            to,
            text: Zeroizing::new(text),
            created_at: row.created_at,
        })
    }
}
