//! Key Vault behaviour: vaults, secrets and keys (versions, update semantics, soft delete,
//! recover, purge, backup/restore), the cryptographic operations of keys under their
//! attributes, rotation, and the janitor that purges what retention has expired and runs
//! the rotation policies that are due.
//!
//! Owns: what a Key Vault operation *means*. The API layer parses a request into typed names
//! and a `Grant`, calls one function here, and turns the result into Azure's JSON.
//!
//! Must not touch: HTTP, wire JSON shapes (serde appears only in the internal metadata and
//! backup formats), the system clock (every "now" comes from `VaultCtx::now`, i.e. the
//! injected `Clock`).
//!
//! Invariants:
//! - plaintext exists only in `SecretValue` / `Zeroizing` buffers; the store receives `Sealed`
//!   payloads bound (by their authenticated data) to vault, kind, name and version;
//! - every secret and key operation takes a `Grant` of the permission it needs, so it cannot
//!   be called unauthorised (the janitor's rotations are the system's own, not a caller's);
//! - private key material is sealed at rest like secret values and leaves only sealed (backup)
//!   or as the result of an operation;
//! - object names are case-insensitive: the authenticated data uses the lower-cased name, so a
//!   payload opens whatever casing the caller used.
//!
//! Start reading at `ctx.rs` (the context and its caches), then `lifecycle.rs`, `secrets.rs`
//! and `keys/mod.rs`.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod backup;
pub mod certificates;
mod ctx;
mod error;
pub mod janitor;
pub mod keys;
pub mod lifecycle;
pub mod master_key;
pub mod secrets;
pub mod vaults;

pub use ctx::{ServedName, VAULT_CACHE_TTL, VaultCtx};
pub use error::VaultError;
pub use strongroom_store::{Page, PageRequest};
pub use vaults::{Vault, VaultSku};
