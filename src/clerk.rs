//! Wire types that mirror Clerk's documented objects: the verification
//! object, the phone-number object that carries one, and the deleted object.
//!
//! [Clerk](https://clerk.com) is a hosted authentication service; its
//! Backend API documents these objects, and many front ends are written
//! against them. The types here match them field for field (snake_case on
//! the wire, times as Unix milliseconds, nullable fields kept nullable,
//! unknown fields refused), so a service built on this crate can answer a
//! Clerk-shaped front end, and read such objects back. The golden tests
//! start from the documented examples.
//!
//! The logic lives in the state machines below this module:
//! [`OtpChallenge`] and its vocabulary
//! ([`Strategy`], [`VerificationStatus`], re-exported here), and
//! [`TotpRecord`]. This module builds Clerk's objects on
//! top of them ([`OtpChallenge::verification`](crate::OtpChallenge::verification),
//! [`TotpRecord::disable`](crate::TotpRecord::disable)); nothing below it
//! knows Clerk's shapes.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::challenge::OtpChallenge;
pub use crate::challenge::{Strategy, VerificationStatus};
use crate::record::TotpRecord;
pub use crate::time::Timestamp;

/// Clerk's verification object: `verification_otp` or `verification_admin`,
/// told apart by its `object` field on the wire.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use otpkit::clerk::{OtpVerification, Strategy, Verification, VerificationStatus};
///
/// let json = r#"{"object":"verification_otp","status":"failed","strategy":"phone_code","attempts":5,"expire_at":714242}"#;
/// let v: Verification = serde_json::from_str(json).unwrap();
/// assert_eq!(v, Verification::Otp(OtpVerification {
///     status: VerificationStatus::Failed,
///     strategy: Strategy::PhoneCode,
///     attempts: Some(5),
///     expire_at: Some(714_242),
///     verified_at_client: None,
/// }));
/// assert_eq!(serde_json::to_string(&v).unwrap(), json);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// A one-time code verification (`verification_otp`).
    Otp(OtpVerification),
    /// A verification done by an administrator (`verification_admin`);
    /// its status is always `verified`.
    Admin(AdminVerification),
}

impl Verification {
    /// The status; always `verified` for an admin verification.
    ///
    /// ```
    /// use otpkit::clerk::{AdminVerification, Verification, VerificationStatus};
    /// let admin = Verification::Admin(AdminVerification::default());
    /// assert_eq!(admin.status(), VerificationStatus::Verified);
    /// ```
    #[must_use]
    pub const fn status(&self) -> VerificationStatus {
        match self {
            Self::Otp(v) => v.status,
            Self::Admin(_) => VerificationStatus::Verified,
        }
    }
}

/// The `verification_otp` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpVerification {
    /// Where the challenge stands.
    pub status: VerificationStatus,
    /// How the code was delivered.
    pub strategy: Strategy,
    /// Attempts made (nullable on the wire).
    pub attempts: Option<u64>,
    /// When the code expires, Unix milliseconds (nullable on the wire).
    pub expire_at: Option<i64>,
    /// Client-side verification time, if the client reported one.
    pub verified_at_client: Option<String>,
}

/// The `verification_admin` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminVerification {
    /// Normally [`Strategy::Admin`].
    pub strategy: Strategy,
    /// Attempts (nullable on the wire).
    pub attempts: Option<u64>,
    /// Expiry, Unix milliseconds (nullable on the wire).
    pub expire_at: Option<i64>,
    /// Client-side verification time, if any.
    pub verified_at_client: Option<String>,
}

impl Default for AdminVerification {
    fn default() -> Self {
        Self {
            strategy: Strategy::Admin,
            attempts: None,
            expire_at: None,
            verified_at_client: None,
        }
    }
}

/// A link from an identification to an OAuth account (`linked_to` item).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct IdentificationLink {
    /// The link type, e.g. `oauth_google`.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub link_type: String,
    /// The linked object's id.
    pub id: String,
}

/// Clerk's phone-number object, which carries the verification of a phone
/// used as a second factor.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let json = r#"{"object":"phone_number","phone_number":"+15550100","reserved":false,
///   "verification":null,"linked_to":[],"created_at":1,"updated_at":2}"#;
/// let phone: otpkit::clerk::PhoneNumber = serde_json::from_str(json).unwrap();
/// assert_eq!(phone.phone_number, "+15550100");
/// assert!(phone.verification.is_none());
/// # }
/// ```
///
/// `Debug` shows how many backup codes there are, never the codes; they
/// are wiped when the value is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// The identification's id (optional on the wire).
    pub id: Option<String>,
    /// The number.
    pub phone_number: String,
    /// Reserved for second-factor use (optional on the wire).
    pub reserved_for_second_factor: Option<bool>,
    /// The default second factor (optional on the wire).
    pub default_second_factor: Option<bool>,
    /// Reserved.
    pub reserved: bool,
    /// Its verification, or `null`.
    pub verification: Option<Verification>,
    /// OAuth accounts it is linked to.
    pub linked_to: Vec<IdentificationLink>,
    /// Backup codes: absent, `null`, or a list.
    pub backup_codes: Option<Option<Vec<String>>>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last update, Unix milliseconds.
    pub updated_at: i64,
}

impl Drop for PhoneNumber {
    fn drop(&mut self) {
        wipe_codes(&mut self.backup_codes);
    }
}

/// Wipes backup codes in place (their bytes, before the memory is freed).
fn wipe_codes(codes: &mut Option<Option<Vec<String>>>) {
    if let Some(Some(codes)) = codes {
        zeroize::Zeroize::zeroize(codes);
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes = self
            .backup_codes
            .as_ref()
            .map(|codes| codes.as_ref().map(Vec::len));
        f.debug_struct("PhoneNumber")
            .field("id", &self.id)
            .field("phone_number", &self.phone_number)
            .field(
                "reserved_for_second_factor",
                &self.reserved_for_second_factor,
            )
            .field("default_second_factor", &self.default_second_factor)
            .field("reserved", &self.reserved)
            .field("verification", &self.verification)
            .field("linked_to", &self.linked_to)
            .field("backup_codes (count)", &codes)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// The answer to disabling TOTP, as Clerk's deleted object:
/// `{"object":"totp","id":…,"deleted":true}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedTotp {
    id: String,
}

impl DeletedTotp {
    /// The deleted object for the TOTP secret `id`.
    ///
    /// ```
    /// assert_eq!(otpkit::clerk::DeletedTotp::new("totp_1").id(), "totp_1");
    /// ```
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }

    /// The id of the deleted TOTP secret.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl OtpChallenge {
    /// Clerk's verification object for the front end at Unix time `now`.
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::ChallengePolicy;
    /// use otpkit::clerk::{Strategy, Verification};
    /// let (_, c) = OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 1)?;
    /// let Verification::Otp(v) = c.verification(2) else { panic!() };
    /// assert_eq!((v.attempts, v.expire_at), (Some(0), Some(601_000)));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn verification(&self, now: u64) -> Verification {
        Verification::Otp(OtpVerification {
            status: self.status_at(now),
            strategy: self.strategy().clone(),
            attempts: Some(u64::from(self.attempts())),
            expire_at: Some(
                i64::try_from(Timestamp::from_unix_seconds(self.expire_at()).unix_millis())
                    .unwrap_or(i64::MAX),
            ),
            verified_at_client: None,
        })
    }
}

impl TotpRecord {
    /// Disables TOTP for the user (Clerk's `disableTOTP()`): consumes the
    /// record, whose secret is zeroized, and returns what to delete and
    /// answer.
    ///
    /// ```
    /// let (record, _) = otpkit::TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let id = record.resource().id().to_owned();
    /// assert_eq!(record.disable().id(), id);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn disable(self) -> DeletedTotp {
        DeletedTotp::new(self.resource().id())
    }
}

#[cfg(feature = "serde")]
mod wire {
    //! The JSON shapes, checked against Clerk's schema: required fields must
    //! be present (nullable ones may be `null`), unknown fields are refused.
    use alloc::string::String;
    use alloc::vec::Vec;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{
        AdminVerification, DeletedTotp, IdentificationLink, OtpVerification, PhoneNumber, Strategy,
        Verification, VerificationStatus,
    };

    #[derive(Serialize)]
    struct Deleted<'a> {
        object: &'static str,
        id: &'a str,
        deleted: bool,
    }

    impl Serialize for DeletedTotp {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            Deleted {
                object: "totp",
                id: &self.id,
                deleted: true,
            }
            .serialize(s)
        }
    }

    /// A field that must be present but may be `null`.
    fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Option::deserialize(d)
    }

    impl Serialize for Strategy {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }

    impl<'de> Deserialize<'de> for Strategy {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let name = String::deserialize(d)?;
            Ok(Self::from_name(&name))
        }
    }

    #[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
    #[serde(rename_all = "snake_case")]
    enum Object {
        VerificationOtp,
        VerificationAdmin,
    }

    /// `object` is optional in Clerk's schema (its own SDK example leaves it
    /// out); without it, an `admin` strategy means an admin verification.
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wire {
        #[serde(default)]
        object: Option<Object>,
        status: VerificationStatus,
        strategy: Strategy,
        #[serde(deserialize_with = "required")]
        attempts: Option<u64>,
        #[serde(deserialize_with = "required")]
        expire_at: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verified_at_client: Option<String>,
    }

    impl Serialize for Verification {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let wire = match self.clone() {
                Self::Otp(v) => Wire {
                    object: Some(Object::VerificationOtp),
                    status: v.status,
                    strategy: v.strategy,
                    attempts: v.attempts,
                    expire_at: v.expire_at,
                    verified_at_client: v.verified_at_client,
                },
                Self::Admin(v) => Wire {
                    object: Some(Object::VerificationAdmin),
                    status: VerificationStatus::Verified,
                    strategy: v.strategy,
                    attempts: v.attempts,
                    expire_at: v.expire_at,
                    verified_at_client: v.verified_at_client,
                },
            };
            wire.serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for Verification {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let wire = Wire::deserialize(d)?;
            let object = wire.object.unwrap_or(if wire.strategy == Strategy::Admin {
                Object::VerificationAdmin
            } else {
                Object::VerificationOtp
            });
            Ok(match object {
                Object::VerificationOtp => Self::Otp(OtpVerification {
                    status: wire.status,
                    strategy: wire.strategy,
                    attempts: wire.attempts,
                    expire_at: wire.expire_at,
                    verified_at_client: wire.verified_at_client,
                }),
                Object::VerificationAdmin if wire.status == VerificationStatus::Verified => {
                    Self::Admin(AdminVerification {
                        strategy: wire.strategy,
                        attempts: wire.attempts,
                        expire_at: wire.expire_at,
                        verified_at_client: wire.verified_at_client,
                    })
                }
                Object::VerificationAdmin => {
                    return Err(serde::de::Error::custom(
                        "a verification_admin must have status \"verified\"",
                    ));
                }
            })
        }
    }

    #[derive(Serialize, Deserialize, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    enum PhoneObject {
        PhoneNumber,
    }

    /// `Some(None)` for an explicit `null`, `None` for an absent field.
    fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::deserialize(d).map(Some)
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PhoneWire {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        object: PhoneObject,
        phone_number: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reserved_for_second_factor: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_second_factor: Option<bool>,
        reserved: bool,
        #[serde(deserialize_with = "required")]
        verification: Option<Verification>,
        linked_to: Vec<IdentificationLink>,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        backup_codes: Option<Option<Vec<String>>>,
        created_at: i64,
        updated_at: i64,
    }

    impl Drop for PhoneWire {
        fn drop(&mut self) {
            super::wipe_codes(&mut self.backup_codes);
        }
    }

    impl Serialize for PhoneNumber {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // A copy for the wire, wiped when dropped like the original.
            let mut p = self.clone();
            PhoneWire {
                id: p.id.take(),
                object: PhoneObject::PhoneNumber,
                phone_number: core::mem::take(&mut p.phone_number),
                reserved_for_second_factor: p.reserved_for_second_factor,
                default_second_factor: p.default_second_factor,
                reserved: p.reserved,
                verification: p.verification.take(),
                linked_to: core::mem::take(&mut p.linked_to),
                backup_codes: p.backup_codes.take(),
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for PhoneNumber {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let mut p = PhoneWire::deserialize(d)?;
            Ok(Self {
                id: p.id.take(),
                phone_number: core::mem::take(&mut p.phone_number),
                reserved_for_second_factor: p.reserved_for_second_factor,
                default_second_factor: p.default_second_factor,
                reserved: p.reserved,
                verification: p.verification.take(),
                linked_to: core::mem::take(&mut p.linked_to),
                backup_codes: p.backup_codes.take(),
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
        }
    }
}
