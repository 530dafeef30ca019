//! Keys on the real store: private material never reaches the database files; rotation
//! policies run under the janitor as the `ManualClock` moves, survive soft delete and
//! recover, go with a purge, and travel in backups; the refusals of a key's operations come
//! in Azure's order; and the parsed-key cache never outlives its vault.

use crate::raw_file::{contains, read_all_files};
use crate::{Harness, create_vault, first_page, grant, name, tags};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use strongroom_crypto::keys::{PrivateKey, verify_with_public};
use strongroom_model::Version;
use strongroom_vault::keys::rotation::{
    self, LifetimeAction, LifetimeActionType, LifetimeTrigger, RotationPolicy, RotationPolicyUpdate,
};
use strongroom_vault::keys::{
    self, CreateKey, Curve, ImportKey, KeyOperation, KeyProperties, KeyType, SignatureAlgorithm,
    UpdateKey,
};
use strongroom_vault::{Vault, VaultCtx, VaultError, janitor};

const DIGEST: [u8; 32] = [7; 32];

fn ec_params() -> CreateKey {
    CreateKey {
        key_type: KeyType::Ec,
        size: None,
        public_exponent: None,
        curve: Some(Curve::P256),
        key_ops: None,
        enabled: None,
        not_before: None,
        expires: None,
        exportable: None,
        tags: None,
        release_policy: None,
    }
}

async fn create_ec(ctx: &VaultCtx, vault: &Vault, key_name: &str) -> KeyProperties {
    keys::create(ctx, vault, &grant(), &name(key_name), ec_params())
        .await
        .unwrap()
}

async fn sign(
    ctx: &VaultCtx,
    vault: &Vault,
    key_name: &str,
    version: Option<&Version>,
) -> Result<Vec<u8>, VaultError> {
    keys::sign(
        ctx,
        vault,
        &grant(),
        &name(key_name),
        version,
        SignatureAlgorithm::Es256,
        &DIGEST,
    )
    .await
    .map(|(_used, signature)| signature)
}

fn verifies(key: &KeyProperties, signature: &[u8]) -> bool {
    verify_with_public(&key.public, SignatureAlgorithm::Es256, &DIGEST, signature).unwrap()
}

async fn versions(ctx: &VaultCtx, vault: &Vault, key_name: &str) -> Vec<KeyProperties> {
    keys::list_versions(ctx, vault, &grant(), &name(key_name), first_page(25))
        .await
        .unwrap()
        .items
}

async fn policy(ctx: &VaultCtx, vault: &Vault, key_name: &str) -> RotationPolicy {
    rotation::get_policy(ctx, vault, &grant(), &name(key_name))
        .await
        .unwrap()
}

async fn set_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    key_name: &str,
    actions: Vec<LifetimeAction>,
    expiry_time: Option<&str>,
) -> RotationPolicy {
    rotation::update_policy(
        ctx,
        vault,
        &grant(),
        &name(key_name),
        RotationPolicyUpdate {
            lifetime_actions: Some(actions),
            expiry_time: expiry_time.map(str::to_owned),
        },
    )
    .await
    .unwrap()
}

fn rotate_after(duration: &str) -> LifetimeAction {
    LifetimeAction {
        trigger: LifetimeTrigger::TimeAfterCreate(duration.to_owned()),
        action: LifetimeActionType::Rotate,
    }
}

fn notify_before_expiry(duration: &str) -> LifetimeAction {
    LifetimeAction {
        trigger: LifetimeTrigger::TimeBeforeExpiry(duration.to_owned()),
        action: LifetimeActionType::Notify,
    }
}

fn import_params(private: &PrivateKey, marker: &str) -> ImportKey {
    ImportKey {
        material: private.export(),
        key_type: KeyType::of(private.family(), false),
        hsm: None,
        key_ops: None,
        enabled: None,
        not_before: None,
        expires: None,
        exportable: None,
        tags: Some(tags(&[("marker", marker)])),
        release_policy: None,
    }
}

#[tokio::test]
async fn private_material_never_reaches_the_database_files() {
    let h = Harness::new().await;
    // Generated here, so the test knows every private part the vault was handed.
    let rsa = PrivateKey::generate_rsa(2048, None).unwrap();
    let ec = PrivateKey::generate_ec(Curve::P256).unwrap();
    let marker = format!("visible-tag-{}", Version::new_random());
    for (key_name, private) in [("imported-rsa", &rsa), ("imported-ec", &ec)] {
        let imported = keys::import(
            &h.ctx,
            &h.vault,
            &grant(),
            &name(key_name),
            import_params(private, &marker),
        )
        .await
        .unwrap();
        assert_eq!(imported.public, private.public());
    }
    // More paths that handle the material: use (the parsed-key cache), update, soft delete
    // and recover, backup and restore into another vault.
    let signature = keys::sign(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("imported-rsa"),
        None,
        SignatureAlgorithm::Ps256,
        &DIGEST,
    )
    .await
    .unwrap()
    .1;
    assert!(
        verify_with_public(
            &rsa.public(),
            SignatureAlgorithm::Ps256,
            &DIGEST,
            &signature
        )
        .unwrap()
    );
    keys::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("imported-rsa"),
        None,
        UpdateKey {
            tags: Some(tags(&[("marker", &marker), ("updated", "yes")])),
            ..UpdateKey::default()
        },
    )
    .await
    .unwrap();
    keys::delete(&h.ctx, &h.vault, &grant(), &name("imported-ec"))
        .await
        .unwrap();
    keys::recover(&h.ctx, &h.vault, &grant(), &name("imported-ec"))
        .await
        .unwrap();
    let other = create_vault(&h.ctx, "vault-other", 7).await;
    let mut blobs = Vec::new();
    for key_name in ["imported-rsa", "imported-ec"] {
        let blob = keys::backup(&h.ctx, &h.vault, &grant(), &name(key_name))
            .await
            .unwrap();
        keys::restore(&h.ctx, &other, &grant(), &blob)
            .await
            .unwrap();
        blobs.push(blob);
    }

    let rsa_parts = rsa.export();
    let ec_parts = ec.export();
    let mut needles: Vec<(&str, Vec<u8>)> = Vec::new();
    for (part, bytes) in [
        ("rsa d", rsa_parts.d.as_deref()),
        ("rsa p", rsa_parts.p.as_deref()),
        ("rsa q", rsa_parts.q.as_deref()),
        ("rsa dp", rsa_parts.dp.as_deref()),
        ("rsa dq", rsa_parts.dq.as_deref()),
        ("rsa qi", rsa_parts.qi.as_deref()),
        ("ec d", ec_parts.d.as_deref()),
    ] {
        let bytes = bytes.unwrap_or_else(|| panic!("{part} was exported"));
        assert!(bytes.len() >= 32, "{part} is long enough to search for");
        // The raw bytes, and their start in the encodings a careless write would use.
        needles.push((part, bytes.to_vec()));
        needles.push((part, URL_SAFE_NO_PAD.encode(&bytes[..24]).into_bytes()));
        needles.push((part, STANDARD.encode(&bytes[..24]).into_bytes()));
    }

    let files = read_all_files(h.dir.path());
    let all_bytes: Vec<u8> = files.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    // The scan sees what was written: the tag, which is not secret, is stored in clear.
    assert!(
        contains(&all_bytes, marker.as_bytes()),
        "the tag marker should be visible"
    );
    for (path, bytes) in &files {
        for (part, needle) in &needles {
            assert!(
                !contains(bytes, needle),
                "{path} contains the {part} of a key"
            );
        }
    }
    for blob in &blobs {
        for (part, needle) in &needles {
            assert!(!contains(blob, needle), "a backup blob contains the {part}");
        }
    }
}

#[tokio::test]
async fn the_janitor_rotates_when_the_policy_says_and_not_before() {
    let h = Harness::new().await;
    let first = create_ec(&h.ctx, &h.vault, "rotated").await;
    set_policy(
        &h.ctx,
        &h.vault,
        "rotated",
        vec![rotate_after("P30D")],
        Some("P90D"),
    )
    .await;

    h.clock.advance_days(29);
    janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(
        versions(&h.ctx, &h.vault, "rotated").await.len(),
        1,
        "day 29: not due"
    );

    h.clock.advance_days(2);
    let before = h.now();
    janitor::run_once(&h.ctx).await.unwrap();
    let after = h.now();
    let all = versions(&h.ctx, &h.vault, "rotated").await;
    assert_eq!(all.len(), 2, "day 31: rotated once");
    let current = keys::get(&h.ctx, &h.vault, &grant(), &name("rotated"), None)
        .await
        .unwrap();
    assert_ne!(current.version, first.version);
    assert_eq!(current, all[1], "the new version is the current one");
    assert_ne!(current.public, first.public, "fresh material");
    assert_eq!(
        (current.key_type, current.curve),
        (first.key_type, first.curve)
    );
    assert_eq!(current.key_ops, first.key_ops);
    crate::assert_within(current.attributes.created, before, after);
    // expiryTime P90D: the new version expires 90 days after it was made.
    assert_eq!(
        current.attributes.expires,
        Some(current.attributes.created.plus_days(90))
    );
    assert_eq!(
        first.attributes.expires, None,
        "the old version is unchanged"
    );

    // The trigger counts from the new version's creation: nothing more is due today...
    janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(versions(&h.ctx, &h.vault, "rotated").await.len(), 2);
    // ...and both versions still sign.
    for version in &all {
        let signature = sign(&h.ctx, &h.vault, "rotated", Some(&version.version))
            .await
            .unwrap();
        assert!(verifies(version, &signature));
    }
}

#[tokio::test]
async fn a_notify_action_does_not_rotate() {
    let h = Harness::new().await;
    let key = keys::create(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("notified"),
        CreateKey {
            expires: Some(h.now().plus_days(40)),
            ..ec_params()
        },
    )
    .await
    .unwrap();
    set_policy(
        &h.ctx,
        &h.vault,
        "notified",
        vec![notify_before_expiry("P30D")],
        None,
    )
    .await;

    h.clock.advance_days(9);
    janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(
        policy(&h.ctx, &h.vault, "notified").await.notified_version,
        None
    );

    h.clock.advance_days(2); // 29 days before expiry: the notification is due
    janitor::run_once(&h.ctx).await.unwrap();
    janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(
        policy(&h.ctx, &h.vault, "notified")
            .await
            .notified_version
            .as_deref(),
        Some(key.version.as_str()),
        "notified once, about the current version"
    );
    h.clock.advance_days(60); // past expiry
    janitor::run_once(&h.ctx).await.unwrap();
    let all = versions(&h.ctx, &h.vault, "notified").await;
    assert_eq!(all.len(), 1, "notify never makes a version");
    assert_eq!(all[0].version, key.version);
}

#[tokio::test]
async fn a_recovered_key_keeps_its_policy_and_a_purged_one_loses_it() {
    let h = Harness::new().await;
    let vault = create_vault(&h.ctx, "vault-long", 90).await;
    create_ec(&h.ctx, &vault, "kept").await;
    let set = set_policy(
        &h.ctx,
        &vault,
        "kept",
        vec![rotate_after("P7D")],
        Some("P28D"),
    )
    .await;
    assert!(set.created.is_some());

    keys::delete(&h.ctx, &vault, &grant(), &name("kept"))
        .await
        .unwrap();
    let err = rotation::get_policy(&h.ctx, &vault, &grant(), &name("kept"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    // Due while deleted: the janitor leaves a deleted key alone.
    h.clock.advance_days(10);
    janitor::run_once(&h.ctx).await.unwrap();
    keys::recover(&h.ctx, &vault, &grant(), &name("kept"))
        .await
        .unwrap();
    assert_eq!(versions(&h.ctx, &vault, "kept").await.len(), 1);
    assert_eq!(
        policy(&h.ctx, &vault, "kept").await,
        set,
        "the policy survived"
    );
    // And it still runs.
    janitor::run_once(&h.ctx).await.unwrap();
    assert_eq!(versions(&h.ctx, &vault, "kept").await.len(), 2);

    // Purged by hand: a new key of the same name starts with the default policy.
    keys::delete(&h.ctx, &vault, &grant(), &name("kept"))
        .await
        .unwrap();
    keys::purge(&h.ctx, &vault, &grant(), &name("kept"))
        .await
        .unwrap();
    create_ec(&h.ctx, &vault, "kept").await;
    assert_eq!(
        policy(&h.ctx, &vault, "kept").await,
        RotationPolicy::default_policy()
    );

    // Purged by the janitor when retention ends: the same.
    create_ec(&h.ctx, &h.vault, "expiring").await;
    set_policy(
        &h.ctx,
        &h.vault,
        "expiring",
        vec![rotate_after("P7D")],
        None,
    )
    .await;
    keys::delete(&h.ctx, &h.vault, &grant(), &name("expiring"))
        .await
        .unwrap();
    h.clock.advance_days(8); // the harness vault keeps deleted objects 7 days
    janitor::run_once(&h.ctx).await.unwrap();
    let err = keys::recover(&h.ctx, &h.vault, &grant(), &name("expiring"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
    create_ec(&h.ctx, &h.vault, "expiring").await;
    assert_eq!(
        policy(&h.ctx, &h.vault, "expiring").await,
        RotationPolicy::default_policy()
    );
}

#[tokio::test]
async fn backup_and_restore_keep_versions_policy_and_material() {
    let h = Harness::new().await;
    let first = create_ec(&h.ctx, &h.vault, "travels").await;
    h.clock.advance_seconds(5);
    let second = rotation::rotate(&h.ctx, &h.vault, &grant(), &name("travels"))
        .await
        .unwrap();
    let set = set_policy(
        &h.ctx,
        &h.vault,
        "travels",
        vec![rotate_after("P60D")],
        Some("P90D"),
    )
    .await;
    let blob = keys::backup(&h.ctx, &h.vault, &grant(), &name("travels"))
        .await
        .unwrap();

    let other = create_vault(&h.ctx, "vault-two", 7).await;
    let restored = keys::restore(&h.ctx, &other, &grant(), &blob)
        .await
        .unwrap();
    assert_eq!(restored, second, "the current version comes back as it was");
    let restored_versions = versions(&h.ctx, &other, "travels").await;
    assert_eq!(restored_versions, [first.clone(), second.clone()]);
    assert_eq!(policy(&h.ctx, &other, "travels").await, set);

    // The restored material is the original: the original public keys verify what the
    // restored versions sign, in the other vault and from a node with cold caches.
    for ctx in [&h.ctx, &h.second_ctx()] {
        for original in [&first, &second] {
            let signature = sign(ctx, &other, "travels", Some(&original.version))
                .await
                .unwrap();
            assert!(verifies(original, &signature));
        }
    }
    // Restoring over a live name is refused, and the policy is untouched.
    let err = keys::restore(&h.ctx, &other, &grant(), &blob)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::RestoreConflict { .. }), "{err:?}");
}

#[tokio::test]
async fn refusals_come_in_azures_order() {
    let h = Harness::new().await;
    let now = h.now();
    let key = keys::create(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("guarded"),
        CreateKey {
            key_ops: Some(vec![KeyOperation::Verify]),
            enabled: Some(false),
            not_before: Some(now.plus_days(10)),
            expires: Some(now.plus_days(20)),
            ..ec_params()
        },
    )
    .await
    .unwrap();
    let update = |params: UpdateKey| async {
        keys::update(&h.ctx, &h.vault, &grant(), &name("guarded"), None, params)
            .await
            .unwrap()
    };
    let sign_error = || async { sign(&h.ctx, &h.vault, "guarded", None).await.unwrap_err() };

    // Disabled, not yet valid and without sign in key_ops: disabled is reported first.
    let err = sign_error().await;
    assert!(
        matches!(err, VaultError::KeyDisabled { operation: "sign" }),
        "{err:?}"
    );
    let err = keys::verify(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("guarded"),
        None,
        SignatureAlgorithm::Es256,
        &DIGEST,
        &[0; 64],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::KeyDisabled {
                operation: "verify"
            }
        ),
        "{err:?}"
    );

    // Enabled: the date window before key_ops.
    update(UpdateKey {
        enabled: Some(true),
        ..UpdateKey::default()
    })
    .await;
    let err = sign_error().await;
    assert!(
        matches!(err, VaultError::KeyNotYetValid { operation: "sign" }),
        "{err:?}"
    );

    // Inside the window: key_ops.
    h.clock.advance_days(11);
    let err = sign_error().await;
    assert!(
        matches!(err, VaultError::KeyOperationForbidden { operation: "sign" }),
        "{err:?}"
    );

    // Allowed: it signs.
    update(UpdateKey {
        key_ops: Some(vec![KeyOperation::Sign, KeyOperation::Verify]),
        ..UpdateKey::default()
    })
    .await;
    let signature = sign(&h.ctx, &h.vault, "guarded", None).await.unwrap();
    assert!(verifies(&key, &signature));

    // Expired: sign is refused, verify (not date-controlled) still answers.
    h.clock.advance_days(10);
    let err = sign_error().await;
    assert!(
        matches!(err, VaultError::KeyExpired { operation: "sign" }),
        "{err:?}"
    );
    let (_, valid) = keys::verify(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("guarded"),
        None,
        SignatureAlgorithm::Es256,
        &DIGEST,
        &signature,
    )
    .await
    .unwrap();
    assert!(valid);

    // Expired and disabled: disabled first again.
    update(UpdateKey {
        enabled: Some(false),
        ..UpdateKey::default()
    })
    .await;
    let err = sign_error().await;
    assert!(
        matches!(err, VaultError::KeyDisabled { operation: "sign" }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_parsed_key_cache_never_outlives_its_vault() {
    let h = Harness::new().await;
    let vault = create_vault(&h.ctx, "vault-cache", 7).await;
    let old = create_ec(&h.ctx, &vault, "k").await;
    // Another node (its own caches) uses the key too, and so caches the vault's data key.
    let other_node = h.second_ctx();
    for ctx in [&h.ctx, &other_node] {
        let signature = sign(ctx, &vault, "k", None).await.unwrap();
        assert!(verifies(&old, &signature));
    }

    // The clock does not move: the new vault can get the old one's id, name and creation
    // time, everything but its data key and its keys.
    assert!(
        strongroom_vault::vaults::delete(&h.ctx, &vault.name)
            .await
            .unwrap()
    );
    assert!(
        strongroom_vault::vaults::purge(&h.ctx, &vault.name)
            .await
            .unwrap()
    );
    let again = create_vault(&h.ctx, "vault-cache", 7).await;
    let new = create_ec(&h.ctx, &again, "k").await;
    assert_ne!(new.public, old.public);

    // This node forgot the old vault when it deleted it; the other node never heard of the
    // delete, and a node started since has nothing cached.
    for ctx in [&h.ctx, &other_node, &h.second_ctx()] {
        let signature = sign(ctx, &again, "k", None).await.unwrap();
        assert!(verifies(&new, &signature), "signed with the new key");
        assert!(!verifies(&old, &signature), "not with the old one");
    }
    // The old version is gone with its vault, cache or not.
    let err = sign(&h.ctx, &again, "k", Some(&old.version))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
}
