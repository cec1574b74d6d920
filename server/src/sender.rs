//! Where a one-time code goes: a [`Sender`] takes a [`Message`] to its
//! recipient. [`Webhook`] is the production path (an HTTP POST to the SMS
//! gateway or relay you run, signed with HMAC-SHA256 so the receiver can
//! check it came from this server); [`DevOutbox`] keeps messages in the
//! database for the `--dev` demo pages, and exists only there.
//!
//! A sender is called by [`crate::delivery`], which keeps every message
//! sealed in the database until its sender took it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::store::Store;

/// A future a [`Sender`] returns: `Err` with why the message was not taken
/// (it stays queued and is tried again).
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One message to send.
#[derive(Clone)]
pub struct Message {
    /// Its id: the same on every attempt, so a receiver can drop
    /// duplicates (a send whose answer was lost is tried again).
    pub id: String,
    /// The recipient, E.164.
    pub to: String,
    /// The text, with the code in it.
    pub text: Zeroizing<String>,
    /// When it was queued, Unix milliseconds.
    pub created_at: i64,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("to", &masked(&self.to))
            .finish_non_exhaustive()
    }
}

/// Delivers one-time codes.
pub trait Sender: Send + Sync {
    /// Hands `message` to its way: `Ok` once it was taken (and will not
    /// be sent again), `Err` to try again later.
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a>;
}

/// `--dev` only: messages kept in the `outbox` table, readable at
/// `/dev/outbox` and on the demo pages (deleted after a day by the purge).
#[derive(Debug, Clone)]
pub struct DevOutbox {
    store: Store,
}

impl DevOutbox {
    /// An outbox in `store`.
    #[must_use]
    pub const fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Sender for DevOutbox {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            self.store
                .push_outbox(&message.to, &message.text, message.created_at)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(to = %masked(&message.to), "one-time code stored in the dev outbox");
            Ok(())
        })
    }
}

/// The header carrying the signature: `t=<Unix seconds>,v1=<hex>`, where
/// `v1` is HMAC-SHA256 under the webhook key of `<t>.<body>`.
pub const SIGNATURE_HEADER: &str = "x-otpkit-signature";

/// An HTTP webhook: each message is POSTed as JSON
/// `{"id", "to", "text", "created_at"}` (`created_at` Unix milliseconds)
/// to the configured URL, signed ([`SIGNATURE_HEADER`]). Any 2xx answer
/// means taken; anything else, or no answer within 10 s, is tried again.
pub struct Webhook {
    url: String,
    key: Zeroizing<Vec<u8>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The shortest webhook key accepted, bytes.
pub const MIN_KEY: usize = 16;

impl Webhook {
    /// A webhook to `url` (`https://…`, or `http://` to a loopback
    /// address only: codes never cross a network in clear), signed with
    /// `key`.
    ///
    /// # Errors
    /// A URL that is neither, or a key shorter than [`MIN_KEY`] bytes.
    pub fn new(url: &str, key: &[u8]) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook URL {url:?}: {e}"))?;
        let host = parsed.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "webhook URL {url:?}: use https:// (http:// only to a loopback address)"
                ));
            }
        }
        if key.len() < MIN_KEY {
            return Err(format!("the webhook key needs at least {MIN_KEY} bytes"));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            // Straight to the URL: a proxy the environment names
            // (http_proxy, ALL_PROXY…) would read every phone number and
            // code in clear on an http:// loopback URL.
            .no_proxy()
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Self {
            url: url.to_owned(),
            key: Zeroizing::new(key.to_vec()),
            client,
        })
    }
}

/// The signature header's value for `body` at Unix time `t`.
#[must_use]
pub fn signature(key: &[u8], t: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

impl Sender for Webhook {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let body = Zeroizing::new(
                serde_json::to_vec(&serde_json::json!({
                    "id": message.id,
                    "to": message.to,
                    "text": message.text.as_str(),
                    "created_at": message.created_at,
                }))
                .map_err(|e| e.to_string())?,
            );
            let signed = signature(&self.key, crate::clock::now(), &body);
            let answer = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signed)
                .body(body.to_vec())
                .send()
                .await
                .map_err(|e| format!("webhook: {}", e.without_url()))?;
            if answer.status().is_success() {
                tracing::info!(to = %masked(&message.to), id = %message.id, "one-time code handed to the webhook");
                Ok(())
            } else {
                Err(format!("webhook answered {}", answer.status()))
            }
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
