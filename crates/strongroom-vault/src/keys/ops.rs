//! The cryptographic operations of a key version: sign, verify, encrypt, decrypt, wrap and
//! unwrap. Each reads the version's row first and refuses, in this order (Azure's): a
//! disabled key, a date-controlled operation outside `nbf`/`exp`, an operation the key's
//! `key_ops` do not list. Only then does the algorithm meet the key (`strongroom-crypto`
//! checks algorithm, key type, curve and input lengths). The parsed private key comes from
//! the context's cache.

use super::meta::split;
use super::types::{KeyOperation, KeyProperties, UsedKey};
use super::{KIND, parsed_key};
use crate::lifecycle;
use crate::{Vault, VaultCtx, VaultError};
use std::sync::Arc;
use strongroom_authz::{Grant, perm};
use strongroom_crypto::keys::{
    CipherInput, CipherOutput, EncryptionAlgorithm, PrivateKey, SignatureAlgorithm,
};
use strongroom_model::{ObjectName, Version};
use zeroize::Zeroizing;

/// Signs a digest the caller computed.
pub async fn sign(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeySign>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: SignatureAlgorithm,
    digest: &[u8],
) -> Result<(UsedKey, Vec<u8>), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::Sign).await?;
    Ok((used, key.sign(algorithm, digest)?))
}

/// Verifies a signature over a digest; a wrong signature is `Ok(false)`.
#[allow(
    clippy::too_many_arguments,
    reason = "the context, the addressed version and the three inputs of a verify"
)]
pub async fn verify(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyVerify>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<(UsedKey, bool), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::Verify).await?;
    Ok((used, key.verify(algorithm, digest, signature)?))
}

/// Encrypts with the key (RSA public-key encryption, or AES for oct keys).
pub async fn encrypt(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyEncrypt>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: EncryptionAlgorithm,
    input: &CipherInput<'_>,
) -> Result<(UsedKey, CipherOutput), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::Encrypt).await?;
    Ok((used, key.encrypt(algorithm, input)?))
}

/// Decrypts with the key.
pub async fn decrypt(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyDecrypt>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: EncryptionAlgorithm,
    input: &CipherInput<'_>,
) -> Result<(UsedKey, Zeroizing<Vec<u8>>), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::Decrypt).await?;
    Ok((used, key.decrypt(algorithm, input)?))
}

/// Wraps (encrypts) another key's bytes.
pub async fn wrap_key(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyWrapKey>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: EncryptionAlgorithm,
    key_bytes: &[u8],
) -> Result<(UsedKey, Vec<u8>), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::WrapKey).await?;
    Ok((used, key.wrap_key(algorithm, key_bytes)?))
}

/// Unwraps a key wrapped with `wrap_key` (or locally with the public key).
pub async fn unwrap_key(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyUnwrapKey>,
    name: &ObjectName,
    version: Option<&Version>,
    algorithm: EncryptionAlgorithm,
    wrapped: &[u8],
) -> Result<(UsedKey, Zeroizing<Vec<u8>>), VaultError> {
    let (used, key) = usable_key(ctx, vault, name, version, KeyOperation::UnwrapKey).await?;
    Ok((used, key.unwrap_key(algorithm, wrapped)?))
}

/// The version's parsed key, once the version may perform `operation` now.
async fn usable_key(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    version: Option<&Version>,
    operation: KeyOperation,
) -> Result<(UsedKey, Arc<PrivateKey>), VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    let (properties, payload) = split(row)?;
    check_usable(ctx, &properties, operation)?;
    let key = parsed_key(ctx, vault, &properties, &payload).await?;
    Ok((
        UsedKey {
            name: properties.name,
            version: properties.version,
        },
        key,
    ))
}

fn check_usable(
    ctx: &VaultCtx,
    properties: &KeyProperties,
    operation: KeyOperation,
) -> Result<(), VaultError> {
    let operation_name = operation.as_str();
    let attributes = &properties.attributes;
    if !attributes.enabled {
        return Err(VaultError::KeyDisabled {
            operation: operation_name,
        });
    }
    if operation.is_date_controlled() {
        let now = ctx.now();
        if attributes.not_before.is_some_and(|nbf| now < nbf) {
            return Err(VaultError::KeyNotYetValid {
                operation: operation_name,
            });
        }
        if attributes.expires.is_some_and(|exp| now > exp) {
            return Err(VaultError::KeyExpired {
                operation: operation_name,
            });
        }
    }
    if !properties.key_ops.contains(&operation) {
        return Err(VaultError::KeyOperationForbidden {
            operation: operation_name,
        });
    }
    Ok(())
}
