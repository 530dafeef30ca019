//! Conformance checks for everything but objects: metadata, tenants, principals and their
//! credentials, vaults and access policies, and what deleting a vault takes with it.

use std::sync::Arc;

use strongroom_model::{ObjectKind, Sealed, UnixTime, VaultId, VaultName};

use super::{T0, assert_err, new_vault, new_version, object_name, ok, vault};
use crate::{
    AccessPolicyRow, CredentialRow, Deletion, PageRequest, PrincipalRow, Reseal, ResealedMeta,
    ResealedVaultKey, Store, StoreError, TenantRow, VaultRow,
};

pub(super) async fn meta(store: Arc<dyn Store>) {
    let what = "meta";
    assert_eq!(
        ok(what, store.get_meta("absent").await),
        None,
        "{what}: absent key"
    );
    ok(what, store.put_meta("ca", b"one").await);
    assert_eq!(
        ok(what, store.get_meta("ca").await).as_deref(),
        Some(&b"one"[..]),
        "{what}: put"
    );
    ok(what, store.put_meta("ca", b"two").await);
    assert_eq!(
        ok(what, store.get_meta("ca").await).as_deref(),
        Some(&b"two"[..]),
        "{what}: a second put replaces the value"
    );
    ok(what, store.put_meta("empty", b"").await);
    assert_eq!(
        ok(what, store.get_meta("empty").await).as_deref(),
        Some(&b""[..]),
        "{what}: an empty value is a value, not an absence"
    );
    let every_byte: Vec<u8> = (0..=255).collect();
    ok(what, store.put_meta("binary", &every_byte).await);
    assert_eq!(
        ok(what, store.get_meta("binary").await),
        Some(every_byte),
        "{what}: values are bytes, kept exactly"
    );
    assert_eq!(
        ok(what, store.get_meta("CA").await),
        None,
        "{what}: keys compare exactly (case-sensitive)"
    );
}

pub(super) async fn tenants(store: Arc<dyn Store>) {
    let what = "tenants";
    assert!(
        ok(what, store.list_tenants().await).is_empty(),
        "{what}: a new store has none"
    );
    assert_eq!(
        ok(what, store.get_tenant("t1").await),
        None,
        "{what}: absent tenant"
    );
    let t1 = TenantRow {
        tenant_id: "t1".to_owned(),
        display_name: "First".to_owned(),
        is_default: true,
    };
    let t2 = TenantRow {
        tenant_id: "t2".to_owned(),
        display_name: "Second".to_owned(),
        is_default: false,
    };
    ok(what, store.put_tenant(t1.clone()).await);
    ok(what, store.put_tenant(t2.clone()).await);
    assert_eq!(
        ok(what, store.get_tenant("t1").await),
        Some(t1.clone()),
        "{what}: get t1"
    );
    assert_eq!(
        ok(what, store.get_tenant("t2").await),
        Some(t2.clone()),
        "{what}: get t2"
    );
    let t1_renamed = TenantRow {
        display_name: "First, renamed".to_owned(),
        is_default: false,
        ..t1
    };
    ok(what, store.put_tenant(t1_renamed.clone()).await);
    assert_eq!(
        ok(what, store.get_tenant("t1").await),
        Some(t1_renamed.clone()),
        "{what}: put_tenant replaces an existing tenant"
    );
    let mut listed = ok(what, store.list_tenants().await);
    listed.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
    assert_eq!(listed, vec![t1_renamed, t2], "{what}: list");
}

fn credential(key_id: &str, expires: Option<UnixTime>) -> CredentialRow {
    CredentialRow {
        key_id: key_id.to_owned(),
        salt: format!("salt of {key_id}").into_bytes(),
        hash: [&[0, 1, 2, 255][..], key_id.as_bytes()].concat(),
        hint: key_id.chars().take(3).collect(),
        created: UnixTime(T0),
        expires,
        certificate: None,
        display_name: format!("secret {key_id}"),
    }
}

/// A certificate credential: no hash, the certificate's DER (with a zero byte) round-trips.
fn certificate_credential(key_id: &str) -> CredentialRow {
    CredentialRow {
        key_id: key_id.to_owned(),
        salt: Vec::new(),
        hash: Vec::new(),
        hint: String::new(),
        created: UnixTime(T0),
        expires: Some(UnixTime(T0 + 200)),
        certificate: Some([&[0x30, 0x82, 0, 255][..], key_id.as_bytes()].concat()),
        display_name: String::new(),
    }
}

fn principal(object_id: &str, app_id: &str, credentials: Vec<CredentialRow>) -> PrincipalRow {
    PrincipalRow {
        object_id: object_id.to_owned(),
        app_id: app_id.to_owned(),
        tenant_id: "t1".to_owned(),
        display_name: format!("principal {object_id}"),
        kind: "ServicePrincipal".to_owned(),
        is_admin: object_id == "o1",
        created: UnixTime(T0),
        credentials,
    }
}

pub(super) async fn principals(store: Arc<dyn Store>) {
    let what = "principals";
    let p1 = principal(
        "o1",
        "a1",
        vec![
            credential("k1", Some(UnixTime(T0 + 100))),
            certificate_credential("c1"),
            credential("k2", None),
        ],
    );
    let p2 = principal("o2", "a2", Vec::new());
    assert!(
        ok(what, store.list_principals().await).is_empty(),
        "{what}: a new store has none"
    );
    ok(what, store.create_principal(p1.clone()).await);
    ok(what, store.create_principal(p2.clone()).await);
    assert_eq!(
        ok(what, store.get_principal_by_app_id("a1").await),
        Some(p1.clone()),
        "{what}: by app id, with credentials in order"
    );
    assert_eq!(
        ok(what, store.get_principal_by_object_id("o1").await),
        Some(p1.clone()),
        "{what}: by object id"
    );
    assert_eq!(
        ok(what, store.get_principal_by_app_id("o1").await),
        None,
        "{what}: ids differ"
    );
    assert_eq!(
        ok(what, store.get_principal_by_object_id("absent").await),
        None,
        "{what}"
    );

    assert_err!(
        store
            .create_principal(principal("o1", "a9", vec![credential("k9", None)]))
            .await,
        StoreError::AlreadyExists,
        "principals: a taken object id"
    );
    assert_err!(
        store
            .create_principal(principal("o9", "a1", vec![credential("k9", None)]))
            .await,
        StoreError::AlreadyExists,
        "principals: a taken app id"
    );
    assert_eq!(
        ok(what, store.get_principal_by_object_id("o1").await),
        Some(p1.clone()),
        "{what}: a refused create changes nothing"
    );
    assert_eq!(
        ok(what, store.get_principal_by_object_id("o9").await),
        None,
        "{what}"
    );
    let mut listed = ok(what, store.list_principals().await);
    listed.sort_by(|a, b| a.object_id.cmp(&b.object_id));
    assert_eq!(listed, vec![p1.clone(), p2.clone()], "{what}: list");

    let replacement = vec![credential("k3", None)];
    ok(
        what,
        store
            .set_principal_credentials("o2", replacement.clone())
            .await,
    );
    ok(
        what,
        store.set_principal_credentials("o1", Vec::new()).await,
    );
    let p2_now = ok(what, store.get_principal_by_object_id("o2").await);
    assert_eq!(
        p2_now.map(|p| p.credentials),
        Some(replacement.clone()),
        "{what}: set_principal_credentials replaces the list"
    );
    let p1_now = ok(what, store.get_principal_by_app_id("a1").await);
    assert_eq!(
        p1_now.map(|p| p.credentials),
        Some(Vec::new()),
        "{what}: cleared credentials"
    );
    assert_err!(
        store.set_principal_credentials("absent", replacement).await,
        StoreError::NotFound,
        "principals: credentials of an absent principal"
    );

    assert!(
        ok(what, store.rename_principal("o2", "Second, renamed").await),
        "{what}: rename returns true"
    );
    assert_eq!(
        ok(what, store.get_principal_by_app_id("a2").await).map(|p| p.display_name),
        Some("Second, renamed".to_owned()),
        "{what}: a rename is read back"
    );
    assert!(
        !ok(what, store.rename_principal("absent", "x").await),
        "{what}: renaming an absent principal is false"
    );
    assert!(
        ok(what, store.delete_principal("o1").await),
        "{what}: delete returns true"
    );
    assert!(
        !ok(what, store.delete_principal("o1").await),
        "{what}: second delete is false"
    );
    assert_eq!(
        ok(what, store.get_principal_by_object_id("o1").await),
        None,
        "{what}"
    );
    assert_eq!(
        ok(what, store.get_principal_by_app_id("a1").await),
        None,
        "{what}"
    );
    let listed = ok(what, store.list_principals().await);
    assert_eq!(
        listed.len(),
        1,
        "{what}: one principal left, got {listed:?}"
    );
    let p1_again = principal("o1", "a1", vec![credential("k4", None)]);
    ok(what, store.create_principal(p1_again.clone()).await);
    assert_eq!(
        ok(what, store.get_principal_by_object_id("o1").await),
        Some(p1_again),
        "{what}: a re-created principal has only its new credentials"
    );
}

fn policy(object_id: &str, secrets: &[&str]) -> AccessPolicyRow {
    AccessPolicyRow {
        tenant_id: "t1".to_owned(),
        object_id: object_id.to_owned(),
        secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        keys: vec!["get".to_owned()],
        certificates: Vec::new(),
    }
}

#[track_caller]
fn assert_vault(what: &str, got: &VaultRow, want: &VaultRow) {
    let same = got.id == want.id
        && got.name == want.name
        && got.tenant_id == want.tenant_id
        && got.retention_days == want.retention_days
        && got.created == want.created
        && got.sealed_data_key == want.sealed_data_key
        && got.access_policies == want.access_policies;
    assert!(
        same,
        "store conformance: {what}: got {got:?}, want {want:?}"
    );
}

/// `add_principal_credential` appends after what is there, and concurrent appends for one
/// principal all survive (the bug a read-modify-write would have).
pub(super) async fn certificate_credentials_replaced(store: Arc<dyn Store>) {
    let what = "certificate credentials replaced";
    let start = vec![
        credential("s1", None),
        certificate_credential("c1"),
        certificate_credential("c2"),
    ];
    ok(
        what,
        store.create_principal(principal("oc", "ac", start)).await,
    );
    ok(
        what,
        store
            .replace_certificate_credentials(
                "oc",
                vec!["c1".to_owned(), "gone-already".to_owned()],
                vec![certificate_credential("c3")],
            )
            .await,
    );
    let key_ids = |p: Option<PrincipalRow>| -> Vec<String> {
        p.map(|p| p.credentials.into_iter().map(|c| c.key_id).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        key_ids(ok(what, store.get_principal_by_object_id("oc").await)),
        ["s1", "c1", "c3"],
        "{what}: secrets kept, c1 kept, c2 removed, c3 added; a kept id that is gone stays gone"
    );
    assert_err!(
        store
            .replace_certificate_credentials("oc", Vec::new(), vec![certificate_credential("s1")])
            .await,
        StoreError::AlreadyExists,
        "certificate credentials replaced: an added key id that is taken"
    );
    assert_eq!(
        key_ids(ok(what, store.get_principal_by_object_id("oc").await)),
        ["s1", "c1", "c3"],
        "{what}: a refused replacement changes nothing"
    );
    assert_err!(
        store
            .replace_certificate_credentials("absent", Vec::new(), Vec::new())
            .await,
        StoreError::NotFound,
        "certificate credentials replaced: an absent principal"
    );
}

pub(super) async fn credentials_append_concurrently(store: Arc<dyn Store>) {
    let what = "credentials append";
    ok(
        what,
        store
            .create_principal(principal("o1", "a1", vec![credential("k0", None)]))
            .await,
    );
    let n_appends = 16;
    let mut tasks = Vec::new();
    for i in 0..n_appends {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .add_principal_credential("o1", credential(&format!("k{}", i + 1), None))
                .await
        }));
    }
    for task in tasks {
        let result = task.await.expect("append task");
        assert!(result.is_ok(), "{what}: append failed: {result:?}");
    }
    let stored = ok(what, store.get_principal_by_object_id("o1").await)
        .map(|p| p.credentials)
        .unwrap_or_default();
    assert_eq!(stored.len(), n_appends + 1, "{what}: every append survives");
    assert_eq!(
        stored[0].key_id, "k0",
        "{what}: appends go after what was there"
    );
    let mut key_ids: Vec<String> = stored.iter().map(|c| c.key_id.clone()).collect();
    key_ids.sort();
    key_ids.dedup();
    assert_eq!(key_ids.len(), n_appends + 1, "{what}: no duplicates");
    assert_err!(
        store
            .add_principal_credential("absent", credential("kx", None))
            .await,
        StoreError::NotFound,
        "{what}: an absent principal"
    );

    // Removals interleaved with appends: each removes exactly its own, none is lost.
    let what = "credentials remove";
    let mut tasks = Vec::new();
    for i in 0..n_appends {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                store
                    .remove_principal_credential("o1", &format!("k{}", i + 1))
                    .await
            } else {
                store
                    .add_principal_credential("o1", credential(&format!("n{i}"), None))
                    .await
                    .map(|()| true)
            }
        }));
    }
    for task in tasks {
        let result = task.await.expect("remove task");
        assert!(matches!(result, Ok(true)), "{what}: {result:?}");
    }
    let mut key_ids: Vec<String> = ok(what, store.get_principal_by_object_id("o1").await)
        .map(|p| p.credentials.into_iter().map(|c| c.key_id).collect())
        .unwrap_or_default();
    key_ids.sort();
    // Even i removed k{i+1}; odd i appended n{i}: k0, k{even} and n{odd} survive.
    let mut expected: Vec<String> = std::iter::once("k0".to_owned())
        .chain((0..n_appends).map(|i| {
            if i % 2 == 0 {
                format!("k{}", i + 2)
            } else {
                format!("n{i}")
            }
        }))
        .collect();
    expected.sort();
    assert_eq!(
        key_ids, expected,
        "{what}: exactly the removed ones are gone"
    );
    assert!(
        matches!(
            store.remove_principal_credential("o1", "k1").await,
            Ok(false)
        ),
        "{what}: removing again finds nothing"
    );
    assert_err!(
        store.remove_principal_credential("absent", "k0").await,
        StoreError::NotFound,
        "{what}: an absent principal"
    );
}

pub(super) async fn vaults(store: Arc<dyn Store>) {
    let what = "vaults";
    assert!(
        ok(what, store.list_vaults().await).is_empty(),
        "{what}: a new store has none"
    );
    let policies = vec![
        policy("o1", &["get", "list", "set"]),
        policy("o2", &[]),
        policy("o3", &["all", "odd,name with spaces"]),
    ];
    let mut beta_new = new_vault("beta");
    beta_new.retention_days = 7;
    let beta = ok(what, store.create_vault(beta_new).await);
    let mut alpha_new = new_vault("alpha");
    alpha_new.access_policies = policies.clone();
    let alpha = ok(what, store.create_vault(alpha_new).await);
    assert_ne!(alpha.id, beta.id, "{what}: vaults get distinct ids");
    assert_eq!(
        alpha.access_policies, policies,
        "{what}: create returns the policies"
    );
    assert_eq!(
        beta.retention_days, 7,
        "{what}: create returns the retention"
    );
    assert_err!(
        store.create_vault(new_vault("alpha")).await,
        StoreError::AlreadyExists,
        "vaults: a taken name"
    );

    let alpha_name = VaultName::parse("alpha").unwrap_or_else(|err| panic!("{err}"));
    let got = ok(what, store.get_vault(&alpha_name).await);
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: alpha by name is absent"));
    assert_vault("vaults: get by name", &got, &alpha);
    let got = ok(what, store.get_vault_by_id(alpha.id).await);
    let got = got.unwrap_or_else(|| panic!("store conformance: {what}: alpha by id is absent"));
    assert_vault("vaults: get by id", &got, &alpha);
    let absent = VaultName::parse("gamma").unwrap_or_else(|err| panic!("{err}"));
    assert!(
        ok(what, store.get_vault(&absent).await).is_none(),
        "{what}: absent name"
    );
    let absent_id = VaultId(alpha.id.0.max(beta.id.0) + 1000);
    assert!(
        ok(what, store.get_vault_by_id(absent_id).await).is_none(),
        "{what}: absent id"
    );

    let listed = ok(what, store.list_vaults().await);
    let names: Vec<&str> = listed.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "beta"],
        "{what}: list_vaults is ordered by name"
    );
    assert_vault("vaults: listed alpha", &listed[0], &alpha);
    assert_vault("vaults: listed beta", &listed[1], &beta);

    let replaced = vec![policy("o4", &["get"])];
    ok(
        what,
        store.set_access_policies(alpha.id, replaced.clone()).await,
    );
    let got = ok(what, store.get_vault_by_id(alpha.id).await).map(|v| v.access_policies);
    assert_eq!(
        got,
        Some(replaced),
        "{what}: set_access_policies replaces the list"
    );
    ok(what, store.set_access_policies(alpha.id, Vec::new()).await);
    let got = ok(what, store.get_vault(&alpha_name).await).map(|v| v.access_policies);
    assert_eq!(got, Some(Vec::new()), "{what}: cleared policies");
    let got = ok(what, store.get_vault_by_id(beta.id).await).map(|v| v.sealed_data_key);
    assert_eq!(
        got,
        Some(Sealed::from(b"data key of beta".to_vec())),
        "{what}: other vaults keep their fields"
    );
    assert_err!(
        store.set_access_policies(absent_id, Vec::new()).await,
        StoreError::NotFound,
        "vaults: policies of an absent vault"
    );
}

pub(super) async fn vault_authorization_and_group(store: Arc<dyn Store>) {
    let what = "vault authorization and group";
    let mut rbac_new = new_vault("rbacvault");
    rbac_new.rbac_authorization = true;
    rbac_new.resource_group = Some("Group-1".to_owned());
    let created = ok(what, store.create_vault(rbac_new).await);
    assert!(
        created.rbac_authorization,
        "{what}: create returns the model"
    );
    let name = VaultName::parse("rbacvault").unwrap_or_else(|err| panic!("{err}"));
    let stored = ok(what, store.get_vault(&name).await).unwrap_or_else(|| panic!("{what}"));
    assert!(stored.rbac_authorization, "{what}: stored");
    assert_eq!(stored.resource_group.as_deref(), Some("Group-1"));
    let plain = ok(what, store.create_vault(new_vault("plainvault")).await);
    assert!(!plain.rbac_authorization);
    assert_eq!(
        plain.resource_group, None,
        "{what}: no group is the default"
    );

    ok(what, store.set_vault_rbac(created.id, false).await);
    let by_id =
        ok(what, store.get_vault_by_id(created.id).await).unwrap_or_else(|| panic!("{what}"));
    assert!(!by_id.rbac_authorization, "{what}: switched back");
    assert_eq!(
        by_id.resource_group.as_deref(),
        Some("Group-1"),
        "{what}: group kept"
    );
    assert!(ok(what, store.get_vault_by_id(plain.id).await).is_some_and(|v| !v.rbac_authorization));
    assert_err!(
        store
            .set_vault_rbac(VaultId(created.id.0 + 1000), true)
            .await,
        StoreError::NotFound,
        "a vault that does not exist"
    );
}

pub(super) async fn vault_soft_delete(store: Arc<dyn Store>) {
    let what = "vault soft delete";
    let id = vault(&*store, "softly").await;
    let name = VaultName::parse("softly").unwrap_or_else(|err| panic!("{err}"));
    ok(
        what,
        store
            .set_access_policies(id, vec![policy("o1", &["get"])])
            .await,
    );
    ok(
        what,
        store.set_vault_deleted(id, Some(UnixTime(T0 + 5))).await,
    );
    let deleted = ok(what, store.get_vault(&name).await).unwrap_or_else(|| panic!("{what}"));
    assert_eq!(deleted.deleted, Some(UnixTime(T0 + 5)), "{what}: by name");
    assert_eq!(deleted.access_policies.len(), 1, "{what}: policies kept");
    assert_eq!(
        ok(what, store.get_vault_by_id(id).await).and_then(|v| v.deleted),
        Some(UnixTime(T0 + 5)),
        "{what}: by id"
    );
    assert!(
        ok(what, store.list_vaults().await)
            .iter()
            .any(|v| v.id == id && v.deleted.is_some()),
        "{what}: listed, marked deleted"
    );
    assert_err!(
        store.create_vault(new_vault("softly")).await,
        StoreError::AlreadyExists,
        "vault soft delete: a deleted vault's name stays taken"
    );
    ok(what, store.set_vault_deleted(id, None).await);
    assert_eq!(
        ok(what, store.get_vault(&name).await).map(|v| (v.id, v.deleted)),
        Some((id, None)),
        "{what}: recovered, same vault"
    );
    assert_err!(
        store
            .set_vault_deleted(VaultId(id.0 + 1000), Some(UnixTime(T0)))
            .await,
        StoreError::NotFound,
        "vault soft delete: a vault that does not exist"
    );
}

pub(super) async fn vault_deletion_cascades(store: Arc<dyn Store>) {
    let what = "vault deletion";
    let doomed = vault(&*store, "doomed").await;
    let kept = vault(&*store, "kept").await;
    ok(
        what,
        store
            .set_access_policies(doomed, vec![policy("o1", &["get"])])
            .await,
    );
    for (kind, name) in [(ObjectKind::Secret, "s1"), (ObjectKind::Key, "k1")] {
        ok(
            what,
            store
                .put_version(doomed, kind, new_version(name, 1, 1))
                .await,
        );
        ok(
            what,
            store
                .put_version(doomed, kind, new_version(name, 1, 2))
                .await,
        );
    }
    ok(
        what,
        store
            .put_version(doomed, ObjectKind::Secret, new_version("s2", 1, 3))
            .await,
    );
    let deletion = Deletion {
        deleted_date: UnixTime(T0),
        scheduled_purge_date: UnixTime(T0 + 1),
    };
    let s2 = object_name("s2");
    let deleted = store
        .soft_delete(doomed, ObjectKind::Secret, &s2, deletion)
        .await;
    assert!(ok(what, deleted).is_some(), "{what}: soft delete s2");
    ok(
        what,
        store
            .put_version(kept, ObjectKind::Secret, new_version("s1", 2, 1))
            .await,
    );

    assert!(
        ok(what, store.delete_vault(doomed).await),
        "{what}: delete returns true"
    );
    assert!(
        !ok(what, store.delete_vault(doomed).await),
        "{what}: second delete is false"
    );
    assert!(
        ok(what, store.get_vault_by_id(doomed).await).is_none(),
        "{what}: by id"
    );
    let doomed_name = VaultName::parse("doomed").unwrap_or_else(|err| panic!("{err}"));
    assert!(
        ok(what, store.get_vault(&doomed_name).await).is_none(),
        "{what}: by name"
    );
    let listed = ok(what, store.list_vaults().await);
    assert_eq!(listed.len(), 1, "{what}: one vault left, got {listed:?}");

    let s1 = object_name("s1");
    let all = PageRequest {
        after: None,
        limit: 100,
    };
    let got = ok(
        what,
        store
            .get_version(doomed, ObjectKind::Secret, &s1, None)
            .await,
    );
    assert!(
        got.is_none(),
        "{what}: a deleted vault's objects are gone, got {got:?}"
    );
    let page = ok(
        what,
        store
            .list_current(doomed, ObjectKind::Key, all.clone())
            .await,
    );
    assert!(page.items.is_empty(), "{what}: keys of a deleted vault");
    let page = ok(
        what,
        store
            .list_deleted(doomed, ObjectKind::Secret, all.clone())
            .await,
    );
    assert!(
        page.items.is_empty(),
        "{what}: deleted secrets of a deleted vault"
    );
    let kept_s1 = ok(
        what,
        store.get_version(kept, ObjectKind::Secret, &s1, None).await,
    );
    assert!(kept_s1.is_some(), "{what}: other vaults keep their objects");
    assert_eq!(
        ok(what, store.purge_expired(UnixTime(T0 + 10)).await),
        0,
        "{what}: the deleted vault's soft-deleted names went with it"
    );

    assert_err!(
        store
            .put_version(doomed, ObjectKind::Secret, new_version("s9", 1, 9))
            .await,
        StoreError::NotFound,
        "vault deletion: put_version into a deleted vault"
    );
    let again = vault(&*store, "doomed").await;
    assert_ne!(
        again, doomed,
        "{what}: a new vault never reuses a deleted vault's id"
    );
    let got = ok(what, store.get_vault_by_id(again).await).map(|v| v.access_policies);
    assert_eq!(
        got,
        Some(Vec::new()),
        "{what}: the new vault has no old policies"
    );
    let got = ok(
        what,
        store
            .get_version(again, ObjectKind::Secret, &s1, None)
            .await,
    );
    assert!(got.is_none(), "{what}: the new vault has no old objects");
    let page = ok(
        what,
        store.list_current(again, ObjectKind::Secret, all).await,
    );
    assert!(page.items.is_empty(), "{what}: the new vault lists nothing");
}

/// A master-key rotation replaces every sealed data key and the listed deployment values
/// together, or, when any of them changed since it was read or a vault was left out, nothing.
pub(super) async fn reseal_all_or_nothing(store: Arc<dyn Store>) {
    let what = "reseal";
    let a = vault(store.as_ref(), "reseal-a").await;
    let b = vault(store.as_ref(), "reseal-b").await;
    ok(what, store.put_meta("signing", b"old signing").await);
    let sealed = |text: &str| Sealed::from(text.as_bytes().to_vec());
    let key = |id, previous: &str, new: &str| ResealedVaultKey {
        id,
        previous: sealed(previous),
        sealed: sealed(new),
    };
    let signing = ResealedMeta {
        key: "signing".to_owned(),
        previous: Some(b"old signing".to_vec()),
        value: b"new signing".to_vec(),
    };
    let fresh = ResealedMeta {
        key: "backup".to_owned(),
        previous: None,
        value: b"new backup".to_vec(),
    };
    let data_keys = |store: Arc<dyn Store>| async move {
        let mut keys: Vec<Vec<u8>> = ok(what, store.list_vaults().await)
            .into_iter()
            .map(|row| row.sealed_data_key.as_bytes().to_vec())
            .collect();
        keys.sort();
        keys
    };
    let unchanged = vec![
        b"data key of reseal-a".to_vec(),
        b"data key of reseal-b".to_vec(),
    ];

    // A vault left out (one created after the rotation listed them).
    assert_err!(
        store
            .reseal(Reseal {
                vault_keys: vec![key(a, "data key of reseal-a", "new a")],
                meta: vec![signing.clone()],
            })
            .await,
        StoreError::Conflict(_),
        format!("{what}: a vault left out")
    );
    // A data key that is not the one read.
    assert_err!(
        store
            .reseal(Reseal {
                vault_keys: vec![
                    key(a, "data key of reseal-a", "new a"),
                    key(b, "stale", "new b"),
                ],
                meta: vec![signing.clone()],
            })
            .await,
        StoreError::Conflict(_),
        format!("{what}: a stale data key")
    );
    // A deployment value that changed, after the vaults in the same rotation.
    let stale_meta = ResealedMeta {
        previous: Some(b"stale".to_vec()),
        ..signing.clone()
    };
    let both = vec![
        key(a, "data key of reseal-a", "new a"),
        key(b, "data key of reseal-b", "new b"),
    ];
    assert_err!(
        store
            .reseal(Reseal {
                vault_keys: both.clone(),
                meta: vec![fresh.clone(), stale_meta],
            })
            .await,
        StoreError::Conflict(_),
        format!("{what}: a stale deployment value")
    );
    assert_eq!(
        data_keys(store.clone()).await,
        unchanged,
        "{what}: a failed rotation changed a data key"
    );
    assert_eq!(
        ok(what, store.get_meta("signing").await).as_deref(),
        Some(&b"old signing"[..]),
        "{what}: a failed rotation changed a deployment value"
    );
    assert_eq!(
        ok(what, store.get_meta("backup").await),
        None,
        "{what}: a failed rotation wrote a new deployment value"
    );

    ok(
        what,
        store
            .reseal(Reseal {
                vault_keys: both,
                meta: vec![signing, fresh.clone()],
            })
            .await,
    );
    assert_eq!(
        data_keys(store.clone()).await,
        vec![b"new a".to_vec(), b"new b".to_vec()],
        "{what}: every data key replaced"
    );
    assert_eq!(
        ok(what, store.get_meta("signing").await).as_deref(),
        Some(&b"new signing"[..]),
        "{what}: the deployment value replaced"
    );
    assert_eq!(
        ok(what, store.get_meta("backup").await).as_deref(),
        Some(&b"new backup"[..]),
        "{what}: the new deployment value written"
    );
    // A value written "for the first time" that exists is a conflict too.
    assert_err!(
        store
            .reseal(Reseal {
                vault_keys: vec![key(a, "new a", "newer a"), key(b, "new b", "newer b"),],
                meta: vec![fresh],
            })
            .await,
        StoreError::Conflict(_),
        format!("{what}: a first write over an existing value")
    );
}

pub(super) async fn claims(store: Arc<dyn Store>) {
    let what = "claims";
    let t0 = UnixTime(T0);
    let later = t0.plus_seconds(60);
    assert!(
        ok(what, store.claim_once("job", "slot-1", t0, later).await),
        "{what}: the first claim succeeds"
    );
    assert!(
        !ok(what, store.claim_once("job", "slot-1", t0, later).await),
        "{what}: a second claim of the same key fails"
    );
    assert!(
        ok(what, store.claim_once("job", "slot-2", t0, later).await),
        "{what}: another key is its own claim"
    );
    assert!(
        ok(what, store.claim_once("jti", "slot-1", t0, later).await),
        "{what}: another scope is its own claim"
    );
    assert!(
        !ok(
            what,
            store
                .claim_once("job", "slot-1", later.plus_seconds(-1), later)
                .await
        ),
        "{what}: still held a second before it expires"
    );
    assert!(
        ok(
            what,
            store
                .claim_once("job", "slot-1", later, later.plus_seconds(60))
                .await
        ),
        "{what}: an expired claim is claimed again"
    );
    assert!(
        !ok(what, store.claim_once("job", "slot-1", later, later).await),
        "{what}: and is then held"
    );
    ok(what, store.purge_expired(later.plus_seconds(61)).await);
    assert!(
        ok(
            what,
            store
                .claim_once("job", "slot-1", t0, later.plus_seconds(120))
                .await
        ),
        "{what}: purge_expired removed the expired claim"
    );

    // Concurrent claims of one key: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_once("race", "k", t0, later).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if ok(what, task.await.expect("claim task")) {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "{what}: one of 16 concurrent claims wins");
}
