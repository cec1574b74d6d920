//! End-to-end runs of the built `otpkit` binary: every command, the
//! contract with a person at a shell, and races of real processes on one
//! file. Nothing but cargo needed (runs on a pseudo-terminal and against
//! other tools are in the interop package).

mod support;

/// The binary under test: this package's.
const OTPKIT_BIN: &str = env!("CARGO_BIN_EXE_otpkit");

mod commands;
#[cfg(unix)]
mod contract;
mod other_side;
#[cfg(unix)]
mod races;
mod refusals;
