//! Text forms the stored records share, private to the crate: hex, the
//! fields of PHC-style strings, and text built without leaving copies.
//! Each helper serves a stored form (serde's records and sets, `seal`'s
//! sealed secrets, `import`'s foreign hashes), so a build without those
//! features leaves some unused.
#![cfg_attr(not(all(feature = "serde", feature = "seal")), allow(dead_code))]

pub(crate) mod base64;
#[cfg(all(feature = "serde", feature = "seal"))]
pub(crate) mod binding;
pub(crate) mod hex;
pub(crate) mod phc;
pub(crate) mod wiping;
