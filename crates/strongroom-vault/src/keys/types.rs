//! The words of a key: its type (family plus protection), the operations its `key_ops` may
//! allow, its attributes and release policy, and the parameters of create, import and
//! update.

use std::collections::BTreeMap;
use strongroom_crypto::keys::{Curve, KeyFamily, KeyMaterial, PublicKey};
use strongroom_model::{ObjectName, UnixTime, Version};

/// Azure's `kty`: a key family and whether it is HSM-protected. Strongroom backs `-HSM`
/// types in software, like every other key, and says so in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    RsaHsm,
    Ec,
    EcHsm,
    Oct,
    OctHsm,
}

impl KeyType {
    pub const ALL: [KeyType; 6] = [
        Self::Rsa,
        Self::RsaHsm,
        Self::Ec,
        Self::EcHsm,
        Self::Oct,
        Self::OctHsm,
    ];

    /// The spec's spelling (`JsonWebKeyType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::RsaHsm => "RSA-HSM",
            Self::Ec => "EC",
            Self::EcHsm => "EC-HSM",
            Self::Oct => "oct",
            Self::OctHsm => "oct-HSM",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kty| kty.as_str().eq_ignore_ascii_case(raw))
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Self::Rsa | Self::RsaHsm => KeyFamily::Rsa,
            Self::Ec | Self::EcHsm => KeyFamily::Ec,
            Self::Oct | Self::OctHsm => KeyFamily::Oct,
        }
    }

    pub fn is_hsm(self) -> bool {
        matches!(self, Self::RsaHsm | Self::EcHsm | Self::OctHsm)
    }

    /// The type of `family`, HSM-protected or not.
    pub fn of(family: KeyFamily, hsm: bool) -> Self {
        match (family, hsm) {
            (KeyFamily::Rsa, false) => Self::Rsa,
            (KeyFamily::Rsa, true) => Self::RsaHsm,
            (KeyFamily::Ec, false) => Self::Ec,
            (KeyFamily::Ec, true) => Self::EcHsm,
            (KeyFamily::Oct, false) => Self::Oct,
            (KeyFamily::Oct, true) => Self::OctHsm,
        }
    }

    /// The `key_ops` a key gets when its creator names none (Azure's defaults: every RSA
    /// operation, sign/verify for EC, the symmetric ones for oct).
    pub fn default_ops(self) -> Vec<KeyOperation> {
        use KeyOperation as O;
        match self.family() {
            KeyFamily::Rsa => vec![
                O::Encrypt,
                O::Decrypt,
                O::Sign,
                O::Verify,
                O::WrapKey,
                O::UnwrapKey,
            ],
            KeyFamily::Ec => vec![O::Sign, O::Verify],
            KeyFamily::Oct => vec![O::Encrypt, O::Decrypt, O::WrapKey, O::UnwrapKey],
        }
    }
}

/// One entry of `key_ops` (`JsonWebKeyOperation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyOperation {
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    WrapKey,
    UnwrapKey,
    Import,
    Export,
}

impl KeyOperation {
    pub const ALL: [KeyOperation; 8] = [
        Self::Encrypt,
        Self::Decrypt,
        Self::Sign,
        Self::Verify,
        Self::WrapKey,
        Self::UnwrapKey,
        Self::Import,
        Self::Export,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
            Self::Sign => "sign",
            Self::Verify => "verify",
            Self::WrapKey => "wrapKey",
            Self::UnwrapKey => "unwrapKey",
            Self::Import => "import",
            Self::Export => "export",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(raw))
    }

    /// Whether the key's `nbf`/`exp` window governs this operation. Microsoft documents that
    /// only the operations that protect new data (encrypt, wrap, sign) are refused outside
    /// it; decrypt, unwrap and verify keep working so existing data stays readable.
    pub fn is_date_controlled(self) -> bool {
        matches!(self, Self::Encrypt | Self::WrapKey | Self::Sign)
    }
}

/// The attributes of one key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttributes {
    pub enabled: bool,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub created: UnixTime,
    pub updated: UnixTime,
    pub exportable: bool,
}

/// A key's release policy: an opaque document (`data`) the release operation evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePolicy {
    pub content_type: String,
    pub data: Vec<u8>,
    pub immutable: bool,
}

/// Everything about a key version except its private material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProperties {
    pub name: ObjectName,
    pub version: Version,
    pub key_type: KeyType,
    pub key_ops: Vec<KeyOperation>,
    pub public: PublicKey,
    /// The key's size in bits (RSA modulus, EC curve, oct key).
    pub size_bits: usize,
    pub curve: Option<Curve>,
    pub tags: BTreeMap<String, String>,
    pub attributes: KeyAttributes,
    /// Backs a certificate (Azure's `managed`).
    pub managed: bool,
    pub release_policy: Option<ReleasePolicy>,
}

/// A soft-deleted key: its current version's properties and the deletion dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedKey {
    pub properties: KeyProperties,
    pub deleted_date: UnixTime,
    pub scheduled_purge_date: UnixTime,
}

/// `CreateKey`: a new version with fresh material. Unset fields take Azure's defaults.
#[derive(Debug, Clone)]
pub struct CreateKey {
    pub key_type: KeyType,
    pub size: Option<usize>,
    pub public_exponent: Option<u64>,
    pub curve: Option<Curve>,
    pub key_ops: Option<Vec<KeyOperation>>,
    pub enabled: Option<bool>,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub exportable: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    pub release_policy: Option<ReleasePolicy>,
}

/// `ImportKey`: a new version from the caller's JWK parts.
#[derive(Debug)]
pub struct ImportKey {
    pub material: KeyMaterial,
    /// The JWK's `kty` (which may already say `-HSM`).
    pub key_type: KeyType,
    /// `Hsm` of the request: protect the key as an HSM key.
    pub hsm: Option<bool>,
    pub key_ops: Option<Vec<KeyOperation>>,
    pub enabled: Option<bool>,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub exportable: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    pub release_policy: Option<ReleasePolicy>,
}

/// `UpdateKey`: changes one version's non-secret fields; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct UpdateKey {
    pub key_ops: Option<Vec<KeyOperation>>,
    pub enabled: Option<bool>,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub exportable: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    pub release_policy: Option<ReleasePolicy>,
}

/// What a cryptographic operation used: the version (for the response's `kid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedKey {
    pub name: ObjectName,
    pub version: Version,
}
