//! The bytes a sealed secret is bound to: fields written one after the
//! other, each unambiguous (numbers as 8 bytes little-endian, text with its
//! length first, options and flags with a tag), so two different states
//! never give the same bytes.

use alloc::vec::Vec;

/// A binding being written.
pub(crate) struct Binding(Vec<u8>);

impl Binding {
    /// A binding that starts with `label` (what is bound, and its version).
    pub(crate) fn new(label: &str) -> Self {
        let mut binding = Self(Vec::with_capacity(512));
        binding.text(label);
        binding
    }

    pub(crate) fn num(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn signed(&mut self, value: i64) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn flag(&mut self, value: bool) -> &mut Self {
        self.0.push(u8::from(value));
        self
    }

    pub(crate) fn opt(&mut self, value: Option<u64>) -> &mut Self {
        match value {
            Some(value) => self.flag(true).num(value),
            None => self.flag(false),
        }
    }

    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        let length = u64::try_from(value.len()).unwrap_or(u64::MAX);
        self.num(length);
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    /// The bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Binding;

    #[test]
    fn fields_never_run_into_each_other() {
        let mut a = Binding::new("x");
        a.text("ab").text("c");
        let mut b = Binding::new("x");
        b.text("a").text("bc");
        assert_ne!(a.into_bytes(), b.into_bytes());
        let mut c = Binding::new("x");
        c.opt(None).num(0);
        let mut d = Binding::new("x");
        d.opt(Some(0));
        assert_ne!(c.into_bytes(), d.into_bytes());
    }
}
