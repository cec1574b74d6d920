//! Counters an operator watches, served at `GET /metrics` in Prometheus'
//! text format (behind the API key): verifications by outcome, refusals by
//! reason, backup-code hashing (count, queue depth, wait), SMS sends by
//! result, and request latency. Plain atomics, no registry: the set is
//! fixed and small.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use otpkit::TotpOutcome;
use otpkit::record::CodeType;

/// Why a request was refused before any check ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client sent too many wrong codes for this user.
    ClientThrottled,
    /// Every hashing slot and queue place was taken.
    HashQueueFull,
    /// The phone number's send quota for this customer is used up.
    PhoneQuota,
    /// The phone number's ceiling across customers is reached.
    PhoneAllCustomers,
    /// The end user's address sent for too many codes this hour.
    AddressQuota,
    /// The customer's send quota is used up.
    CustomerQuota,
    /// The phone number's check cap is reached.
    PhoneChecks,
    /// The customer's feedback quota is used up.
    FeedbackQuota,
    /// The phone number's country calling code is not allowed.
    Region,
}

impl Refusal {
    const ALL: [Self; 9] = [
        Self::ClientThrottled,
        Self::HashQueueFull,
        Self::PhoneQuota,
        Self::PhoneAllCustomers,
        Self::AddressQuota,
        Self::CustomerQuota,
        Self::PhoneChecks,
        Self::FeedbackQuota,
        Self::Region,
    ];

    /// The `reason` label.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::ClientThrottled => "client_throttled",
            Self::HashQueueFull => "hash_queue_full",
            Self::PhoneQuota => "phone_quota",
            Self::PhoneAllCustomers => "phone_all_customers",
            Self::AddressQuota => "address_quota",
            Self::CustomerQuota => "customer_quota",
            Self::PhoneChecks => "phone_checks",
            Self::FeedbackQuota => "feedback_quota",
            Self::Region => "region",
        }
    }
}

/// What became of a one-time code to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// Handed to the sender.
    Sent,
    /// Refused by a quota (`rate_limited` / `spam_detected`).
    Refused,
    /// The sender failed.
    Failed,
}

/// Upper bounds of the latency histograms, seconds.
const BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// A latency histogram: counts per bucket (not cumulative), the sum in
/// microseconds and the count.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        self.write_series(out, name, "");
    }

    /// The series' lines, each with `labels` (`key="value",` pairs) before
    /// its bucket's.
    fn write_series(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = Duration::from_micros(self.sum_micros.load(Ordering::Relaxed)).as_secs_f64();
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let plain = labels.trim_end_matches(',');
        let _ = writeln!(
            out,
            "{name}_sum{{{plain}}} {sum}\n{name}_count{{{plain}}} {count}"
        );
    }
}

/// Outcome labels of `otpkit_verifications_total`.
const OUTCOMES: [&str; 5] = ["valid", "invalid", "replayed", "locked", "malformed"];

/// Every counter the server keeps.
#[derive(Default)]
pub struct Metrics {
    /// [outcome][code type: totp, backup_code]
    verifications: [[AtomicU64; 2]; OUTCOMES.len()],
    refusals: [AtomicU64; Refusal::ALL.len()],
    hashes: AtomicU64,
    hash_queue: AtomicU64,
    hash_wait: Histogram,
    sends: [AtomicU64; 3],
    /// Per (route template, status): the routes are the router's, so the
    /// series are few.
    requests:
        std::sync::RwLock<std::collections::BTreeMap<(String, u16), std::sync::Arc<Histogram>>>,
}

impl Metrics {
    /// Counts a sign-in check's outcome.
    pub fn verification(&self, outcome: &TotpOutcome) {
        let (index, code_type) = match outcome {
            TotpOutcome::Valid { code_type, .. } => (0, Some(*code_type)),
            TotpOutcome::Invalid { code_type, .. } => (1, Some(*code_type)),
            TotpOutcome::Replayed { code_type } => (2, Some(*code_type)),
            TotpOutcome::Locked { code_type, .. } => (3, Some(*code_type)),
            _ => (4, None),
        };
        let kind = usize::from(code_type == Some(CodeType::BackupCode));
        self.verifications[index][kind].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refusal.
    pub fn refused(&self, why: Refusal) {
        if let Some(i) = Refusal::ALL.iter().position(|&r| r == why) {
            self.refusals[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A request joined (`true`) or left the hashing queue.
    pub fn hash_queue(&self, joined: bool) {
        if joined {
            self.hash_queue.fetch_add(1, Ordering::Relaxed);
        } else {
            self.hash_queue.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A hash started after waiting `waited` for a slot.
    pub fn hashing(&self, waited: Duration) {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        self.hash_wait.observe(waited);
    }

    /// Counts a one-time code to send.
    pub fn send(&self, result: Send) {
        let i = match result {
            Send::Sent => 0,
            Send::Refused => 1,
            Send::Failed => 2,
        };
        self.sends[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an answered request to `route` (the router's template, or
    /// `(none)`) with `status`, that took `elapsed`.
    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        let series = self
            .requests
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(route.to_owned(), status))
            .cloned();
        let series = series.unwrap_or_else(|| {
            let mut all = self
                .requests
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(all.entry((route.to_owned(), status)).or_default())
        });
        series.observe(elapsed);
    }

    /// Backup-code checks hashed since start.
    #[must_use]
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Everything, in Prometheus' text exposition format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP otpkit_verifications_total Sign-in codes checked, by outcome and kind.\n\
             # TYPE otpkit_verifications_total counter\n",
        );
        for (outcome, kinds) in OUTCOMES.iter().zip(&self.verifications) {
            for (code_type, n) in ["totp", "backup_code"].iter().zip(kinds) {
                let _ = writeln!(
                    out,
                    "otpkit_verifications_total{{outcome=\"{outcome}\",code_type=\"{code_type}\"}} {}",
                    n.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str(
            "# HELP otpkit_refusals_total Requests refused by a limit before any check.\n\
             # TYPE otpkit_refusals_total counter\n",
        );
        for (why, n) in Refusal::ALL.iter().zip(&self.refusals) {
            let _ = writeln!(
                out,
                "otpkit_refusals_total{{reason=\"{}\"}} {}",
                why.label(),
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP otpkit_backup_code_hashes_total Slow backup-code hashes run: a code checked, or a set made.\n\
             # TYPE otpkit_backup_code_hashes_total counter\n\
             otpkit_backup_code_hashes_total {}\n\
             # HELP otpkit_hash_queue_depth Requests holding or waiting for a hashing slot.\n\
             # TYPE otpkit_hash_queue_depth gauge\n\
             otpkit_hash_queue_depth {}",
            self.hashes.load(Ordering::Relaxed),
            self.hash_queue.load(Ordering::Relaxed)
        );
        self.hash_wait.write(
            &mut out,
            "otpkit_hash_wait_seconds",
            "Time a backup-code check waited for a hashing slot.",
        );
        out.push_str(
            "# HELP otpkit_sms_sends_total One-time codes to send, by result.\n\
             # TYPE otpkit_sms_sends_total counter\n",
        );
        for (result, n) in ["sent", "refused", "failed"].iter().zip(&self.sends) {
            let _ = writeln!(
                out,
                "otpkit_sms_sends_total{{result=\"{result}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP otpkit_db_statements_total Statements sent to the database (each a round trip).\n\
             # TYPE otpkit_db_statements_total counter\notpkit_db_statements_total {}\n\
             # HELP otpkit_db_lost_compare_and_sets_total Saves that found the row changed (the request ran again).\n\
             # TYPE otpkit_db_lost_compare_and_sets_total counter\notpkit_db_lost_compare_and_sets_total {}",
            crate::store::statements_sent(),
            crate::store::lost_compare_and_sets()
        );
        let name = "otpkit_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to answer a request, by route and status.\n# TYPE {name} histogram"
        );
        for ((route, status), series) in self
            .requests
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            series.write_series(
                &mut out,
                name,
                &format!("route=\"{route}\",status=\"{status}\","),
            );
        }
        out
    }
}
