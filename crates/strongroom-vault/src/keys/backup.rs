//! Key backups: every version (attributes, tags, metadata and the private material) plus the
//! rotation policy, sealed with the deployment's backup key like a secret backup
//! (`crate::backup`), so a blob restores into any vault of the same deployment.

use super::meta::{KeyMeta, split};
use super::types::KeyProperties;
use super::{KIND, check_type_allowed, open_key, seal_key};
use crate::backup::{BODY_FORMAT_V1, open_body, seal_body};
use crate::lifecycle;
use crate::{Vault, VaultCtx, VaultError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strongroom_authz::{Grant, perm};
use strongroom_crypto::DataKey;
use strongroom_crypto::keys::PrivateKey;
use strongroom_model::{ObjectName, UnixTime, Version};
use strongroom_store::{NewVersion, VersionAttributes};
use zeroize::{Zeroize, Zeroizing};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyBackupBody {
    format: u32,
    name: String,
    /// Oldest first; the last one is the current version.
    versions: Vec<KeyBackupVersion>,
    /// The rotation policy document, as stored.
    rotation_policy: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBackupVersion {
    version: String,
    enabled: bool,
    not_before: Option<i64>,
    expires: Option<i64>,
    created: i64,
    updated: i64,
    tags: BTreeMap<String, String>,
    /// The `meta` column (JSON text), as stored.
    meta: String,
    /// base64url of `PrivateKey::to_stored`.
    material: MaterialText,
}

/// Private material in the backup JSON: wiped when dropped.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct MaterialText(String);

impl Drop for MaterialText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Backs up a live key (every version) as an opaque sealed blob.
pub async fn backup(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyBackup>,
    name: &ObjectName,
) -> Result<Vec<u8>, VaultError> {
    let (stored_name, body, size_hint) = backup_body(ctx, vault, name, true).await?;
    seal_body(
        &*ctx.backup_key().await?,
        KIND,
        &stored_name,
        &body,
        size_hint,
    )
}

/// Every version of a live key, opened, as a backup body (with a size hint for its JSON).
/// `refuse_managed`: a certificate's key is backed up with its certificate only.
pub(crate) async fn backup_body(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    refuse_managed: bool,
) -> Result<(ObjectName, KeyBackupBody, usize), VaultError> {
    let rows = ctx.store().all_versions(vault.id, KIND, name).await?;
    let Some(first) = rows.first() else {
        return Err(lifecycle::not_found(KIND, name, None));
    };
    if let Some(last) = rows.last()
        && refuse_managed
    {
        lifecycle::refuse_managed(last, KIND, super::is_managed, "backup")?;
    }
    let stored_name = first.name.clone();
    let rotation_policy = ctx
        .store()
        .get_name_policy(vault.id, KIND, name)
        .await?
        .map(|policy| String::from_utf8_lossy(&policy).into_owned());
    let data_key = ctx.data_key(vault).await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        let meta = String::from_utf8(row.meta.to_vec())
            .map_err(|_| crate::error::corrupt("key metadata is not UTF-8"))?;
        let (properties, payload) = split(row)?;
        let private = open_key(
            &data_key,
            &vault.name,
            &properties.name,
            &properties.version,
            &payload,
        )?;
        let stored = private.to_stored();
        versions.push(KeyBackupVersion {
            version: properties.version.as_str().to_owned(),
            enabled: properties.attributes.enabled,
            not_before: properties.attributes.not_before.map(UnixTime::seconds),
            expires: properties.attributes.expires.map(UnixTime::seconds),
            created: properties.attributes.created.seconds(),
            updated: properties.attributes.updated.seconds(),
            tags: properties.tags,
            meta,
            material: MaterialText(URL_SAFE_NO_PAD.encode(&*stored)),
        });
    }
    let size_hint = versions
        .iter()
        .map(|version| version.material.0.len() + version.meta.len() + 1024)
        .sum::<usize>()
        + 256;
    let body = KeyBackupBody {
        format: BODY_FORMAT_V1,
        name: stored_name.as_str().to_owned(),
        versions,
        rotation_policy,
    };
    Ok((stored_name, body, size_hint))
}

/// A backup body's versions, re-sealed under `vault`'s data key, for the store's restore.
pub(crate) fn restore_versions(
    data_key: &DataKey,
    vault: &Vault,
    name: &ObjectName,
    body: &KeyBackupBody,
) -> Result<Vec<NewVersion>, VaultError> {
    if body.format != BODY_FORMAT_V1 || body.name != name.as_str() || body.versions.is_empty() {
        return Err(VaultError::MalformedBackup);
    }
    let mut versions = Vec::with_capacity(body.versions.len());
    for backed_up in &body.versions {
        let version =
            Version::parse(&backed_up.version).map_err(|_| VaultError::MalformedBackup)?;
        // The metadata must still parse, and the material must be a key of its type.
        let meta =
            KeyMeta::decode(backed_up.meta.as_bytes()).map_err(|_| VaultError::MalformedBackup)?;
        let stored = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(&backed_up.material.0)
                .map_err(|_| VaultError::MalformedBackup)?,
        );
        let private = PrivateKey::from_stored(&stored).map_err(|_| VaultError::MalformedBackup)?;
        let key_type = meta.key_type().map_err(|_| VaultError::MalformedBackup)?;
        if key_type.family() != private.family() {
            return Err(VaultError::MalformedBackup);
        }
        // An HSM or symmetric key needs a premium vault here too, as at create and import.
        check_type_allowed(vault, key_type)?;
        let payload = seal_key(data_key, &vault.name, name, &version, &private)?;
        versions.push(NewVersion {
            name: name.clone(),
            version,
            attributes: VersionAttributes {
                enabled: backed_up.enabled,
                not_before: backed_up.not_before.map(UnixTime),
                expires: backed_up.expires.map(UnixTime),
                created: UnixTime(backed_up.created),
                updated: UnixTime(backed_up.updated),
            },
            tags: backed_up.tags.clone(),
            meta: backed_up.meta.as_bytes().to_vec(),
            payload,
        });
    }
    Ok(versions)
}

/// Restores a key backup made by any vault of this deployment into `vault`, re-sealing every
/// version under this vault's data key. The name must be free.
pub async fn restore(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyRestore>,
    blob: &[u8],
) -> Result<KeyProperties, VaultError> {
    let (name, body): (ObjectName, KeyBackupBody) =
        open_body(&*ctx.backup_key().await?, KIND, blob)?;
    let data_key = ctx.data_key(vault).await?;
    let versions = restore_versions(&data_key, vault, &name, &body)?;
    let row = lifecycle::restore(ctx, vault, KIND, &name, versions).await?;
    if let Some(policy) = &body.rotation_policy {
        ctx.store()
            .put_name_policy(vault.id, KIND, &name, policy.as_bytes().to_vec())
            .await?;
    }
    Ok(split(row)?.0)
}
