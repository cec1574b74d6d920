//! The front end's view of an enrollment: [`TotpResource`], Clerk's TOTP
//! object.

use alloc::string::String;
use core::fmt;

use crate::backup::BackupCodes;
use crate::secret::Secret;
use crate::time::Timestamp;
use crate::uri::OtpAuthUri;

/// Clerk's TOTP object: what the back end returns to the front end.
///
/// `secret` and `uri` are present only in the response that creates the
/// secret; `backup_codes` only in the response that generated them. On the
/// wire: `{"object":"totp","id":…,"secret":…,"uri":…,"verified":…,
/// "backup_codes":…,"created_at":…,"updated_at":…}`, times in Unix
/// milliseconds, absent values as `null`. `Debug` shows none of the
/// secret, the URI or the codes; they are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpResource {
    pub(super) id: String,
    pub(super) secret: Option<Secret>,
    pub(super) uri: Option<OtpAuthUri>,
    pub(super) verified: bool,
    pub(super) backup_codes: Option<BackupCodes>,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

impl TotpResource {
    /// The TOTP secret's id (`totp_…`).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The secret, only in the creation response.
    #[must_use]
    pub const fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The otpauth:// URI for the QR code, only in the creation response.
    #[must_use]
    pub const fn uri(&self) -> Option<&OtpAuthUri> {
        self.uri.as_ref()
    }

    /// Whether the user proved possession with one code.
    #[must_use]
    pub const fn verified(&self) -> bool {
        self.verified
    }

    /// Fresh backup codes, only in the response that generated them.
    #[must_use]
    pub const fn backup_codes(&self) -> Option<&BackupCodes> {
        self.backup_codes.as_ref()
    }

    /// The response that shows fresh backup codes, once: those of
    /// [`TotpOutcome::Valid`](super::TotpOutcome::Valid) on the first
    /// verification, or of
    /// [`TotpRecord::regenerate_backup_codes`](super::TotpRecord::regenerate_backup_codes).
    /// An empty set (a check that issued none) leaves `backup_codes` null.
    ///
    /// ```
    /// use otpkit::record::{EnrollmentOptions, TotpOutcome, TotpRecord};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &EnrollmentOptions::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, 0)?;
    /// let TotpOutcome::Valid { backup_codes, .. } = outcome else { panic!() };
    /// let shown = record.resource().with_backup_codes(backup_codes);
    /// assert_eq!(shown.backup_codes().map(|codes| codes.len()), Some(10));
    /// assert!(record.resource().with_backup_codes(Default::default()).backup_codes().is_none());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn with_backup_codes(mut self, codes: BackupCodes) -> Self {
        self.backup_codes = (!codes.is_empty()).then_some(codes);
        self
    }

    /// When the secret was created.
    #[must_use]
    pub const fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When it was last updated.
    #[must_use]
    pub const fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

impl fmt::Debug for TotpResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { "Some([REDACTED])" } else { "None" };
        f.debug_struct("TotpResource")
            .field("id", &self.id)
            .field(
                "secret",
                &format_args!("{}", redacted(self.secret.is_some())),
            )
            .field("uri", &format_args!("{}", redacted(self.uri.is_some())))
            .field("verified", &self.verified)
            .field(
                "backup_codes",
                &format_args!("{}", redacted(self.backup_codes.is_some())),
            )
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

#[cfg(feature = "serde")]
mod wire {
    //! Clerk's JSON for the resource. Every string that holds a secret, a
    //! URI or a backup code is a `Zeroizing<String>`, both ways.
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use zeroize::Zeroizing;

    use super::TotpResource;
    use crate::backup::BackupCodes;
    use crate::secret::Secret;
    use crate::time::Timestamp;
    use crate::uri::OtpAuthUri;

    #[derive(Serialize, Deserialize, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    enum TotpObject {
        Totp,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Resource {
        object: TotpObject,
        id: String,
        #[serde(default)]
        secret: Option<Zeroizing<String>>,
        #[serde(default)]
        uri: Option<Zeroizing<String>>,
        verified: bool,
        #[serde(default)]
        backup_codes: Option<Vec<Zeroizing<String>>>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }

    /// The resource's JSON, borrowing the codes rather than copying them.
    #[derive(Serialize)]
    struct ResourceOut<'a> {
        object: TotpObject,
        id: &'a str,
        secret: Option<Zeroizing<String>>,
        uri: Option<Zeroizing<String>>,
        verified: bool,
        backup_codes: Option<Vec<&'a str>>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }

    impl Serialize for TotpResource {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            ResourceOut {
                object: TotpObject::Totp,
                id: &self.id,
                secret: self.secret.as_ref().map(Secret::to_base32),
                uri: self.uri.as_ref().map(OtpAuthUri::to_zeroizing_string),
                verified: self.verified,
                backup_codes: self.backup_codes.as_ref().map(|c| c.iter().collect()),
                created_at: self.created_at,
                updated_at: self.updated_at,
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for TotpResource {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            use serde::de::Error as _;
            let r = Resource::deserialize(d)?;
            let secret = r
                .secret
                .map(|s| Secret::from_base32(&s))
                .transpose()
                .map_err(|e| D::Error::custom(format!("secret: {e}")))?;
            let uri = r
                .uri
                .map(|u| u.parse::<OtpAuthUri>())
                .transpose()
                .map_err(|e| D::Error::custom(format!("uri: {e}")))?;
            if let (Some(secret), Some(uri)) = (&secret, &uri)
                && secret != uri.secret()
            {
                return Err(D::Error::custom("secret and uri carry different keys"));
            }
            Ok(Self {
                id: r.id,
                secret,
                uri,
                verified: r.verified,
                backup_codes: r.backup_codes.map(BackupCodes::from_texts),
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        }
    }
}
