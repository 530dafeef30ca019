//! Master-key rotation: every data key re-sealed under the new key, the old key refused,
//! backups from before the rotation still restoring, and vaults created during a rotation
//! never left sealed under the old key.

use crate::{Harness, create_vault, grant, name};
use std::sync::Arc;
use strongroom_crypto::{Aad, MasterKey};
use strongroom_model::{Sealed, VaultName};
use strongroom_vault::{Vault, VaultCtx, master_key, secrets};

const SIGNING: &str = "token-signing-key";

fn copy(key: &MasterKey) -> Arc<MasterKey> {
    Arc::new(MasterKey::from_bytes(key.expose_bytes()).unwrap())
}

/// A context on the harness's store (a fresh process) with `master`.
fn ctx_with(h: &Harness, master: Arc<MasterKey>) -> VaultCtx {
    VaultCtx::new(Arc::clone(&h.store), Arc::new(h.clock.clone()), master)
}

async fn vault_named(ctx: &VaultCtx, vault_name: &str) -> Vault {
    strongroom_vault::vaults::get(ctx, &VaultName::parse(vault_name).unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn read(ctx: &VaultCtx, vault: &Vault, secret: &str) -> Result<String, String> {
    secrets::get(ctx, vault, &grant(), &name(secret), None)
        .await
        .map(|secret| secret.value.expose().to_owned())
        .map_err(|err| format!("{err:?}"))
}

#[tokio::test]
async fn every_data_key_is_resealed_and_backups_still_restore() {
    let h = Harness::new().await;
    h.set("in-one", "value one").await;
    let two = create_vault(&h.ctx, "vault-two", 7).await;
    h.set_in(&two, "in-two", "value two").await;
    let backup = secrets::backup(&h.ctx, &h.vault, &grant(), &name("in-one"))
        .await
        .unwrap();
    let signing = h
        .master
        .seal(&Aad::deployment(SIGNING), b"the signing key")
        .unwrap();
    h.store.put_meta(SIGNING, signing.as_bytes()).await.unwrap();

    let new = MasterKey::generate().unwrap();
    let new_copy = copy(&new);
    let rotation = master_key::rotate(&h.ctx, new, &[SIGNING, "absent"])
        .await
        .unwrap();
    assert_eq!(rotation.vaults, 2);
    assert_eq!(
        rotation.deployment_values, 2,
        "the signing key and the backup key"
    );

    // The running context carries on (its data keys are cached and unchanged).
    assert_eq!(read(&h.ctx, &h.vault, "in-one").await.unwrap(), "value one");
    // A new process with the new key reads every vault; one with the old key reads none.
    let fresh = ctx_with(&h, Arc::clone(&new_copy));
    for (vault_name, secret, value) in [
        ("vault-one", "in-one", "value one"),
        ("vault-two", "in-two", "value two"),
    ] {
        let vault = vault_named(&fresh, vault_name).await;
        assert_eq!(read(&fresh, &vault, secret).await.unwrap(), value);
        let stale = ctx_with(&h, copy(&h.master));
        let refused = read(&stale, &vault_named(&stale, vault_name).await, secret).await;
        assert!(refused.is_err(), "the old key still opens {vault_name}");
    }
    let stored = Sealed::from(h.store.get_meta(SIGNING).await.unwrap().unwrap());
    assert_eq!(
        new_copy
            .open(&Aad::deployment(SIGNING), &stored)
            .unwrap()
            .expose(),
        b"the signing key"
    );
    assert!(h.master.open(&Aad::deployment(SIGNING), &stored).is_err());

    // A backup made under the old key restores in a new process under the new key, and
    // again after a second rotation (the stored backup key is re-sealed, not re-derived).
    let restored = secrets::restore(&fresh, &two, &grant(), &backup)
        .await
        .unwrap();
    assert_eq!(restored.name.as_str(), "in-one");
    let newest = MasterKey::generate().unwrap();
    let newest_copy = copy(&newest);
    master_key::rotate(&fresh, newest, &[SIGNING])
        .await
        .unwrap();
    let third = ctx_with(&h, newest_copy);
    let three = create_vault(&third, "vault-three", 7).await;
    secrets::restore(&third, &three, &grant(), &backup)
        .await
        .unwrap();
    assert_eq!(read(&third, &three, "in-one").await.unwrap(), "value one");
}

/// Vault creations racing a rotation: each lands before it (and is re-sealed) or after it
/// (sealed under the new key); none is sealed under the old key after the swap.
#[tokio::test]
async fn vaults_created_during_a_rotation_open_under_the_new_key() {
    let h = Harness::new().await;
    let new = MasterKey::generate().unwrap();
    let new_copy = copy(&new);
    let creations = async {
        for index in 0..20 {
            let vault = create_vault(&h.ctx, &format!("racing-{index}"), 7).await;
            h.set_in(&vault, "s", &format!("value {index}")).await;
            tokio::task::yield_now().await;
        }
    };
    let rotation = async {
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        master_key::rotate(&h.ctx, new, &[]).await.unwrap()
    };
    let ((), rotation) = tokio::join!(creations, rotation);
    // `join!` polls the creations first: the first one holds the keyring while its row is
    // written, so the rotation waits for it, re-seals it with vault-one, and every later
    // creation waits for the swap.
    assert_eq!(rotation.vaults, 2, "vault-one and the first racing vault");
    let fresh = ctx_with(&h, new_copy);
    for index in 0..20 {
        let vault = vault_named(&fresh, &format!("racing-{index}")).await;
        assert_eq!(
            read(&fresh, &vault, "s").await.unwrap(),
            format!("value {index}")
        );
    }
}
