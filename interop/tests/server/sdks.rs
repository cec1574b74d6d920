//! The official SDKs of the APIs the server speaks, unchanged, against a
//! real server process on loopback: Ding's Python SDK (`ding_api_client`),
//! Clerk's Python backend SDK (`clerk-backend-api`) and Clerk's JavaScript
//! backend SDK (`@clerk/backend`), each given only the API key and the
//! server's URL. The calls and their checks are in `sdk/`; `.ci/test`
//! installs the SDKs at pinned versions. A missing SDK fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server_support::{API_KEY, CUSTOMER, Server, sqlite};
use crate::support::run;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/server/sdk")
        .join(name)
}

/// Runs `command` against a fresh `--dev` server (its outbox holds the
/// SMS codes) and checks that every one of the script's checks passed.
fn against_a_server(command: Command) {
    against_a_server_with(command, &["--dev"]);
}

/// [`against_a_server`] with the server started with `args`.
fn against_a_server_with(mut command: Command, args: &[&str]) {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, args);
    let output = run(command
        .env("OTPKIT_URL", &server.base)
        .env("OTPKIT_API_KEY", API_KEY)
        .env("OTPKIT_CUSTOMER", CUSTOMER));
    assert!(output.starts_with("ok: "), "{output}");
    assert!(!server.log().contains("ERROR"), "{}", server.log());
    server.stop();
}

#[test]
fn dings_python_sdk_sends_checks_retries_and_reads_errors() {
    let mut command = Command::new("python3");
    command.arg(script("ding_sdk.py"));
    against_a_server(command);
}

#[test]
fn clerks_python_sdk_verifies_refuses_and_deletes() {
    let mut command = Command::new("python3");
    command.arg(script("clerk_sdk.py"));
    // The script is the app's backend, on 127.0.0.1: trusted to name its
    // end users (per call, `http_headers`), and calling without names too.
    against_a_server_with(command, &["--dev", "--trusted-proxy", "127.0.0.1"]);
}

#[test]
fn clerks_javascript_sdk_verifies_refuses_and_deletes() {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/interop-node/node_modules");
    assert!(
        modules.join("@clerk/backend/package.json").is_file(),
        "@clerk/backend is not installed in {}: `bash .ci/test` installs it (npm)",
        modules.display()
    );
    let mut command = Command::new("node");
    command
        .arg(script("clerk_sdk.mjs"))
        .env("OTPKIT_NODE_MODULES", modules);
    // The backend with no end user named (the SDK has no per-call header):
    // the user's own budget is what its wrong codes meet.
    against_a_server(command);
}
