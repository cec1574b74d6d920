//! A stored value that needs a feature this build lacks fails to load with
//! an error that names the feature: never a panic, never a set or record
//! that loads without what it needs. (`.ci/run` runs these in a build with
//! `serde` alone: `cargo test -p otpkit --no-default-features --features
//! serde --test integration feature_disabled`.)
#![cfg(feature = "serde")]

/// The JSON of a fuzz corpus file (a backup corpus file is the set, a NUL,
/// then a code to try).
fn json(file: &str) -> &str {
    file.split('\0').next().unwrap_or_default()
}

#[cfg(not(feature = "import"))]
#[test]
fn feature_disabled_an_imported_set_names_import() {
    for file in [
        include_str!("../fuzz/corpus/backup/imported-keycloak.json"),
        include_str!("../fuzz/corpus/backup/imported-bcrypt.json"),
    ] {
        let err = serde_json::from_str::<otpkit::BackupCodeSet>(json(file))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`import` feature"), "{err}");
    }
}

#[cfg(not(feature = "seal"))]
#[test]
fn feature_disabled_a_sealed_record_names_seal() {
    let file = include_str!("../fuzz/corpus/sealed/sealed-record.json");
    let err = serde_json::from_str::<otpkit::StoredTotpRecord>(json(file))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`seal` feature"), "{err}");
}

/// With every feature on, the same stored values load.
#[cfg(all(feature = "import", feature = "seal"))]
#[test]
fn with_the_features_they_load() {
    for file in [
        include_str!("../fuzz/corpus/backup/imported-keycloak.json"),
        include_str!("../fuzz/corpus/backup/imported-bcrypt.json"),
    ] {
        serde_json::from_str::<otpkit::BackupCodeSet>(json(file)).unwrap();
    }
    let file = include_str!("../fuzz/corpus/sealed/sealed-record.json");
    serde_json::from_str::<otpkit::StoredTotpRecord>(json(file)).unwrap();
}
