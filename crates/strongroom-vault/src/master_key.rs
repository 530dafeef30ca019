//! Master-key rotation: every vault's data key, and the deployment values the master key
//! seals, re-sealed under a new master key in one store transaction, and the new key swapped
//! in. Data keys themselves do not change, so no object is rewritten, no cache is dropped and
//! the data plane keeps serving throughout: only a vault's creation and a data-key cache miss
//! wait (for the transaction) on the keyring lock the rotation holds.
//!
//! Where the new key is kept, and how a crash part-way is recovered, is the caller's side
//! (the binary's `master_key.rs`): it writes the new key before calling this and makes it
//! the current one after.

use std::sync::Arc;

use strongroom_crypto::{Aad, MasterKey};
use strongroom_model::Sealed;
use strongroom_store::{Reseal, ResealedMeta, ResealedVaultKey};

use crate::VaultCtx;
use crate::VaultError;
use crate::ctx::BACKUP_KEY_META;

/// What a rotation re-sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterKeyRotation {
    /// Vault data keys.
    pub vaults: usize,
    /// Deployment values (the backup key and those the caller named).
    pub deployment_values: usize,
}

/// Re-seals every vault's data key, the backup key and the `deployment_values` (meta keys
/// sealed with `Aad::deployment(key)`, e.g. the token-signing key) under `new`, then uses
/// `new` from here on. On any error nothing changed and the old key stays in use.
pub async fn rotate(
    ctx: &VaultCtx,
    new: MasterKey,
    deployment_values: &[&str],
) -> Result<MasterKeyRotation, VaultError> {
    let mut keys = ctx.keyring_mut().await;
    let store = ctx.store();
    let mut reseal = Reseal::default();
    for vault in store.list_vaults().await? {
        let aad = Aad::data_key(vault.name.as_str(), vault.created.seconds());
        reseal.vault_keys.push(ResealedVaultKey {
            id: vault.id,
            sealed: keys.master.reseal(&aad, &vault.sealed_data_key, &new)?,
            previous: vault.sealed_data_key,
        });
    }
    for &key in deployment_values {
        let Some(previous) = store.get_meta(key).await? else {
            continue;
        };
        let sealed = Sealed::from(previous.clone());
        let resealed = keys.master.reseal(&Aad::deployment(key), &sealed, &new)?;
        reseal.meta.push(ResealedMeta {
            key: key.to_owned(),
            value: resealed.as_bytes().to_vec(),
            previous: Some(previous),
        });
    }
    // Stored sealed (under the new key) whether it was stored before or derived from the old
    // key: backups made before the rotation must still restore after it.
    let backup = ctx.load_backup_key(&mut keys).await?;
    let backup_aad = Aad::deployment(BACKUP_KEY_META);
    reseal.meta.push(ResealedMeta {
        key: BACKUP_KEY_META.to_owned(),
        value: new.seal_data_key(&backup_aad, &backup)?.as_bytes().to_vec(),
        previous: store.get_meta(BACKUP_KEY_META).await?,
    });
    let rotation = MasterKeyRotation {
        vaults: reseal.vault_keys.len(),
        deployment_values: reseal.meta.len(),
    };
    store.reseal(reseal).await?;
    keys.master = Arc::new(new);
    keys.backup = Some(backup);
    Ok(rotation)
}
