//! The rows the `Store` trait speaks in. Plain data; no serde, no plaintext secrets.

use std::collections::BTreeMap;
use std::sync::Arc;
use strongroom_model::{ObjectName, Sealed, UnixTime, VaultId, VaultName, Version};

/// A tenant (directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub tenant_id: String,
    pub display_name: String,
    pub is_default: bool,
}

/// A service principal or managed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRow {
    pub object_id: String,
    pub app_id: String,
    pub tenant_id: String,
    pub display_name: String,
    /// `"ServicePrincipal"` or `"ManagedIdentity"`.
    pub kind: String,
    pub is_admin: bool,
    pub created: UnixTime,
    pub credentials: Vec<CredentialRow>,
}

/// One credential of a principal: a client secret, stored only as a salted hash, or (with
/// `certificate`) a public certificate whose key signs client assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub key_id: String,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
    /// A short non-secret hint (first characters), as Entra shows `hint`.
    pub hint: String,
    pub created: UnixTime,
    pub expires: Option<UnixTime>,
    /// DER of the registered public certificate for a certificate credential (`salt` and
    /// `hash` are then empty); `None` for a client secret.
    pub certificate: Option<Vec<u8>>,
    /// What the credential is for, as its creator named it (Graph's `displayName`); may be
    /// empty.
    pub display_name: String,
}

/// A master-key rotation's writes: every vault's data key and some deployment values,
/// re-sealed under the new key. Each carries the ciphertext it replaces, so a row that changed
/// since it was read (or a vault the rotation did not see) fails the whole rotation instead
/// of leaving one value sealed under a key that is about to be forgotten.
#[derive(Debug, Clone, Default)]
pub struct Reseal {
    pub vault_keys: Vec<ResealedVaultKey>,
    pub meta: Vec<ResealedMeta>,
}

/// One vault's data key, re-sealed.
#[derive(Debug, Clone)]
pub struct ResealedVaultKey {
    pub id: VaultId,
    pub previous: Sealed,
    pub sealed: Sealed,
}

/// One deployment value (`meta`), re-sealed; `previous: None` when it is written for the
/// first time and must still be absent.
#[derive(Debug, Clone)]
pub struct ResealedMeta {
    pub key: String,
    pub previous: Option<Vec<u8>>,
    pub value: Vec<u8>,
}

/// A vault about to be created.
#[derive(Debug, Clone)]
pub struct NewVault {
    pub name: VaultName,
    pub tenant_id: String,
    pub retention_days: i64,
    pub created: UnixTime,
    /// The vault's data key, sealed by the master key.
    pub sealed_data_key: Sealed,
    /// The pricing tier as ARM names it (`standard`, `premium`); opaque here.
    pub sku: String,
    pub access_policies: Vec<AccessPolicyRow>,
    /// Authorises by Azure RBAC role assignments instead of access policies.
    pub rbac_authorization: bool,
    /// The ARM resource group; `None`: the default one.
    pub resource_group: Option<String>,
}

/// A stored vault.
#[derive(Debug, Clone)]
pub struct VaultRow {
    pub id: VaultId,
    pub name: VaultName,
    pub tenant_id: String,
    pub retention_days: i64,
    pub created: UnixTime,
    pub sealed_data_key: Sealed,
    pub sku: String,
    pub access_policies: Vec<AccessPolicyRow>,
    pub rbac_authorization: bool,
    pub resource_group: Option<String>,
    /// When the vault was soft-deleted; `None` while it is live. Its name stays taken.
    pub deleted: Option<UnixTime>,
}

/// One access policy entry: permissions as Azure's lower-case names (`"get"`, `"list"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyRow {
    pub tenant_id: String,
    pub object_id: String,
    pub secrets: Vec<String>,
    pub keys: Vec<String>,
    pub certificates: Vec<String>,
}

/// Attributes common to every object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionAttributes {
    pub enabled: bool,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub created: UnixTime,
    pub updated: UnixTime,
}

/// A version to write.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub name: ObjectName,
    pub version: Version,
    pub attributes: VersionAttributes,
    pub tags: BTreeMap<String, String>,
    /// Kind-specific, non-secret metadata (e.g. a secret's content type), opaque here.
    pub meta: Vec<u8>,
    /// The secret part, sealed by the vault layer with its data key.
    pub payload: Sealed,
}

/// A certificate version and the versions of the key and secret of its name that back it
/// (`Store::put_certificate_versions`), with the name's policy and pending-operation
/// documents when the write changes them. Every version must carry the certificate's name.
#[derive(Debug, Clone)]
pub struct CertificateVersions {
    pub certificate: NewVersion,
    /// `true`: `certificate` completes a version that already exists (a pending one, now
    /// merged): it replaces that version's attributes, tags, meta and payload in place and
    /// becomes current. `false`: it is a new version.
    pub completes: bool,
    pub key: Option<NewVersion>,
    pub secret: Option<NewVersion>,
    /// Replaces the name's policy document (`put_name_policy` under the certificate kind).
    pub policy: Option<Vec<u8>>,
    /// Replaces the name's pending-operation document (`put_certificate_operation`).
    pub operation: Option<Vec<u8>>,
}

/// A certificate from a backup (`Store::restore_certificate`): every version of the
/// certificate and of its key and secret, oldest first, and its policy document.
#[derive(Debug, Clone)]
pub struct CertificateRestore {
    pub name: ObjectName,
    pub certificate: Vec<NewVersion>,
    pub key: Vec<NewVersion>,
    /// Empty when the certificate never had a secret (it was only ever pending).
    pub secret: Vec<NewVersion>,
    pub policy: Option<Vec<u8>>,
}

/// A stored version. Every field but `tags` is shared, so the copy the current-version cache
/// hands out on a read costs reference counts rather than allocations (tags are usually empty).
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub name: ObjectName,
    pub version: Version,
    pub attributes: VersionAttributes,
    pub tags: BTreeMap<String, String>,
    pub meta: Arc<[u8]>,
    pub payload: Sealed,
}

/// Changes to a version's non-secret fields; `None` leaves a field as it is.
/// Build with `VersionUpdate { updated: now, ..VersionUpdate::default() }`.
#[derive(Debug, Clone)]
pub struct VersionUpdate {
    pub enabled: Option<bool>,
    /// `Some(None)` clears the date.
    pub not_before: Option<Option<UnixTime>>,
    pub expires: Option<Option<UnixTime>>,
    pub tags: Option<BTreeMap<String, String>>,
    pub meta: Option<Vec<u8>>,
    pub updated: UnixTime,
}

// By hand: `UnixTime` has no `Default`, and `updated` is meant to be set by every caller.
impl Default for VersionUpdate {
    fn default() -> Self {
        Self {
            enabled: None,
            not_before: None,
            expires: None,
            tags: None,
            meta: None,
            updated: UnixTime(0),
        }
    }
}

/// When a name was deleted and when it will be purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    pub deleted_date: UnixTime,
    pub scheduled_purge_date: UnixTime,
}

/// A soft-deleted name, with its current version at the time of deletion.
#[derive(Debug, Clone)]
pub struct DeletedRow {
    pub current: VersionRow,
    pub deletion: Deletion,
}

impl DeletedRow {
    /// A deleted name as a backend reads it: both dates must be there.
    pub(crate) fn from_stored(
        current: VersionRow,
        deleted_date: Option<i64>,
        scheduled_purge_date: Option<i64>,
    ) -> Result<Self, crate::StoreError> {
        let (Some(deleted_date), Some(scheduled_purge_date)) = (deleted_date, scheduled_purge_date)
        else {
            return Err(crate::StoreError::Corrupt(
                "a deleted name has no purge date".to_owned(),
            ));
        };
        Ok(Self {
            current,
            deletion: Deletion {
                deleted_date: UnixTime(deleted_date),
                scheduled_purge_date: UnixTime(scheduled_purge_date),
            },
        })
    }
}

/// What every backend checks of a restore's versions before writing them: at least one, all
/// of `name` (ASCII case aside). Returns the last, which becomes current.
pub(crate) fn restored_versions_check<'v>(
    name: &ObjectName,
    versions: &'v [NewVersion],
) -> Result<&'v NewVersion, crate::StoreError> {
    let Some(last) = versions.last() else {
        return Err(crate::StoreError::Corrupt(
            "a restore needs at least one version".to_owned(),
        ));
    };
    if versions
        .iter()
        .any(|v| !v.name.as_str().eq_ignore_ascii_case(name.as_str()))
    {
        return Err(crate::StoreError::Corrupt(
            "a restored version names another object".to_owned(),
        ));
    }
    Ok(last)
}

/// A stored object name, which was valid when written.
pub(crate) fn stored_object_name(stored: &str) -> Result<ObjectName, crate::StoreError> {
    ObjectName::parse(stored)
        .map_err(|err| crate::StoreError::Corrupt(format!("stored name: {err}")))
}

/// One page request: up to `limit` items strictly after `after` (an opaque cursor the store
/// produced for the previous page). A `limit` of 0 is taken as 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: usize,
}

/// One page of results and the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The policy document of one live name (a key's rotation policy), for the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePolicyRow {
    pub vault: VaultId,
    pub name: ObjectName,
    /// Kind-specific, non-secret, opaque here.
    pub policy: Vec<u8>,
}
