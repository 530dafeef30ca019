//! Conformance checks under concurrency: many tasks writing at once are all acknowledged and
//! then readable, and writes that fail (conflicts) do not disturb those that succeed
//! alongside them (which a backend that batches writes into one transaction must ensure).

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{SECRET, assert_err, new_version, object_name, ok, vault, version};
use crate::{Store, StoreError};

const N_WRITERS: u32 = 32;
const VERSIONS_EACH: u32 = 6;

pub(super) async fn concurrent_writes(store: Arc<dyn Store>) {
    let what = "concurrent writes";
    let v = vault(&*store, "busy").await;
    ok(
        what,
        store
            .put_version(v, SECRET, new_version("shared", 12, 0))
            .await,
    );

    let mut tasks = JoinSet::new();
    // Each writer adds versions to its own name, in order.
    for writer in 0..N_WRITERS {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for n in 0..VERSIONS_EACH {
                let new = new_version(&format!("own-{writer}"), 100 + writer, n);
                ok(
                    "concurrent writes: own name",
                    store.put_version(v, SECRET, new).await,
                );
            }
        });
    }
    // Writers racing on one name, and on metadata.
    for writer in 0..N_WRITERS {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let new = new_version("shared", 12, writer + 1);
            ok(
                "concurrent writes: shared name",
                store.put_version(v, SECRET, new).await,
            );
            let key = format!("meta-{writer}");
            ok(
                "concurrent writes: meta",
                store.put_meta(&key, key.as_bytes()).await,
            );
        });
    }
    // Readers running alongside always see a current version of the shared name.
    for _ in 0..8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for _ in 0..20 {
                let got = store
                    .get_version(v, SECRET, &object_name("shared"), None)
                    .await;
                assert!(
                    ok("concurrent writes: read", got).is_some(),
                    "concurrent writes: a read saw no current version"
                );
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(err) = joined {
            panic!("store conformance: {what}: a task failed: {err}");
        }
    }

    for writer in 0..N_WRITERS {
        let name = object_name(&format!("own-{writer}"));
        let all = ok(what, store.all_versions(v, SECRET, &name).await);
        let got: Vec<_> = all.iter().map(|row| row.version.clone()).collect();
        let want: Vec<_> = (0..VERSIONS_EACH)
            .map(|n| version(100 + writer, n))
            .collect();
        assert_eq!(
            got, want,
            "{what}: every acknowledged version of {name} is stored, in order"
        );
        let current =
            ok(what, store.get_version(v, SECRET, &name, None).await).map(|row| row.version);
        assert_eq!(
            current.as_ref(),
            want.last(),
            "{what}: {name}'s last version is current"
        );
        let key = format!("meta-{writer}");
        assert_eq!(
            ok(what, store.get_meta(&key).await),
            Some(key.into_bytes()),
            "{what}: meta"
        );
    }
    let shared = ok(
        what,
        store.all_versions(v, SECRET, &object_name("shared")).await,
    );
    assert_eq!(
        shared.len(),
        N_WRITERS as usize + 1,
        "{what}: every version of the shared name"
    );
    let current = ok(
        what,
        store
            .get_version(v, SECRET, &object_name("shared"), None)
            .await,
    );
    assert_eq!(
        current.map(|row| row.version),
        shared.last().map(|row| row.version.clone()),
        "{what}: the shared name's current version is its newest"
    );
}

pub(super) async fn failed_writes_do_not_disturb_others(store: Arc<dyn Store>) {
    let what = "failed writes among good ones";
    let v = vault(&*store, "mixed").await;
    ok(
        what,
        store
            .put_version(v, SECRET, new_version("taken", 13, 0))
            .await,
    );
    ok(
        what,
        store
            .put_version(v, SECRET, new_version("deleted", 13, 0))
            .await,
    );
    let deletion = crate::Deletion {
        deleted_date: strongroom_model::UnixTime(super::T0),
        scheduled_purge_date: strongroom_model::UnixTime(super::T0 + 1),
    };
    ok(
        what,
        store
            .soft_delete(v, SECRET, &object_name("deleted"), deletion)
            .await,
    );

    let mut tasks = JoinSet::new();
    for n in 1..=48u32 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            match n % 3 {
                // Conflicts: an existing version, a deleted name.
                0 => assert_err!(
                    store
                        .put_version(v, SECRET, new_version("taken", 13, 0))
                        .await,
                    StoreError::AlreadyExists,
                    "failed writes among good ones: duplicate version"
                ),
                1 => assert_err!(
                    store
                        .put_version(v, SECRET, new_version("deleted", 13, n))
                        .await,
                    StoreError::NameDeleted,
                    "failed writes among good ones: deleted name"
                ),
                _ => {
                    let new = new_version(&format!("good-{n}"), 13, n);
                    ok(
                        "failed writes among good ones: good write",
                        store.put_version(v, SECRET, new).await,
                    );
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(err) = joined {
            panic!("store conformance: {what}: a task failed: {err}");
        }
    }
    for n in (1..=48u32).filter(|n| n % 3 == 2) {
        let name = object_name(&format!("good-{n}"));
        let got = ok(what, store.get_version(v, SECRET, &name, None).await).map(|row| row.version);
        assert_eq!(got, Some(version(13, n)), "{what}: good-{n} is stored");
    }
    let taken = ok(
        what,
        store.all_versions(v, SECRET, &object_name("taken")).await,
    );
    assert_eq!(
        taken.len(),
        1,
        "{what}: the conflicts added nothing to `taken`"
    );
    let deleted = ok(
        what,
        store.get_deleted(v, SECRET, &object_name("deleted")).await,
    );
    let deleted =
        deleted.unwrap_or_else(|| panic!("store conformance: {what}: `deleted` vanished"));
    assert_eq!(
        deleted.current.version,
        version(13, 0),
        "{what}: `deleted` is unchanged"
    );
}
