//! Conformance checks for live objects: versions, case-insensitive names, field round trips,
//! updates, and paging of current versions and of one name's versions with cursors.

use std::collections::BTreeMap;
use std::sync::Arc;

use strongroom_model::{ObjectKind, Sealed, UnixTime, VaultId};

use super::{
    SECRET, T0, assert_err, assert_row, current, deletion, first_page, ids, new_version,
    object_name, ok, put, vault, version,
};
use crate::{NewVersion, Page, PageRequest, Store, StoreError, VersionRow, VersionUpdate};

/// Follows `next` cursors from the first page; returns each page's rows.
async fn collect_current(
    store: &dyn Store,
    vault: VaultId,
    kind: ObjectKind,
    limit: usize,
) -> Vec<Vec<VersionRow>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = ok(
            "list_current",
            store
                .list_current(vault, kind, PageRequest { after, limit })
                .await,
        );
        assert!(
            page.items.len() <= limit,
            "list_current: a page holds at most `limit` items"
        );
        assert!(
            page.next.is_none() || page.items.len() == limit,
            "list_current: only a full page may have a next cursor"
        );
        after = page.next;
        pages.push(page.items);
        if after.is_none() || pages.len() > 100 {
            return pages;
        }
    }
}

fn names_of(pages: &[Vec<VersionRow>]) -> Vec<Vec<String>> {
    pages
        .iter()
        .map(|page| page.iter().map(|row| row.name.to_string()).collect())
        .collect()
}

pub(super) async fn versions(store: Arc<dyn Store>) {
    let what = "versions";
    let store = &*store;
    let v = vault(store, "objects").await;
    let other_vault = vault(store, "other").await;
    let alpha = object_name("alpha");
    let v1 = new_version("alpha", 1, 1);
    let v2 = new_version("alpha", 1, 2);
    put(store, v, SECRET, v1.clone()).await;
    let got = current(store, v, SECRET, "alpha").await;
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: current after one put"));
    assert_row("versions: current after one put", &got, "alpha", &v1);
    put(store, v, SECRET, v2.clone()).await;
    let got = current(store, v, SECRET, "alpha").await;
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: current after two puts"));
    assert_row("versions: the newest put is current", &got, "alpha", &v2);
    let got = ok(
        what,
        store
            .get_version(v, SECRET, &alpha, Some(&v1.version))
            .await,
    );
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: v1 by version"));
    assert_row("versions: an older version by its id", &got, "alpha", &v1);
    let got = ok(
        what,
        store
            .get_version(v, SECRET, &alpha, Some(&version(1, 99)))
            .await,
    );
    assert!(
        got.is_none(),
        "{what}: an absent version is None, got {got:?}"
    );
    assert!(
        current(store, v, SECRET, "absent").await.is_none(),
        "{what}: an absent name"
    );

    assert_err!(
        store
            .put_version(v, SECRET, new_version("alpha", 1, 1))
            .await,
        StoreError::AlreadyExists,
        "versions: putting an existing version"
    );
    let got = current(store, v, SECRET, "alpha")
        .await
        .map(|row| row.version);
    assert_eq!(
        got,
        Some(v2.version.clone()),
        "{what}: a refused put leaves the current version"
    );
    let all = ok(what, store.all_versions(v, SECRET, &alpha).await);
    assert_eq!(
        ids(&all),
        [
            "alpha/00000001000000000000000000000001",
            "alpha/00000001000000000000000000000002"
        ],
        "{what}: all_versions oldest first"
    );

    assert!(
        current(store, v, ObjectKind::Key, "alpha").await.is_none(),
        "{what}: kinds are separate namespaces"
    );
    assert!(
        current(store, other_vault, SECRET, "alpha").await.is_none(),
        "{what}: vaults are separate"
    );
    // The same version id under another kind or vault is a different object.
    put(store, v, ObjectKind::Key, new_version("alpha", 1, 1)).await;
    put(
        store,
        v,
        ObjectKind::Certificate,
        new_version("alpha", 1, 1),
    )
    .await;
    put(store, other_vault, SECRET, new_version("alpha", 1, 1)).await;
    let got = current(store, v, SECRET, "alpha")
        .await
        .map(|row| row.version);
    assert_eq!(
        got,
        Some(v2.version),
        "{what}: other kinds and vaults do not touch this name"
    );
    let absent_vault = VaultId(v.0.max(other_vault.0) + 1000);
    assert_err!(
        store
            .put_version(absent_vault, SECRET, new_version("alpha", 1, 3))
            .await,
        StoreError::NotFound,
        "versions: put_version into an absent vault"
    );
}

pub(super) async fn names_ignore_case(store: Arc<dyn Store>) {
    let what = "case-insensitive names";
    let store = &*store;
    let v = vault(store, "cases").await;
    put(store, v, SECRET, new_version("Mixed-Case", 2, 1)).await;
    let got = current(store, v, SECRET, "mixed-case").await;
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: lookup in another case"));
    assert_eq!(
        got.name.as_str(),
        "Mixed-Case",
        "{what}: rows carry the name as first written"
    );

    let second = ok(
        what,
        store
            .put_version(v, SECRET, new_version("MIXED-CASE", 2, 2))
            .await,
    );
    assert_eq!(
        second.name.as_str(),
        "Mixed-Case",
        "{what}: a put in another case adds to the name"
    );
    let all = ok(
        what,
        store
            .all_versions(v, SECRET, &object_name("mIxEd-CaSe"))
            .await,
    );
    assert_eq!(
        all.len(),
        2,
        "{what}: both versions under one name, got {:?}",
        ids(&all)
    );
    assert!(
        all.iter().all(|row| row.name.as_str() == "Mixed-Case"),
        "{what}: {:?}",
        ids(&all)
    );
    let page = ok(what, store.list_current(v, SECRET, first_page(10)).await);
    assert_eq!(
        ids(&page.items),
        [format!("Mixed-Case/{}", version(2, 2))],
        "{what}: one listed name"
    );

    let deleted = ok(
        what,
        store
            .soft_delete(v, SECRET, &object_name("MIXED-case"), deletion(T0))
            .await,
    );
    let deleted =
        deleted.unwrap_or_else(|| panic!("store conformance: {what}: soft delete in another case"));
    assert_eq!(
        deleted.current.name.as_str(),
        "Mixed-Case",
        "{what}: deleted row name"
    );
    assert_err!(
        store
            .put_version(v, SECRET, new_version("mixed-CASE", 2, 3))
            .await,
        StoreError::NameDeleted,
        "case-insensitive names: put onto a deleted name in another case"
    );
    assert!(
        ok(
            what,
            store
                .get_deleted(v, SECRET, &object_name("mixed-case"))
                .await
        )
        .is_some(),
        "{what}: get_deleted"
    );
    let recovered = ok(
        what,
        store.recover(v, SECRET, &object_name("MIXED-CASE")).await,
    );
    assert!(recovered.is_some(), "{what}: recover in another case");
    ok(
        what,
        store
            .soft_delete(v, SECRET, &object_name("mixed-case"), deletion(T0))
            .await,
    );
    assert!(
        ok(
            what,
            store.purge(v, SECRET, &object_name("MIXED-CASE")).await
        ),
        "{what}: purge in another case"
    );
    let got = put(store, v, SECRET, new_version("mixed-case", 2, 4)).await;
    assert_eq!(
        got.name.as_str(),
        "mixed-case",
        "{what}: after a purge the name is written anew"
    );
}

pub(super) async fn fields_round_trip(store: Arc<dyn Store>) {
    let what = "fields";
    let store = &*store;
    let v = vault(store, "fields").await;
    let mut odd = new_version("odd", 3, 1);
    odd.attributes.enabled = false;
    odd.attributes.not_before = Some(UnixTime(-5));
    odd.attributes.expires = Some(UnixTime(i64::MAX));
    odd.attributes.created = UnixTime(0);
    odd.attributes.updated = UnixTime(1);
    odd.tags = BTreeMap::from([
        (String::new(), String::new()),
        ("ünïcødé".to_owned(), "värde ✓".to_owned()),
        ("comma,and=equals".to_owned(), "line\nbreak\0nul".to_owned()),
    ]);
    odd.meta = Vec::new();
    odd.payload = Sealed::from(Vec::new());
    put(store, v, SECRET, odd.clone()).await;
    let got = current(store, v, SECRET, "odd").await;
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: odd is absent"));
    assert_row("fields: unusual values round-trip", &got, "odd", &odd);

    let mut big = new_version("big", 3, 2);
    big.payload = Sealed::from((0..=255u8).cycle().take(256 * 1024).collect::<Vec<u8>>());
    big.meta = vec![0xff; 4096];
    big.tags = (0..15)
        .map(|i| (format!("tag{i}"), "v".repeat(256)))
        .collect();
    put(store, v, SECRET, big.clone()).await;
    let got = ok(
        what,
        store
            .get_version(v, SECRET, &object_name("big"), Some(&big.version))
            .await,
    );
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: big is absent"));
    assert_row("fields: a large payload round-trips", &got, "big", &big);
}

pub(super) async fn update(store: Arc<dyn Store>) {
    let what = "update";
    let store = &*store;
    let v = vault(store, "updates").await;
    let name = object_name("upd");
    let v1 = new_version("upd", 4, 1);
    let v2 = new_version("upd", 4, 2);
    put(store, v, SECRET, v1.clone()).await;
    put(store, v, SECRET, v2.clone()).await;

    let disable = VersionUpdate {
        enabled: Some(false),
        updated: UnixTime(T0 + 50),
        ..VersionUpdate::default()
    };
    let got = ok(
        what,
        store
            .update_version(v, SECRET, &name, &v1.version, disable)
            .await,
    );
    let mut want = v1.clone();
    want.attributes.enabled = false;
    want.attributes.updated = UnixTime(T0 + 50);
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: updating v1 found nothing"));
    assert_row("update: returns the updated row", &got, "upd", &want);
    let stored = ok(
        what,
        store.get_version(v, SECRET, &name, Some(&v1.version)).await,
    );
    let stored = stored.unwrap_or_else(|| panic!("store conformance: {what}: v1 vanished"));
    assert_row("update: the change is stored", &stored, "upd", &want);
    let cur = current(store, v, SECRET, "upd").await;
    let cur = cur.unwrap_or_else(|| panic!("store conformance: {what}: no current version"));
    assert_row(
        "update: an older version's update leaves the current one",
        &cur,
        "upd",
        &v2,
    );

    let new_tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
    let change = VersionUpdate {
        not_before: Some(Some(UnixTime(T0 + 1))),
        expires: Some(Some(UnixTime(T0 + 2))),
        tags: Some(new_tags.clone()),
        meta: Some(b"new meta".to_vec()),
        updated: UnixTime(T0 + 60),
        ..VersionUpdate::default()
    };
    ok(
        what,
        store
            .update_version(v, SECRET, &name, &v2.version, change)
            .await,
    );
    let mut want = v2.clone();
    want.attributes.not_before = Some(UnixTime(T0 + 1));
    want.attributes.expires = Some(UnixTime(T0 + 2));
    want.attributes.updated = UnixTime(T0 + 60);
    want.tags = new_tags;
    want.meta = b"new meta".to_vec();
    let cur = current(store, v, SECRET, "UPD").await;
    let cur = cur.unwrap_or_else(|| panic!("store conformance: {what}: no current version"));
    assert_row(
        "update: dates, tags and meta change; payload stays",
        &cur,
        "upd",
        &want,
    );

    let clear = VersionUpdate {
        not_before: Some(None),
        updated: UnixTime(T0 + 70),
        ..VersionUpdate::default()
    };
    ok(
        what,
        store
            .update_version(v, SECRET, &name, &v2.version, clear)
            .await,
    );
    want.attributes.not_before = None;
    want.attributes.updated = UnixTime(T0 + 70);
    let cur = current(store, v, SECRET, "upd").await;
    let cur = cur.unwrap_or_else(|| panic!("store conformance: {what}: no current version"));
    assert_row(
        "update: Some(None) clears a date, None leaves one",
        &cur,
        "upd",
        &want,
    );

    let nothing = || VersionUpdate {
        updated: UnixTime(T0 + 80),
        ..VersionUpdate::default()
    };
    let got = ok(
        what,
        store
            .update_version(v, SECRET, &name, &version(4, 99), nothing())
            .await,
    );
    assert!(got.is_none(), "{what}: an absent version gives None");
    let got = ok(
        what,
        store
            .update_version(v, SECRET, &object_name("absent"), &v1.version, nothing())
            .await,
    );
    assert!(got.is_none(), "{what}: an absent name gives None");
    ok(
        what,
        store.soft_delete(v, SECRET, &name, deletion(T0)).await,
    );
    let got = ok(
        what,
        store
            .update_version(v, SECRET, &name, &v2.version, nothing())
            .await,
    );
    assert!(
        got.is_none(),
        "{what}: a deleted name cannot be updated, got {got:?}"
    );
}

pub(super) async fn list_current_paging(store: Arc<dyn Store>) {
    let what = "list_current paging";
    let store = &*store;
    let v = vault(store, "paging").await;
    let other = vault(store, "paging-other").await;
    assert_eq!(
        names_of(&collect_current(store, v, SECRET, 3).await),
        [Vec::<String>::new()],
        "{what}: an empty vault gives one empty page"
    );
    // Inserted out of order and in mixed case; listed by lower-cased name in byte order.
    let names = ["f", "b", "e-1", "A", "D", "e", "c"];
    for (n, name) in (0u32..).zip(names) {
        put(store, v, SECRET, new_version(name, 5, n)).await;
    }
    put(store, v, SECRET, new_version("b", 5, 100)).await; // b's current is its second version
    put(store, v, SECRET, new_version("gone", 5, 200)).await;
    ok(
        what,
        store
            .soft_delete(v, SECRET, &object_name("gone"), deletion(T0))
            .await,
    );
    put(store, v, ObjectKind::Key, new_version("key-only", 5, 300)).await;
    put(store, other, SECRET, new_version("elsewhere", 5, 400)).await;

    let pages = collect_current(store, v, SECRET, 3).await;
    assert_eq!(
        names_of(&pages),
        [vec!["A", "b", "c"], vec!["D", "e", "e-1"], vec!["f"]],
        "{what}: limit 3"
    );
    let b = &pages[0][1];
    assert_eq!(
        b.version,
        version(5, 100),
        "{what}: each item is the name's current version"
    );
    assert_eq!(
        names_of(&collect_current(store, v, SECRET, 7).await).len(),
        1,
        "{what}: an exact fit is one page"
    );
    assert_eq!(
        names_of(&collect_current(store, v, SECRET, 6).await),
        [vec!["A", "b", "c", "D", "e", "e-1"], vec!["f"]],
        "{what}: limit 6"
    );
    assert_eq!(
        names_of(&collect_current(store, v, SECRET, 1000).await).len(),
        1,
        "{what}: a large limit"
    );
    assert_eq!(
        names_of(&collect_current(store, v, ObjectKind::Key, 3).await),
        [vec!["key-only"]],
        "{what}: other kinds list separately"
    );

    // A cursor means "after this name": names added before it are skipped, after it are seen.
    let page = ok(what, store.list_current(v, SECRET, first_page(3)).await);
    let cursor = page
        .next
        .unwrap_or_else(|| panic!("store conformance: {what}: no cursor"));
    put(store, v, SECRET, new_version("Aa", 5, 500)).await;
    put(store, v, SECRET, new_version("zz", 5, 501)).await;
    let rest = ok(
        what,
        store
            .list_current(
                v,
                SECRET,
                PageRequest {
                    after: Some(cursor),
                    limit: 10,
                },
            )
            .await,
    );
    let rest: Vec<String> = rest.items.iter().map(|row| row.name.to_string()).collect();
    assert_eq!(
        rest,
        ["D", "e", "e-1", "f", "zz"],
        "{what}: continuing from a cursor"
    );
}

pub(super) async fn list_versions_paging(store: Arc<dyn Store>) {
    let what = "list_versions paging";
    let store = &*store;
    let v = vault(store, "versions").await;
    let name = object_name("multi");
    // Version ids descend while insertion ascends: order must follow insertion.
    let written: Vec<NewVersion> = (0..5).map(|i| new_version("multi", 6, 50 - i)).collect();
    for new in &written {
        put(store, v, SECRET, new.clone()).await;
    }
    put(store, v, SECRET, new_version("another", 6, 1)).await;
    let want: Vec<String> = written
        .iter()
        .map(|new| format!("multi/{}", new.version))
        .collect();

    for (limit, sizes) in [
        (2, vec![2, 2, 1]),
        (5, vec![5]),
        (4, vec![4, 1]),
        (1, vec![1; 5]),
    ] {
        let mut after = None;
        let mut got = Vec::new();
        let mut got_sizes = Vec::new();
        loop {
            let page: Page<VersionRow> = ok(
                what,
                store
                    .list_versions(v, SECRET, &name, PageRequest { after, limit })
                    .await,
            );
            got_sizes.push(page.items.len());
            got.extend(ids(&page.items));
            after = page.next;
            if after.is_none() || got_sizes.len() > 10 {
                break;
            }
        }
        assert_eq!(got, want, "{what}: limit {limit}: oldest first");
        assert_eq!(got_sizes, sizes, "{what}: limit {limit}: page sizes");
    }
    let all = ok(what, store.all_versions(v, SECRET, &name).await);
    assert_eq!(ids(&all), want, "{what}: all_versions");
    for (row, new) in all.iter().zip(&written) {
        assert_row("list_versions paging: all_versions rows", row, "multi", new);
    }

    let absent = ok(
        what,
        store
            .list_versions(v, SECRET, &object_name("absent"), first_page(3))
            .await,
    );
    assert!(
        absent.items.is_empty() && absent.next.is_none(),
        "{what}: an absent name gives an empty last page"
    );
    let other_kind = ok(
        what,
        store
            .list_versions(v, ObjectKind::Key, &name, first_page(3))
            .await,
    );
    assert!(
        other_kind.items.is_empty(),
        "{what}: other kinds have no such name"
    );
    assert!(
        ok(
            what,
            store.all_versions(v, SECRET, &object_name("absent")).await
        )
        .is_empty(),
        "{what}"
    );
    assert_err!(
        store
            .list_versions(
                v,
                SECRET,
                &name,
                PageRequest {
                    after: Some("not a cursor".to_owned()),
                    limit: 3
                }
            )
            .await,
        StoreError::InvalidCursor,
        "list_versions paging: a cursor the store did not produce"
    );
}
