//! Storage hygiene: what a purge, a janitor purge or a vault's deletion acknowledged is gone
//! from the raw bytes of the database file, its WAL and its shared-memory index, not only
//! from query results; and a file written before `secure_delete` is scrubbed when opened.
//!
//! Each payload is pseudo-random bytes (so no run of them occurs by chance elsewhere), and
//! the files are searched for every 32-byte aligned chunk of it: a row split across pages
//! or overflow pages still leaves whole chunks behind when it is not wiped.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};

use super::SqliteStore;
use crate::{Deletion, NewVault, NewVersion, Store, VersionAttributes};

const CHUNK: usize = 32;

/// `len` bytes from a xorshift generator: reproducible, and no byte pattern repeats.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The files (database, `-wal`, `-shm`) in which some aligned chunk of `payload` occurs.
fn files_holding(path: &Path, payload: &[u8]) -> Vec<String> {
    let chunks: HashSet<&[u8]> = payload.chunks_exact(CHUNK).collect();
    [
        path.to_owned(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ]
    .into_iter()
    .filter_map(|file| {
        let bytes = std::fs::read(&file).ok()?;
        let found = bytes
            .windows(CHUNK)
            .filter(|window| chunks.contains(window))
            .count();
        (found > 0).then(|| format!("{} ({found} chunks)", file.display()))
    })
    .collect()
}

fn vault(name: &str) -> NewVault {
    NewVault {
        name: VaultName::parse(name).unwrap(),
        tenant_id: "tenant".to_owned(),
        retention_days: 90,
        created: UnixTime(1_700_000_000),
        sealed_data_key: Sealed::from(payload(99, 60)),
        sku: "standard".to_owned(),
        access_policies: Vec::new(),
        rbac_authorization: false,
        resource_group: None,
    }
}

fn version(name: &str, version: &str, payload: &[u8]) -> NewVersion {
    NewVersion {
        name: ObjectName::parse(name).unwrap(),
        version: Version::parse(version).unwrap(),
        attributes: VersionAttributes {
            enabled: true,
            not_before: None,
            expires: None,
            created: UnixTime(1_700_000_000),
            updated: UnixTime(1_700_000_000),
        },
        tags: BTreeMap::new(),
        meta: b"text/plain".to_vec(),
        payload: Sealed::from(payload.to_vec()),
    }
}

const V1: &str = "0123456789abcdef0123456789abcdef";
const V2: &str = "fedcba9876543210fedcba9876543210";

fn deletion(purge_at: i64) -> Deletion {
    Deletion {
        deleted_date: UnixTime(1_700_000_100),
        scheduled_purge_date: UnixTime(purge_at),
    }
}

/// Writes `name` with two versions (a small payload in the page, a large one in overflow
/// pages) and soft-deletes it; returns the payloads.
async fn written_and_deleted(
    store: &SqliteStore,
    vault: strongroom_model::VaultId,
    name: &str,
    seed: u64,
    purge_at: i64,
) -> Vec<Vec<u8>> {
    let payloads = vec![payload(seed, 320), payload(seed + 1, 12_000)];
    for (v, bytes) in [V1, V2].into_iter().zip(&payloads) {
        store
            .put_version(vault, ObjectKind::Secret, version(name, v, bytes))
            .await
            .unwrap();
    }
    let name = ObjectName::parse(name).unwrap();
    store
        .soft_delete(vault, ObjectKind::Secret, &name, deletion(purge_at))
        .await
        .unwrap()
        .expect("the name was live");
    payloads
}

#[tokio::test]
async fn purged_payloads_are_gone_from_the_database_and_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strongroom.db");
    let store = SqliteStore::open(&path).unwrap();
    let vault = store.create_vault(vault("hygiene")).await.unwrap();
    // A neighbour that stays: rows on the same pages keep being rewritten.
    let kept = payload(7, 500);
    store
        .put_version(vault.id, ObjectKind::Secret, version("kept", V1, &kept))
        .await
        .unwrap();

    let purged = written_and_deleted(&store, vault.id, "purged", 11, 1_700_000_200).await;
    let expired = written_and_deleted(&store, vault.id, "expired", 21, 1_700_000_200).await;
    for bytes in purged.iter().chain(&expired) {
        assert!(
            !files_holding(&path, bytes).is_empty(),
            "the search must find a live payload, or it proves nothing"
        );
    }

    // An explicit purge, acknowledged: nothing of it is left while the store is still open.
    let name = ObjectName::parse("purged").unwrap();
    assert!(
        store
            .purge(vault.id, ObjectKind::Secret, &name)
            .await
            .unwrap()
    );
    for bytes in &purged {
        assert_eq!(files_holding(&path, bytes), Vec::<String>::new(), "purge");
    }
    // The janitor's purge of expired names, the same.
    assert_eq!(
        store.purge_expired(UnixTime(1_700_000_300)).await.unwrap(),
        1
    );
    for bytes in &expired {
        assert_eq!(
            files_holding(&path, bytes),
            Vec::<String>::new(),
            "purge_expired"
        );
    }
    assert!(
        !files_holding(&path, &kept).is_empty(),
        "what was not purged is still stored"
    );

    // Deleting the vault takes its data key and every object with it.
    assert!(store.delete_vault(vault.id).await.unwrap());
    for bytes in [&kept, &payload(99, 60)] {
        assert_eq!(
            files_holding(&path, bytes),
            Vec::<String>::new(),
            "vault deletion"
        );
    }
}

#[tokio::test]
async fn every_connection_zeroes_what_it_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("strongroom.db")).unwrap();
    let secure_delete = |conn: &rusqlite::Connection| {
        conn.pragma_query_value(None, "secure_delete", |row| row.get::<_, i64>(0))
            .map_err(crate::StoreError::from)
    };
    assert_eq!(store.writer.write(secure_delete).await.unwrap(), 1);
    assert_eq!(store.readers.read(secure_delete).await.unwrap(), 1);
}

#[tokio::test]
async fn a_database_from_before_secure_delete_is_scrubbed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strongroom.db");
    let leftover = payload(31, 2_000);
    {
        // A file as schema version 5 left it: a row deleted without secure_delete.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "secure_delete", false).unwrap();
        for migration in &super::schema::MIGRATIONS[..5] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('old', ?1)",
            [&leftover],
        )
        .unwrap();
        conn.execute("DELETE FROM meta WHERE key = 'old'", [])
            .unwrap();
    }
    assert!(
        !files_holding(&path, &leftover).is_empty(),
        "without secure_delete the deleted row stays in the file"
    );

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(files_holding(&path, &leftover), Vec::<String>::new());
    store.put_meta("after", b"v").await.unwrap();
    drop(store);
    // Opening it again finds nothing to do.
    drop(SqliteStore::open(&path).unwrap());
}
