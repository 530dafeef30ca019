//! Conformance checks for certificates: a certificate's version is written together with the
//! key and secret versions of its name, and soft delete, recover and purge of a certificate
//! move its key and secret with it. A key's or secret's own lifecycle moves nothing else.
//! A pending version is completed in place, with its secret, policy and operation documents
//! in the same write; the operation document follows its name like a policy does.

use std::sync::Arc;

use strongroom_model::{ObjectKind, VaultId};

use super::{
    T0, assert_err, assert_row, current, deletion, new_version, object_name, ok, put, vault,
};
use crate::{CertificateRestore, CertificateVersions, Store, StoreError};

const CERT: ObjectKind = ObjectKind::Certificate;
const KEY: ObjectKind = ObjectKind::Key;
const SECRET: ObjectKind = ObjectKind::Secret;
const ALL: [ObjectKind; 3] = [CERT, KEY, SECRET];

fn linked(name: &str, series: u32, n: u32, with_secret: bool) -> CertificateVersions {
    CertificateVersions {
        certificate: new_version(name, series, n),
        completes: false,
        key: Some(new_version(name, series + 1, n)),
        secret: with_secret.then(|| new_version(name, series + 2, n)),
        policy: None,
        operation: None,
    }
}

/// Which of the three kinds have a live current version of `name`.
async fn live(store: &dyn Store, v: VaultId, name: &str) -> Vec<ObjectKind> {
    let mut out = Vec::new();
    for kind in ALL {
        if current(store, v, kind, name).await.is_some() {
            out.push(kind);
        }
    }
    out
}

/// Which of the three kinds have `name` in the deleted state.
async fn deleted(store: &dyn Store, v: VaultId, name: &str) -> Vec<ObjectKind> {
    let mut out = Vec::new();
    for kind in ALL {
        let found = ok(
            "get_deleted",
            store.get_deleted(v, kind, &object_name(name)).await,
        );
        if found.is_some() {
            out.push(kind);
        }
    }
    out
}

pub(super) async fn written_together(store: Arc<dyn Store>) {
    let what = "put_certificate_versions";
    let store = &*store;
    let v = vault(store, "certs").await;

    let versions = linked("web", 30, 1, true);
    let row = ok(
        what,
        store.put_certificate_versions(v, versions.clone()).await,
    );
    assert_row(what, &row, "web", &versions.certificate);
    for (kind, want) in [
        (CERT, &versions.certificate),
        (KEY, versions.key.as_ref().unwrap()),
        (SECRET, versions.secret.as_ref().unwrap()),
    ] {
        let got = current(store, v, kind, "web").await;
        let got = got.unwrap_or_else(|| panic!("store conformance: {what}: no current {kind}"));
        assert_row(&format!("{what}: the {kind}"), &got, "web", want);
    }

    // A pending certificate: key, no secret; the secret's name stays free.
    ok(
        what,
        store
            .put_certificate_versions(v, linked("pending", 33, 1, false))
            .await,
    );
    assert_eq!(
        live(store, v, "pending").await,
        [CERT, KEY],
        "{what}: no secret"
    );

    // One failing part writes nothing: a plain key of the name exists (soft-deleted here), so
    // no certificate can take the name.
    put(store, v, KEY, new_version("blocked", 36, 1)).await;
    ok(
        what,
        store
            .soft_delete(v, KEY, &object_name("blocked"), deletion(T0 + 1000))
            .await,
    );
    assert_err!(
        store
            .put_certificate_versions(v, linked("blocked", 37, 1, true))
            .await,
        StoreError::OwnedName { owner: KEY },
        "put_certificate_versions onto a plain key's name"
    );
    assert!(
        live(store, v, "blocked").await.is_empty(),
        "{what}: a failed write leaves no certificate or secret behind"
    );

    // Every part must carry the certificate's name.
    let mut mismatched = linked("apart", 40, 1, true);
    mismatched.secret = Some(new_version("other", 40, 2));
    assert_err!(
        store.put_certificate_versions(v, mismatched).await,
        StoreError::Corrupt(_),
        "put_certificate_versions with a secret of another name"
    );
    assert!(
        live(store, v, "apart").await.is_empty() && live(store, v, "other").await.is_empty(),
        "{what}: a refused write leaves nothing behind"
    );
}

pub(super) async fn lifecycle_moves_key_and_secret(store: Arc<dyn Store>) {
    let what = "certificate lifecycle";
    let store = &*store;
    let v = vault(store, "certlife").await;
    let name = object_name("site");
    ok(
        what,
        store
            .put_certificate_versions(v, linked("site", 50, 1, true))
            .await,
    );
    // Read every kind once, so a cache of current versions would hold them.
    assert_eq!(live(store, v, "site").await, ALL, "{what}: all live");

    let when = deletion(T0 + 5000);
    let gone = ok(what, store.soft_delete(v, CERT, &name, when).await);
    assert!(gone.is_some(), "{what}: soft delete found the certificate");
    assert!(
        live(store, v, "site").await.is_empty(),
        "{what}: soft delete hides key and secret too"
    );
    assert_eq!(deleted(store, v, "site").await, ALL, "{what}: all deleted");
    let key = ok(what, store.get_deleted(v, KEY, &name).await).unwrap();
    assert_eq!(
        key.deletion, when,
        "{what}: the key has the certificate's dates"
    );

    let back = ok(what, store.recover(v, CERT, &name).await);
    assert!(back.is_some(), "{what}: recover found the certificate");
    assert_eq!(
        live(store, v, "site").await,
        ALL,
        "{what}: recover brings all back"
    );
    assert!(deleted(store, v, "site").await.is_empty());

    ok(what, store.soft_delete(v, CERT, &name, when).await);
    assert!(
        ok(what, store.purge(v, CERT, &name).await),
        "{what}: purged"
    );
    assert!(
        live(store, v, "site").await.is_empty() && deleted(store, v, "site").await.is_empty(),
        "{what}: purge removes key and secret too"
    );
    // The name is free again for every kind.
    ok(
        what,
        store
            .put_certificate_versions(v, linked("site", 53, 1, true))
            .await,
    );

    // A key's own lifecycle moves only the key.
    put(store, v, KEY, new_version("plain", 56, 1)).await;
    put(store, v, SECRET, new_version("plain", 57, 1)).await;
    let plain = object_name("plain");
    ok(what, store.soft_delete(v, KEY, &plain, when).await);
    assert_eq!(
        live(store, v, "plain").await,
        [SECRET],
        "{what}: deleting a key leaves the secret of its name"
    );
}

pub(super) async fn pending_completed_in_place(store: Arc<dyn Store>) {
    let what = "complete a pending certificate";
    let store = &*store;
    let v = vault(store, "pending").await;
    let name = object_name("csr");

    // The create: certificate and key, the policy and the operation, no secret.
    let mut pending = linked("csr", 60, 1, false);
    pending.policy = Some(b"policy 1".to_vec());
    pending.operation = Some(b"operation inProgress".to_vec());
    ok(
        what,
        store.put_certificate_versions(v, pending.clone()).await,
    );
    let operation = ok(what, store.get_certificate_operation(v, &name).await);
    assert_eq!(
        operation.as_deref(),
        Some(&b"operation inProgress"[..]),
        "{what}: operation"
    );
    let policy = ok(what, store.get_name_policy(v, CERT, &name).await);
    assert_eq!(policy.as_deref(), Some(&b"policy 1"[..]), "{what}: policy");

    // Completing a version that does not exist writes nothing, not even the secret.
    let mut stray = linked("csr", 70, 1, true);
    stray.key = None;
    stray.completes = true;
    stray.operation = Some(b"operation stray".to_vec());
    assert_err!(
        store.put_certificate_versions(v, stray).await,
        StoreError::NotFound,
        "completing a version that does not exist"
    );
    assert_eq!(
        live(store, v, "csr").await,
        [CERT, KEY],
        "{what}: still no secret"
    );
    let operation = ok(what, store.get_certificate_operation(v, &name).await);
    assert_eq!(
        operation.as_deref(),
        Some(&b"operation inProgress"[..]),
        "{what}: unchanged"
    );

    // The merge: the same version, new contents, and the secret of that version.
    let mut merged = new_version("csr", 60, 2);
    merged.version = pending.certificate.version.clone();
    let secret = new_version("csr", 62, 2);
    let completion = CertificateVersions {
        certificate: merged.clone(),
        completes: true,
        key: None,
        secret: Some(secret.clone()),
        policy: None,
        operation: Some(b"operation completed".to_vec()),
    };
    let row = ok(what, store.put_certificate_versions(v, completion).await);
    assert_row(what, &row, "csr", &merged);
    let got = current(store, v, CERT, "csr")
        .await
        .unwrap_or_else(|| panic!("{what}: gone"));
    assert_row(&format!("{what}: current"), &got, "csr", &merged);
    let versions = ok(what, store.all_versions(v, CERT, &name).await);
    assert_eq!(versions.len(), 1, "{what}: completed in place, not added");
    let got = current(store, v, SECRET, "csr")
        .await
        .unwrap_or_else(|| panic!("{what}: no secret"));
    assert_row(&format!("{what}: the secret"), &got, "csr", &secret);
    let operation = ok(what, store.get_certificate_operation(v, &name).await);
    assert_eq!(
        operation.as_deref(),
        Some(&b"operation completed"[..]),
        "{what}: operation"
    );
    let policy = ok(what, store.get_name_policy(v, CERT, &name).await);
    assert_eq!(
        policy.as_deref(),
        Some(&b"policy 1"[..]),
        "{what}: policy kept"
    );
}

pub(super) async fn operation_follows_its_name(store: Arc<dyn Store>) {
    let what = "certificate operation document";
    let store = &*store;
    let v = vault(store, "operations").await;
    let name = object_name("op");
    assert_err!(
        store
            .put_certificate_operation(v, &name, b"x".to_vec())
            .await,
        StoreError::NotFound,
        "an operation for a name that does not exist"
    );
    ok(
        what,
        store
            .put_certificate_versions(v, linked("op", 80, 1, true))
            .await,
    );
    assert_eq!(
        ok(what, store.get_certificate_operation(v, &name).await),
        None
    );
    ok(
        what,
        store
            .put_certificate_operation(v, &name, b"first".to_vec())
            .await,
    );
    ok(
        what,
        store
            .put_certificate_operation(v, &name, b"second".to_vec())
            .await,
    );
    let got = ok(
        what,
        store.get_certificate_operation(v, &object_name("OP")).await,
    );
    assert_eq!(
        got.as_deref(),
        Some(&b"second"[..]),
        "{what}: replaced, any casing"
    );

    let when = deletion(T0 + 9000);
    ok(what, store.soft_delete(v, CERT, &name, when).await);
    assert_eq!(
        ok(what, store.get_certificate_operation(v, &name).await),
        None,
        "{what}: hidden while deleted"
    );
    assert!(
        !ok(what, store.delete_certificate_operation(v, &name).await),
        "{what}: a deleted name's operation cannot be deleted"
    );
    ok(what, store.recover(v, CERT, &name).await);
    let got = ok(what, store.get_certificate_operation(v, &name).await);
    assert_eq!(
        got.as_deref(),
        Some(&b"second"[..]),
        "{what}: back with its name"
    );

    assert!(
        ok(what, store.delete_certificate_operation(v, &name).await),
        "{what}: deleted"
    );
    assert!(
        !ok(what, store.delete_certificate_operation(v, &name).await),
        "{what}: once"
    );
    assert_eq!(
        ok(what, store.get_certificate_operation(v, &name).await),
        None
    );

    ok(
        what,
        store
            .put_certificate_operation(v, &name, b"third".to_vec())
            .await,
    );
    ok(what, store.soft_delete(v, CERT, &name, when).await);
    ok(what, store.purge(v, CERT, &name).await);
    ok(
        what,
        store
            .put_certificate_versions(v, linked("op", 83, 1, true))
            .await,
    );
    assert_eq!(
        ok(what, store.get_certificate_operation(v, &name).await),
        None,
        "{what}: purge removed it; a new certificate of the name starts without one"
    );
}

pub(super) async fn restored_together(store: Arc<dyn Store>) {
    let what = "restore_certificate";
    let store = &*store;
    let v = vault(store, "restorecert").await;
    let name = object_name("back");
    let restore = CertificateRestore {
        name: name.clone(),
        certificate: vec![new_version("back", 90, 1), new_version("back", 90, 2)],
        key: vec![new_version("back", 91, 1), new_version("back", 91, 2)],
        secret: vec![new_version("back", 92, 2)],
        policy: Some(b"restored policy".to_vec()),
    };
    let row = ok(what, store.restore_certificate(v, restore.clone()).await);
    assert_row(what, &row, "back", &restore.certificate[1]);
    for (kind, want) in [(KEY, &restore.key[1]), (SECRET, &restore.secret[0])] {
        let got = current(store, v, kind, "back")
            .await
            .unwrap_or_else(|| panic!("{what}: no {kind}"));
        assert_row(&format!("{what}: the {kind}"), &got, "back", want);
    }
    let policy = ok(what, store.get_name_policy(v, CERT, &name).await);
    assert_eq!(policy.as_deref(), Some(&b"restored policy"[..]));

    // A second restore finds the names in use and writes nothing; nor does one whose key name
    // alone is taken.
    assert_err!(
        store.restore_certificate(v, restore.clone()).await,
        StoreError::AlreadyExists,
        "restore_certificate onto a name in use"
    );
    put(store, v, KEY, new_version("keyonly", 93, 1)).await;
    let mut blocked = restore.clone();
    blocked.name = object_name("keyonly");
    for version in blocked
        .certificate
        .iter_mut()
        .chain(&mut blocked.key)
        .chain(&mut blocked.secret)
    {
        version.name = object_name("keyonly");
    }
    assert_err!(
        store.restore_certificate(v, blocked).await,
        StoreError::AlreadyExists,
        "restore_certificate onto a key name in use"
    );
    assert_eq!(
        live(store, v, "keyonly").await,
        [KEY],
        "{what}: nothing else written"
    );
}

pub(super) async fn owned_names_are_written_with_their_certificate(store: Arc<dyn Store>) {
    let what = "a certificate owns its key and secret";
    let store = &*store;
    let v = vault(store, "owned").await;
    ok(
        what,
        store
            .put_certificate_versions(v, linked("owned", 100, 1, true))
            .await,
    );
    for kind in [KEY, SECRET] {
        assert_err!(
            store
                .put_version(v, kind, new_version("OWNED", 101, 2))
                .await,
            StoreError::OwnedName { owner: CERT },
            "a key or secret version on its own for a certificate's name"
        );
    }
    // Still owned while the certificate is deleted (its key and secret are deleted with it).
    ok(
        what,
        store
            .soft_delete(v, CERT, &object_name("owned"), deletion(T0 + 7000))
            .await,
    );
    assert_err!(
        store
            .put_version(v, SECRET, new_version("owned", 102, 3))
            .await,
        StoreError::OwnedName { owner: CERT },
        "a secret version for a deleted certificate's name"
    );
    // A plain secret's name cannot become a certificate's either; nothing is written.
    put(store, v, SECRET, new_version("plainsecret", 103, 1)).await;
    assert_err!(
        store
            .put_certificate_versions(v, linked("plainsecret", 104, 1, true))
            .await,
        StoreError::OwnedName { owner: SECRET },
        "a certificate over a plain secret's name"
    );
    assert_eq!(
        live(store, v, "plainsecret").await,
        [SECRET],
        "{what}: nothing written"
    );
    // Once the certificate is purged, the name is free for a plain key.
    ok(what, store.purge(v, CERT, &object_name("owned")).await);
    put(store, v, KEY, new_version("owned", 105, 4)).await;
}
