//! Secrets: versions, update semantics, soft delete, recover, purge, backup and restore.
//!
//! A secret version is stored as a `Sealed` payload (the value, sealed with the vault's data
//! key and bound to vault, kind, lower-cased name and version) plus non-secret columns
//! (attributes, tags) and a small JSON metadata document (content type, managed, key id).

use crate::backup::{self, BODY_FORMAT_V1, SecretBackupBody, SecretBackupVersion};
use crate::error::corrupt;
use crate::lifecycle::{self, check_dates, check_tags};
use crate::{Page, PageRequest, Vault, VaultCtx, VaultError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strongroom_authz::{Grant, perm};
use strongroom_crypto::{Aad, DataKey};
use strongroom_model::{ObjectKind, ObjectName, Sealed, SecretValue, UnixTime, VaultName, Version};
use strongroom_store::{DeletedRow, NewVersion, VersionAttributes, VersionRow, VersionUpdate};

const KIND: ObjectKind = ObjectKind::Secret;

/// Azure's documented limit on a secret value: 25 KiB, counted in bytes of UTF-8.
pub const MAX_VALUE_BYTES: usize = 25 * 1024;
pub use crate::lifecycle::{MAX_TAG_NAME_CHARS, MAX_TAG_VALUE_CHARS, MAX_TAGS};
/// Azure's limit on `contentType`, in characters.
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;

/// The attributes of one secret version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretAttributes {
    pub enabled: bool,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub created: UnixTime,
    pub updated: UnixTime,
}

/// Everything about a secret version except its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretProperties {
    pub name: ObjectName,
    pub version: Version,
    pub content_type: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub attributes: SecretAttributes,
    /// Backs a certificate (Azure's `managed`); such secrets are written by the certificate
    /// service, not by `set`. The key of the same name and version backs it (Azure's `kid`).
    pub managed: bool,
}

/// A secret version with its value.
#[derive(Debug, Clone)]
pub struct Secret {
    pub properties: SecretProperties,
    pub value: SecretValue,
}

/// A soft-deleted secret: its current version's properties and the deletion dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedSecret {
    pub properties: SecretProperties,
    pub deleted_date: UnixTime,
    pub scheduled_purge_date: UnixTime,
}

/// `SetSecret`: a new version. Unset attributes take Azure's defaults (enabled, no dates, no
/// tags); nothing is inherited from the previous version.
#[derive(Debug, Clone)]
pub struct SetSecret {
    pub value: SecretValue,
    pub content_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub enabled: Option<bool>,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
}

/// `UpdateSecret`: changes one version's non-secret fields; `None` leaves a field unchanged.
/// Tags, when given, replace the whole set.
#[derive(Debug, Clone, Default)]
pub struct UpdateSecret {
    pub content_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub enabled: Option<bool>,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
}

/// The `meta` column of a secret version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SecretMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    managed: bool,
}

impl SecretMeta {
    fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|_| corrupt("secret metadata is not valid"))
    }

    fn encode(&self) -> Result<Vec<u8>, VaultError> {
        serde_json::to_vec(self).map_err(|_| corrupt("secret metadata could not be encoded"))
    }
}

/// Sets a secret: adds a new current version.
pub async fn set(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretSet>,
    name: &ObjectName,
    params: SetSecret,
) -> Result<Secret, VaultError> {
    if params.value.len() > MAX_VALUE_BYTES {
        return Err(VaultError::InvalidParameter(format!(
            "secret value is larger than {MAX_VALUE_BYTES} bytes"
        )));
    }
    let tags = params.tags.unwrap_or_default();
    check_tags(&tags)?;
    check_content_type(params.content_type.as_deref())?;
    check_dates(params.not_before, params.expires)?;

    let data_key = ctx.data_key(vault).await?;
    let now = ctx.now();
    let version = Version::new_random();
    let payload = seal_value(&data_key, &vault.name, name, &version, &params.value)?;
    let meta = SecretMeta {
        content_type: params.content_type,
        managed: false,
    };
    let row = lifecycle::put_version(
        ctx,
        vault,
        KIND,
        NewVersion {
            name: name.clone(),
            version,
            attributes: VersionAttributes {
                enabled: params.enabled.unwrap_or(true),
                not_before: params.not_before,
                expires: params.expires,
                created: now,
                updated: now,
            },
            tags,
            meta: meta.encode()?,
            payload,
        },
        "set",
    )
    .await?;
    let (properties, _payload) = split(row)?;
    Ok(Secret {
        properties,
        value: params.value,
    })
}

/// Gets a version (the current one when `version` is `None`) with its value. A disabled
/// version is refused; an expired one is returned, as Azure does.
pub async fn get(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretGet>,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<Secret, VaultError> {
    let row = get_row(ctx, vault, name, version).await?;
    let (properties, payload) = split(row)?;
    if !properties.attributes.enabled {
        return Err(VaultError::Disabled {
            kind: KIND,
            name: properties.name,
        });
    }
    let data_key = ctx.data_key(vault).await?;
    let value = open_value(
        &data_key,
        &vault.name,
        &properties.name,
        &properties.version,
        &payload,
    )?;
    Ok(Secret { properties, value })
}

/// Updates a version's attributes, tags or content type (the current version when `version`
/// is `None`). Works on disabled versions, so they can be enabled again.
pub async fn update(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretSet>,
    name: &ObjectName,
    version: Option<&Version>,
    params: UpdateSecret,
) -> Result<SecretProperties, VaultError> {
    if let Some(tags) = &params.tags {
        check_tags(tags)?;
    }
    check_content_type(params.content_type.as_deref())?;
    let row = get_row(ctx, vault, name, version).await?;
    lifecycle::refuse_managed(&row, KIND, is_managed, "update")?;
    check_dates(
        params.not_before.or(row.attributes.not_before),
        params.expires.or(row.attributes.expires),
    )?;
    let meta = match params.content_type {
        Some(content_type) => {
            let mut meta = SecretMeta::decode(&row.meta)?;
            meta.content_type = Some(content_type);
            Some(meta.encode()?)
        }
        None => None,
    };
    let update = VersionUpdate {
        enabled: params.enabled,
        not_before: params.not_before.map(Some),
        expires: params.expires.map(Some),
        tags: params.tags,
        meta,
        updated: ctx.now(),
    };
    let updated = ctx
        .store()
        .update_version(vault.id, KIND, &row.name, &row.version, update)
        .await?
        .ok_or_else(|| not_found(name, version))?;
    Ok(split(updated)?.0)
}

/// The current version of every live secret, by name.
pub async fn list(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretList>,
    page: PageRequest,
) -> Result<Page<SecretProperties>, VaultError> {
    lifecycle::list(ctx, vault, KIND, page, |row| Ok(split(row)?.0)).await
}

/// Every version of one live secret, oldest first. A missing name gives an empty page, not an
/// error (Azure answers 200 with an empty list, AZURE-ERRORS.md §4.11).
pub async fn list_versions(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretList>,
    name: &ObjectName,
    page: PageRequest,
) -> Result<Page<SecretProperties>, VaultError> {
    lifecycle::list_versions(ctx, vault, KIND, name, page, |row| Ok(split(row)?.0)).await
}

/// Soft-deletes a secret with all its versions; it is purged `retention_days` from now.
pub async fn delete(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretDelete>,
    name: &ObjectName,
) -> Result<DeletedSecret, VaultError> {
    lifecycle::refuse_managed_current(ctx, vault, KIND, name, is_managed, "delete").await?;
    deleted_secret(lifecycle::delete(ctx, vault, KIND, name).await?)
}

/// Soft-deleted secrets, by name.
pub async fn list_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretList>,
    page: PageRequest,
) -> Result<Page<DeletedSecret>, VaultError> {
    lifecycle::list_deleted(ctx, vault, KIND, page, deleted_secret).await
}

/// One soft-deleted secret. Azure requires `secrets/list` for this, not `get`.
pub async fn get_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretList>,
    name: &ObjectName,
) -> Result<DeletedSecret, VaultError> {
    deleted_secret(lifecycle::get_deleted(ctx, vault, KIND, name).await?)
}

/// Removes a soft-deleted secret for good. Live or absent names: `DeletedNotFound`.
pub async fn purge(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretPurge>,
    name: &ObjectName,
) -> Result<(), VaultError> {
    lifecycle::refuse_managed_deleted(ctx, vault, KIND, name, is_managed, "purge").await?;
    lifecycle::purge(ctx, vault, KIND, name).await
}

/// Makes a soft-deleted secret live again; returns its current version's properties.
pub async fn recover(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretRecover>,
    name: &ObjectName,
) -> Result<SecretProperties, VaultError> {
    lifecycle::refuse_managed_deleted(ctx, vault, KIND, name, is_managed, "recover").await?;
    Ok(split(lifecycle::recover(ctx, vault, KIND, name).await?)?.0)
}

/// Backs up a live secret (every version) as an opaque blob sealed with the deployment's
/// backup key; see `backup.rs` for the format.
pub async fn backup(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretBackup>,
    name: &ObjectName,
) -> Result<Vec<u8>, VaultError> {
    let (stored_name, body) = backup_body(ctx, vault, name, true).await?;
    backup::seal_secret(&*ctx.backup_key().await?, &stored_name, &body)
}

/// Every version of a live secret, opened, as a backup body. `refuse_managed`: a
/// certificate's secret is backed up with its certificate only.
pub(crate) async fn backup_body(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    refuse_managed: bool,
) -> Result<(ObjectName, SecretBackupBody), VaultError> {
    let rows = ctx.store().all_versions(vault.id, KIND, name).await?;
    let Some(first) = rows.first() else {
        return Err(not_found(name, None));
    };
    if let Some(last) = rows.last()
        && refuse_managed
    {
        lifecycle::refuse_managed(last, KIND, is_managed, "backup")?;
    }
    // The name as stored, not as the caller spelled it: a restore recreates it verbatim.
    let stored_name = first.name.clone();
    let data_key = ctx.data_key(vault).await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        let (properties, payload) = split(row)?;
        let value = open_value(
            &data_key,
            &vault.name,
            &properties.name,
            &properties.version,
            &payload,
        )?;
        versions.push(SecretBackupVersion {
            version: properties.version.as_str().to_owned(),
            enabled: properties.attributes.enabled,
            not_before: properties.attributes.not_before.map(UnixTime::seconds),
            expires: properties.attributes.expires.map(UnixTime::seconds),
            created: properties.attributes.created.seconds(),
            updated: properties.attributes.updated.seconds(),
            tags: properties.tags,
            content_type: properties.content_type,
            managed: properties.managed,
            key_id: None,
            value,
        });
    }
    let body = SecretBackupBody {
        format: BODY_FORMAT_V1,
        name: stored_name.as_str().to_owned(),
        versions,
    };
    Ok((stored_name, body))
}

/// Restores a backup made by any vault of this deployment into `vault`, re-sealing every
/// version under this vault's data key. The name must be free (neither live nor deleted).
pub async fn restore(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::SecretRestore>,
    blob: &[u8],
) -> Result<SecretProperties, VaultError> {
    let (name, body) = backup::open_secret(&*ctx.backup_key().await?, blob)?;
    if body.versions.iter().any(|version| version.managed) {
        // Only a certificate backup carries a managed secret.
        return Err(VaultError::MalformedBackup);
    }
    let data_key = ctx.data_key(vault).await?;
    let versions = restore_versions(&data_key, vault, &name, body)?;
    let row = lifecycle::restore(ctx, vault, KIND, &name, versions).await?;
    Ok(split(row)?.0)
}

/// A backup body's versions, re-sealed under `vault`'s data key, for the store's restore.
pub(crate) fn restore_versions(
    data_key: &DataKey,
    vault: &Vault,
    name: &ObjectName,
    body: SecretBackupBody,
) -> Result<Vec<NewVersion>, VaultError> {
    if body.format != BODY_FORMAT_V1 || body.name != name.as_str() || body.versions.is_empty() {
        return Err(VaultError::MalformedBackup);
    }
    let mut versions = Vec::with_capacity(body.versions.len());
    for backed_up in body.versions {
        let version =
            Version::parse(&backed_up.version).map_err(|_| VaultError::MalformedBackup)?;
        let payload = seal_value(data_key, &vault.name, name, &version, &backed_up.value)?;
        let meta = SecretMeta {
            content_type: backed_up.content_type,
            managed: backed_up.managed,
        };
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
            tags: backed_up.tags,
            meta: meta.encode()?,
            payload,
        });
    }
    Ok(versions)
}

/// The secret version that backs a certificate version: `value` (the PFX in base64 or the
/// PEM) sealed like any secret, marked managed. Written by the certificate service only.
pub(crate) fn managed_version(
    slot: lifecycle::ManagedSlot<'_>,
    value: &SecretValue,
    content_type: &str,
) -> Result<NewVersion, VaultError> {
    let meta = SecretMeta {
        content_type: Some(content_type.to_owned()),
        managed: true,
    };
    Ok(NewVersion {
        name: slot.name.clone(),
        version: slot.version.clone(),
        attributes: slot.attributes,
        tags: slot.tags,
        meta: meta.encode()?,
        payload: seal_value(
            slot.data_key,
            &slot.vault.name,
            slot.name,
            slot.version,
            value,
        )?,
    })
}

/// Whether a stored version backs a certificate (see `lifecycle::refuse_managed`).
pub(crate) fn is_managed(row: &VersionRow) -> Result<bool, VaultError> {
    Ok(SecretMeta::decode(&row.meta)?.managed)
}

async fn get_row(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<VersionRow, VaultError> {
    lifecycle::get_row(ctx, vault, KIND, name, version).await
}

/// Separates a stored version into its properties and its still-sealed payload.
fn split(row: VersionRow) -> Result<(SecretProperties, Sealed), VaultError> {
    let meta = SecretMeta::decode(&row.meta)?;
    let attributes = SecretAttributes {
        enabled: row.attributes.enabled,
        not_before: row.attributes.not_before,
        expires: row.attributes.expires,
        created: row.attributes.created,
        updated: row.attributes.updated,
    };
    let properties = SecretProperties {
        name: row.name,
        version: row.version,
        content_type: meta.content_type,
        tags: row.tags,
        attributes,
        managed: meta.managed,
    };
    Ok((properties, row.payload))
}

fn deleted_secret(row: DeletedRow) -> Result<DeletedSecret, VaultError> {
    Ok(DeletedSecret {
        properties: split(row.current)?.0,
        deleted_date: row.deletion.deleted_date,
        scheduled_purge_date: row.deletion.scheduled_purge_date,
    })
}

fn payload_aad(vault_name: &VaultName, name: &ObjectName, version: &Version) -> Aad {
    lifecycle::payload_aad(vault_name, KIND, name, version)
}

fn seal_value(
    data_key: &DataKey,
    vault_name: &VaultName,
    name: &ObjectName,
    version: &Version,
    value: &SecretValue,
) -> Result<Sealed, VaultError> {
    Ok(data_key.seal(
        &payload_aad(vault_name, name, version),
        value.expose().as_bytes(),
    )?)
}

fn open_value(
    data_key: &DataKey,
    vault_name: &VaultName,
    name: &ObjectName,
    version: &Version,
    payload: &Sealed,
) -> Result<SecretValue, VaultError> {
    let plain = data_key.open(&payload_aad(vault_name, name, version), payload)?;
    SecretValue::from_utf8(plain).map_err(|_| corrupt("secret payload is not UTF-8"))
}

fn not_found(name: &ObjectName, version: Option<&Version>) -> VaultError {
    lifecycle::not_found(KIND, name, version)
}

fn check_content_type(content_type: Option<&str>) -> Result<(), VaultError> {
    match content_type {
        Some(content_type) if content_type.chars().count() > MAX_CONTENT_TYPE_CHARS => {
            Err(VaultError::InvalidParameter(format!(
                "content type may be at most {MAX_CONTENT_TYPE_CHARS} characters long"
            )))
        }
        _ => Ok(()),
    }
}
