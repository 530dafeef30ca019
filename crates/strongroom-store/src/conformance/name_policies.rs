//! Per-name policy documents: stored only for live names, kept through soft delete and
//! recover, removed by purge and vault deletion, listed per kind for the scheduler.

use std::sync::Arc;

use strongroom_model::{ObjectKind, VaultId};

use super::{T0, assert_err, deletion, new_version, object_name, ok, put, vault};
use crate::{Store, StoreError};

const KEY: ObjectKind = ObjectKind::Key;

pub(super) async fn follow_their_name(store: Arc<dyn Store>) {
    let what = "name policies follow their name";
    let store = &*store;
    let v = vault(store, "policies").await;
    let name = object_name("rotated");
    assert_err!(
        store.put_name_policy(v, KEY, &name, b"p1".to_vec()).await,
        StoreError::NotFound,
        format!("{what}: an absent name has no policy to set")
    );
    put(store, v, KEY, new_version("rotated", 1, 1)).await;
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        None,
        "{what}: a new name has none"
    );
    ok(
        what,
        store.put_name_policy(v, KEY, &name, b"p1".to_vec()).await,
    );
    ok(
        what,
        store
            .put_name_policy(v, KEY, &object_name("ROTATED"), b"p2".to_vec())
            .await,
    );
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        Some(b"p2".to_vec()),
        "{what}: replaced, case-insensitively"
    );
    assert_eq!(
        ok(
            what,
            store.get_name_policy(v, ObjectKind::Secret, &name).await
        ),
        None,
        "{what}: another kind's name"
    );
    put(store, v, KEY, new_version("rotated", 1, 2)).await;
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        Some(b"p2".to_vec()),
        "{what}: a new version keeps the policy"
    );

    ok(what, store.soft_delete(v, KEY, &name, deletion(T0)).await);
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        None,
        "{what}: a deleted name shows none"
    );
    assert_err!(
        store.put_name_policy(v, KEY, &name, b"p3".to_vec()).await,
        StoreError::NotFound,
        format!("{what}: a deleted name takes none")
    );
    ok(what, store.recover(v, KEY, &name).await);
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        Some(b"p2".to_vec()),
        "{what}: recover brings it back"
    );

    ok(what, store.soft_delete(v, KEY, &name, deletion(T0)).await);
    assert!(ok(what, store.purge(v, KEY, &name).await), "{what}: purged");
    put(store, v, KEY, new_version("rotated", 2, 1)).await;
    assert_eq!(
        ok(what, store.get_name_policy(v, KEY, &name).await),
        None,
        "{what}: a purged name's policy is gone for its successor"
    );
}

pub(super) async fn listed_for_the_scheduler(store: Arc<dyn Store>) {
    let what = "name policies listed";
    let store = &*store;
    let a = vault(store, "vault-a").await;
    let b = vault(store, "vault-b").await;
    for (v, name, series) in [(a, "k1", 3), (a, "k2", 4), (b, "k1", 5), (a, "k3", 6)] {
        put(store, v, KEY, new_version(name, series, 1)).await;
    }
    put(store, a, ObjectKind::Secret, new_version("k1", 7, 1)).await;
    for (v, name) in [(a, "k1"), (a, "k2"), (b, "k1")] {
        ok(
            what,
            store
                .put_name_policy(v, KEY, &object_name(name), name.as_bytes().to_vec())
                .await,
        );
    }
    ok(
        what,
        store
            .soft_delete(a, KEY, &object_name("k2"), deletion(T0))
            .await,
    );
    let listed = ok(what, store.list_name_policies(KEY).await);
    let got: Vec<(i64, String, Vec<u8>)> = listed
        .into_iter()
        .map(|row| (row.vault.0, row.name.as_str().to_owned(), row.policy))
        .collect();
    assert_eq!(
        got,
        vec![
            (a.0, "k1".to_owned(), b"k1".to_vec()),
            (b.0, "k1".to_owned(), b"k1".to_vec()),
        ],
        "{what}: live names with a policy, by vault then name"
    );
    assert!(
        ok(what, store.list_name_policies(ObjectKind::Secret).await).is_empty(),
        "{what}: per kind"
    );
    assert!(
        ok(what, store.delete_vault(b).await),
        "{what}: vault deleted"
    );
    assert_eq!(
        ok(what, store.list_name_policies(KEY).await).len(),
        1,
        "{what}: a deleted vault's policies are gone"
    );
}

pub(super) async fn vault_documents_by_kind_and_name(store: Arc<dyn Store>) {
    let what = "vault documents";
    let store = &*store;
    let v = vault(store, "vaultdocs").await;
    let other = vault(store, "vaultdocs2").await;
    assert_err!(
        store
            .put_vault_document(VaultId(v.0 + 1000), "issuer", "x", b"d".to_vec())
            .await,
        StoreError::NotFound,
        "a document of a vault that does not exist"
    );
    ok(
        what,
        store
            .put_vault_document(v, "issuer", "Beta", b"beta 1".to_vec())
            .await,
    );
    ok(
        what,
        store
            .put_vault_document(v, "issuer", "alpha", b"alpha".to_vec())
            .await,
    );
    ok(
        what,
        store
            .put_vault_document(v, "issuer", "BETA", b"beta 2".to_vec())
            .await,
    );
    ok(
        what,
        store
            .put_vault_document(v, "contacts", "", b"contacts".to_vec())
            .await,
    );
    ok(
        what,
        store
            .put_vault_document(other, "issuer", "alpha", b"other".to_vec())
            .await,
    );
    assert_eq!(
        ok(what, store.list_vault_documents(v, "issuer").await),
        [
            ("alpha".to_owned(), b"alpha".to_vec()),
            ("Beta".to_owned(), b"beta 2".to_vec())
        ],
        "{what}: one per case-insensitive name, by name, first spelling kept"
    );
    let got = ok(what, store.get_vault_document(v, "contacts", "").await);
    assert_eq!(got.as_deref(), Some(&b"contacts"[..]));
    let got = ok(
        what,
        store.get_vault_document(other, "issuer", "ALPHA").await,
    );
    assert_eq!(got.as_deref(), Some(&b"other"[..]), "{what}: per vault");
    assert!(ok(
        what,
        store.delete_vault_document(v, "issuer", "beta").await
    ));
    assert!(!ok(
        what,
        store.delete_vault_document(v, "issuer", "beta").await
    ));
    assert_eq!(
        ok(what, store.get_vault_document(v, "issuer", "Beta").await),
        None
    );
}

pub(super) async fn deployment_documents_by_kind_and_name(store: Arc<dyn Store>) {
    let what = "deployment documents";
    let store = &*store;
    for (kind, name, document) in [
        ("resourceGroups", "Beta", &b"beta 1"[..]),
        ("resourceGroups", "alpha", b"alpha"),
        ("resourceGroups", "BETA", b"beta 2"),
        ("roleAssignments", "alpha", b"other kind"),
    ] {
        ok(
            what,
            store
                .put_deployment_document(kind, name, document.to_vec())
                .await,
        );
    }
    assert_eq!(
        ok(
            what,
            store.list_deployment_documents("resourceGroups").await
        ),
        [
            ("alpha".to_owned(), b"alpha".to_vec()),
            ("Beta".to_owned(), b"beta 2".to_vec())
        ],
        "{what}: one per case-insensitive name, by name, first spelling kept"
    );
    assert_eq!(
        ok(
            what,
            store
                .get_deployment_document("resourceGroups", "beta")
                .await
        ),
        Some(("Beta".to_owned(), b"beta 2".to_vec())),
        "{what}: found in any case, with its first spelling"
    );
    assert_eq!(
        ok(
            what,
            store
                .get_deployment_document("roleAssignments", "ALPHA")
                .await
        ),
        Some(("alpha".to_owned(), b"other kind".to_vec())),
        "{what}: per kind"
    );
    assert!(ok(
        what,
        store
            .delete_deployment_document("resourceGroups", "BETA")
            .await
    ));
    assert!(!ok(
        what,
        store
            .delete_deployment_document("resourceGroups", "beta")
            .await
    ));
    assert_eq!(
        ok(
            what,
            store
                .get_deployment_document("resourceGroups", "beta")
                .await
        ),
        None
    );
    assert_eq!(
        ok(
            what,
            store.list_deployment_documents("resourceGroups").await
        )
        .len(),
        1,
        "{what}: only the deleted one went"
    );
}
