//! The library's integration tests, one binary (ripgrep's layout): the
//! public API against published vectors, stored forms from earlier
//! versions, properties, and what must never leak. Nothing but cargo
//! needed; tests against outside implementations are in the interop
//! package. The freed-memory scan is its own binary (`freed_memory.rs`), as
//! it installs a global allocator.

mod support;

mod backup;
mod backup_import;
mod enrollment;
mod features;
mod fuzz_corpus;
mod import;
mod loaded_state;
mod lockout;
mod migration;
mod no_leaks;
mod properties;
mod qr;
mod resource;
mod rfc_compliance;
mod rfc_vectors;
mod rng;
mod seal;
mod steam;
mod uri;
mod verification;
