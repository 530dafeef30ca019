//! The advisory locks this backend takes, and why each exists.
//!
//! PostgreSQL has two advisory key spaces that never overlap: one `bigint`, one pair of
//! `int4`. The pair space holds the deployment-wide locks (`NAMESPACE`, then which one):
//! migrations and start-up, held on a connection of their own for a session. The `bigint`
//! space holds the per-name transaction locks (`name_key`): every write that reads a name's
//! state and then changes it (put a version, soft delete, recover, purge, restore, a
//! certificate's three kinds, its documents) first takes the lock of (vault, name folded to
//! lower case), whatever the kind, so two nodes writing one name run one after the other. That
//! is what SQLite's single writer gives for free: a new name inserted once, versions numbered
//! in commit order, a plain secret and a certificate never both claiming one name. Locks of
//! distinct names that hash alike only serialise those writes.

/// First key of every deployment-wide lock: "STRM".
pub(super) const NAMESPACE: i32 = 0x5354_524D;
/// Second key: `schema.rs`'s migrations.
pub(super) const MIGRATION: i32 = 1;
/// Second key: `Store::startup_lock`.
pub(super) const STARTUP: i32 = 2;

/// A session lock in the pair space; waits until it is free.
pub(super) const LOCK_SESSION: &str = "SELECT pg_advisory_lock($1, $2)";

/// The per-name transaction lock (released at commit or rollback).
pub(super) const LOCK_NAME: &str = "SELECT pg_advisory_xact_lock($1)";

/// The `bigint` key of a name's lock: FNV-1a over the vault id and the name in lower case.
/// Every node must compute the same key, so this function is part of the schema's contract.
pub(super) fn name_key(vault: i64, name: &str) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in vault
        .to_le_bytes()
        .into_iter()
        .chain(name.bytes().map(|b| b.to_ascii_lowercase()))
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    i64::from_le_bytes(hash.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::name_key;

    #[test]
    fn name_keys_ignore_case_and_separate_vaults() {
        assert_eq!(name_key(1, "My-Secret"), name_key(1, "my-secret"));
        assert_ne!(name_key(1, "my-secret"), name_key(2, "my-secret"));
        assert_ne!(name_key(1, "a"), name_key(1, "b"));
        // Pinned: nodes of different builds must agree on the key.
        assert_eq!(name_key(7, "Name"), 9_083_942_049_342_211_561);
    }
}
