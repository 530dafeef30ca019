//! Vault create/get/list/delete, access policies, and the vault cache.

use crate::{CALLER_OID, Harness, TENANT, create_vault, grant, name, policy_all};
use std::time::Duration;
use strongroom_authz::{AccessPolicy, parse_secret_permissions};
use strongroom_model::{ObjectId, PermissionSet, TenantId, VaultName};
use strongroom_vault::secrets;
use strongroom_vault::{VaultError, vaults};

fn vault_name(raw: &str) -> VaultName {
    VaultName::parse(raw).unwrap()
}

fn policy(object_id: &str, permissions: &[&str]) -> AccessPolicy {
    AccessPolicy {
        tenant_id: TenantId(TENANT.to_owned()),
        object_id: ObjectId(object_id.to_owned()),
        permissions: PermissionSet {
            secrets: parse_secret_permissions(permissions.iter().copied()).unwrap(),
            keys: Vec::new(),
            certificates: Vec::new(),
        },
    }
}

#[tokio::test]
async fn create_get_list() {
    let h = Harness::new().await;
    let vault = &h.vault;
    assert_eq!(vault.name.as_str(), "vault-one");
    assert_eq!(vault.tenant_id.0, TENANT);
    assert_eq!(vault.retention_days, 7);
    assert_eq!(vault.policies, [policy_all()]);
    assert_eq!(vault.recovery_level(), "CustomizedRecoverable+Purgeable");

    let fetched = vaults::get(&h.ctx, &vault_name("Vault-One"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.id, vault.id);
    assert_eq!(fetched.created, vault.created);
    let from_store = vaults::get(&h.second_ctx(), &vault_name("vault-one"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from_store.id, vault.id);
    assert_eq!(from_store.policies, vault.policies);
    assert_eq!(from_store.retention_days, 7);
    assert!(
        vaults::get(&h.ctx, &vault_name("vault-none"))
            .await
            .unwrap()
            .is_none()
    );

    let big = create_vault(&h.ctx, "vault-big", 90).await;
    assert_eq!(big.recovery_level(), "Recoverable+Purgeable");
    assert_eq!(big.recoverable_days(), 90);
    let mut listed: Vec<_> = vaults::list(&h.ctx)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.name.as_str().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, ["vault-big", "vault-one"]);
}

#[tokio::test]
async fn create_refuses_taken_names_and_bad_retention() {
    let h = Harness::new().await;
    let create = |raw: &'static str, retention_days| {
        vaults::create(
            &h.ctx,
            vault_name(raw),
            TenantId(TENANT.to_owned()),
            retention_days,
            strongroom_vault::VaultSku::Standard,
            Vec::new(),
        )
    };
    let err = create("VAULT-ONE", 90).await.unwrap_err();
    assert!(matches!(err, VaultError::VaultExists), "{err:?}");
    for retention_days in [6, 91, 0, -1] {
        let err = create("vault-bad", retention_days).await.unwrap_err();
        assert!(
            matches!(err, VaultError::InvalidParameter(_)),
            "{retention_days}: {err:?}"
        );
    }
    assert!(
        vaults::get(&h.ctx, &vault_name("vault-bad"))
            .await
            .unwrap()
            .is_none()
    );
    create("vault-seven", 7).await.unwrap();
    create("vault-ninety", 90).await.unwrap();
}

#[tokio::test]
async fn set_policies_is_seen_at_once_and_persists() {
    let h = Harness::new().await;
    // Warm the cache first, so the test shows it is updated rather than merely empty.
    vaults::get(&h.ctx, &h.vault.name).await.unwrap().unwrap();
    let policies = vec![
        policy(CALLER_OID, &["get", "list"]),
        policy("someone-else", &["all"]),
    ];
    let updated = vaults::set_policies(&h.ctx, &h.vault, policies.clone())
        .await
        .unwrap();
    assert_eq!(updated.policies, policies);
    assert_eq!(updated.id, h.vault.id);

    let cached = vaults::get(&h.ctx, &h.vault.name).await.unwrap().unwrap();
    assert_eq!(cached.policies, policies);
    let stored = vaults::get(&h.second_ctx(), &h.vault.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policies, policies);

    vaults::set_policies(&h.ctx, &h.vault, Vec::new())
        .await
        .unwrap();
    let emptied = vaults::get(&h.ctx, &h.vault.name).await.unwrap().unwrap();
    assert!(emptied.policies.is_empty());
}

#[tokio::test]
async fn another_nodes_change_is_seen_once_the_cache_entry_expires() {
    let h = Harness::new().await;
    let long_cache = h
        .second_ctx()
        .with_vault_cache_ttl(Duration::from_secs(3600));
    let no_cache = h.second_ctx().with_vault_cache_ttl(Duration::ZERO);
    vaults::get(&long_cache, &h.vault.name)
        .await
        .unwrap()
        .unwrap();
    vaults::get(&no_cache, &h.vault.name)
        .await
        .unwrap()
        .unwrap();

    let policies = vec![policy("new-reader", &["get"])];
    vaults::set_policies(&h.ctx, &h.vault, policies.clone())
        .await
        .unwrap();

    let stale = vaults::get(&long_cache, &h.vault.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stale.policies, [policy_all()], "served from the cache");
    let fresh = vaults::get(&no_cache, &h.vault.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.policies, policies);
}

#[tokio::test]
async fn delete_is_soft_recover_brings_it_back_and_purge_removes_it() {
    let h = Harness::new().await;
    h.set("inside", "x").await;
    assert!(
        vaults::delete(&h.ctx, &vault_name("VAULT-ONE"))
            .await
            .unwrap()
    );
    assert!(vaults::get(&h.ctx, &h.vault.name).await.unwrap().is_none());
    assert!(vaults::list(&h.ctx).await.unwrap().is_empty());
    assert!(!vaults::delete(&h.ctx, &h.vault.name).await.unwrap());
    let [deleted] = &vaults::list_deleted(&h.ctx).await.unwrap()[..] else {
        panic!("one deleted vault");
    };
    assert_eq!(deleted.vault.id, h.vault.id);
    assert_eq!(deleted.scheduled_purge(), deleted.deleted.plus_days(7));
    // The name stays taken while the vault is recoverable.
    let taken = vaults::create(
        &h.ctx,
        vault_name("vault-one"),
        TenantId(TENANT.to_owned()),
        7,
        strongroom_vault::VaultSku::Standard,
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(taken, VaultError::VaultExists), "{taken:?}");

    // Recovered with everything in it, readable by a node that never saw the delete.
    let recovered = vaults::recover(&h.ctx, &h.vault.name).await.unwrap();
    assert_eq!(recovered.id, h.vault.id);
    for ctx in [&h.ctx, &h.second_ctx()] {
        let secret = secrets::get(ctx, &recovered, &grant(), &name("inside"), None)
            .await
            .unwrap();
        assert_eq!(secret.value.expose(), "x");
    }
    assert!(matches!(
        vaults::recover(&h.ctx, &h.vault.name).await,
        Err(VaultError::VaultNotFound)
    ));
    // A live vault is never purged.
    assert!(!vaults::purge(&h.ctx, &h.vault.name).await.unwrap());

    assert!(vaults::delete(&h.ctx, &h.vault.name).await.unwrap());
    assert!(vaults::purge(&h.ctx, &h.vault.name).await.unwrap());
    assert!(!vaults::purge(&h.ctx, &h.vault.name).await.unwrap());
    assert!(vaults::list_deleted(&h.ctx).await.unwrap().is_empty());

    // A vault re-created under the same name starts empty, with a new data key that works.
    let again = create_vault(&h.ctx, "vault-one", 7).await;
    let err = secrets::get(&h.ctx, &again, &grant(), &name("inside"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    h.set_in(&again, "inside", "y").await;
    let secret = secrets::get(&h.ctx, &again, &grant(), &name("inside"), None)
        .await
        .unwrap();
    assert_eq!(secret.value.expose(), "y");
    // Another node still has the new key to open.
    let fresh = h.second_ctx();
    let secret = secrets::get(&fresh, &again, &grant(), &name("inside"), None)
        .await
        .unwrap();
    assert_eq!(secret.value.expose(), "y");
}

#[tokio::test]
async fn the_janitor_purges_a_deleted_vault_when_its_retention_runs_out() {
    let h = Harness::new().await;
    assert_eq!(h.vault.retention_days, 7);
    let long = create_vault(&h.ctx, "vault-long", 90).await;
    assert!(vaults::delete(&h.ctx, &h.vault.name).await.unwrap());
    assert!(vaults::delete(&h.ctx, &long.name).await.unwrap());

    // A minute before the short one's date: both still recoverable.
    h.clock.advance_days(6);
    h.clock.advance_seconds(86_400 - 60);
    strongroom_vault::janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(vaults::list_deleted(&h.ctx).await.unwrap().len(), 2);

    // At its date: the short one is purged (its name is free again), the long one stays.
    h.clock.advance_seconds(60);
    strongroom_vault::janitor::run_once(&h.ctx).await.unwrap();
    let left: Vec<_> = vaults::list_deleted(&h.ctx)
        .await
        .unwrap()
        .into_iter()
        .map(|deleted| deleted.vault.name)
        .collect();
    assert_eq!(left, vec![long.name.clone()]);
    create_vault(&h.ctx, h.vault.name.as_str(), 7).await;
}
