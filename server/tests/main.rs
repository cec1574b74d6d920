//! The server's tests: real `otpkit-server` processes on loopback, on real
//! SQLite files; nothing but cargo needed. (The browser and PostgreSQL
//! tests are in the interop package.)

mod support;

/// The binary the launcher starts: this package's.
const SERVER_BIN: &str = env!("CARGO_BIN_EXE_otpkit-server");

mod api;
mod at_rest;
mod batch;
mod connections;
mod delivery;
mod dev;
mod ding_api;
mod limits;
mod observability;
mod operator;
mod races;
mod restart;
mod side_doors;
mod topology;
