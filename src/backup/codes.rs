//! The plaintext codes of a fresh set: [`BackupCodes`], shown once.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::GROUP;

/// The plaintext codes of a fresh set: show them to the user once, then
/// drop them. Zeroized on drop; `Debug` shows only the count.
///
/// ```
/// # use otpkit::BackupCodeSet;
/// # use otpkit::backup::BackupCodeOptions;
/// let (codes, _) = BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?;
/// assert!(codes.iter().all(|c| c.len() == 12 && c.as_bytes()[4] == b'-'));
/// assert_eq!(format!("{codes:?}"), "BackupCodes { count: 10, .. }");
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct BackupCodes(pub(super) Vec<Zeroizing<String>>);

impl PartialEq for BackupCodes {
    /// Constant time in the codes' contents.
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .fold(Choice::from(1), |all, (a, b)| {
                    all & a.as_bytes().ct_eq(b.as_bytes())
                })
                .into()
    }
}

impl Eq for BackupCodes {}

impl BackupCodes {
    /// Codes from their text, as read back from a creation response.
    #[cfg(feature = "serde")]
    pub(crate) fn from_texts(codes: Vec<Zeroizing<String>>) -> Self {
        Self(codes)
    }

    /// The codes, grouped for reading (`k7mq-x2pf-9c`).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|code| code.as_str())
    }

    /// How many codes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none: never for a generated set; the outcome of a
    /// check that issued no codes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for BackupCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupCodes")
            .field("count", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// `symbols` grouped by four with dashes: `k7mq-x2pf-9c`.
pub(super) fn group(symbols: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(symbols.len().saturating_mul(2)));
    for (i, chunk) in symbols.chunks(GROUP).enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.extend(chunk.iter().map(|&b| char::from(b)));
    }
    out
}
