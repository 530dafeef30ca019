//! BackupSecret and RestoreSecret.

use crate::{Harness, create_vault, grant, name, set_params, tags};
use std::sync::Arc;
use strongroom_crypto::MasterKey;
use strongroom_vault::secrets::{self, SetSecret, UpdateSecret};
use strongroom_vault::{Vault, VaultError};

/// A secret with three versions, varied attributes and tags; returns its backup.
async fn backed_up_secret(h: &Harness) -> Vec<u8> {
    let now = h.now();
    secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("Backed-Up"),
        SetSecret {
            content_type: Some("text/plain".to_owned()),
            tags: Some(tags(&[("env", "prod"), ("owner", "ops")])),
            not_before: Some(now),
            expires: Some(now.plus_days(365)),
            ..set_params("first value")
        },
    )
    .await
    .unwrap();
    h.clock.advance_seconds(30);
    let second = h.set("backed-up", "second value").await;
    secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("backed-up"),
        Some(&second.properties.version),
        UpdateSecret {
            enabled: Some(false),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
    h.clock.advance_seconds(30);
    h.set("backed-up", "third value \u{1f512} with \"quotes\"")
        .await;
    secrets::backup(&h.ctx, &h.vault, &grant(), &name("BACKED-UP"))
        .await
        .unwrap()
}

/// Every version's properties and (for enabled versions) value, oldest first.
async fn snapshot(h: &Harness, vault: &Vault) -> Vec<(secrets::SecretProperties, Option<String>)> {
    let mut out = Vec::new();
    for properties in h.all_versions_in(vault, "backed-up").await {
        let value = if properties.attributes.enabled {
            let secret = secrets::get(
                &h.ctx,
                vault,
                &grant(),
                &properties.name,
                Some(&properties.version),
            )
            .await
            .unwrap();
            Some(secret.value.expose().to_owned())
        } else {
            None
        };
        out.push((properties, value));
    }
    out
}

#[tokio::test]
async fn restore_into_another_vault_of_the_deployment() {
    let h = Harness::new().await;
    let blob = backed_up_secret(&h).await;
    assert!(
        !blob
            .windows(b"first value".len())
            .any(|w| w == b"first value"),
        "the blob carries no plaintext"
    );
    let original = snapshot(&h, &h.vault).await;
    assert_eq!(original.len(), 3);

    let target = create_vault(&h.ctx, "vault-target", 30).await;
    let restored = secrets::restore(&h.ctx, &target, &grant(), &blob)
        .await
        .unwrap();
    assert_eq!(
        restored, original[2].0,
        "restore returns the current version"
    );
    assert_eq!(
        restored.name.as_str(),
        "Backed-Up",
        "the name as first stored"
    );

    // Every version, attribute, tag, content type and value, in order.
    let copy = snapshot(&h, &target).await;
    assert_eq!(copy, original);
    assert_eq!(copy[0].1.as_deref(), Some("first value"));
    assert_eq!(copy[1].1, None, "the disabled version stays disabled");
    assert_eq!(
        copy[2].1.as_deref(),
        Some("third value \u{1f512} with \"quotes\"")
    );

    // The restored copy is independent of the original.
    secrets::delete(&h.ctx, &h.vault, &grant(), &name("backed-up"))
        .await
        .unwrap();
    let current = secrets::get(&h.ctx, &target, &grant(), &name("backed-up"), None)
        .await
        .unwrap();
    assert_eq!(
        current.value.expose(),
        "third value \u{1f512} with \"quotes\""
    );

    // A fresh process of the same deployment restores it too.
    let fresh = h.second_ctx();
    let third = create_vault(&fresh, "vault-third", 90).await;
    secrets::restore(&fresh, &third, &grant(), &blob)
        .await
        .unwrap();
}

#[tokio::test]
async fn restore_onto_a_name_in_use_conflicts() {
    let h = Harness::new().await;
    let blob = backed_up_secret(&h).await;
    let current_version = h.all_versions_in(&h.vault, "backed-up").await[2]
        .version
        .clone();

    // Live.
    let err = secrets::restore(&h.ctx, &h.vault, &grant(), &blob)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, VaultError::RestoreConflict { version, .. } if *version == current_version),
        "{err:?}"
    );
    // Soft-deleted.
    secrets::delete(&h.ctx, &h.vault, &grant(), &name("backed-up"))
        .await
        .unwrap();
    let err = secrets::restore(&h.ctx, &h.vault, &grant(), &blob)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::RestoreConflict { .. }), "{err:?}");
    // Purged: the name is free and the backup restores into its own vault.
    secrets::purge(&h.ctx, &h.vault, &grant(), &name("backed-up"))
        .await
        .unwrap();
    let restored = secrets::restore(&h.ctx, &h.vault, &grant(), &blob)
        .await
        .unwrap();
    assert_eq!(restored.version, current_version);
    assert_eq!(h.all_versions_in(&h.vault, "backed-up").await.len(), 3);
}

#[tokio::test]
async fn restore_refuses_a_foreign_deployment() {
    let h = Harness::new().await;
    let blob = backed_up_secret(&h).await;
    let other = Harness::with_master(Arc::new(MasterKey::generate().unwrap())).await;
    let err = secrets::restore(&other.ctx, &other.vault, &grant(), &blob)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::MalformedBackup), "{err:?}");
    assert!(
        other
            .all_versions_in(&other.vault, "backed-up")
            .await
            .is_empty()
    );

    // The same master key in another store is the same deployment.
    let same_key = Harness::with_master(Arc::new(
        MasterKey::from_bytes(h.master.expose_bytes()).unwrap(),
    ))
    .await;
    secrets::restore(&same_key.ctx, &same_key.vault, &grant(), &blob)
        .await
        .unwrap();
}

#[tokio::test]
async fn restore_refuses_corrupt_blobs() {
    let h = Harness::new().await;
    let blob = backed_up_secret(&h).await;
    let target = create_vault(&h.ctx, "vault-target", 30).await;

    let mut corrupted = Vec::new();
    let mut flipped_body = blob.clone();
    let middle = blob.len() / 2;
    flipped_body[middle] ^= 0x40;
    corrupted.push(("flipped body byte", flipped_body));
    let mut flipped_tag = blob.clone();
    let last = blob.len() - 1;
    flipped_tag[last] ^= 0x01;
    corrupted.push(("flipped tag byte", flipped_tag));
    let mut renamed = blob.clone();
    let name_at = renamed.windows(9).position(|w| w == b"Backed-Up").unwrap();
    renamed[name_at] = b'X';
    corrupted.push(("renamed in the clear header", renamed));
    corrupted.push(("truncated", blob[..blob.len() - 10].to_vec()));
    corrupted.push(("header only", blob[..20].to_vec()));
    corrupted.push(("empty", Vec::new()));
    corrupted.push(("garbage", b"this is not a backup blob at all".to_vec()));
    let mut extended = blob.clone();
    extended.extend_from_slice(b"trailing");
    corrupted.push(("trailing bytes", extended));

    for (what, bad) in corrupted {
        let err = secrets::restore(&h.ctx, &target, &grant(), &bad)
            .await
            .unwrap_err();
        assert!(
            matches!(err, VaultError::MalformedBackup),
            "{what}: {err:?}"
        );
    }
    assert!(h.all_versions_in(&target, "backed-up").await.is_empty());
    assert!(h.all_versions_in(&target, "xacked-up").await.is_empty());
    secrets::restore(&h.ctx, &target, &grant(), &blob)
        .await
        .unwrap();
}

#[tokio::test]
async fn backup_of_a_missing_or_deleted_secret_is_not_found() {
    let h = Harness::new().await;
    let err = secrets::backup(&h.ctx, &h.vault, &grant(), &name("nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    h.set("gone", "x").await;
    secrets::delete(&h.ctx, &h.vault, &grant(), &name("gone"))
        .await
        .unwrap();
    let err = secrets::backup(&h.ctx, &h.vault, &grant(), &name("gone"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
}
