//! How a key version is stored: the `meta` column (non-secret JSON: type, `key_ops`, public
//! key, exportable, release policy) beside the sealed private material. The public key lives
//! in `meta` so reading or listing keys never unseals anything.

use super::types::{KeyAttributes, KeyOperation, KeyProperties, KeyType, ReleasePolicy};
use crate::VaultError;
use crate::error::corrupt;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use strongroom_crypto::keys::{Curve, PublicKey};
use strongroom_model::Sealed;
use strongroom_store::VersionRow;

/// The `meta` column of a key version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyMeta {
    pub(crate) kty: String,
    pub(crate) key_ops: Vec<String>,
    pub(crate) size_bits: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) crv: Option<String>,
    /// base64url of RSA `n`, `e` or EC `x`, `y`; absent for oct keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) y: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) exportable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) release_policy: Option<StoredReleasePolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredReleasePolicy {
    content_type: String,
    data: String,
    immutable: bool,
}

impl KeyMeta {
    pub(crate) fn new(
        key_type: KeyType,
        key_ops: &[KeyOperation],
        public: &PublicKey,
        size_bits: usize,
        exportable: bool,
        release_policy: Option<&ReleasePolicy>,
    ) -> Self {
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let (crv, n, e, x, y) = match public {
            PublicKey::Rsa { n, e } => (None, b64(n), b64(e), None, None),
            PublicKey::Ec { curve, x, y } => {
                (Some(curve.as_str().to_owned()), None, None, b64(x), b64(y))
            }
            PublicKey::Oct => (None, None, None, None, None),
        };
        Self {
            kty: key_type.as_str().to_owned(),
            key_ops: key_ops.iter().map(|op| op.as_str().to_owned()).collect(),
            size_bits,
            crv,
            n,
            e,
            x,
            y,
            exportable,
            managed: false,
            release_policy: release_policy.map(|policy| StoredReleasePolicy {
                content_type: policy.content_type.clone(),
                data: URL_SAFE_NO_PAD.encode(&policy.data),
                immutable: policy.immutable,
            }),
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|_| corrupt("key metadata is not valid"))
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, VaultError> {
        serde_json::to_vec(self).map_err(|_| corrupt("key metadata could not be encoded"))
    }

    pub(crate) fn set_key_ops(&mut self, key_ops: &[KeyOperation]) {
        self.key_ops = key_ops.iter().map(|op| op.as_str().to_owned()).collect();
    }

    pub(crate) fn set_release_policy(&mut self, policy: Option<&ReleasePolicy>) {
        self.release_policy = policy.map(|policy| StoredReleasePolicy {
            content_type: policy.content_type.clone(),
            data: URL_SAFE_NO_PAD.encode(&policy.data),
            immutable: policy.immutable,
        });
    }

    pub(crate) fn key_type(&self) -> Result<KeyType, VaultError> {
        KeyType::parse(&self.kty).ok_or_else(|| corrupt("stored key type is unknown"))
    }

    pub(crate) fn key_ops(&self) -> Result<Vec<KeyOperation>, VaultError> {
        self.key_ops
            .iter()
            .map(|op| KeyOperation::parse(op).ok_or_else(|| corrupt("stored key_ops are unknown")))
            .collect()
    }

    pub(crate) fn curve(&self) -> Result<Option<Curve>, VaultError> {
        self.crv
            .as_deref()
            .map(|crv| Curve::parse(crv).ok_or_else(|| corrupt("stored curve is unknown")))
            .transpose()
    }

    pub(crate) fn public(&self) -> Result<PublicKey, VaultError> {
        let decode = |field: &Option<String>| -> Result<Vec<u8>, VaultError> {
            field
                .as_deref()
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or_else(|| corrupt("stored public key is incomplete"))
        };
        Ok(match self.key_type()?.family() {
            strongroom_crypto::keys::KeyFamily::Rsa => PublicKey::Rsa {
                n: decode(&self.n)?,
                e: decode(&self.e)?,
            },
            strongroom_crypto::keys::KeyFamily::Ec => PublicKey::Ec {
                curve: self
                    .curve()?
                    .ok_or_else(|| corrupt("stored EC key has no curve"))?,
                x: decode(&self.x)?,
                y: decode(&self.y)?,
            },
            strongroom_crypto::keys::KeyFamily::Oct => PublicKey::Oct,
        })
    }

    pub(crate) fn release_policy(&self) -> Result<Option<ReleasePolicy>, VaultError> {
        self.release_policy
            .as_ref()
            .map(|stored| {
                Ok(ReleasePolicy {
                    content_type: stored.content_type.clone(),
                    data: URL_SAFE_NO_PAD
                        .decode(&stored.data)
                        .map_err(|_| corrupt("stored release policy is not base64url"))?,
                    immutable: stored.immutable,
                })
            })
            .transpose()
    }
}

/// Separates a stored version into its properties and its still-sealed private material.
pub(crate) fn split(row: VersionRow) -> Result<(KeyProperties, Sealed), VaultError> {
    let meta = KeyMeta::decode(&row.meta)?;
    let properties = KeyProperties {
        key_type: meta.key_type()?,
        key_ops: meta.key_ops()?,
        public: meta.public()?,
        size_bits: meta.size_bits,
        curve: meta.curve()?,
        tags: row.tags,
        attributes: KeyAttributes {
            enabled: row.attributes.enabled,
            not_before: row.attributes.not_before,
            expires: row.attributes.expires,
            created: row.attributes.created,
            updated: row.attributes.updated,
            exportable: meta.exportable,
        },
        managed: meta.managed,
        release_policy: meta.release_policy()?,
        name: row.name,
        version: row.version,
    };
    Ok((properties, row.payload))
}
