//! The README's front door as a new user meets it: a scratch application
//! that depends on otpkit by path, with exactly the README's flow as its
//! `main.rs` and exactly the README's profile lines in its `Cargo.toml`,
//! built by cargo in debug and run. It must compile on the first try and
//! run the whole flow (ten PBKDF2-hashed backup codes, one redeemed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The workspace root (this package is `interop/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The first fenced block of `language` after `heading` in the README.
fn readme_block(readme: &str, heading: &str, language: &str) -> String {
    let section = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("the README has no {heading:?}"))
        .1;
    let fence = format!("```{language}\n");
    let body = section
        .split_once(&fence)
        .unwrap_or_else(|| panic!("no ```{language} block after {heading:?}"))
        .1;
    body.split_once("```\n")
        .expect("a closed block")
        .0
        .to_owned()
}

#[test]
fn the_readme_flow_builds_as_a_new_app_and_runs_fast_in_debug() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let heading = "## Add two-factor sign-in to your service";
    let main_rs = readme_block(&readme, heading, "rust");
    let profile = readme_block(&readme, "**Fast in debug builds.**", "toml");
    assert!(
        readme.contains("cargo add otpkit\n"),
        "the README says how to add it"
    );
    assert!(
        profile.contains("[profile.dev.package.pbkdf2]"),
        "{profile}"
    );

    let app = tempfile::tempdir().unwrap();
    let otpkit = root().canonicalize().unwrap();
    std::fs::write(
        app.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"scratch-app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\notpkit = {{ path = {otpkit:?} }}\n\n\
             # Not a member of the otpkit workspace.\n[workspace]\n\n{profile}"
        ),
    )
    .unwrap();
    std::fs::create_dir(app.path().join("src")).unwrap();
    std::fs::write(app.path().join("src/main.rs"), &main_rs).unwrap();
    // The workspace's versions (cargo drops what the app does not use), so
    // the build needs no network.
    std::fs::copy(root().join("Cargo.lock"), app.path().join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = root().join("target/scratch-app");
    let build = Command::new(&cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(app.path())
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        build.status.success(),
        "the README's flow does not build as an app:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let started = Instant::now();
    let run = Command::new(target.join("debug/scratch-app"))
        .output()
        .expect("the app runs");
    let took = started.elapsed();
    assert!(
        run.status.success(),
        "the README's flow failed in a debug build:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Printed for the record (a figure, not a pass mark: speed is
    // measured, not asserted, in tests).
    eprintln!("the README's flow in a debug build with its profile lines: {took:?}");
}
