//! The limits that keep one attacker from hurting everyone else: a budget
//! for slow hashing ([`HashGate`]), a per-client throttle of wrong codes
//! ([`ClientThrottle`]), and the SMS quotas' settings ([`SmsLimits`]).
//! The user's own lockout is the library's (`otpkit::record::Lockout`),
//! kept in the record every instance shares; the SMS quotas are counted in
//! the database; the hash gate and the client throttle are per instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::{Client, TrustedProxies};
use crate::error::ApiError;
use crate::metrics::{Metrics, Refusal};

/// The limits' settings.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Backup-code hashes run at once (default: the cores but one, at
    /// least one), so that hashing never takes every core.
    pub hash_concurrency: usize,
    /// Requests that may wait for a hashing slot; past them a request is
    /// refused at once (429).
    pub hash_queue: usize,
    /// Wrong codes one client may send for one user before it is refused
    /// (429) for that user until [`Limits::client_quiet`] has passed with
    /// none. Default 3, below the record's free failures (5), so one
    /// client alone never locks a user.
    pub client_failures: u32,
    /// The quiet period that clears a client's count: at least the
    /// record's own, so the client's count never clears before the user's.
    pub client_quiet: Duration,
    /// The peers whose `X-Forwarded-For` names the end user (the app's
    /// backends, a proxy in front); from any other peer no end user is
    /// named and the per-client throttle does not apply.
    pub trusted_proxies: TrustedProxies,
    /// SMS quotas.
    pub sms: SmsLimits,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            hash_concurrency: cores.saturating_sub(1).max(1),
            hash_queue: 4 * cores.saturating_sub(1).max(1),
            client_failures: 3,
            // The record's quiet hour and a minute: the client's count
            // never clears before the user's (their clocks differ by the
            // time a request takes, and the record's counts whole seconds).
            client_quiet: Duration::from_secs(3660),
            trusted_proxies: TrustedProxies::default(),
            sms: SmsLimits::default(),
        }
    }
}

/// Quotas on one-time codes sent by SMS, counted in the database (so they
/// hold across instances) in fixed hour and day windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLimits {
    /// Codes sent to one phone number per hour.
    pub phone_per_hour: u32,
    /// … per day.
    pub phone_per_day: u32,
    /// Codes one end user's address (Ding's `ip`, or the end user a
    /// trusted peer names) may have sent per hour, for one customer.
    pub address_per_hour: u32,
    /// Codes sent for one customer per hour.
    pub customer_per_hour: u32,
    /// … per day.
    pub customer_per_day: u32,
    /// Codes checked (guesses) for one phone number per hour, across its
    /// authentications.
    pub checks_per_hour: u32,
    /// … per day.
    pub checks_per_day: u32,
    /// Country calling codes that may receive codes (`["1", "33"]`); empty
    /// for all.
    pub countries: Vec<String>,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            phone_per_hour: 5,
            phone_per_day: 10,
            address_per_hour: 20,
            customer_per_hour: 1000,
            customer_per_day: 10_000,
            checks_per_hour: 15,
            checks_per_day: 30,
            countries: Vec::new(),
        }
    }
}

impl SmsLimits {
    /// Whether `phone_number` (E.164) is in an allowed country.
    #[must_use]
    pub fn allows(&self, phone_number: &str) -> bool {
        let digits = phone_number.trim_start_matches('+');
        self.countries.is_empty()
            || self
                .countries
                .iter()
                .any(|cc| digits.starts_with(cc.as_str()))
    }
}

/// 429 in the server's error shape, with `Retry-After`.
pub fn too_many(message: &str, retry_after: u64) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
        .with_retry_after(retry_after.max(1))
}

/// The budget for slow hashing: at most `concurrency` hashes at once, at
/// most `queue` more waiting; anything past that is refused at once.
#[derive(Clone)]
pub struct HashGate {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// A place in the hashing queue, taken before anything is reserved.
pub struct Ticket {
    _place: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl HashGate {
    /// A gate for `limits`, counting into `metrics`.
    #[must_use]
    pub fn new(limits: &Limits, metrics: Arc<Metrics>) -> Self {
        let running = limits.hash_concurrency.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(running + limits.hash_queue)),
            running: Arc::new(Semaphore::new(running)),
            metrics,
        }
    }

    /// A place in the queue, or 429 at once when it is full.
    ///
    /// # Errors
    /// 429 `too_many_requests` with `Retry-After: 1`.
    pub fn admit(&self) -> Result<Ticket, ApiError> {
        let place = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| {
                self.metrics.refused(Refusal::HashQueueFull);
                tracing::info!("refused: the backup-code hashing queue is full");
                too_many(
                    "the server is busy checking other backup codes; try again in a second",
                    1,
                )
            })?;
        self.metrics.hash_queue(true);
        Ok(Ticket {
            _place: place,
            running: Arc::clone(&self.running),
            metrics: Arc::clone(&self.metrics),
        })
    }
}

impl Ticket {
    /// Waits for a hashing slot, then runs `hash` on the blocking pool.
    ///
    /// # Errors
    /// What `hash` returns; 500 if its task panicked.
    pub async fn run<T: Send + 'static>(
        self,
        hash: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let waiting = Instant::now();
        let _slot = self
            .running
            .acquire()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        self.metrics.hashing(waiting.elapsed());
        tokio::task::spawn_blocking(hash)
            .await
            .map_err(|e| ApiError::internal(&e))?
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.metrics.hash_queue(false);
    }
}

/// Wrong codes per (client, user) in this instance, for clients a trusted
/// peer names ([`EndUser::Named`](crate::client::EndUser)): past the
/// limit, the client is refused for that user until a quiet period passes.
/// An attempt is counted when it starts and given back if it was not a
/// wrong code, so concurrent requests cannot slip past the limit.
///
/// Entries are keyed by a keyed hash of (client, user), in shards, so a
/// request allocates nothing and contends only with its shard; two pairs
/// that collide (odds 2⁻⁶⁴ per pair) share a count, which only throttles.
///
/// **Bounded memory, no scans.** Each shard keeps two generations of at
/// most [`GENERATION`] entries: a pair is looked up in the current one,
/// then the previous one (and moved forward); when the current one is
/// full it becomes the previous one and the old previous one is dropped
/// whole. So the table never holds more than `2 × 16 × GENERATION`
/// pairs (65 536, about 2 MiB), a request does one or two hash lookups,
/// and what is evicted is the pairs not seen since their shard filled
/// twice: the least recently seen. Only wrong codes keep a pair: an attempt
/// given back (an unknown user, a replay) leaves none. An evicted count is
/// forgotten, so an attacker who sends wrong codes at tens of thousands of
/// other users' pairs gets its count back; what it meets then is the
/// user's own budget, kept in the record, which no flood evicts.
pub struct ClientThrottle {
    limit: u32,
    quiet: Duration,
    keys: std::hash::RandomState,
    shards: Box<[Mutex<Shard>]>,
    metrics: Arc<Metrics>,
}

#[derive(Clone, Copy)]
struct Entry {
    counted: u32,
    last: Instant,
}

/// Two generations of entries.
#[derive(Default)]
struct Shard {
    current: HashMap<u64, Entry>,
    previous: HashMap<u64, Entry>,
}

/// Shards of the throttle's table.
const SHARDS: usize = 16;
/// Entries of one generation of one shard.
pub const GENERATION: usize = 2048;

impl Shard {
    /// The entry of `key` in the current generation, moved there (or made)
    /// if needed; a full generation is retired first.
    fn entry(&mut self, key: u64, now: Instant) -> &mut Entry {
        if !self.current.contains_key(&key) {
            let moved = self.previous.remove(&key).unwrap_or(Entry {
                counted: 0,
                last: now,
            });
            if self.current.len() >= GENERATION {
                std::mem::swap(&mut self.current, &mut self.previous);
                self.current.clear();
            }
            self.current.insert(key, moved);
        }
        self.current.get_mut(&key).expect("inserted above")
    }

    fn get_mut(&mut self, key: u64) -> Option<&mut Entry> {
        match self.current.get_mut(&key) {
            Some(entry) => Some(entry),
            None => self.previous.get_mut(&key),
        }
    }

    fn remove(&mut self, key: u64) {
        self.current.remove(&key);
        self.previous.remove(&key);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

impl ClientThrottle {
    /// A throttle for `limits`, counting into `metrics`.
    #[must_use]
    pub fn new(limits: &Limits, metrics: Arc<Metrics>) -> Self {
        Self {
            limit: limits.client_failures.max(1),
            quiet: limits.client_quiet,
            keys: std::hash::RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            metrics,
        }
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard> {
        let shard = usize::try_from(key % SHARDS as u64).unwrap_or(0);
        self.shards[shard]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The pairs held, across shards (at most `2 × 16 ×` [`GENERATION`]).
    #[must_use]
    pub fn len(&self) -> usize {
        (0..SHARDS as u64).map(|s| self.shard(s).len()).sum()
    }

    /// Whether no pair is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts an attempt by `client` at `user`, or refuses it.
    ///
    /// # Errors
    /// 429 `too_many_requests` when the client is throttled for this user.
    pub fn begin(&self, client: &Client, user: &str) -> Result<Attempt<'_>, ApiError> {
        use std::hash::BuildHasher as _;
        let key = self.keys.hash_one((client, user));
        let now = Instant::now();
        let mut shard = self.shard(key);
        let entry = shard.entry(key, now);
        if now.duration_since(entry.last) >= self.quiet {
            entry.counted = 0;
        }
        if entry.counted >= self.limit {
            let left = self.quiet.saturating_sub(now.duration_since(entry.last));
            drop(shard);
            self.metrics.refused(Refusal::ClientThrottled);
            tracing::info!(
                user = %crate::logs::masked_user(user),
                retry_after = left.as_secs(),
                "client throttled: too many wrong codes from one named client for one user"
            );
            return Err(too_many(
                "too many wrong codes from this client for this user; try again later",
                left.as_secs(),
            ));
        }
        entry.counted += 1;
        entry.last = now;
        Ok(Attempt {
            throttle: self,
            key: Some(key),
        })
    }
}

/// An attempt counted by [`ClientThrottle::begin`]: given back when
/// dropped unless [`Attempt::wrong`] says it was a wrong code; a right
/// code clears the client's count.
pub struct Attempt<'a> {
    throttle: &'a ClientThrottle,
    key: Option<u64>,
}

impl Attempt<'_> {
    /// It was a wrong code: it stays counted.
    pub fn wrong(mut self) {
        self.key = None;
    }

    /// It was a right code: the client starts again from nothing.
    pub fn right(mut self) {
        if let Some(key) = self.key.take() {
            self.throttle.shard(key).remove(key);
        }
    }
}

impl Drop for Attempt<'_> {
    /// Given back: a pair whose count returns to nothing leaves the table,
    /// so requests that were no wrong code (an unknown user, a replay)
    /// evict nobody's count.
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut shard = self.throttle.shard(key);
            if let Some(entry) = shard.get_mut(key) {
                entry.counted = entry.counted.saturating_sub(1);
                if entry.counted == 0 {
                    shard.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_past_its_wrong_codes_and_others_are_not() {
        let limits = Limits {
            client_failures: 3,
            ..Limits::default()
        };
        let throttle = ClientThrottle::new(&limits, Arc::default());
        let a = Client::Address("127.0.0.2".parse().unwrap());
        let b = Client::Address("127.0.0.3".parse().unwrap());
        // Given back when not a wrong code (a replay, an error).
        drop(throttle.begin(&a, "u").unwrap());
        for _ in 0..3 {
            throttle.begin(&a, "u").unwrap().wrong();
        }
        assert_eq!(
            throttle.begin(&a, "u").err().map(|e| e.status),
            Some(StatusCode::TOO_MANY_REQUESTS)
        );
        // Another user, another client: untouched.
        throttle.begin(&a, "v").unwrap().right();
        throttle.begin(&b, "u").unwrap().right();
    }

    #[test]
    fn attempts_given_back_leave_nothing_and_evict_nobody() {
        let throttle = ClientThrottle::new(&Limits::default(), Arc::default());
        let stranger = Client::Address("198.51.100.7".parse().unwrap());
        for _ in 0..3 {
            throttle.begin(&stranger, "victim").unwrap().wrong();
        }
        // Requests that were no wrong code (made-up users answered 404),
        // many times the table: given back, they keep no pair.
        for n in 0..4 * SHARDS * GENERATION {
            drop(throttle.begin(&stranger, &alloc_user(n)).unwrap());
        }
        assert_eq!(throttle.len(), 1);
        assert!(
            throttle.begin(&stranger, "victim").is_err(),
            "still counted"
        );
    }

    fn alloc_user(n: usize) -> String {
        format!("made-up-{n}")
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_least_recently_seen() {
        let throttle = ClientThrottle::new(&Limits::default(), Arc::default());
        let stranger = Client::Address("198.51.100.7".parse().unwrap());
        for _ in 0..3 {
            throttle.begin(&stranger, "victim").unwrap().wrong();
        }
        // A flood of new pairs, ten times the table.
        let bound = 2 * SHARDS * GENERATION;
        for n in 0..10 * bound {
            let client = Client::Unparsed(format!("flood-{n}").into());
            throttle.begin(&client, "u").unwrap().wrong();
            assert!(throttle.shard(n as u64).len() <= 2 * GENERATION);
        }
        assert!(throttle.len() <= bound, "{} > {bound}", throttle.len());
        assert!(throttle.len() > bound / 2, "{}", throttle.len());
        // The stranger's count was evicted with the rest: it may try
        // again (and meets the user's own budget in the record).
        throttle.begin(&stranger, "victim").unwrap().wrong();
        // A pair seen often stays: counted across a flood of one
        // generation's worth per shard.
        let regular = Client::Address("203.0.113.9".parse().unwrap());
        throttle.begin(&regular, "v").unwrap().wrong();
        for n in 0..SHARDS * GENERATION / 2 {
            let client = Client::Unparsed(format!("again-{n}").into());
            throttle.begin(&client, "u").unwrap().wrong();
        }
        throttle.begin(&regular, "v").unwrap().wrong();
        throttle.begin(&regular, "v").unwrap().wrong();
        assert!(throttle.begin(&regular, "v").is_err(), "kept and counted");
    }

    #[test]
    fn allowed_countries() {
        let sms = SmsLimits {
            countries: vec!["1".into(), "33".into()],
            ..SmsLimits::default()
        };
        assert!(sms.allows("+14155550100") && sms.allows("+33612345678"));
        assert!(!sms.allows("+447700900000"));
        assert!(SmsLimits::default().allows("+447700900000"));
    }
}
