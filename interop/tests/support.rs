//! Running the outside tools. A tool that is missing or fails makes the
//! test fail with what to install; nothing here ever skips.

use std::process::Command;

/// Where the tools come from: `.ci/test` installs every one of them.
const INSTALL: &str = "`bash .ci/test` installs the interop tools (Debian packages \
                       oathtool, zbar-tools, librsvg2-bin, qrencode, curl, chromium, \
                       chromium-driver, postgresql, nodejs, npm; PyPI pyotp, pynacl, bcrypt, \
                       passlib, ding_api_client, clerk-backend-api, schemathesis, protobuf; \
                       npm @clerk/backend, steam-totp)";

/// Runs `command` and returns its standard output, trimmed; panics, naming
/// the command and how to install it, if it cannot run or fails.
pub fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}; {INSTALL}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("the tool prints UTF-8")
        .trim()
        .to_owned()
}

/// `program args…`, its output trimmed.
pub fn tool(program: &str, args: &[&str]) -> String {
    run(Command::new(program).args(args))
}

/// `python3 -c script args…`, its output trimmed.
pub fn python(script: &str, args: &[&str]) -> String {
    run(Command::new("python3").arg("-c").arg(script).args(args))
}
