//! otpkit-server: the reference two-factor server on otpkit. Clerk's TOTP
//! endpoints and Ding's OTP endpoints over HTTP, on SQLite (a file, the
//! default) or PostgreSQL (several instances), with `--dev` demo pages.
//!
//! Every code, URI, QR code, backup code, challenge and lockout decision is
//! an otpkit call; the server loads a state, runs one pure transition and
//! saves it with a compare-and-set on a version column ([`service`]).
//!
//! The rooms: [`launch`] reads the command line into an [`app::Config`];
//! [`app`] composes the router and runs it on [`listen`]; [`api`] and
//! [`demo`] are the routes, [`client`] who the end user is; [`service`]
//! does the work through [`store`], under [`limits`], sending codes with
//! [`delivery`] and [`sender`]; [`operations`] are the operator's commands.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod authentication;
pub mod client;
pub mod clock;
pub mod delivery;
pub mod demo;
pub mod dev_keys;
pub mod error;
pub mod launch;
pub mod limits;
pub mod listen;
pub mod logs;
pub mod metrics;
pub mod operations;
pub mod sender;
pub mod service;
pub mod store;
