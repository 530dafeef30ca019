//! Everything that is not a vault object, as PostgreSQL statements, with the rules of
//! `sqlite/directory.rs`: deployment metadata and claims, tenants, principals with their
//! credentials, vaults with their access policies, and the master-key re-seal.
//!
//! A principal or vault is read with its credentials or policies in one statement (a join), so
//! one snapshot answers. A write that reads a list and then changes it (credentials, access
//! policies) first locks the owning row (`FOR NO KEY UPDATE`, which does not block the foreign
//! key checks of other writers), so concurrent changes from other nodes apply one after the
//! other and none is lost.

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Transaction};
use strongroom_model::{Sealed, UnixTime, VaultId, VaultName};
use tokio_postgres::Row;

use super::error;
use super::statements::{execute, execute_raw, get, query, query_opt, to_i64};
use crate::codec::{decode_strings, encode_strings};
use crate::{
    AccessPolicyRow, CredentialRow, NewVault, PrincipalRow, Reseal, StoreError, TenantRow, VaultRow,
};

// ---- meta and claims ----

pub(super) async fn get_meta<C: GenericClient>(
    client: &C,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = query_opt(client, "SELECT value FROM meta WHERE key = $1", &[&key]).await?;
    row.map(|row| get(&row, 0)).transpose()
}

pub(super) async fn put_meta<C: GenericClient>(
    client: &C,
    key: &str,
    value: &[u8],
) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )
    .await?;
    Ok(())
}

/// `Store::claim_once`: an insert that replaces only an expired claim, atomic in PostgreSQL
/// across nodes; one row written means this call made the claim.
pub(super) async fn claim_once<C: GenericClient>(
    client: &C,
    scope: &str,
    key: &str,
    now: UnixTime,
    expires: UnixTime,
) -> Result<bool, StoreError> {
    let changed = execute(
        client,
        "INSERT INTO claims (scope, key, expires) VALUES ($1, $2, $3) \
         ON CONFLICT (scope, key) DO UPDATE SET expires = excluded.expires \
         WHERE claims.expires <= $4",
        &[&scope, &key, &expires.seconds(), &now.seconds()],
    )
    .await?;
    Ok(changed == 1)
}

/// A master-key rotation. The tables it checks are locked against writers first (readers go
/// on): a vault created or a value changed by another node meanwhile would otherwise stay
/// sealed under the key being retired.
pub(super) async fn reseal(tx: &Transaction<'_>, reseal: &Reseal) -> Result<(), StoreError> {
    tx.batch_execute("LOCK TABLE vaults, meta IN SHARE ROW EXCLUSIVE MODE")
        .await
        .map_err(error::db)?;
    let row = query_opt(tx, "SELECT count(*) FROM vaults", &[]).await?;
    let vaults: i64 = match row {
        Some(row) => get(&row, 0)?,
        None => 0,
    };
    if usize::try_from(vaults).ok() != Some(reseal.vault_keys.len()) {
        return Err(StoreError::Conflict(format!(
            "{vaults} vaults exist, {} were re-sealed",
            reseal.vault_keys.len()
        )));
    }
    for key in &reseal.vault_keys {
        let changed = execute(
            tx,
            "UPDATE vaults SET sealed_data_key = $3 WHERE id = $1 AND sealed_data_key = $2",
            &[&key.id.0, &key.previous.as_bytes(), &key.sealed.as_bytes()],
        )
        .await?;
        if changed != 1 {
            return Err(StoreError::Conflict(format!(
                "vault {} changed or was deleted",
                key.id.0
            )));
        }
    }
    for meta in &reseal.meta {
        let changed = match &meta.previous {
            Some(previous) => {
                execute(
                    tx,
                    "UPDATE meta SET value = $3 WHERE key = $1 AND value = $2",
                    &[&meta.key, previous, &meta.value],
                )
                .await?
            }
            None => {
                execute(
                    tx,
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&meta.key, &meta.value],
                )
                .await?
            }
        };
        if changed != 1 {
            return Err(StoreError::Conflict(format!("{} changed", meta.key)));
        }
    }
    Ok(())
}

// ---- tenants ----

macro_rules! tenant_select {
    () => {
        "SELECT tenant_id, display_name, is_default FROM tenants"
    };
}

pub(super) async fn put_tenant<C: GenericClient>(
    client: &C,
    tenant: &TenantRow,
) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO tenants (tenant_id, display_name, is_default) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET display_name = excluded.display_name, \
         is_default = excluded.is_default",
        &[&tenant.tenant_id, &tenant.display_name, &tenant.is_default],
    )
    .await?;
    Ok(())
}

pub(super) async fn get_tenant<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Option<TenantRow>, StoreError> {
    let sql = concat!(tenant_select!(), " WHERE tenant_id = $1");
    let row = query_opt(client, sql, &[&tenant_id]).await?;
    row.as_ref().map(tenant_row).transpose()
}

pub(super) async fn list_tenants<C: GenericClient>(
    client: &C,
) -> Result<Vec<TenantRow>, StoreError> {
    let sql = concat!(tenant_select!(), " ORDER BY tenant_id");
    query(client, sql, &[])
        .await?
        .iter()
        .map(tenant_row)
        .collect()
}

fn tenant_row(row: &Row) -> Result<TenantRow, StoreError> {
    Ok(TenantRow {
        tenant_id: get(row, 0)?,
        display_name: get(row, 1)?,
        is_default: get(row, 2)?,
    })
}

// ---- principals ----

/// A principal's columns (0..7), then its credentials' (7..16; NULL when it has none), one
/// row per credential in order.
macro_rules! principal_select {
    () => {
        "SELECT p.object_id, p.app_id, p.tenant_id, p.display_name, p.kind, p.is_admin, \
         p.created, c.key_id, c.salt, c.hash, c.hint, c.created, c.expires, c.certificate, \
         c.display_name \
         FROM principals p LEFT JOIN credentials c ON c.object_id = p.object_id"
    };
}

pub(super) async fn create_principal(
    tx: &Transaction<'_>,
    principal: &PrincipalRow,
) -> Result<(), StoreError> {
    execute_raw(
        tx,
        "INSERT INTO principals \
         (object_id, app_id, tenant_id, display_name, kind, is_admin, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &principal.object_id,
            &principal.app_id,
            &principal.tenant_id,
            &principal.display_name,
            &principal.kind,
            &principal.is_admin,
            &principal.created.seconds(),
        ],
    )
    .await
    .map_err(error::insert)?;
    insert_credentials(tx, &principal.object_id, &principal.credentials).await
}

pub(super) async fn get_principal_by_app_id<C: GenericClient>(
    client: &C,
    app_id: &str,
) -> Result<Option<PrincipalRow>, StoreError> {
    let sql = concat!(
        principal_select!(),
        " WHERE p.app_id = $1 ORDER BY c.ordinal"
    );
    let rows = query(client, sql, &[&app_id]).await?;
    Ok(principals_of(&rows)?.into_iter().next())
}

pub(super) async fn get_principal_by_object_id<C: GenericClient>(
    client: &C,
    object_id: &str,
) -> Result<Option<PrincipalRow>, StoreError> {
    let sql = concat!(
        principal_select!(),
        " WHERE p.object_id = $1 ORDER BY c.ordinal"
    );
    let rows = query(client, sql, &[&object_id]).await?;
    Ok(principals_of(&rows)?.into_iter().next())
}

pub(super) async fn list_principals<C: GenericClient>(
    client: &C,
) -> Result<Vec<PrincipalRow>, StoreError> {
    let sql = concat!(
        principal_select!(),
        " ORDER BY p.created, p.object_id, c.ordinal"
    );
    let rows = query(client, sql, &[]).await?;
    principals_of(&rows)
}

/// Folds joined rows (ordered by principal, then credential) into principals.
fn principals_of(rows: &[Row]) -> Result<Vec<PrincipalRow>, StoreError> {
    let mut principals: Vec<PrincipalRow> = Vec::new();
    for row in rows {
        let object_id: &str = get(row, 0)?;
        let same = principals
            .last()
            .is_some_and(|last| last.object_id == object_id);
        if !same {
            principals.push(PrincipalRow {
                object_id: object_id.to_owned(),
                app_id: get(row, 1)?,
                tenant_id: get(row, 2)?,
                display_name: get(row, 3)?,
                kind: get(row, 4)?,
                is_admin: get(row, 5)?,
                created: UnixTime(get(row, 6)?),
                credentials: Vec::new(),
            });
        }
        let Some(key_id) = get::<Option<String>>(row, 7)? else {
            continue; // no credentials
        };
        if let Some(principal) = principals.last_mut() {
            principal.credentials.push(CredentialRow {
                key_id,
                salt: get(row, 8)?,
                hash: get(row, 9)?,
                hint: get(row, 10)?,
                created: UnixTime(get(row, 11)?),
                expires: get::<Option<i64>>(row, 12)?.map(UnixTime),
                certificate: get(row, 13)?,
                display_name: get(row, 14)?,
            });
        }
    }
    Ok(principals)
}

/// Locks the principal's row for the rest of the transaction; `NotFound` unless it exists.
async fn lock_principal(tx: &Transaction<'_>, object_id: &str) -> Result<(), StoreError> {
    let found = query_opt(
        tx,
        "SELECT 1 FROM principals WHERE object_id = $1 FOR NO KEY UPDATE",
        &[&object_id],
    )
    .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

pub(super) async fn set_principal_credentials(
    tx: &Transaction<'_>,
    object_id: &str,
    credentials: &[CredentialRow],
) -> Result<(), StoreError> {
    lock_principal(tx, object_id).await?;
    execute(
        tx,
        "DELETE FROM credentials WHERE object_id = $1",
        &[&object_id],
    )
    .await?;
    insert_credentials(tx, object_id, credentials).await
}

/// Appends a credential after the principal's last one (under the principal's lock, so the
/// ordinal read and the insert cannot interleave with another node's).
pub(super) async fn add_principal_credential(
    tx: &Transaction<'_>,
    object_id: &str,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    lock_principal(tx, object_id).await?;
    append_credential(tx, object_id, credential).await
}

async fn append_credential(
    tx: &Transaction<'_>,
    object_id: &str,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    let row = query_opt(
        tx,
        "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM credentials WHERE object_id = $1",
        &[&object_id],
    )
    .await?;
    let next_ordinal: i64 = match row {
        Some(row) => get(&row, 0)?,
        None => 0,
    };
    insert_credential(tx, object_id, next_ordinal, credential).await
}

pub(super) async fn remove_principal_credential(
    tx: &Transaction<'_>,
    object_id: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    lock_principal(tx, object_id).await?;
    let n_deleted = execute(
        tx,
        "DELETE FROM credentials WHERE object_id = $1 AND key_id = $2",
        &[&object_id, &key_id],
    )
    .await?;
    Ok(n_deleted > 0)
}

/// Removes the principal's certificates not in `keep` and appends `add`, under the
/// principal's lock.
pub(super) async fn replace_certificate_credentials(
    tx: &Transaction<'_>,
    object_id: &str,
    keep: &[String],
    add: &[CredentialRow],
) -> Result<(), StoreError> {
    lock_principal(tx, object_id).await?;
    execute(
        tx,
        "DELETE FROM credentials WHERE object_id = $1 AND certificate IS NOT NULL \
         AND NOT (key_id = ANY($2))",
        &[&object_id, &keep],
    )
    .await?;
    for credential in add {
        let taken = query_opt(
            tx,
            "SELECT 1 FROM credentials WHERE object_id = $1 AND key_id = $2",
            &[&object_id, &credential.key_id],
        )
        .await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists);
        }
        append_credential(tx, object_id, credential).await?;
    }
    Ok(())
}

pub(super) async fn rename_principal<C: GenericClient>(
    client: &C,
    object_id: &str,
    display_name: &str,
) -> Result<bool, StoreError> {
    let n_updated = execute(
        client,
        "UPDATE principals SET display_name = $2 WHERE object_id = $1",
        &[&object_id, &display_name],
    )
    .await?;
    Ok(n_updated > 0)
}

/// Deletes the principal; its credentials go with it (foreign key cascade).
pub(super) async fn delete_principal<C: GenericClient>(
    client: &C,
    object_id: &str,
) -> Result<bool, StoreError> {
    let n_deleted = execute(
        client,
        "DELETE FROM principals WHERE object_id = $1",
        &[&object_id],
    )
    .await?;
    Ok(n_deleted > 0)
}

async fn insert_credentials(
    tx: &Transaction<'_>,
    object_id: &str,
    credentials: &[CredentialRow],
) -> Result<(), StoreError> {
    for (ordinal, credential) in credentials.iter().enumerate() {
        insert_credential(tx, object_id, to_i64(ordinal), credential).await?;
    }
    Ok(())
}

async fn insert_credential(
    tx: &Transaction<'_>,
    object_id: &str,
    ordinal: i64,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    execute_raw(
        tx,
        "INSERT INTO credentials \
         (object_id, ordinal, key_id, salt, hash, hint, created, expires, certificate, \
          display_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &object_id,
            &ordinal,
            &credential.key_id,
            &credential.salt,
            &credential.hash,
            &credential.hint,
            &credential.created.seconds(),
            &credential.expires.map(UnixTime::seconds),
            &credential.certificate,
            &credential.display_name,
        ],
    )
    .await
    .map_err(error::insert)?;
    Ok(())
}

// ---- vaults and access policies ----

/// A vault's columns (0..10), then its policies' (10..15; NULL when it has none), one row per
/// policy in order.
macro_rules! vault_select {
    () => {
        "SELECT v.id, v.name, v.tenant_id, v.retention_days, v.created, v.sealed_data_key, \
         v.sku, v.rbac_authorization, v.resource_group, v.deleted, \
         p.tenant_id, p.object_id, p.secrets, p.keys, p.certificates \
         FROM vaults v LEFT JOIN access_policies p ON p.vault_id = v.id"
    };
}

pub(super) async fn create_vault(
    tx: &Transaction<'_>,
    vault: &NewVault,
) -> Result<VaultRow, StoreError> {
    let statement = tx
        .prepare_cached(
            "INSERT INTO vaults (name, tenant_id, retention_days, created, sealed_data_key, sku, \
             rbac_authorization, resource_group) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id",
        )
        .await
        .map_err(error::db)?;
    let row = tx
        .query_one(
            &statement,
            &[
                &vault.name.as_str(),
                &vault.tenant_id,
                &vault.retention_days,
                &vault.created.seconds(),
                &vault.sealed_data_key.as_bytes(),
                &vault.sku,
                &vault.rbac_authorization,
                &vault.resource_group,
            ],
        )
        .await
        .map_err(error::insert)?;
    let id = VaultId(get(&row, 0)?);
    insert_policies(tx, id, &vault.access_policies).await?;
    Ok(VaultRow {
        id,
        name: vault.name.clone(),
        tenant_id: vault.tenant_id.clone(),
        retention_days: vault.retention_days,
        created: vault.created,
        sealed_data_key: vault.sealed_data_key.clone(),
        sku: vault.sku.clone(),
        access_policies: vault.access_policies.clone(),
        rbac_authorization: vault.rbac_authorization,
        resource_group: vault.resource_group.clone(),
        deleted: None,
    })
}

pub(super) async fn set_vault_rbac<C: GenericClient>(
    client: &C,
    id: VaultId,
    rbac_authorization: bool,
) -> Result<(), StoreError> {
    let changed = execute(
        client,
        "UPDATE vaults SET rbac_authorization = $2 WHERE id = $1",
        &[&id.0, &rbac_authorization],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn set_vault_deleted<C: GenericClient>(
    client: &C,
    id: VaultId,
    deleted: Option<UnixTime>,
) -> Result<(), StoreError> {
    let changed = execute(
        client,
        "UPDATE vaults SET deleted = $2 WHERE id = $1",
        &[&id.0, &deleted.map(UnixTime::seconds)],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn get_vault<C: GenericClient>(
    client: &C,
    name: &VaultName,
) -> Result<Option<VaultRow>, StoreError> {
    let sql = concat!(vault_select!(), " WHERE v.name = $1 ORDER BY p.ordinal");
    let rows = query(client, sql, &[&name.as_str()]).await?;
    Ok(vaults_of(&rows)?.into_iter().next())
}

pub(super) async fn get_vault_by_id<C: GenericClient>(
    client: &C,
    id: VaultId,
) -> Result<Option<VaultRow>, StoreError> {
    let sql = concat!(vault_select!(), " WHERE v.id = $1 ORDER BY p.ordinal");
    let rows = query(client, sql, &[&id.0]).await?;
    Ok(vaults_of(&rows)?.into_iter().next())
}

pub(super) async fn list_vaults<C: GenericClient>(client: &C) -> Result<Vec<VaultRow>, StoreError> {
    let sql = concat!(vault_select!(), " ORDER BY v.name, v.id, p.ordinal");
    let rows = query(client, sql, &[]).await?;
    vaults_of(&rows)
}

/// Folds joined rows (ordered by vault, then policy) into vaults.
fn vaults_of(rows: &[Row]) -> Result<Vec<VaultRow>, StoreError> {
    let mut vaults: Vec<VaultRow> = Vec::new();
    let mut index_of: HashMap<i64, usize> = HashMap::new();
    for row in rows {
        let id: i64 = get(row, 0)?;
        let index = match index_of.get(&id) {
            Some(index) => *index,
            None => {
                vaults.push(vault_row(row)?);
                index_of.insert(id, vaults.len() - 1);
                vaults.len() - 1
            }
        };
        if get::<Option<&str>>(row, 10)?.is_none() {
            continue; // no policies
        }
        let policy = policy_row(row)?;
        if let Some(vault) = vaults.get_mut(index) {
            vault.access_policies.push(policy);
        }
    }
    Ok(vaults)
}

/// Deletes the vault; names, versions, documents and policies go with it (foreign key
/// cascade, one statement: atomic, and other nodes' writes to the vault wait or fail).
pub(super) async fn delete_vault<C: GenericClient>(
    client: &C,
    id: VaultId,
) -> Result<bool, StoreError> {
    let n_deleted = execute(client, "DELETE FROM vaults WHERE id = $1", &[&id.0]).await?;
    Ok(n_deleted > 0)
}

/// Replaces the whole list under the vault's row lock, so two replacements from different
/// nodes do not interleave their deletes and inserts.
pub(super) async fn set_access_policies(
    tx: &Transaction<'_>,
    id: VaultId,
    policies: &[AccessPolicyRow],
) -> Result<(), StoreError> {
    let found = query_opt(
        tx,
        "SELECT 1 FROM vaults WHERE id = $1 FOR NO KEY UPDATE",
        &[&id.0],
    )
    .await?;
    if found.is_none() {
        return Err(StoreError::NotFound);
    }
    execute(
        tx,
        "DELETE FROM access_policies WHERE vault_id = $1",
        &[&id.0],
    )
    .await?;
    insert_policies(tx, id, policies).await
}

async fn insert_policies(
    tx: &Transaction<'_>,
    id: VaultId,
    policies: &[AccessPolicyRow],
) -> Result<(), StoreError> {
    for (ordinal, policy) in policies.iter().enumerate() {
        execute_raw(
            tx,
            "INSERT INTO access_policies \
             (vault_id, ordinal, tenant_id, object_id, secrets, keys, certificates) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id.0,
                &to_i64(ordinal),
                &policy.tenant_id,
                &policy.object_id,
                &encode_strings(&policy.secrets),
                &encode_strings(&policy.keys),
                &encode_strings(&policy.certificates),
            ],
        )
        .await
        .map_err(error::insert)?;
    }
    Ok(())
}

fn vault_row(row: &Row) -> Result<VaultRow, StoreError> {
    let name: &str = get(row, 1)?;
    Ok(VaultRow {
        id: VaultId(get(row, 0)?),
        name: VaultName::parse(name)
            .map_err(|err| StoreError::Corrupt(format!("stored vault name: {err}")))?,
        tenant_id: get(row, 2)?,
        retention_days: get(row, 3)?,
        created: UnixTime(get(row, 4)?),
        sealed_data_key: Sealed::from(get::<Vec<u8>>(row, 5)?),
        sku: get(row, 6)?,
        access_policies: Vec::new(),
        rbac_authorization: get(row, 7)?,
        resource_group: get(row, 8)?,
        deleted: get::<Option<i64>>(row, 9)?.map(UnixTime),
    })
}

fn policy_row(row: &Row) -> Result<AccessPolicyRow, StoreError> {
    Ok(AccessPolicyRow {
        tenant_id: get(row, 10)?,
        object_id: get(row, 11)?,
        secrets: decode_strings(get(row, 12)?)?,
        keys: decode_strings(get(row, 13)?)?,
        certificates: decode_strings(get(row, 14)?)?,
    })
}
