//! Conformance checks for the deleted state: soft delete, recover, listing deleted names,
//! purge, purge of expired names, and restore (which must not overwrite a name in use).

use std::sync::Arc;

use strongroom_model::{ObjectKind, UnixTime, VaultId};

use super::{
    SECRET, T0, assert_err, assert_row, current, deletion, first_page, ids, new_version,
    object_name, ok, put, vault, version,
};
use crate::{DeletedRow, NewVersion, PageRequest, Store, StoreError};

pub(super) async fn soft_delete_and_recover(store: Arc<dyn Store>) {
    let what = "soft delete";
    let store = &*store;
    let v = vault(store, "deletes").await;
    let name = object_name("gone");
    let v1 = new_version("gone", 7, 1);
    let v2 = new_version("gone", 7, 2);
    put(store, v, SECRET, v1.clone()).await;
    put(store, v, SECRET, v2.clone()).await;
    put(store, v, SECRET, new_version("stays", 7, 3)).await;
    let when = deletion(T0 + 1000);

    let deleted = ok(what, store.soft_delete(v, SECRET, &name, when).await);
    let deleted: DeletedRow =
        deleted.unwrap_or_else(|| panic!("store conformance: {what}: soft_delete found nothing"));
    assert_row(
        "soft delete: returns the current version",
        &deleted.current,
        "gone",
        &v2,
    );
    assert_eq!(deleted.deletion, when, "{what}: returns the deletion dates");

    assert!(
        current(store, v, SECRET, "gone").await.is_none(),
        "{what}: hidden from get"
    );
    let got = ok(
        what,
        store.get_version(v, SECRET, &name, Some(&v1.version)).await,
    );
    assert!(got.is_none(), "{what}: every version is hidden");
    let listed = ok(what, store.list_current(v, SECRET, first_page(10)).await);
    assert_eq!(
        ids(&listed.items),
        [format!("stays/{}", version(7, 3))],
        "{what}: hidden from list_current"
    );
    let versions = ok(
        what,
        store.list_versions(v, SECRET, &name, first_page(10)).await,
    );
    assert!(
        versions.items.is_empty(),
        "{what}: hidden from list_versions"
    );
    assert!(
        ok(what, store.all_versions(v, SECRET, &name).await).is_empty(),
        "{what}: hidden from all_versions"
    );
    assert_err!(
        store
            .put_version(v, SECRET, new_version("gone", 7, 4))
            .await,
        StoreError::NameDeleted,
        "soft delete: put_version onto a deleted name"
    );
    let again = ok(
        what,
        store
            .soft_delete(v, SECRET, &name, deletion(T0 + 2000))
            .await,
    );
    assert!(
        again.is_none(),
        "{what}: deleting a deleted name gives None"
    );
    let absent = ok(
        what,
        store
            .soft_delete(v, SECRET, &object_name("absent"), when)
            .await,
    );
    assert!(
        absent.is_none(),
        "{what}: deleting an absent name gives None"
    );

    let got = ok(what, store.get_deleted(v, SECRET, &name).await);
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: get_deleted found nothing"));
    assert_row("soft delete: get_deleted", &got.current, "gone", &v2);
    assert_eq!(
        got.deletion, when,
        "{what}: a second delete keeps the first dates"
    );
    assert!(
        ok(
            what,
            store.get_deleted(v, SECRET, &object_name("stays")).await
        )
        .is_none(),
        "{what}: live names are not deleted"
    );
    assert!(
        ok(what, store.get_deleted(v, ObjectKind::Key, &name).await).is_none(),
        "{what}: other kinds"
    );
    let listed = ok(what, store.list_deleted(v, SECRET, first_page(10)).await);
    assert_eq!(listed.items.len(), 1, "{what}: list_deleted");
    assert!(listed.next.is_none(), "{what}: list_deleted is one page");

    let recovered = ok(what, store.recover(v, SECRET, &name).await);
    let recovered =
        recovered.unwrap_or_else(|| panic!("store conformance: {what}: recover found nothing"));
    assert_row(
        "soft delete: recover returns the current version",
        &recovered,
        "gone",
        &v2,
    );
    assert!(
        ok(what, store.recover(v, SECRET, &name).await).is_none(),
        "{what}: recovering a live name gives None"
    );
    assert!(
        ok(what, store.recover(v, SECRET, &object_name("absent")).await).is_none(),
        "{what}: recovering an absent name"
    );
    assert!(
        ok(what, store.get_deleted(v, SECRET, &name).await).is_none(),
        "{what}: recovered is not deleted"
    );
    let all = ok(what, store.all_versions(v, SECRET, &name).await);
    assert_eq!(
        ids(&all),
        [
            format!("gone/{}", v1.version),
            format!("gone/{}", v2.version)
        ],
        "{what}: recover keeps every version"
    );
    put(store, v, SECRET, new_version("gone", 7, 5)).await;
}

pub(super) async fn list_deleted_paging(store: Arc<dyn Store>) {
    let what = "list_deleted paging";
    let store = &*store;
    let v = vault(store, "deleted-pages").await;
    let names = ["d5", "D1", "d3", "d4", "d2"];
    for (n, name) in (0u32..).zip(names) {
        put(store, v, SECRET, new_version(name, 8, n)).await;
        let when = deletion(T0 + i64::from(n));
        ok(
            what,
            store.soft_delete(v, SECRET, &object_name(name), when).await,
        );
    }
    put(store, v, SECRET, new_version("live", 8, 10)).await;
    put(store, v, ObjectKind::Key, new_version("d0", 8, 11)).await;
    ok(
        what,
        store
            .soft_delete(v, ObjectKind::Key, &object_name("d0"), deletion(T0))
            .await,
    );

    let mut after = None;
    let mut pages: Vec<Vec<String>> = Vec::new();
    loop {
        let page = ok(
            what,
            store
                .list_deleted(v, SECRET, PageRequest { after, limit: 2 })
                .await,
        );
        for row in &page.items {
            let n: i64 = row
                .current
                .tags
                .get("n")
                .and_then(|n| n.parse().ok())
                .unwrap_or(-1);
            assert_eq!(
                row.deletion,
                deletion(T0 + n),
                "{what}: {} carries its own dates",
                row.current.name
            );
        }
        pages.push(
            page.items
                .iter()
                .map(|row| row.current.name.to_string())
                .collect(),
        );
        after = page.next;
        if after.is_none() || pages.len() > 10 {
            break;
        }
    }
    assert_eq!(
        pages,
        [vec!["D1", "d2"], vec!["d3", "d4"], vec!["d5"]],
        "{what}: limit 2, by name"
    );
    let empty = ok(
        what,
        store
            .list_deleted(v, ObjectKind::Certificate, first_page(2))
            .await,
    );
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "{what}: nothing deleted"
    );
}

pub(super) async fn purge(store: Arc<dyn Store>) {
    let what = "purge";
    let store = &*store;
    let v = vault(store, "purges").await;
    let name = object_name("doomed");
    put(store, v, SECRET, new_version("doomed", 9, 1)).await;
    put(store, v, SECRET, new_version("doomed", 9, 2)).await;
    assert!(
        !ok(what, store.purge(v, SECRET, &name).await),
        "{what}: a live name is not purged"
    );
    assert!(
        current(store, v, SECRET, "doomed").await.is_some(),
        "{what}: and stays live"
    );
    assert!(
        !ok(what, store.purge(v, SECRET, &object_name("absent")).await),
        "{what}: an absent name"
    );

    ok(
        what,
        store.soft_delete(v, SECRET, &name, deletion(T0)).await,
    );
    assert!(
        !ok(what, store.purge(v, ObjectKind::Key, &name).await),
        "{what}: another kind's name"
    );
    assert!(
        ok(what, store.purge(v, SECRET, &name).await),
        "{what}: a deleted name is purged"
    );
    assert!(
        ok(what, store.get_deleted(v, SECRET, &name).await).is_none(),
        "{what}: gone from get_deleted"
    );
    let listed = ok(what, store.list_deleted(v, SECRET, first_page(10)).await);
    assert!(listed.items.is_empty(), "{what}: gone from list_deleted");
    assert!(
        !ok(what, store.purge(v, SECRET, &name).await),
        "{what}: a second purge is false"
    );
    assert!(
        ok(what, store.recover(v, SECRET, &name).await).is_none(),
        "{what}: nothing to recover"
    );

    // The name is free again, and its old version ids with it.
    put(store, v, SECRET, new_version("doomed", 9, 1)).await;
    let all = ok(what, store.all_versions(v, SECRET, &name).await);
    assert_eq!(
        ids(&all),
        [format!("doomed/{}", version(9, 1))],
        "{what}: only the new version"
    );
}

pub(super) async fn purge_expired(store: Arc<dyn Store>) {
    let what = "purge_expired";
    let store = &*store;
    let a = vault(store, "expiry-a").await;
    let b = vault(store, "expiry-b").await;
    let now = T0 + 5000;
    let cases = [
        (a, SECRET, "before", now - 1),
        (a, SECRET, "at", now),
        (a, SECRET, "after", now + 1),
        (b, ObjectKind::Key, "at", now),
        (b, ObjectKind::Certificate, "long-after", now + 1_000_000),
    ];
    for (n, (v, kind, name, purge_at)) in (0u32..).zip(cases) {
        put(store, v, kind, new_version(name, 10, n)).await;
        ok(
            what,
            store
                .soft_delete(v, kind, &object_name(name), deletion(purge_at))
                .await,
        );
    }
    put(store, a, SECRET, new_version("live", 10, 20)).await;

    let n_purged = ok(what, store.purge_expired(UnixTime(now)).await);
    assert_eq!(
        n_purged, 3,
        "{what}: purges dates at or before now, in every vault and kind"
    );
    let gone = [
        (a, SECRET, "before"),
        (a, SECRET, "at"),
        (b, ObjectKind::Key, "at"),
    ];
    for (v, kind, name) in gone {
        let got = ok(what, store.get_deleted(v, kind, &object_name(name)).await);
        assert!(got.is_none(), "{what}: {kind} {name} should be purged");
    }
    let kept = [
        (a, SECRET, "after"),
        (b, ObjectKind::Certificate, "long-after"),
    ];
    for (v, kind, name) in kept {
        let got = ok(what, store.get_deleted(v, kind, &object_name(name)).await);
        assert!(got.is_some(), "{what}: {kind} {name} is not yet due");
    }
    assert!(
        current(store, a, SECRET, "live").await.is_some(),
        "{what}: live names stay"
    );
    assert_eq!(
        ok(what, store.purge_expired(UnixTime(now)).await),
        0,
        "{what}: nothing left that is due"
    );
    assert_eq!(
        ok(what, store.purge_expired(UnixTime(now + 1)).await),
        1,
        "{what}: one second later"
    );
}

pub(super) async fn restore(store: Arc<dyn Store>) {
    let what = "restore";
    let store = &*store;
    let v = vault(store, "restores").await;
    let name = object_name("restored");
    let backup: Vec<NewVersion> = [3, 1, 2]
        .into_iter()
        .map(|n| new_version("restored", 11, n))
        .collect();
    let mut disabled = backup.clone();
    disabled[0].attributes.enabled = false;

    let got = ok(
        what,
        store.restore(v, SECRET, &name, disabled.clone()).await,
    );
    assert_row(
        "restore: returns the last version",
        &got,
        "restored",
        &disabled[2],
    );
    let all = ok(what, store.all_versions(v, SECRET, &name).await);
    assert_eq!(
        all.len(),
        3,
        "{what}: every version restored, got {:?}",
        ids(&all)
    );
    for (row, new) in all.iter().zip(&disabled) {
        assert_row(
            "restore: versions keep their order and fields",
            row,
            "restored",
            new,
        );
    }
    let cur = current(store, v, SECRET, "restored").await;
    let cur = cur.unwrap_or_else(|| panic!("store conformance: {what}: no current version"));
    assert_row(
        "restore: the last version is current",
        &cur,
        "restored",
        &disabled[2],
    );

    assert_err!(
        store.restore(v, SECRET, &name, backup.clone()).await,
        StoreError::AlreadyExists,
        "restore: onto a live name"
    );
    assert_err!(
        store
            .restore(v, SECRET, &object_name("RESTORED"), backup.clone())
            .await,
        StoreError::AlreadyExists,
        "restore: onto a live name in another case"
    );
    ok(
        what,
        store.soft_delete(v, SECRET, &name, deletion(T0)).await,
    );
    assert_err!(
        store.restore(v, SECRET, &name, backup.clone()).await,
        StoreError::AlreadyExists,
        "restore: onto a deleted name"
    );
    let still = ok(what, store.get_deleted(v, SECRET, &name).await);
    assert!(
        still.is_some(),
        "{what}: a refused restore leaves the deleted name alone"
    );

    let fresh = object_name("fresh");
    let mut duplicate: Vec<NewVersion> = (1..=3).map(|n| new_version("fresh", 11, n)).collect();
    duplicate.push(new_version("fresh", 11, 1));
    let refused = store.restore(v, SECRET, &fresh, duplicate).await;
    assert!(
        refused.is_err(),
        "{what}: a backup with a repeated version is refused, got {refused:?}"
    );
    assert!(
        ok(what, store.all_versions(v, SECRET, &fresh).await).is_empty(),
        "{what}: a failed restore writes nothing"
    );
    assert!(
        ok(what, store.get_deleted(v, SECRET, &fresh).await).is_none(),
        "{what}: nor a deleted name"
    );
    let fresh_versions: Vec<NewVersion> = (1..=2).map(|n| new_version("fresh", 11, n)).collect();
    let got = ok(
        what,
        store
            .restore(v, ObjectKind::Key, &fresh, fresh_versions.clone())
            .await,
    );
    assert_row(
        "restore: into another kind",
        &got,
        "fresh",
        &fresh_versions[1],
    );
    let absent_vault = VaultId(v.0 + 1000);
    assert_err!(
        store
            .restore(absent_vault, SECRET, &fresh, fresh_versions)
            .await,
        StoreError::NotFound,
        "restore: into an absent vault"
    );
}
