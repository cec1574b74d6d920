//! Text that holds a secret, built without leaving copies behind.
//!
//! A `String` that grows reallocates, and the old buffer is freed as it
//! was: with a prefix of the secret in it. [`WipingString`] grows by hand
//! instead, wiping each buffer it leaves.

use alloc::string::String;
use core::fmt;

use zeroize::Zeroizing;

/// `value`'s `Display` output in a string that is zeroized on drop, and
/// whose every outgrown buffer was zeroized too.
pub(crate) fn to_zeroizing_string(value: &impl fmt::Display) -> Zeroizing<String> {
    let mut out = WipingString(Zeroizing::new(String::with_capacity(128)));
    // Writing to a string cannot fail; a `Display` that fails leaves what
    // it wrote so far, still wiped on drop.
    let _ = fmt::write(&mut out, format_args!("{value}"));
    out.0
}

struct WipingString(Zeroizing<String>);

impl fmt::Write for WipingString {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let needed = self.0.len().checked_add(s.len()).ok_or(fmt::Error)?;
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(String::with_capacity(
                needed.max(self.0.capacity().saturating_mul(2)),
            ));
            bigger.push_str(&self.0);
            // The old buffer is dropped here, through `Zeroizing`.
            self.0 = bigger;
        }
        self.0.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn grows_past_its_first_buffer() {
        let long = "x".repeat(1000);
        assert_eq!(
            *super::to_zeroizing_string(&format_args!("{long}{long}")),
            long.repeat(2)
        );
    }
}
