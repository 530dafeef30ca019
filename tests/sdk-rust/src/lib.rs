//! Support for the official Rust SDK suite (`tests/it/`): Microsoft's `azure_identity` and
//! `azure_security_keyvault_*` crates against the real `strongroom` binary.
//!
//! - [`server::StrongroomServer`] starts `strongroom serve` on a free port and a temporary data
//!   directory, reads the `strongroom ready:` line, runs the CLI against it and parses what
//!   `strongroom env` prints (the Rust twin of `tests/sdk-python/strongroom_server.py`).
//! - [`direct::DirectEnv`] turns `strongroom env --vault V` into SDK clients inside the test
//!   process: each variable becomes the option the SDK would otherwise read from the process
//!   environment, plus the name resolution `*.vault.localhost` needs (see its docs).
//! - `src/bin/kv-sample.rs` is a program written for Azure (`https://V.vault.azure.net`,
//!   `login.microsoftonline.com`, IMDS at 169.254.169.254) that the transparent-mode tests run as a
//!   subprocess with nothing but `strongroom env --proxy`'s variables in its environment.
//! - [`agent::Agent`] runs `strongroom agent` for one managed identity; `src/bin/mi-read-secret.rs`
//!   reads a secret with `ManagedIdentityCredential` through it (App Service protocol), run with
//!   nothing but `strongroom env --agent`'s variables.

pub mod agent;
pub mod direct;
pub mod server;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// A vault, secret, key or principal name unique in this run: the prefix, then 10 hex digits
/// (valid for every kind of name, and letters first as vault names need).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    format!("{prefix}-{:010x}", hasher.finish() & 0xff_ffff_ffff)
}
