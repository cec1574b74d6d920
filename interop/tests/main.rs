//! Every test that needs a tool from outside cargo: independent
//! implementations (oathtool, pyotp, PyNaCl, bcrypt and passlib,
//! steam-totp, Python's protobuf), decoders and encoders (zbarimg,
//! rsvg-convert, qrencode), cargo itself (a new app built from the README), a pseudo-terminal (Python's `pty`), Chromium,
//! PostgreSQL, the official Ding and Clerk SDKs, and schemathesis. `bash .ci/test` installs them all; a missing tool fails its
//! test, it never skips.

mod support;

/// The library's own test helpers, shared rather than copied.
#[path = "../../tests/support/mod.rs"]
mod lib_support;

/// The CLI's runner, shared with its own tests.
#[path = "../../cli/tests/support/mod.rs"]
mod cli_support;

/// The server's launcher and client, shared with its own tests.
#[path = "../../server/tests/support/mod.rs"]
mod server_support;

/// The binaries the tests run: this package's wrappers around the CLI's and
/// the server's `main` (cargo builds only a test's own package's binaries).
const OTPKIT_BIN: &str = env!("CARGO_BIN_EXE_interop-otpkit");
const SERVER_BIN: &str = env!("CARGO_BIN_EXE_interop-otpkit-server");

mod lib {
    mod backup_import;
    mod cross_check;
    mod import;
    mod migration;
    mod qr;
    mod resource;
    mod scratch_app;
    mod seal;
    mod steam;
    mod uri;
}

mod cli {
    mod contract;
    mod import;
    mod migration;
}

mod server {
    mod browser;
    mod crash;
    mod multi_instance;
    mod openapi;
    mod quickstart;
    mod sdks;
}
