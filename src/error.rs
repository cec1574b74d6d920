//! The crate's error type.

use alloc::string::String;
use core::fmt;

/// Everything that can go wrong in otpkit.
///
/// A *wrong* code is not an error: verification returns it as a normal
/// outcome. An `Error` means the input could not be understood at all (a
/// malformed secret, code or URI) or a setting is out of range.
///
/// Messages are lowercase, state one fact and never repeat the input, which
/// may be a secret. Positions count characters from 0.
///
/// ```
/// use otpkit::{Error, Secret};
///
/// let err = Secret::from_base32("JBSW!").unwrap_err();
/// assert_eq!(err, Error::InvalidBase32Char { position: 4 });
/// assert_eq!(err.to_string(), "invalid base32 character at position 4");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A secret was empty.
    EmptySecret,
    /// A character that is not in the Base32 alphabet (nor a space, hyphen or
    /// trailing `=`).
    InvalidBase32Char {
        /// Position of the character in the input.
        position: usize,
    },
    /// The number of Base32 characters cannot encode whole bytes.
    InvalidBase32Length {
        /// Number of Base32 characters, padding excluded.
        length: usize,
    },
    /// `=` padding is present but not the amount RFC 4648 requires.
    InvalidBase32Padding,
    /// The key is shorter than the 128 bits RFC 4226 §4 requires.
    SecretTooShort {
        /// Length of the key in bits.
        bits: usize,
    },
    /// A legacy key (accepted below 128 bits on request) shorter than the
    /// 80 bits older services issued: too weak even for them.
    LegacySecretTooShort {
        /// Length of the key in bits.
        bits: usize,
    },
    /// A new backup-code set below otpkit's floors: PBKDF2 under 10 000
    /// iterations, or fast HMAC hashes without a pepper over codes of
    /// fewer than 112 bits.
    WeakBackupScheme {
        /// Which floor, and what meets it.
        reason: &'static str,
    },
    /// A secret in hex that is not an even number of hex digits.
    InvalidHex,
    /// An algorithm name other than SHA1, SHA256 or SHA512.
    UnknownAlgorithm,
    /// A digit count outside 6..=10.
    DigitsOutOfRange {
        /// The digit count asked for.
        digits: u32,
    },
    /// A TOTP period of zero seconds.
    ZeroPeriod,
    /// A verification window larger than [`MAX_WINDOW`](crate::MAX_WINDOW) steps.
    WindowTooLarge {
        /// The window asked for.
        steps: u64,
        /// The largest window allowed.
        max: u64,
    },
    /// A Unix time before the TOTP's T0 (or before 1970).
    TimeBeforeT0,
    /// An entered code with nothing in it.
    EmptyCode,
    /// An entered code with a character that is not a digit, or a separator
    /// that is not a single space or hyphen between digits.
    InvalidCodeChar {
        /// Position of the character in the input, surrounding white space
        /// removed.
        position: usize,
    },
    /// An entered code with the wrong number of digits.
    WrongCodeLength {
        /// Digits the code must have.
        expected: u8,
        /// Digits it had.
        found: usize,
    },
    /// An entered backup code with the wrong number of symbols.
    WrongBackupCodeLength {
        /// Symbols (letters and digits, dashes and spaces not counted) a
        /// code of the set has.
        expected: usize,
        /// Symbols it had.
        found: usize,
    },
    /// An otpauth:// URI whose named part is malformed: `scheme`, `type`,
    /// `label`, `account`, `fragment`, `parameter name`, `parameter value`,
    /// `digits`, `period` or `counter`.
    InvalidUri {
        /// The part that is wrong.
        part: &'static str,
    },
    /// An issuer or account that cannot be an authenticator app's label:
    /// refused at creation and import.
    InvalidLabel {
        /// `issuer` or `account`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An otpauth:// URI whose `encoder` is one otpkit does not know (it
    /// knows `steam`): its codes would come out wrong, so it is refused.
    UnsupportedEncoder,
    /// A Google Authenticator export (`otpauth-migration://`) that is
    /// malformed, or an account it cannot hold.
    Migration {
        /// What is wrong, never a value from the payload.
        reason: &'static str,
    },
    /// Steam Guard codes with another hash, period or length than Steam's
    /// (HMAC-SHA-1, 30 s, 5 characters).
    SteamSettings,
    /// An otpauth:// URI without a `secret` parameter.
    MissingSecret,
    /// An `hotp` URI without a `counter` parameter.
    MissingCounter,
    /// The issuer in the label differs from the `issuer` parameter.
    IssuerMismatch,
    /// A parameter given twice.
    DuplicateParameter {
        /// The parameter's name if it is one otpkit knows (`secret`,
        /// `digits`…), else its position (`number 4`): an unknown name
        /// may be a pasted secret, and is never repeated.
        name: String,
    },
    /// A TOTP was asked of an HOTP URI.
    NotTotp,
    /// An HOTP was asked of a TOTP URI.
    NotHotp,
    /// Data too long for any QR code at the chosen error correction.
    QrTooLong,
    /// A colour other than `#rgb` or `#rrggbb`.
    InvalidColor,
    /// A pepper shorter than 16 bytes.
    PepperTooShort,
    /// A stored value (a sealed record, a set of imported backup-code
    /// hashes) that only a build with this crate feature can read.
    FeatureDisabled {
        /// The feature: `seal` or `import`.
        feature: &'static str,
    },
    /// The backup-code set was hashed with a pepper and none was given.
    PepperRequired,
    /// A backup-code count outside 1..=100.
    BackupCountOutOfRange {
        /// The count asked for.
        count: usize,
    },
    /// A backup-code length outside 8..=24 symbols.
    BackupLengthOutOfRange {
        /// The length asked for.
        length: usize,
    },
    /// A lockout policy that would not throttle guessing.
    InvalidLockout {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A sealing key (or keyring) text that is malformed.
    InvalidSealingKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A sealed secret's stored form that is malformed, truncated or of an
    /// unknown scheme or version.
    InvalidSealedSecret {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The secret was sealed with a key the keyring does not hold.
    KeyNotInKeyring {
        /// The id of the key needed.
        key_id: String,
    },
    /// A sealed secret that does not open: the key with its id is not the
    /// one that sealed it, the ciphertext was altered, or it was moved from
    /// another record.
    SealedSecretBroken,
    /// A stored record holds its secret in plaintext, and a keyring was
    /// given to open it: nothing falls back to plaintext silently.
    PlaintextRecord,
    /// A record sealed by otpkit 0.1, whose secret is bound to its id only
    /// (not to the rest of its state): opened only by
    /// `StoredTotpRecord::open_legacy` or `rekey`, which store it bound.
    LegacyRecord,
    /// A stored record is sealed, and it was opened as plaintext.
    SealedRecord {
        /// The id of the key that opens it.
        key_id: String,
    },
    /// A challenge policy that cannot work.
    InvalidPolicy {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A stored challenge that is corrupt, tampered with, or of an unknown
    /// version.
    InvalidChallengeRecord {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An imported backup-code hash (or plaintext code) that is not of the
    /// format given.
    InvalidImportedHash {
        /// Which one, counting from 0 (a line number minus one).
        position: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operation needs a verified TOTP record.
    NotVerified,
    /// The record holds no backup codes to remove.
    NoBackupCodes,
    /// A stored TOTP record that is corrupt, tampered with, or of an
    /// unknown version.
    InvalidTotpRecord {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A stored backup-code set that is corrupt, tampered with, or of an
    /// unknown version.
    InvalidBackupRecord {
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("secret is empty"),
            Self::InvalidBase32Char { position } => {
                write!(f, "invalid base32 character at position {position}")
            }
            Self::InvalidBase32Length { length } => write!(
                f,
                "invalid base32 length: {length} characters do not encode whole bytes"
            ),
            Self::InvalidBase32Padding => f.write_str("invalid base32 padding"),
            Self::SecretTooShort { bits } => write!(
                f,
                "secret too short: {bits} bits, at least 128 required (RFC 4226 section 4)"
            ),
            Self::LegacySecretTooShort { bits } => write!(
                f,
                "secret too short: {bits} bits; even a legacy key needs 80 bits"
            ),
            Self::WeakBackupScheme { reason } => write!(f, "backup codes too weak: {reason}"),
            Self::InvalidHex => f.write_str("invalid hex: expected an even number of hex digits"),
            Self::UnknownAlgorithm => {
                f.write_str("unknown algorithm: expected SHA1, SHA256 or SHA512")
            }
            Self::DigitsOutOfRange { digits } => {
                write!(f, "digits out of range: {digits}, expected 6 to 10")
            }
            Self::ZeroPeriod => f.write_str("period must be at least 1 second"),
            Self::WindowTooLarge { steps, max } => {
                write!(f, "window too large: {steps} steps, at most {max}")
            }
            Self::TimeBeforeT0 => f.write_str("time is before the TOTP epoch T0"),
            Self::EmptyCode => f.write_str("code is empty"),
            Self::InvalidCodeChar { position } => {
                write!(f, "invalid character in code at position {position}")
            }
            Self::WrongCodeLength { expected, found } => {
                write!(
                    f,
                    "wrong code length: expected {expected} digits, found {found}"
                )
            }
            Self::WrongBackupCodeLength { expected, found } => write!(
                f,
                "wrong backup-code length: expected {expected} letters and digits, found {found}"
            ),
            Self::InvalidUri { part } => write!(f, "invalid otpauth uri: bad {part}"),
            Self::MissingSecret => f.write_str("invalid otpauth uri: no secret parameter"),
            Self::MissingCounter => {
                f.write_str("invalid otpauth uri: hotp needs a counter parameter")
            }
            Self::IssuerMismatch => f.write_str(
                "invalid otpauth uri: the issuer in the label differs from the issuer parameter",
            ),
            Self::DuplicateParameter { name } => {
                write!(f, "invalid otpauth uri: parameter {name} appears twice")
            }
            Self::NotTotp => f.write_str("not a totp uri"),
            Self::NotHotp => f.write_str("not an hotp uri"),
            Self::QrTooLong => f.write_str("data too long for a qr code"),
            Self::InvalidLabel { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::Migration { reason } => {
                write!(f, "invalid google authenticator export: {reason}")
            }
            Self::SteamSettings => f.write_str(
                "steam guard codes are hmac-sha1 over 30 s steps, 5 characters",
            ),
            Self::UnsupportedEncoder => f.write_str(
                "otpauth uri has an encoder otpkit does not know (it knows steam): its codes would be wrong",
            ),
            Self::InvalidColor => f.write_str("invalid colour: expected #rgb or #rrggbb"),
            Self::PepperTooShort => f.write_str("pepper too short: at least 16 bytes required"),
            Self::FeatureDisabled { feature } => write!(
                f,
                "this stored value needs otpkit's `{feature}` feature, which this build does not enable"
            ),
            Self::PepperRequired => {
                f.write_str("this backup-code set was hashed with a pepper: supply it to verify")
            }
            Self::BackupCountOutOfRange { count } => {
                write!(
                    f,
                    "backup-code count out of range: {count}, expected 1 to 100"
                )
            }
            Self::BackupLengthOutOfRange { length } => {
                write!(
                    f,
                    "backup-code length out of range: {length}, expected 8 to 24"
                )
            }
            Self::InvalidLockout { reason } => write!(f, "invalid lockout policy: {reason}"),
            Self::InvalidSealingKey { reason } => write!(f, "invalid sealing key: {reason}"),
            Self::InvalidSealedSecret { reason } => write!(f, "invalid sealed secret: {reason}"),
            Self::KeyNotInKeyring { key_id } => write!(
                f,
                "the secret is sealed with key {key_id:?}, which the keyring does not hold"
            ),
            Self::SealedSecretBroken => f.write_str(
                "the sealed secret does not open: wrong key, altered ciphertext, or moved from another record",
            ),
            Self::PlaintextRecord => f.write_str(
                "the record holds its secret in plaintext: open it as plaintext, then seal it",
            ),
            Self::LegacyRecord => f.write_str(
                "the record was sealed by otpkit 0.1, bound to its id only: re-seal it with rekey (otpkit-server rekey) before serving it",
            ),
            Self::SealedRecord { key_id } => write!(
                f,
                "the record is sealed with key {key_id:?}: open it with a keyring holding that key"
            ),
            Self::InvalidPolicy { reason } => write!(f, "invalid challenge policy: {reason}"),
            Self::InvalidChallengeRecord { reason } => {
                write!(f, "invalid challenge record: {reason}")
            }
            Self::InvalidImportedHash { position, reason } => {
                write!(f, "invalid imported backup code {position}: {reason}")
            }
            Self::NotVerified => f.write_str("the totp secret is not verified yet"),
            Self::NoBackupCodes => f.write_str("the totp record holds no backup codes"),
            Self::InvalidTotpRecord { reason } => write!(f, "invalid totp record: {reason}"),
            Self::InvalidBackupRecord { reason } => {
                write!(f, "invalid backup-code record: {reason}")
            }
        }
    }
}

impl core::error::Error for Error {}
