//! The `$`-separated fields of PHC-style strings (the backup hasher, the
//! sealed secret, passlib's PBKDF2).

/// The `N` fields of a PHC-style string `$a$b$…`: it must start with `$`
/// and have exactly `N` fields after it (empty ones allowed).
pub(crate) fn fields<const N: usize>(text: &str) -> Option<[&str; N]> {
    let mut parts = text.strip_prefix('$')?.split('$');
    let mut fields = [""; N];
    for field in &mut fields {
        *field = parts.next()?;
    }
    parts.next().is_none().then_some(fields)
}

#[cfg(test)]
mod tests {
    #[test]
    fn phc_fields_are_exact() {
        assert_eq!(super::fields::<3>("$a$b$"), Some(["a", "b", ""]));
        assert_eq!(super::fields::<2>("$a$b$c"), None);
        assert_eq!(super::fields::<3>("$a$b"), None);
        assert_eq!(super::fields::<1>("a"), None);
    }
}
