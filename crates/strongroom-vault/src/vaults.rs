//! Vaults: create, resolve (the hot path of every data-plane request), list, delete, and
//! replace access policies. Each vault has its own data key, sealed by the master key.
//!
//! Deleting a vault soft-deletes it, as Azure's vaults always are: it disappears from every
//! read here (resolve, list, `by_id`), while its row, name, objects and data key stay until it
//! is recovered, purged, or its retention runs out (the janitor purges it then).

use crate::{VaultCtx, VaultError};
use std::sync::Arc;
use strongroom_authz::{AccessPolicy, parse_permission_set};
use strongroom_crypto::{Aad, DataKey};
use strongroom_model::{ObjectId, ObjectKind, TenantId, UnixTime, VaultId, VaultName};
use strongroom_store::{AccessPolicyRow, NewVault, StoreError, VaultRow};

/// Soft-delete retention Azure allows, in days (`softDeleteRetentionInDays`).
pub const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 7..=90;

/// A vault's pricing tier. `Premium` allows HSM-protected (`-HSM`) and symmetric (`oct`)
/// keys; Strongroom backs them in software like every other key, and documents that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultSku {
    Standard,
    Premium,
}

impl VaultSku {
    /// ARM's `properties.sku.name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
        }
    }

    /// Parses ARM's SKU name, case-insensitively as ARM does.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Standard, Self::Premium]
            .into_iter()
            .find(|sku| sku.as_str().eq_ignore_ascii_case(raw))
    }
}

/// A resolved vault (cheap to clone).
#[derive(Clone, Debug)]
pub struct Vault {
    pub id: VaultId,
    pub name: VaultName,
    pub tenant_id: TenantId,
    pub retention_days: i64,
    pub created: UnixTime,
    pub sku: VaultSku,
    pub policies: Vec<AccessPolicy>,
    /// Authorises by Azure RBAC role assignments; access policies are then ignored.
    pub rbac_authorization: bool,
    /// The ARM resource group; `None`: the default one.
    pub resource_group: Option<String>,
}

impl Vault {
    /// Azure's `recoveryLevel` for a vault with soft delete and no purge protection: the
    /// default 90-day retention is plain `Recoverable`, anything shorter `CustomizedRecoverable`.
    pub fn recovery_level(&self) -> &'static str {
        if self.retention_days == 90 {
            "Recoverable+Purgeable"
        } else {
            "CustomizedRecoverable+Purgeable"
        }
    }

    /// Azure's `recoverableDays` attribute: the vault's retention.
    pub fn recoverable_days(&self) -> i64 {
        self.retention_days
    }
}

/// Creates a vault with a fresh data key, in the default resource group, authorised by access
/// policies. Name taken: `VaultExists`; retention outside 7..=90: `InvalidParameter`.
pub async fn create(
    ctx: &VaultCtx,
    name: VaultName,
    tenant_id: TenantId,
    retention_days: i64,
    sku: VaultSku,
    policies: Vec<AccessPolicy>,
) -> Result<Vault, VaultError> {
    create_with(
        ctx,
        NewVaultSpec {
            name,
            tenant_id,
            retention_days,
            sku,
            policies,
            rbac_authorization: false,
            resource_group: None,
        },
    )
    .await
}

/// What a new vault is made of.
#[derive(Debug)]
pub struct NewVaultSpec {
    pub name: VaultName,
    pub tenant_id: TenantId,
    pub retention_days: i64,
    pub sku: VaultSku,
    pub policies: Vec<AccessPolicy>,
    pub rbac_authorization: bool,
    pub resource_group: Option<String>,
}

/// As [`create`], with every property chosen.
pub async fn create_with(ctx: &VaultCtx, spec: NewVaultSpec) -> Result<Vault, VaultError> {
    let NewVaultSpec {
        name,
        tenant_id,
        retention_days,
        sku,
        policies,
        rbac_authorization,
        resource_group,
    } = spec;
    if !RETENTION_DAYS.contains(&retention_days) {
        return Err(VaultError::InvalidParameter(format!(
            "retention must be between {} and {} days",
            RETENTION_DAYS.start(),
            RETENTION_DAYS.end()
        )));
    }
    let created = ctx.now();
    let data_key = DataKey::generate()?;
    let aad = Aad::data_key(name.as_str(), created.seconds());
    // Held until the row is written: a rotation must see this vault or wait for it.
    let keys = ctx.keyring().await;
    ctx.ensure_master_current()?;
    let sealed_data_key = keys.master.seal_data_key(&aad, &data_key)?;
    let row = ctx
        .store()
        .create_vault(NewVault {
            name,
            tenant_id: tenant_id.0,
            retention_days,
            created,
            sealed_data_key,
            sku: sku.as_str().to_owned(),
            access_policies: policies.iter().map(policy_to_row).collect(),
            rbac_authorization,
            resource_group,
        })
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists => VaultError::VaultExists,
            other => VaultError::Store(other),
        })?;
    drop(keys);
    let vault = vault_from_row(row)?;
    ctx.remember_data_key(&vault, Arc::new(data_key));
    ctx.cache_vault(&vault);
    Ok(vault)
}

/// Resolves a vault by name; served from memory for up to a second.
pub async fn get(ctx: &VaultCtx, name: &VaultName) -> Result<Option<Vault>, VaultError> {
    Ok(resolve(ctx, name).await?.map(|vault| (*vault).clone()))
}

/// As `get`, shared: the data plane's hot path resolves the vault of every request, and a
/// reference count is cheaper than a copy of the vault's access policies.
pub async fn resolve(ctx: &VaultCtx, name: &VaultName) -> Result<Option<Arc<Vault>>, VaultError> {
    if let Some(vault) = ctx.cached_vault(name.as_str()) {
        return Ok(Some(vault));
    }
    let epoch = ctx.vault_epoch();
    let Some(row) = ctx.store().get_vault(name).await? else {
        return Ok(None);
    };
    if row.deleted.is_some() {
        return Ok(None);
    }
    let vault = vault_from_row(row)?;
    Ok(Some(ctx.cache_vault_read_in(&vault, epoch)))
}

/// As `resolve`, by the label of a request's host (lower case): a cached vault is found
/// without building a `VaultName`; `None` also when the label is not a valid vault name.
pub async fn resolve_label(ctx: &VaultCtx, label: &str) -> Result<Option<Arc<Vault>>, VaultError> {
    if let Some(vault) = ctx.cached_vault(label) {
        return Ok(Some(vault));
    }
    match VaultName::parse(label) {
        Ok(name) => resolve(ctx, &name).await,
        Err(_) => Ok(None),
    }
}

/// Resolves a vault by id (background work that holds ids, not names).
pub(crate) async fn by_id(ctx: &VaultCtx, id: VaultId) -> Result<Option<Vault>, VaultError> {
    ctx.store()
        .get_vault_by_id(id)
        .await?
        .filter(|row| row.deleted.is_none())
        .map(vault_from_row)
        .transpose()
}

/// Every live vault, by name.
pub async fn list(ctx: &VaultCtx) -> Result<Vec<Vault>, VaultError> {
    ctx.store()
        .list_vaults()
        .await?
        .into_iter()
        .filter(|row| row.deleted.is_none())
        .map(vault_from_row)
        .collect()
}

/// A soft-deleted vault: recoverable until `scheduled_purge`.
#[derive(Clone, Debug)]
pub struct DeletedVault {
    pub vault: Vault,
    pub deleted: UnixTime,
}

impl DeletedVault {
    /// When the janitor purges it: its retention after its deletion.
    pub fn scheduled_purge(&self) -> UnixTime {
        self.deleted.plus_days(self.vault.retention_days)
    }
}

/// Soft-deletes a vault: it is gone from every read, its name stays taken, and everything in
/// it can be recovered until its retention runs out. `false` if there is no live vault `name`.
pub async fn delete(ctx: &VaultCtx, name: &VaultName) -> Result<bool, VaultError> {
    let Some(row) = ctx.store().get_vault(name).await? else {
        return Ok(false);
    };
    if row.deleted.is_some() {
        return Ok(false);
    }
    let vault = vault_from_row(row)?;
    ctx.store()
        .set_vault_deleted(vault.id, Some(ctx.now()))
        .await
        .map_err(vault_write_error)?;
    ctx.forget_vault(&vault);
    Ok(true)
}

/// Every soft-deleted vault, by name.
pub async fn list_deleted(ctx: &VaultCtx) -> Result<Vec<DeletedVault>, VaultError> {
    ctx.store()
        .list_vaults()
        .await?
        .into_iter()
        .filter_map(|row| Some((row.deleted?, row)))
        .map(|(deleted, row)| {
            Ok(DeletedVault {
                vault: vault_from_row(row)?,
                deleted,
            })
        })
        .collect()
}

/// The soft-deleted vault `name`, if there is one.
pub async fn get_deleted(
    ctx: &VaultCtx,
    name: &VaultName,
) -> Result<Option<DeletedVault>, VaultError> {
    let Some(row) = ctx.store().get_vault(name).await? else {
        return Ok(None);
    };
    let Some(deleted) = row.deleted else {
        return Ok(None);
    };
    Ok(Some(DeletedVault {
        vault: vault_from_row(row)?,
        deleted,
    }))
}

/// Brings a soft-deleted vault back with everything in it. `VaultNotFound` if there is no
/// deleted vault `name`.
pub async fn recover(ctx: &VaultCtx, name: &VaultName) -> Result<Vault, VaultError> {
    let deleted = get_deleted(ctx, name)
        .await?
        .ok_or(VaultError::VaultNotFound)?;
    ctx.store()
        .set_vault_deleted(deleted.vault.id, None)
        .await
        .map_err(vault_write_error)?;
    ctx.cache_vault(&deleted.vault);
    Ok(deleted.vault)
}

/// Purges a soft-deleted vault: it and everything in it are gone for good and its name is
/// free. `false` if there is no deleted vault `name` (a live one is never purged).
pub async fn purge(ctx: &VaultCtx, name: &VaultName) -> Result<bool, VaultError> {
    let Some(deleted) = get_deleted(ctx, name).await? else {
        return Ok(false);
    };
    purge_vault(ctx, &deleted.vault).await
}

/// Purges every soft-deleted vault whose retention has run out; returns how many.
pub async fn purge_expired(ctx: &VaultCtx) -> Result<u64, VaultError> {
    let now = ctx.now();
    let mut n_purged = 0;
    for deleted in list_deleted(ctx).await? {
        if deleted.scheduled_purge() <= now && purge_vault(ctx, &deleted.vault).await? {
            n_purged += 1;
        }
    }
    Ok(n_purged)
}

async fn purge_vault(ctx: &VaultCtx, vault: &Vault) -> Result<bool, VaultError> {
    let purged = ctx.store().delete_vault(vault.id).await?;
    ctx.forget_vault(vault);
    Ok(purged)
}

/// Replaces the vault's whole access-policy list and returns the updated vault.
pub async fn set_policies(
    ctx: &VaultCtx,
    vault: &Vault,
    policies: Vec<AccessPolicy>,
) -> Result<Vault, VaultError> {
    ctx.store()
        .set_access_policies(vault.id, policies.iter().map(policy_to_row).collect())
        .await
        .map_err(vault_write_error)?;
    let updated = Vault {
        policies,
        ..vault.clone()
    };
    ctx.cache_vault(&updated);
    Ok(updated)
}

/// Switches the vault between access policies and Azure RBAC and returns the updated vault.
pub async fn set_rbac(
    ctx: &VaultCtx,
    vault: &Vault,
    rbac_authorization: bool,
) -> Result<Vault, VaultError> {
    ctx.store()
        .set_vault_rbac(vault.id, rbac_authorization)
        .await
        .map_err(vault_write_error)?;
    let updated = Vault {
        rbac_authorization,
        ..vault.clone()
    };
    ctx.cache_vault(&updated);
    Ok(updated)
}

/// A write to a vault's own row: `NotFound` means the vault is gone.
fn vault_write_error(err: StoreError) -> VaultError {
    match err {
        StoreError::NotFound => VaultError::VaultNotFound,
        other => VaultError::Store(other),
    }
}

fn vault_from_row(row: VaultRow) -> Result<Vault, VaultError> {
    Ok(Vault {
        id: row.id,
        name: row.name,
        tenant_id: TenantId(row.tenant_id),
        retention_days: row.retention_days,
        created: row.created,
        sku: VaultSku::parse(&row.sku).ok_or_else(|| {
            VaultError::Store(StoreError::Corrupt(format!(
                "unknown vault sku {:?}",
                row.sku
            )))
        })?,
        policies: row
            .access_policies
            .into_iter()
            .map(policy_from_row)
            .collect::<Result<_, _>>()?,
        rbac_authorization: row.rbac_authorization,
        resource_group: row.resource_group,
    })
}

fn policy_to_row(policy: &AccessPolicy) -> AccessPolicyRow {
    let names = |kind| {
        policy
            .permissions
            .names(kind)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    AccessPolicyRow {
        tenant_id: policy.tenant_id.0.clone(),
        object_id: policy.object_id.0.clone(),
        secrets: names(ObjectKind::Secret),
        keys: names(ObjectKind::Key),
        certificates: names(ObjectKind::Certificate),
    }
}

fn policy_from_row(row: AccessPolicyRow) -> Result<AccessPolicy, VaultError> {
    let permissions = parse_permission_set(
        row.secrets.iter().map(String::as_str),
        row.keys.iter().map(String::as_str),
        row.certificates.iter().map(String::as_str),
    )
    .map_err(|bad| {
        VaultError::Store(StoreError::Corrupt(format!(
            "unknown {} permission {:?} in an access policy",
            bad.kind.tag(),
            bad.name
        )))
    })?;
    Ok(AccessPolicy {
        tenant_id: TenantId(row.tenant_id),
        object_id: ObjectId(row.object_id),
        permissions,
    })
}
