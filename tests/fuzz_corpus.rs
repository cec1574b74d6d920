//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/`: seeds, and
//! every crash the fuzzers found) through the fuzz targets' own property
//! checks, so CI keeps them fixed on stable Rust without building libFuzzer.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

#[path = "../fuzz/properties.rs"]
mod properties;

fn replay(target: &str, property: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| property(&data));
        assert!(outcome.is_ok(), "{} fails its property", path.display());
        count += 1;
    }
    assert!(count > 0, "no corpus for {target}");
}

#[test]
fn secret_corpus() {
    replay("secret", properties::secret);
}

#[test]
fn code_corpus() {
    replay("code", properties::code);
}

#[test]
fn uri_corpus() {
    replay("uri", properties::uri);
}

#[test]
fn backup_corpus() {
    replay("backup", properties::backup);
}

#[test]
fn records_corpus() {
    replay("records", properties::records);
}

#[test]
fn sealed_corpus() {
    replay("sealed", properties::sealed);
}
