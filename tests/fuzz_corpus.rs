//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/`: seeds, and
//! every crash the fuzzers found) through the fuzz targets' own property
//! checks, so CI keeps them fixed on stable Rust without building libFuzzer;
//! and holds each target's seeds to reaching the property they were
//! written for (a sealed record that opens, a set whose code is accepted,
//! a record and a challenge that check a code), counted and printed.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

#[path = "../fuzz/properties.rs"]
mod properties;

/// Every input of `target`'s corpus through `property`: what each reached.
fn replay<R: std::panic::RefUnwindSafe>(target: &str, property: fn(&[u8]) -> R) -> Vec<R> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut reached = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| property(&data));
        let Ok(outcome) = outcome else {
            panic!("{} fails its property", path.display());
        };
        reached.push(outcome);
    }
    assert!(!reached.is_empty(), "no corpus for {target}");
    reached
}

fn count<R: PartialEq>(reached: &[R], what: &R) -> usize {
    reached.iter().filter(|r| *r == what).count()
}

#[test]
fn secret_corpus() {
    let reached = replay("secret", properties::secret);
    eprintln!(
        "secret: {} of {} parsed",
        count(&reached, &true),
        reached.len()
    );
    assert!(count(&reached, &true) >= 2);
}

#[test]
fn code_corpus() {
    let reached = replay("code", properties::code);
    eprintln!(
        "code: {} of {} verified",
        count(&reached, &true),
        reached.len()
    );
    assert!(count(&reached, &true) >= 1);
}

#[test]
fn migration_corpus() {
    let reached = replay("migration", properties::migration);
    eprintln!(
        "migration: {} of {} read and round-tripped",
        count(&reached, &true),
        reached.len()
    );
    assert!(count(&reached, &true) >= 2);
}

#[test]
fn uri_corpus() {
    let reached = replay("uri", properties::uri);
    eprintln!(
        "uri: {} of {} parsed",
        count(&reached, &true),
        reached.len()
    );
    assert!(count(&reached, &true) >= 3);
}

#[test]
fn backup_corpus() {
    let reached = replay("backup", properties::backup);
    let (checked, accepted) = (
        reached.iter().filter(|r| r.is_some()).count(),
        count(&reached, &Some(true)),
    );
    eprintln!(
        "backup: {checked} of {} checked, {accepted} accepted",
        reached.len()
    );
    // Every set is checked (imported bcrypt, PBKDF2-SHA-512 and SHA-512 at
    // a cheap cost, ours peppered and not); the seeds that carry one of
    // their codes have it accepted.
    assert_eq!(checked, reached.len(), "a seed stopped before its check");
    assert!(accepted >= 3, "{reached:?}");
}

#[test]
fn records_corpus() {
    let reached = replay("records", properties::records);
    eprintln!("records: {reached:?}");
    assert!(count(&reached, &Some("record")) >= 2, "{reached:?}");
    assert!(count(&reached, &Some("challenge")) >= 1, "{reached:?}");
    assert!(reached.iter().all(Option::is_some), "{reached:?}");
}

#[test]
fn sealed_corpus() {
    let reached = replay("sealed", properties::sealed);
    eprintln!(
        "sealed: {} of {} opened",
        count(&reached, &true),
        reached.len()
    );
    assert!(
        count(&reached, &true) >= 1,
        "no seed opens with the fuzz key"
    );
}
