//! Where randomness comes from: a [`CryptoRng`] the caller passes to each
//! `*_with_rng` function, or, with the `std` feature, the operating
//! system's generator, which the plain functions use.

pub(crate) use rand::rand_core::CryptoRng;
#[cfg(any(feature = "std", test))]
use rand::rand_core::UnwrapErr;
#[cfg(any(feature = "std", test))]
use rand::rngs::SysRng;

/// The operating system's generator. Reading it fails only where the
/// system has no entropy to give, and then no key could be trusted, so it
/// panics ([`UnwrapErr`]) rather than returning a weak value. (The unit
/// tests of a build without `std` use it too: the test build's
/// dev-dependency on `rand` brings it in.)
#[cfg(any(feature = "std", test))]
pub(crate) const fn os() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}
