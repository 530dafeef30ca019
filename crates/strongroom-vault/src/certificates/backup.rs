//! Certificate backups: every version of the certificate, of its key and of its secret, and
//! its policy, in one blob sealed with the deployment's backup key (`crate::backup`). The key
//! and secret parts are the keys' and secrets' own backup bodies, so each keeps one format.
//! A restore writes all three names and the policy in one transaction.

use super::meta;
use super::stored;
use super::types::Certificate;
use crate::backup::{BODY_FORMAT_V1, SecretBackupBody, open_body, seal_body};
use crate::keys::{self, KeyBackupBody};
use crate::{Vault, VaultCtx, VaultError, lifecycle, secrets};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strongroom_authz::{Grant, perm};
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, Version};
use strongroom_store::{CertificateRestore, NewVersion, StoreError, VersionAttributes};

const KIND: ObjectKind = ObjectKind::Certificate;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBackupBody {
    format: u32,
    name: String,
    /// Oldest first; the last one is the current version.
    versions: Vec<CertificateBackupVersion>,
    /// The policy document, as stored.
    policy: Option<String>,
    key: KeyBackupBody,
    /// Absent when the certificate never had a secret (it is pending).
    secret: Option<SecretBackupBody>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBackupVersion {
    version: String,
    enabled: bool,
    not_before: Option<i64>,
    expires: Option<i64>,
    created: i64,
    updated: i64,
    tags: BTreeMap<String, String>,
    /// The `meta` column (JSON text), as stored: the certificate itself.
    meta: String,
}

/// Backs up a live certificate with its key, secret and policy.
pub async fn backup(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateBackup>,
    name: &ObjectName,
) -> Result<Vec<u8>, VaultError> {
    let rows = ctx.store().all_versions(vault.id, KIND, name).await?;
    let Some(first) = rows.first() else {
        return Err(lifecycle::not_found(KIND, name, None));
    };
    let stored_name = first.name.clone();
    let versions = rows
        .into_iter()
        .map(|row| {
            Ok(CertificateBackupVersion {
                version: row.version.as_str().to_owned(),
                enabled: row.attributes.enabled,
                not_before: row.attributes.not_before.map(UnixTime::seconds),
                expires: row.attributes.expires.map(UnixTime::seconds),
                created: row.attributes.created.seconds(),
                updated: row.attributes.updated.seconds(),
                tags: row.tags,
                meta: String::from_utf8(row.meta.to_vec())
                    .map_err(|_| crate::error::corrupt("certificate metadata is not UTF-8"))?,
            })
        })
        .collect::<Result<Vec<_>, VaultError>>()?;
    let policy = ctx
        .store()
        .get_name_policy(vault.id, KIND, name)
        .await?
        .map(|policy| String::from_utf8_lossy(&policy).into_owned());
    let (_, key, key_size) = keys::backup_body(ctx, vault, name, false).await?;
    let secret = match secrets::backup_body(ctx, vault, name, false).await {
        Ok((_, body)) => Some(body),
        Err(VaultError::NotFound { .. }) => None,
        Err(other) => return Err(other),
    };
    let secret_size: usize = secret
        .iter()
        .flat_map(|body| &body.versions)
        .map(|version| 2 * version.value.len() + 1024)
        .sum();
    let size_hint =
        key_size + secret_size + versions.iter().map(|v| v.meta.len() + 512).sum::<usize>() + 1024;
    let body = CertificateBackupBody {
        format: BODY_FORMAT_V1,
        name: stored_name.as_str().to_owned(),
        versions,
        policy,
        key,
        secret,
    };
    seal_body(
        &*ctx.backup_key().await?,
        KIND,
        &stored_name,
        &body,
        size_hint,
    )
}

/// Restores a certificate backup made by any vault of this deployment into `vault`; the
/// certificate's, key's and secret's names must all be free.
pub async fn restore(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateRestore>,
    blob: &[u8],
) -> Result<Certificate, VaultError> {
    let (name, body): (ObjectName, CertificateBackupBody) =
        open_body(&*ctx.backup_key().await?, KIND, blob)?;
    if body.format != BODY_FORMAT_V1 || body.name != name.as_str() || body.versions.is_empty() {
        return Err(VaultError::MalformedBackup);
    }
    let policy = match &body.policy {
        Some(text) => {
            // The document must still decode before it is written back.
            stored::decode(text.as_bytes()).map_err(|_| VaultError::MalformedBackup)?;
            Some(text.as_bytes().to_vec())
        }
        None => None,
    };
    let mut certificate = Vec::with_capacity(body.versions.len());
    for backed_up in &body.versions {
        let version =
            Version::parse(&backed_up.version).map_err(|_| VaultError::MalformedBackup)?;
        certificate.push(NewVersion {
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
            payload: Sealed::from(Vec::new()),
        });
    }
    let current_version = certificate
        .last()
        .map(|version| version.version.clone())
        .ok_or(VaultError::MalformedBackup)?;
    let data_key = ctx.data_key(vault).await?;
    let key = keys::restore_versions(&data_key, vault, &name, &body.key)?;
    let secret = match body.secret {
        Some(secret) => secrets::restore_versions(&data_key, vault, &name, secret)?,
        None => Vec::new(),
    };
    let restore = CertificateRestore {
        name: name.clone(),
        certificate,
        key,
        secret,
        policy: policy.clone(),
    };
    let row = ctx
        .store()
        .restore_certificate(vault.id, restore)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists | StoreError::NameDeleted => VaultError::RestoreConflict {
                kind: KIND,
                name: name.clone(),
                version: current_version,
            },
            other => VaultError::Store(other),
        })?;
    Ok(Certificate {
        properties: meta::properties(row).map_err(|_| VaultError::MalformedBackup)?,
        policy: policy.map(|bytes| stored::decode(&bytes)).transpose()?,
    })
}
