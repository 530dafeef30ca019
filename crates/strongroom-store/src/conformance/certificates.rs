//! Conformance checks for certificates: a certificate's version is written together with the
//! key and secret versions of its name, and soft delete, recover and purge of a certificate
//! move its key and secret with it. A key's or secret's own lifecycle moves nothing else.

use std::sync::Arc;

use strongroom_model::{ObjectKind, VaultId};

use super::{
    T0, assert_err, assert_row, current, deletion, new_version, object_name, ok, put, vault,
};
use crate::{CertificateVersions, Store, StoreError};

const CERT: ObjectKind = ObjectKind::Certificate;
const KEY: ObjectKind = ObjectKind::Key;
const SECRET: ObjectKind = ObjectKind::Secret;
const ALL: [ObjectKind; 3] = [CERT, KEY, SECRET];

fn linked(name: &str, series: u32, n: u32, with_secret: bool) -> CertificateVersions {
    CertificateVersions {
        certificate: new_version(name, series, n),
        key: Some(new_version(name, series + 1, n)),
        secret: with_secret.then(|| new_version(name, series + 2, n)),
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

    // One failing part writes nothing: the key's name is soft-deleted.
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
        StoreError::NameDeleted,
        "put_certificate_versions onto a deleted key name"
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
