//! Keys: create (fresh material from aws-lc-rs), import (JWK), versions, update, soft delete,
//! recover, purge, backup and restore, rotation and its policy, and the cryptographic
//! operations (`ops.rs`) under the key's `key_ops`, `enabled` and `nbf`/`exp`.
//!
//! A key version is stored as the private material sealed with the vault's data key (AAD:
//! vault, kind, lower-cased name, version) plus `meta` (`meta.rs`: type, `key_ops`, public
//! key, exportable, release policy). Private material leaves this module only sealed, in a
//! backup blob, wrapped for an attested target by `release` (policy in `release_policy.rs`,
//! trust in `attestation.rs`), or as the result of a cryptographic operation.

mod attestation;
mod backup;
mod meta;
mod ops;
mod release_policy;
pub mod rotation;
mod types;

pub use attestation::{AttestationAuthority, ReleaseConfig, ReleaseSigner};
pub(crate) use backup::{KeyBackupBody, backup_body, restore_versions};
pub use backup::{backup, restore};
pub use ops::{decrypt, encrypt, sign, unwrap_key, verify, wrap_key};
pub use strongroom_crypto::keys::{
    CipherInput, CipherOutput, Curve, EncryptionAlgorithm, KeyError, KeyFamily, KeyMaterial,
    PublicKey, ReleaseWrapping, SignatureAlgorithm,
};
pub use types::{
    CreateKey, DeletedKey, ImportKey, KeyAttributes, KeyOperation, KeyProperties, KeyType,
    ReleasePolicy, UpdateKey, UsedKey,
};

use crate::lifecycle::{self, check_dates, check_tags};
use crate::{Page, PageRequest, Vault, VaultCtx, VaultError, VaultSku};
use meta::{KeyMeta, split};
use release_policy::ReleasePolicyDoc;
use std::sync::Arc;
use strongroom_authz::{Grant, perm};
use strongroom_crypto::DataKey;
use strongroom_crypto::keys::{PrivateKey, wrap_for_release};
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};
use strongroom_store::{DeletedRow, NewVersion, VersionAttributes, VersionUpdate};

pub(crate) const KIND: ObjectKind = ObjectKind::Key;

/// RSA sizes Azure creates.
pub const RSA_SIZES: [usize; 3] = [2048, 3072, 4096];
/// Symmetric key sizes a premium vault creates.
pub const OCT_SIZES: [usize; 3] = [128, 192, 256];

// AZURE-ERRORS.md 6.14, recorded from Managed HSM and premium vaults.
const SKR_EXPORTABLE_WITHOUT_POLICY: &str =
    "AKV.SKR.1004: Exportable keys must have release policy.";
const SKR_POLICY_WITHOUT_EXPORTABLE: &str =
    "AKV.SKR.1005: Non-exportable keys must not have release policy.";
const SKR_IMMUTABLE_POLICY: &str = "AKV.SKR.1020: Immutable Key Release Policy cannot be modified.";

/// Creates a key: a new version with fresh material of the requested type and size.
pub async fn create(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyCreate>,
    name: &ObjectName,
    params: CreateKey,
) -> Result<KeyProperties, VaultError> {
    check_type_allowed(vault, params.key_type)?;
    let private = generate(
        params.key_type,
        params.size,
        params.public_exponent,
        params.curve,
    )
    .await?;
    let exportable = params.exportable.unwrap_or(false);
    check_release_rules(params.key_type, exportable, params.release_policy.as_ref())?;
    let new = NewKeyVersion {
        key_type: params.key_type,
        key_ops: params
            .key_ops
            .unwrap_or_else(|| params.key_type.default_ops()),
        enabled: params.enabled.unwrap_or(true),
        not_before: params.not_before,
        expires: params.expires,
        exportable,
        tags: params.tags.unwrap_or_default(),
        release_policy: params.release_policy,
    };
    write_version(ctx, vault, name, &private, new, "create").await
}

/// Imports a key from the caller's JWK parts as a new version.
pub async fn import(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyImport>,
    name: &ObjectName,
    params: ImportKey,
) -> Result<KeyProperties, VaultError> {
    let key_type = KeyType::of(
        params.key_type.family(),
        params.key_type.is_hsm() || params.hsm.unwrap_or(false),
    );
    check_type_allowed(vault, key_type)?;
    let private = PrivateKey::import(&params.material)?;
    if private.family() != key_type.family() {
        return Err(VaultError::InvalidParameter(format!(
            "The key material does not describe a key of type {}.",
            key_type.as_str()
        )));
    }
    let exportable = params.exportable.unwrap_or(false);
    check_release_rules(key_type, exportable, params.release_policy.as_ref())?;
    let new = NewKeyVersion {
        key_type,
        key_ops: params.key_ops.unwrap_or_else(|| key_type.default_ops()),
        enabled: params.enabled.unwrap_or(true),
        not_before: params.not_before,
        expires: params.expires,
        exportable,
        tags: params.tags.unwrap_or_default(),
        release_policy: params.release_policy,
    };
    write_version(ctx, vault, name, &private, new, "import").await
}

/// A version's properties (the current one when `version` is `None`). Disabled keys are
/// still returned: only the private operations refuse them.
pub async fn get(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyGet>,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<KeyProperties, VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    Ok(split(row)?.0)
}

/// Changes one version's `key_ops`, attributes, tags or release policy.
pub async fn update(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyUpdate>,
    name: &ObjectName,
    version: Option<&Version>,
    params: UpdateKey,
) -> Result<KeyProperties, VaultError> {
    if let Some(tags) = &params.tags {
        check_tags(tags)?;
    }
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    lifecycle::refuse_managed(&row, KIND, is_managed, "update")?;
    check_dates(
        params.not_before.or(row.attributes.not_before),
        params.expires.or(row.attributes.expires),
    )?;
    let mut meta = KeyMeta::decode(&row.meta)?;
    let mut meta_changed = false;
    if let Some(key_ops) = &params.key_ops {
        meta.set_key_ops(key_ops);
        meta_changed = true;
    }
    if let Some(policy) = &params.release_policy {
        if meta
            .release_policy()?
            .is_some_and(|current| current.immutable)
        {
            return Err(VaultError::InvalidParameter(
                SKR_IMMUTABLE_POLICY.to_owned(),
            ));
        }
        if !meta.exportable && !params.exportable.unwrap_or(false) {
            return Err(VaultError::InvalidParameter(
                SKR_POLICY_WITHOUT_EXPORTABLE.to_owned(),
            ));
        }
        parse_policy(policy)?;
        meta.set_release_policy(Some(policy));
        meta_changed = true;
    }
    if let Some(exportable) = params.exportable
        && exportable != meta.exportable
    {
        // Azure lets a key become exportable only with a policy, and never go back.
        if !exportable {
            return Err(VaultError::InvalidParameter(
                "The exportable attribute of a key cannot be reset.".to_owned(),
            ));
        }
        check_release_rules(meta.key_type()?, true, meta.release_policy()?.as_ref())?;
        meta.exportable = true;
        meta_changed = true;
    }
    let update = VersionUpdate {
        enabled: params.enabled,
        not_before: params.not_before.map(Some),
        expires: params.expires.map(Some),
        tags: params.tags,
        meta: if meta_changed {
            Some(meta.encode()?)
        } else {
            None
        },
        updated: ctx.now(),
    };
    let updated = ctx
        .store()
        .update_version(vault.id, KIND, &row.name, &row.version, update)
        .await?
        .ok_or_else(|| lifecycle::not_found(KIND, name, version))?;
    Ok(split(updated)?.0)
}

/// The current version of every live key, by name.
pub async fn list(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyList>,
    page: PageRequest,
) -> Result<Page<KeyProperties>, VaultError> {
    lifecycle::list(ctx, vault, KIND, page, |row| Ok(split(row)?.0)).await
}

/// Every version of one live key, oldest first; a missing name gives an empty page.
pub async fn list_versions(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyList>,
    name: &ObjectName,
    page: PageRequest,
) -> Result<Page<KeyProperties>, VaultError> {
    lifecycle::list_versions(ctx, vault, KIND, name, page, |row| Ok(split(row)?.0)).await
}

/// Soft-deletes a key with all its versions.
pub async fn delete(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyDelete>,
    name: &ObjectName,
) -> Result<DeletedKey, VaultError> {
    lifecycle::refuse_managed_current(ctx, vault, KIND, name, is_managed, "delete").await?;
    deleted_key(lifecycle::delete(ctx, vault, KIND, name).await?)
}

/// Soft-deleted keys, by name.
pub async fn list_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyList>,
    page: PageRequest,
) -> Result<Page<DeletedKey>, VaultError> {
    lifecycle::list_deleted(ctx, vault, KIND, page, deleted_key).await
}

/// One soft-deleted key. Azure requires `keys/list` for this, like secrets.
pub async fn get_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyList>,
    name: &ObjectName,
) -> Result<DeletedKey, VaultError> {
    deleted_key(lifecycle::get_deleted(ctx, vault, KIND, name).await?)
}

/// Removes a soft-deleted key for good.
pub async fn purge(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyPurge>,
    name: &ObjectName,
) -> Result<(), VaultError> {
    lifecycle::refuse_managed_deleted(ctx, vault, KIND, name, is_managed, "purge").await?;
    lifecycle::purge(ctx, vault, KIND, name).await
}

/// Makes a soft-deleted key live again.
pub async fn recover(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyRecover>,
    name: &ObjectName,
) -> Result<KeyProperties, VaultError> {
    lifecycle::refuse_managed_deleted(ctx, vault, KIND, name, is_managed, "recover").await?;
    Ok(split(lifecycle::recover(ctx, vault, KIND, name).await?)?.0)
}

/// `GetRandomBytes`: 1 to 128 bytes from aws-lc-rs's generator (AZURE-ERRORS.md 6.20).
pub fn random_bytes(count: i64) -> Result<Vec<u8>, VaultError> {
    let count = usize::try_from(count)
        .ok()
        .filter(|count| (1..=128).contains(count))
        .ok_or_else(|| {
            VaultError::InvalidParameter(
                "GetRandomBytesRequest: count cannot be greater than 128 or less than 1".to_owned(),
            )
        })?;
    let bytes = strongroom_crypto::random_bytes::<128>()?;
    Ok(bytes[..count].to_vec())
}

// ---- shared by create, import, rotate and restore ----

/// Whether a stored version backs a certificate (see `lifecycle::refuse_managed`).
pub(crate) fn is_managed(row: &strongroom_store::VersionRow) -> Result<bool, VaultError> {
    Ok(KeyMeta::decode(&row.meta)?.managed)
}

/// The key version that backs a certificate version: `private` sealed like any key, marked
/// managed, with the operations the certificate's key usage allows. Written by the
/// certificate service only.
pub(crate) fn managed_version(
    slot: lifecycle::ManagedSlot<'_>,
    private: &PrivateKey,
    key_type: KeyType,
    key_ops: &[KeyOperation],
) -> Result<NewVersion, VaultError> {
    check_type_allowed(slot.vault, key_type)?;
    let mut meta = KeyMeta::new(
        key_type,
        key_ops,
        &private.public(),
        private.size_bits(),
        false,
        None,
    );
    meta.managed = true;
    Ok(NewVersion {
        name: slot.name.clone(),
        version: slot.version.clone(),
        attributes: slot.attributes,
        tags: slot.tags,
        meta: meta.encode()?,
        payload: seal_key(
            slot.data_key,
            &slot.vault.name,
            slot.name,
            slot.version,
            private,
        )?,
    })
}

/// The non-material fields of a new version.
pub(crate) struct NewKeyVersion {
    pub(crate) key_type: KeyType,
    pub(crate) key_ops: Vec<KeyOperation>,
    pub(crate) enabled: bool,
    pub(crate) not_before: Option<UnixTime>,
    pub(crate) expires: Option<UnixTime>,
    pub(crate) exportable: bool,
    pub(crate) tags: std::collections::BTreeMap<String, String>,
    pub(crate) release_policy: Option<ReleasePolicy>,
}

/// Seals `private` and writes it as the name's new current version.
pub(crate) async fn write_version(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    private: &PrivateKey,
    new: NewKeyVersion,
    operation: &'static str,
) -> Result<KeyProperties, VaultError> {
    check_tags(&new.tags)?;
    check_dates(new.not_before, new.expires)?;
    let data_key = ctx.data_key(vault).await?;
    let now = ctx.now();
    let version = Version::new_random();
    let payload = seal_key(&data_key, &vault.name, name, &version, private)?;
    let meta = KeyMeta::new(
        new.key_type,
        &new.key_ops,
        &private.public(),
        private.size_bits(),
        new.exportable,
        new.release_policy.as_ref(),
    );
    let row = lifecycle::put_version(
        ctx,
        vault,
        KIND,
        NewVersion {
            name: name.clone(),
            version,
            attributes: VersionAttributes {
                enabled: new.enabled,
                not_before: new.not_before,
                expires: new.expires,
                created: now,
                updated: now,
            },
            tags: new.tags,
            meta: meta.encode()?,
            payload,
        },
        operation,
    )
    .await?;
    Ok(split(row)?.0)
}

/// Fresh material for `key_type` (defaults: RSA 2048, P-256, 256-bit oct). Generation runs on
/// tokio's blocking pool: an RSA-4096 prime search can take a second or more, and on a
/// request worker it would stall every other request queued on that thread.
pub(crate) async fn generate(
    key_type: KeyType,
    size: Option<usize>,
    public_exponent: Option<u64>,
    curve: Option<Curve>,
) -> Result<PrivateKey, VaultError> {
    let family = key_type.family();
    tokio::task::spawn_blocking(move || match family {
        KeyFamily::Rsa => PrivateKey::generate_rsa(size.unwrap_or(2048), public_exponent),
        KeyFamily::Ec => PrivateKey::generate_ec(curve.unwrap_or(Curve::P256)),
        KeyFamily::Oct => PrivateKey::generate_oct(size.unwrap_or(256)),
    })
    .await
    .map_err(|_| crate::error::corrupt("key generation did not finish"))?
    .map_err(VaultError::from)
}

/// HSM-protected and symmetric keys need a premium vault (AZURE-ERRORS.md 6.8, 6.9).
pub(crate) fn check_type_allowed(vault: &Vault, key_type: KeyType) -> Result<(), VaultError> {
    if vault.sku == VaultSku::Premium {
        return Ok(());
    }
    if key_type == KeyType::Oct {
        return Err(VaultError::KeyTypeNotSupported {
            kty: key_type.as_str().to_owned(),
        });
    }
    if key_type.is_hsm() {
        return Err(VaultError::HsmNotAllowed);
    }
    Ok(())
}

/// Secure key release's rules at create/import (AZURE-ERRORS.md 6.14): an exportable key
/// needs a release policy and a policy needs an exportable key; only HSM-protected keys can
/// be exportable.
fn check_release_rules(
    key_type: KeyType,
    exportable: bool,
    release_policy: Option<&ReleasePolicy>,
) -> Result<(), VaultError> {
    match (exportable, release_policy.is_some()) {
        (true, false) => Err(VaultError::InvalidParameter(
            SKR_EXPORTABLE_WITHOUT_POLICY.to_owned(),
        )),
        (false, true) => Err(VaultError::InvalidParameter(
            SKR_POLICY_WITHOUT_EXPORTABLE.to_owned(),
        )),
        (true, true) if !key_type.is_hsm() => Err(VaultError::InvalidParameter(
            "Only HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) can be exportable.".to_owned(),
        )),
        _ => release_policy.map_or(Ok(()), |policy| parse_policy(policy).map(drop)),
    }
}

fn deleted_key(row: DeletedRow) -> Result<DeletedKey, VaultError> {
    Ok(DeletedKey {
        properties: split(row.current)?.0,
        deleted_date: row.deletion.deleted_date,
        scheduled_purge_date: row.deletion.scheduled_purge_date,
    })
}

pub(crate) fn seal_key(
    data_key: &DataKey,
    vault_name: &VaultName,
    name: &ObjectName,
    version: &Version,
    private: &PrivateKey,
) -> Result<Sealed, VaultError> {
    let stored = private.to_stored();
    Ok(data_key.seal(
        &lifecycle::payload_aad(vault_name, KIND, name, version),
        &stored,
    )?)
}

pub(crate) fn open_key(
    data_key: &DataKey,
    vault_name: &VaultName,
    name: &ObjectName,
    version: &Version,
    payload: &Sealed,
) -> Result<PrivateKey, VaultError> {
    let plain = data_key.open(
        &lifecycle::payload_aad(vault_name, KIND, name, version),
        payload,
    )?;
    Ok(PrivateKey::from_stored(plain.expose())?)
}

/// A version's parsed private key: from the context's cache, or opened with the vault's
/// data key and parsed (then cached).
pub(crate) async fn parsed_key(
    ctx: &VaultCtx,
    vault: &Vault,
    properties: &KeyProperties,
    payload: &Sealed,
) -> Result<Arc<PrivateKey>, VaultError> {
    let data_key = ctx.data_key(vault).await?;
    ctx.private_key(vault, &properties.name, &properties.version, || {
        open_key(
            &data_key,
            &vault.name,
            &properties.name,
            &properties.version,
            payload,
        )
    })
}

/// What a successful release produced: the released version's properties and its private
/// material wrapped for the target (`ciphertext`, in `wrapping`'s format, for the target's
/// key `target_kid`). `sign` turns the payload the API builds around it into the JWS Azure
/// answers with, signed by the deployment's release-signing key; only a release can sign.
#[derive(Debug)]
pub struct ReleasedKey {
    pub properties: KeyProperties,
    pub wrapping: ReleaseWrapping,
    pub target_kid: Option<String>,
    pub ciphertext: Vec<u8>,
    signer: Arc<ReleaseSigner>,
}

impl ReleasedKey {
    /// The compact JWS (RS256, `x5c` in the header) of `payload`.
    pub fn sign(&self, payload: &[u8]) -> Result<String, VaultError> {
        self.signer.sign(payload)
    }
}

/// Secure key release: hands an exportable key's material to an attested environment that
/// satisfies the key's release policy. In order: the key must be enabled and exportable;
/// its policy must name an authority this deployment trusts; the target token must be a
/// valid JWT of such an authority (`attestation.rs`); its claims must satisfy the policy;
/// and it must carry an RSA key, for which the private material is wrapped
/// (`strongroom_crypto::keys::wrap_for_release`).
pub async fn release(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyRelease>,
    name: &ObjectName,
    version: Option<&Version>,
    target_attestation: &str,
    wrapping: ReleaseWrapping,
) -> Result<ReleasedKey, VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    let (properties, payload) = split(row)?;
    if !properties.attributes.enabled {
        return Err(VaultError::KeyDisabled {
            operation: "release",
        });
    }
    let policy = match (&properties.release_policy, properties.attributes.exportable) {
        (Some(policy), true) => policy,
        _ => {
            return Err(VaultError::InvalidParameter(
                "The key is not exportable; only exportable keys with a release policy can be released."
                    .to_owned(),
            ));
        }
    };
    let policy = parse_policy(policy)?;
    let config = ctx.release_config();
    let signer = config.signer.clone().ok_or_else(|| {
        VaultError::NotSupported("This deployment has no release-signing key.".to_owned())
    })?;
    let candidates: Vec<&AttestationAuthority> = policy
        .authorities()
        .filter_map(|url| config.authority(url))
        .collect();
    if candidates.is_empty() {
        return Err(attestation::skr_error(
            attestation::SKR_UNTRUSTED_AUTHORITY,
            "None of the key release policy's authorities is trusted by this deployment.",
        ));
    }
    let token = attestation::verify_token(target_attestation, &candidates, ctx.now())?;
    if !policy.is_satisfied(&token.issuer, &token.claims) {
        return Err(attestation::skr_error(
            attestation::SKR_POLICY_NOT_SATISFIED,
            "The target attestation token does not satisfy the key release policy.",
        ));
    }
    let (target_kid, target_key) = attestation::wrapping_key(&token.claims)?;
    let private = parsed_key(ctx, vault, &properties, &payload).await?;
    let ciphertext = wrap_for_release(wrapping, &target_key, &private.private_bytes())?;
    Ok(ReleasedKey {
        properties,
        wrapping,
        target_kid,
        ciphertext,
        signer,
    })
}

/// A release policy's document, parsed; a malformed one is a 400 (AZURE-ERRORS.md 6.14
/// style, code inferred).
fn parse_policy(policy: &ReleasePolicy) -> Result<ReleasePolicyDoc, VaultError> {
    ReleasePolicyDoc::parse(&policy.data).map_err(|why| {
        attestation::skr_error(
            attestation::SKR_INVALID_POLICY,
            format_args!("The key release policy is invalid: {why}."),
        )
    })
}
