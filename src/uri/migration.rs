//! Google Authenticator's export: `otpauth-migration://offline?data=…`, a
//! Base64 protobuf `MigrationPayload` of accounts, split into batches of
//! QR codes. [`MigrationPayload`] reads one and writes them.
//!
//! The protobuf is read and written by hand for this one message (a dozen
//! fields, four wire types) rather than by a protobuf crate: the decoder is
//! 150 lines that refuse everything they do not expect (a truncated field,
//! a wire type a field does not have, a varint past ten bytes, an enum
//! value the schema does not name), it is fuzzed (`fuzz/`), and it is
//! checked both ways against Python's `protobuf` over the public schema
//! (`interop/`). The schema, as the apps that import from Google
//! Authenticator use it (Aegis, 2FAS, KeePassXC):
//!
//! ```text
//! message MigrationPayload {
//!   enum Algorithm { ALGORITHM_UNSPECIFIED = 0; SHA1 = 1; SHA256 = 2; SHA512 = 3; MD5 = 4; }
//!   enum DigitCount { DIGIT_COUNT_UNSPECIFIED = 0; SIX = 1; EIGHT = 2; }
//!   enum OtpType { OTP_TYPE_UNSPECIFIED = 0; HOTP = 1; TOTP = 2; }
//!   message OtpParameters {
//!     bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
//!     DigitCount digits = 5; OtpType type = 6; int64 counter = 7;
//!   }
//!   repeated OtpParameters otp_parameters = 1;
//!   int32 version = 2; int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5;
//! }
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

use super::{OtpAuthUri, OtpType};
use crate::algorithm::Algorithm;
use crate::encoding::base64;
use crate::error::Error;
use crate::random::CryptoRng;
use crate::secret::Secret;

/// One batch of a Google Authenticator export: its accounts, as otpauth://
/// URIs ready for [`OtpAuthUri::to_totp`] or [`OtpAuthUri::to_hotp`], and
/// where it sits among the export's batches. `Debug` shows no secret.
///
/// ```
/// use otpkit::uri::MigrationPayload;
/// use otpkit::{OtpAuthUri, Secret, Totp};
///
/// let accounts: Vec<OtpAuthUri> = ["alice", "bob"]
///     .iter()
///     .map(|name| OtpAuthUri::for_totp(&Totp::new(Secret::generate()), *name).with_issuer("ACME"))
///     .collect();
/// let export = MigrationPayload::export(&accounts)?; // one URI per QR code
/// assert!(export[0].starts_with("otpauth-migration://offline?data="));
///
/// let batch = MigrationPayload::parse(&export[0])?;
/// assert_eq!((batch.batch_index(), batch.batch_size()), (0, 1));
/// assert_eq!(batch.accounts(), accounts.as_slice());
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MigrationPayload {
    accounts: Vec<OtpAuthUri>,
    version: i32,
    batch_size: i32,
    batch_index: i32,
    batch_id: i32,
}

impl MigrationPayload {
    /// Accounts per batch (per QR code) when exporting, as Google
    /// Authenticator does: a batch of ten 160-bit keys with their names is
    /// a QR code a phone's camera reads across a room.
    pub const ACCOUNTS_PER_BATCH: usize = 10;

    /// Reads an `otpauth-migration://offline?data=…` URI.
    ///
    /// # Errors
    /// [`Error::Migration`] naming what is wrong: the scheme, the `data`
    /// parameter, its Base64, a truncated or malformed field, an enum value
    /// the schema does not have, an account without a name or type, MD5;
    /// the key's errors for a key under 80 bits.
    ///
    /// ```
    /// use otpkit::{Error, uri::MigrationPayload};
    /// // One account, "ACME:alice@acme", an 80-bit key, as Google Authenticator writes it
    /// // (made by Python's protobuf from the schema above).
    /// let uri = "otpauth-migration://offline?data=CikKCkhlbGxvId6tvu8SD0FDTUU6YWxpY2VAYWNtZRoEQUNNRSABKAEwAhABGAEorsLJivv%2F%2F%2F%2F%2FAQ%3D%3D";
    /// let batch = MigrationPayload::parse(uri)?;
    /// let account = &batch.accounts()[0];
    /// assert_eq!((account.issuer(), account.account()), (Some("ACME"), "alice@acme"));
    /// assert!(account.to_totp().is_ok());
    /// assert_eq!((batch.batch_size(), batch.batch_id()), (1, -1_320_001_234));
    /// assert!(matches!(MigrationPayload::parse("otpauth-migration://offline?data=CjEK"), Err(Error::Migration { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn parse(uri: &str) -> Result<Self, Error> {
        if uri.len() > super::MAX_URI_LEN {
            return Err(refuse("the URI is longer than 8192 bytes"));
        }
        let rest = super::parse::strip_prefix_ignore_case(uri.trim(), "otpauth-migration://")
            .ok_or(refuse("the scheme is not otpauth-migration://"))?;
        let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !host.eq_ignore_ascii_case("offline") {
            return Err(refuse("the host is not offline"));
        }
        let mut data = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name == "data" {
                if data.is_some() {
                    return Err(refuse("data is given twice"));
                }
                data = Some(
                    super::parse::decode(value, false, "data")
                        .map_err(|_| refuse("data is not percent-encoded text"))?,
                );
            }
        }
        let data = data.ok_or(refuse("the data parameter is missing"))?;
        let bytes = base64::decode(&data).ok_or(refuse("data is not Base64"))?;
        Self::from_protobuf(&bytes)
    }

    /// Reads the protobuf `MigrationPayload` itself (the `data` parameter,
    /// decoded).
    ///
    /// # Errors
    /// As [`MigrationPayload::parse`].
    ///
    /// ```
    /// use otpkit::uri::MigrationPayload;
    /// let empty = MigrationPayload::from_protobuf(&[0x10, 0x01])?; // version 1, no account
    /// assert!(empty.accounts().is_empty());
    /// assert!(MigrationPayload::from_protobuf(&[0x0a, 0x05, 0x0a]).is_err()); // truncated
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_protobuf(bytes: &[u8]) -> Result<Self, Error> {
        let mut payload = Self {
            accounts: Vec::new(),
            version: 0,
            batch_size: 0,
            batch_index: 0,
            batch_id: 0,
        };
        let mut reader = Reader(bytes);
        while let Some((field, value)) = reader.field()? {
            match (field, value) {
                (1, Value::Bytes(account)) => payload.accounts.push(account_from(account)?),
                (2, Value::Varint(n)) => payload.version = int32(n)?,
                (3, Value::Varint(n)) => payload.batch_size = int32(n)?,
                (4, Value::Varint(n)) => payload.batch_index = int32(n)?,
                (5, Value::Varint(n)) => payload.batch_id = int32(n)?,
                (1..=5, _) => return Err(refuse("a field has the wrong wire type")),
                _ => {} // a field of a later schema: skipped, as protobuf does
            }
        }
        if payload.batch_size < 0
            || payload.batch_index < 0
            || (payload.batch_size > 0 && payload.batch_index >= payload.batch_size)
        {
            return Err(refuse("the batch index is not within the batch size"));
        }
        Ok(payload)
    }

    /// Writes `accounts` as Google Authenticator exports them: batches of
    /// [`MigrationPayload::ACCOUNTS_PER_BATCH`], one
    /// `otpauth-migration://offline?data=…` URI (one QR code) each, sharing
    /// a random batch id.
    ///
    /// # Errors
    /// [`Error::Migration`] for an account the format cannot hold: a Steam
    /// account, a period other than 30 s, or digits other than 6 or 8.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// use otpkit::{OtpAuthUri, Secret, Totp, uri::MigrationPayload};
    /// let minute = Totp::builder(Secret::generate()).period(60).build()?;
    /// assert!(MigrationPayload::export(&[OtpAuthUri::for_totp(&minute, "bob")]).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn export(accounts: &[OtpAuthUri]) -> Result<Vec<Zeroizing<String>>, Error> {
        Self::export_with_rng(accounts, &mut crate::random::os())
    }

    /// [`MigrationPayload::export`] with the batch id drawn from `rng`.
    ///
    /// # Errors
    /// As [`MigrationPayload::export`].
    ///
    /// ```
    /// use otpkit::{OtpAuthUri, Secret, Totp, uri::MigrationPayload};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let accounts: Vec<OtpAuthUri> = (0..25)
    ///     .map(|n| OtpAuthUri::for_totp(&Totp::new(Secret::generate()), format!("user{n}")))
    ///     .collect();
    /// let export = MigrationPayload::export_with_rng(&accounts, &mut UnwrapErr(SysRng))?;
    /// assert_eq!(export.len(), 3); // 10 + 10 + 5
    /// let last = MigrationPayload::parse(&export[2])?;
    /// assert_eq!((last.batch_index(), last.batch_size(), last.accounts().len()), (2, 3, 5));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn export_with_rng<R: CryptoRng + ?Sized>(
        accounts: &[OtpAuthUri],
        rng: &mut R,
    ) -> Result<Vec<Zeroizing<String>>, Error> {
        let batches = accounts.chunks(Self::ACCOUNTS_PER_BATCH);
        let batch_size = int32_of(batches.len())?;
        let mut id = [0u8; 4];
        rng.fill_bytes(&mut id);
        let batch_id = i32::from_le_bytes(id);
        let mut out = Vec::with_capacity(accounts.len().div_ceil(Self::ACCOUNTS_PER_BATCH));
        for (index, batch) in batches.enumerate() {
            let accounts = batch
                .iter()
                .map(account_to)
                .collect::<Result<Vec<_>, Error>>()?;
            let size = accounts.iter().map(|a| a.len()).sum::<usize>();
            let mut message = Writer::with_room(size, accounts.len().saturating_add(4));
            for account in &accounts {
                message.message(1, account);
            }
            message.varint(2, 1); // version
            message.varint(3, u64::from(batch_size.unsigned_abs()));
            message.varint(4, u64::try_from(index).unwrap_or(0));
            message.varint(5, varint_of_int32(batch_id));
            let data = base64::encode(&message.0);
            let mut uri = Zeroizing::new(String::with_capacity(
                data.len().saturating_mul(3).saturating_add(40),
            ));
            uri.push_str("otpauth-migration://offline?data=");
            for c in data.chars() {
                match c {
                    '+' => uri.push_str("%2B"),
                    '/' => uri.push_str("%2F"),
                    '=' => uri.push_str("%3D"),
                    c => uri.push(c),
                }
            }
            out.push(uri);
        }
        Ok(out)
    }

    /// The batch's accounts, in order.
    #[must_use]
    pub fn accounts(&self) -> &[OtpAuthUri] {
        &self.accounts
    }

    /// This batch's place among the export's, from 0.
    #[must_use]
    pub const fn batch_index(&self) -> u32 {
        self.batch_index.unsigned_abs()
    }

    /// How many batches (QR codes) the export has; 0 when the exporter
    /// did not say.
    #[must_use]
    pub const fn batch_size(&self) -> u32 {
        self.batch_size.unsigned_abs()
    }

    /// The id every batch of one export shares.
    #[must_use]
    pub const fn batch_id(&self) -> i32 {
        self.batch_id
    }

    /// The format's version (1 in Google Authenticator's exports).
    #[must_use]
    pub const fn version(&self) -> i32 {
        self.version
    }
}

impl core::str::FromStr for MigrationPayload {
    type Err = Error;

    /// As [`MigrationPayload::parse`].
    fn from_str(uri: &str) -> Result<Self, Error> {
        Self::parse(uri)
    }
}

impl fmt::Debug for MigrationPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MigrationPayload")
            .field("accounts", &self.accounts.len())
            .field("batch_index", &self.batch_index)
            .field("batch_size", &self.batch_size)
            .field("batch_id", &self.batch_id)
            .finish()
    }
}

fn refuse(reason: &'static str) -> Error {
    Error::Migration { reason }
}

/// One `OtpParameters` message as an otpauth:// URI.
fn account_from(bytes: &[u8]) -> Result<OtpAuthUri, Error> {
    let mut secret: Option<Zeroizing<Vec<u8>>> = None;
    let (mut name, mut issuer) = (String::new(), String::new());
    let (mut algorithm, mut digits, mut kind, mut counter) = (0, 0, 0, 0u64);
    let mut reader = Reader(bytes);
    while let Some((field, value)) = reader.field()? {
        match (field, value) {
            (1, Value::Bytes(b)) => secret = Some(Zeroizing::new(b.to_vec())),
            (2, Value::Bytes(b)) => name = text(b)?,
            (3, Value::Bytes(b)) => issuer = text(b)?,
            (4, Value::Varint(n)) => algorithm = n,
            (5, Value::Varint(n)) => digits = n,
            (6, Value::Varint(n)) => kind = n,
            (7, Value::Varint(n)) => counter = n,
            (1..=7, _) => return Err(refuse("an account field has the wrong wire type")),
            _ => {}
        }
    }
    let secret = secret.ok_or(refuse("an account has no key"))?;
    let secret = Secret::from_bytes_allow_short(&secret)?;
    let algorithm = match algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err(refuse("an account uses MD5, which otpkit does not")),
        _ => return Err(refuse("an account's algorithm is not in the schema")),
    };
    let digits = match digits {
        0 | 1 => 6,
        2 => 8,
        _ => return Err(refuse("an account's digit count is not in the schema")),
    };
    let otp_type = match kind {
        1 => OtpType::Hotp {
            counter: u64::try_from(i64::from_le_bytes(counter.to_le_bytes()))
                .map_err(|_| refuse("an HOTP counter is negative"))?,
        },
        2 => OtpType::Totp { period: 30 },
        0 => return Err(refuse("an account's type is unspecified")),
        _ => return Err(refuse("an account's type is not in the schema")),
    };
    // The name is the app's label, `Issuer:account` (as Google
    // Authenticator writes it) or the account alone. With an issuer field,
    // only that issuer's prefix is the label's; without one, the first `:`.
    let (label_issuer, account) = if issuer.is_empty() {
        match name.split_once(':') {
            Some((prefix, account)) => (Some(prefix), account),
            None => (None, name.as_str()),
        }
    } else {
        let prefix = name
            .strip_prefix(issuer.as_str())
            .and_then(|rest| rest.strip_prefix(':'));
        (None, prefix.unwrap_or(&name))
    };
    let account = account.trim_start_matches(' ');
    if account.is_empty() {
        return Err(refuse("an account has no name"));
    }
    let issuer = match (issuer.is_empty(), label_issuer) {
        (false, _) => Some(issuer.clone()),
        (true, Some(prefix)) if !prefix.is_empty() => Some(prefix.to_owned()),
        _ => None,
    };
    let uri = OtpAuthUri::new(otp_type, secret, algorithm, digits, account.to_owned());
    Ok(match issuer {
        Some(issuer) => uri.with_issuer(issuer),
        None => uri,
    })
}

/// An otpauth:// URI as one `OtpParameters` message.
fn account_to(uri: &OtpAuthUri) -> Result<Zeroizing<Vec<u8>>, Error> {
    let kind = match uri.otp_type() {
        OtpType::Totp { period: 30 } => 2,
        OtpType::Totp { .. } => return Err(refuse("the format has no period but 30 s")),
        OtpType::Hotp { .. } => 1,
        _ => return Err(refuse("the format has no Steam codes")),
    };
    let digits = match uri.digits() {
        6 => 1,
        8 => 2,
        _ => return Err(refuse("the format has no digit count but 6 and 8")),
    };
    let algorithm = match uri.algorithm() {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    };
    // The name as Google Authenticator writes it: the label, `Issuer:account`
    // (an account with a `:` and no issuer gets an empty prefix, so no
    // reader takes its start for an issuer).
    let name = match uri.issuer() {
        Some(issuer) => alloc::format!("{issuer}:{}", uri.account()),
        None if uri.account().contains(':') => alloc::format!(":{}", uri.account()),
        None => uri.account().to_owned(),
    };
    let issuer = uri.issuer().unwrap_or_default();
    let mut message = Writer::with_room(
        uri.secret()
            .len()
            .saturating_add(name.len())
            .saturating_add(issuer.len()),
        7,
    );
    message.bytes(1, uri.secret().expose_secret());
    message.bytes(2, name.as_bytes());
    if !issuer.is_empty() {
        message.bytes(3, issuer.as_bytes());
    }
    message.varint(4, algorithm);
    message.varint(5, digits);
    message.varint(6, kind);
    if let OtpType::Hotp { counter } = uri.otp_type() {
        message.varint(7, counter);
    }
    Ok(message.0)
}

/// A name or issuer: UTF-8 with no control, format or separator character
/// (a name shown in a terminal or a list must not move the cursor, start a
/// new line or pose as another).
fn text(bytes: &[u8]) -> Result<String, Error> {
    let text = core::str::from_utf8(bytes).map_err(|_| refuse("a name is not UTF-8"))?;
    if text
        .chars()
        .any(|c| c.is_control() || crate::record::label::is_invisible(c))
    {
        return Err(refuse("a name holds a control or invisible character"));
    }
    Ok(text.to_owned())
}

/// An `int32` field's varint (sign-extended to 64 bits when negative).
fn int32(n: u64) -> Result<i32, Error> {
    i32::try_from(i64::from_le_bytes(n.to_le_bytes()))
        .map_err(|_| refuse("an int32 field is out of range"))
}

fn int32_of(n: usize) -> Result<i32, Error> {
    i32::try_from(n).map_err(|_| refuse("too many accounts"))
}

/// `n` as protobuf writes an `int32`: negative values sign-extended.
fn varint_of_int32(n: i32) -> u64 {
    u64::from_le_bytes(i64::from(n).to_le_bytes())
}

/// A field's value, by wire type (the fixed-width ones are skipped).
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Reads protobuf fields off a slice, refusing what is malformed.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, Error> {
        let mut value = 0u64;
        for (shift, place) in (0..10u32).zip((0..64).step_by(7)) {
            let (&byte, rest) = self.0.split_first().ok_or(refuse("a field is truncated"))?;
            self.0 = rest;
            // The tenth byte may carry one bit (bit 63) and no more.
            if shift == 9 && byte > 1 {
                return Err(refuse("a varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << place;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(refuse("a varint is longer than ten bytes"))
    }

    fn take(&mut self, length: u64) -> Result<&'a [u8], Error> {
        let length = usize::try_from(length).map_err(|_| refuse("a field is truncated"))?;
        if length > self.0.len() {
            return Err(refuse("a field is truncated"));
        }
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        Ok(taken)
    }

    /// The next field's number and value; `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, Error> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(refuse("a field has number 0"));
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let length = self.varint()?;
                Value::Bytes(self.take(length)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(refuse("a field has a wire type protobuf 3 does not use")),
        };
        Ok(Some((number, value)))
    }
}

/// Writes protobuf fields into a buffer wiped on drop (it holds keys),
/// allocated at its full size: a buffer that grew would free its smaller
/// copies unwiped.
struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    /// A buffer for fields of `payload` bytes in all (each field adds at
    /// most 20 bytes of key and length).
    fn with_room(payload: usize, fields: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(
            payload.saturating_add(fields.saturating_mul(20)),
        )))
    }

    fn raw_varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push(u8::try_from(n & 0x7f).unwrap_or(0) | 0x80);
            n >>= 7;
        }
        self.0.push(u8::try_from(n).unwrap_or(0));
    }

    fn varint(&mut self, field: u64, n: u64) {
        self.raw_varint(field << 3);
        self.raw_varint(n);
    }

    fn bytes(&mut self, field: u64, bytes: &[u8]) {
        self.raw_varint((field << 3) | 2);
        self.raw_varint(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        self.0.extend_from_slice(bytes);
    }

    fn message(&mut self, field: u64, message: &[u8]) {
        self.bytes(field, message);
    }
}
