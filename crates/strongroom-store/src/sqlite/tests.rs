//! Tests of the SQLite backend on real files in temp directories: the conformance suite,
//! durability across close and reopen, file permissions, payload bytes stored verbatim,
//! group commit and migrations.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};

use super::{SqliteStore, directory};
use crate::{Deletion, NewVault, NewVersion, Store, StoreError, VersionAttributes};

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).expect("open store")
}

fn new_vault(name: &str) -> NewVault {
    NewVault {
        name: VaultName::parse(name).unwrap(),
        tenant_id: "tenant".to_owned(),
        retention_days: 90,
        created: UnixTime(1_700_000_000),
        sealed_data_key: Sealed::from(b"sealed data key".to_vec()),
        sku: "standard".to_owned(),
        access_policies: Vec::new(),
        rbac_authorization: false,
        resource_group: None,
    }
}

fn new_version(name: &str, version: &str, payload: &[u8]) -> NewVersion {
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
        tags: BTreeMap::from([("team".to_owned(), "blue".to_owned())]),
        meta: b"text/plain".to_vec(),
        payload: Sealed::from(payload.to_vec()),
    }
}

const V1: &str = "0123456789abcdef0123456789abcdef";
const V2: &str = "fedcba9876543210fedcba9876543210";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    let dir = temp_dir();
    let n_stores = AtomicUsize::new(0);
    crate::conformance::run_all(|| {
        let n = n_stores.fetch_add(1, Ordering::Relaxed);
        let store: Arc<dyn Store> = Arc::new(open(&dir.path().join(format!("store-{n}.db"))));
        std::future::ready(store)
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_every_acknowledged_write() {
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    let name = ObjectName::parse("kept").unwrap();
    let vault_id = {
        let store = open(&path);
        let vault = store.create_vault(new_vault("durable")).await.unwrap();
        store.put_meta("ca", b"ca bytes").await.unwrap();
        store
            .put_version(
                vault.id,
                ObjectKind::Secret,
                new_version("kept", V1, b"one"),
            )
            .await
            .unwrap();
        store
            .put_version(
                vault.id,
                ObjectKind::Secret,
                new_version("kept", V2, b"two"),
            )
            .await
            .unwrap();
        store
            .put_version(
                vault.id,
                ObjectKind::Secret,
                new_version("dropped", V1, b"x"),
            )
            .await
            .unwrap();
        let deletion = Deletion {
            deleted_date: UnixTime(1_700_000_100),
            scheduled_purge_date: UnixTime(1_700_000_200),
        };
        let dropped = ObjectName::parse("dropped").unwrap();
        store
            .soft_delete(vault.id, ObjectKind::Secret, &dropped, deletion)
            .await
            .unwrap();
        vault.id
    };
    let store = open(&path);
    assert_eq!(
        store.get_meta("ca").await.unwrap().as_deref(),
        Some(&b"ca bytes"[..])
    );
    let vault = store
        .get_vault(&VaultName::parse("durable").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vault.id, vault_id);
    assert_eq!(
        vault.sealed_data_key,
        Sealed::from(b"sealed data key".to_vec())
    );
    let current = store
        .get_version(vault_id, ObjectKind::Secret, &name, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version.as_str(), V2);
    assert_eq!(current.payload, Sealed::from(b"two".to_vec()));
    assert_eq!(
        store
            .all_versions(vault_id, ObjectKind::Secret, &name)
            .await
            .unwrap()
            .len(),
        2
    );
    let dropped = ObjectName::parse("dropped").unwrap();
    let deleted = store
        .get_deleted(vault_id, ObjectKind::Secret, &dropped)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        deleted.deletion.scheduled_purge_date,
        UnixTime(1_700_000_200)
    );
    // Ids keep growing across restarts: a new vault never takes an old one's id.
    assert!(store.delete_vault(vault_id).await.unwrap());
    drop(store);
    let store = open(&path);
    let again = store.create_vault(new_vault("durable")).await.unwrap();
    assert!(again.id > vault_id);
}

#[tokio::test]
async fn files_are_private_and_the_payload_is_stored_verbatim() {
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    // A payload as the vault layer would hand over: opaque bytes, including NUL and 0xff.
    let payload: Vec<u8> = b"\x00\xffsealed-marker-3f9a\x01\x02"
        .iter()
        .copied()
        .chain((0..200u8).map(|b| b.wrapping_mul(7)))
        .collect();
    {
        let store = open(&path);
        let vault = store.create_vault(new_vault("private")).await.unwrap();
        store
            .put_version(vault.id, ObjectKind::Secret, new_version("s", V1, &payload))
            .await
            .unwrap();
        for file in [path.clone(), sibling(&path, "-wal"), sibling(&path, "-shm")] {
            assert_eq!(mode(&file), 0o600, "{} must be 0600", file.display());
        }
    }
    // Closing checkpointed the WAL into the main file; the bytes are there exactly as given.
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes
            .windows(payload.len())
            .any(|window| window == payload.as_slice()),
        "the sealed payload must be stored byte for byte"
    );
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn opening_makes_an_existing_file_private() {
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    drop(open(&path));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = open(&path);
    assert_eq!(mode(&path), 0o600);
    store.put_meta("k", b"v").await.unwrap();
}

#[tokio::test]
async fn opening_in_a_missing_directory_fails_cleanly() {
    let dir = temp_dir();
    let result = SqliteStore::open(&dir.path().join("absent").join("strongroom.db"));
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn migrations_run_once_and_newer_schemas_are_refused() {
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    drop(open(&path));
    let user_version = |path: &Path| -> i64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    };
    assert_eq!(user_version(&path), super::schema::current_version());
    drop(open(&path)); // a second open finds nothing to do
    assert_eq!(user_version(&path), super::schema::current_version());

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", super::schema::current_version() + 1)
        .unwrap();
    drop(conn);
    let result = SqliteStore::open(&path);
    assert!(
        matches!(&result, Err(StoreError::Unavailable(message)) if message.contains("newer")),
        "{result:?}"
    );
}

#[tokio::test]
async fn credentials_written_before_certificates_existed_read_as_secrets() {
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    // A file as the first schema left it, with one client secret.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(super::schema::MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute_batch(
        "INSERT INTO principals VALUES ('o1', 'a1', 't1', 'old', 'ServicePrincipal', 0, 5);
         INSERT INTO credentials VALUES ('o1', 0, 'k1', x'0102', x'0304', 'abc', 5, 99);",
    )
    .unwrap();
    drop(conn);

    let store = open(&path);
    let principal = store.get_principal_by_app_id("a1").await.unwrap().unwrap();
    let credential = &principal.credentials[0];
    assert_eq!(principal.credentials.len(), 1);
    assert_eq!(
        (
            credential.key_id.as_str(),
            credential.salt.as_slice(),
            credential.hash.as_slice()
        ),
        ("k1", &[1u8, 2][..], &[3u8, 4][..])
    );
    assert_eq!(credential.hint, "abc");
    assert_eq!(credential.expires, Some(UnixTime(99)));
    assert_eq!(
        credential.certificate, None,
        "an old row is a client secret"
    );
}

/// Holds the writer inside a transaction until `release` is sent; returns its reply.
fn block_writer(
    store: &SqliteStore,
    before_blocking: impl FnOnce(&rusqlite::Connection) -> Result<(), StoreError> + Send + 'static,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::sync::oneshot::Receiver<Result<(), StoreError>>,
) {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let reply = store
        .writer
        .submit(move |conn| {
            before_blocking(conn)?;
            released
                .recv()
                .map_err(|_| StoreError::Unavailable("test dropped the latch".to_owned()))
        })
        .unwrap();
    (release, reply)
}

#[tokio::test]
async fn queued_writes_share_one_commit_and_a_failure_rolls_back_alone() {
    let dir = temp_dir();
    let store = open(&dir.path().join("strongroom.db"));
    let commits_before = store.transactions_committed();
    let (release, blocker) = block_writer(&store, |_| Ok(()));

    let mut good = Vec::new();
    for i in 0..10 {
        good.push(
            store
                .writer
                .submit(move |conn| directory::put_meta(conn, &format!("k{i}"), b"v"))
                .unwrap(),
        );
    }
    let failing = store
        .writer
        .submit(|conn| {
            directory::put_meta(conn, "partial", b"written, then the write fails")?;
            Err::<(), _>(StoreError::Corrupt("deliberate failure".to_owned()))
        })
        .unwrap();
    for i in 10..20 {
        good.push(
            store
                .writer
                .submit(move |conn| directory::put_meta(conn, &format!("k{i}"), b"v"))
                .unwrap(),
        );
    }
    release.send(()).unwrap();

    blocker.await.unwrap().unwrap();
    for reply in good {
        reply.await.unwrap().unwrap();
    }
    let failed = failing.await.unwrap();
    assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{failed:?}");
    assert_eq!(
        store.transactions_committed(),
        commits_before + 1,
        "one group commit for all 22"
    );
    for i in 0..20 {
        assert!(
            store.get_meta(&format!("k{i}")).await.unwrap().is_some(),
            "k{i}"
        );
    }
    assert_eq!(
        store.get_meta("partial").await.unwrap(),
        None,
        "the failed write rolled back"
    );
}

#[tokio::test]
async fn reads_do_not_wait_for_the_writer_and_see_only_commits() {
    let dir = temp_dir();
    let store = open(&dir.path().join("strongroom.db"));
    store.put_meta("before", b"1").await.unwrap();
    let (release, blocker) = block_writer(&store, |conn| {
        directory::put_meta(conn, "uncommitted", b"2")
    });
    // The writer now holds an open transaction with "uncommitted" written in it.
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        (
            store.get_meta("before").await.unwrap(),
            store.get_meta("uncommitted").await.unwrap(),
        )
    })
    .await
    .expect("reads must not wait for the writer");
    assert_eq!(read, (Some(b"1".to_vec()), None));
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    assert_eq!(
        store.get_meta("uncommitted").await.unwrap(),
        Some(b"2".to_vec())
    );
}

#[tokio::test]
async fn a_panicking_write_fails_alone_and_the_writer_carries_on() {
    let dir = temp_dir();
    let store = open(&dir.path().join("strongroom.db"));
    let reply = store
        .writer
        .submit(|conn| -> Result<(), StoreError> {
            directory::put_meta(conn, "half", b"x")?;
            panic!("deliberate panic in a write")
        })
        .unwrap();
    assert!(matches!(
        reply.await.unwrap(),
        Err(StoreError::Unavailable(_))
    ));
    store.put_meta("after", b"y").await.unwrap();
    assert_eq!(store.get_meta("half").await.unwrap(), None);
    assert_eq!(store.get_meta("after").await.unwrap(), Some(b"y".to_vec()));
}

#[tokio::test]
async fn hot_statements_are_prepared_once() {
    // Guards the QPSG setting in schema.rs: without it every run of a join re-prepares.
    let dir = temp_dir();
    let path = dir.path().join("strongroom.db");
    let store = open(&path);
    let vault = store.create_vault(new_vault("hot")).await.unwrap();
    for name in ["a", "b", "c"] {
        store
            .put_version(vault.id, ObjectKind::Secret, new_version(name, V1, b"x"))
            .await
            .unwrap();
    }
    let conn = super::schema::open_reader(&path).unwrap();
    let version = Version::parse(V1).unwrap();
    for name in ["a", "b", "c", "absent"] {
        let name = ObjectName::parse(name).unwrap();
        super::objects::get_version(&conn, vault.id, ObjectKind::Secret, &name, None).unwrap();
        super::objects::get_version(&conn, vault.id, ObjectKind::Secret, &name, Some(&version))
            .unwrap();
    }
    for sql in [super::objects::LIVE_CURRENT, super::objects::LIVE_VERSION] {
        let stmt = conn.prepare_cached(sql).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::Run), 4, "{sql}");
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "{sql}"
        );
    }
}
