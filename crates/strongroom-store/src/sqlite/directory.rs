//! Everything that is not a vault object, as SQL: deployment metadata, tenants, principals
//! with their credentials, and vaults with their access policies.
//!
//! Reads that span several statements (a principal and its credentials, a vault and its
//! policies) run in one read transaction so they see one committed state. Writes run on the
//! writer thread inside its group transaction; vault deletion cascades through foreign keys.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use strongroom_model::{Sealed, UnixTime, VaultId, VaultName};

use super::codec::{decode_strings, encode_strings, insert_error, to_i64};
use crate::{
    AccessPolicyRow, CredentialRow, NewVault, PrincipalRow, Reseal, StoreError, TenantRow, VaultRow,
};

// ---- meta ----

pub(super) fn get_meta(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |row| row.get(0))
        .optional()?)
}

pub(super) fn put_meta(conn: &Connection, key: &str, value: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// `Store::claim_once`: an insert that replaces only an expired claim; one row changed means
/// this call made the claim.
pub(super) fn claim_once(
    conn: &Connection,
    scope: &str,
    key: &str,
    now: UnixTime,
    expires: UnixTime,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO claims (scope, key, expires) VALUES (?1, ?2, ?3) \
             ON CONFLICT (scope, key) DO UPDATE SET expires = excluded.expires \
             WHERE claims.expires <= ?4",
        )?
        .execute(params![scope, key, expires.seconds(), now.seconds()])?;
    Ok(changed == 1)
}

/// Removes the claims that have expired at `now`.
pub(super) fn purge_expired_claims(conn: &Connection, now: UnixTime) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM claims WHERE expires <= ?1")?
        .execute(params![now.seconds()])?;
    Ok(())
}

pub(super) fn reseal(conn: &Connection, reseal: &Reseal) -> Result<(), StoreError> {
    let vaults: i64 = conn
        .prepare_cached("SELECT count(*) FROM vaults")?
        .query_row([], |row| row.get(0))?;
    if usize::try_from(vaults).ok() != Some(reseal.vault_keys.len()) {
        return Err(StoreError::Conflict(format!(
            "{vaults} vaults exist, {} were re-sealed",
            reseal.vault_keys.len()
        )));
    }
    let mut update_vault = conn.prepare_cached(
        "UPDATE vaults SET sealed_data_key = ?3 WHERE id = ?1 AND sealed_data_key = ?2",
    )?;
    for key in &reseal.vault_keys {
        let changed = update_vault.execute(params![
            key.id.0,
            key.previous.as_bytes(),
            key.sealed.as_bytes()
        ])?;
        if changed != 1 {
            return Err(StoreError::Conflict(format!(
                "vault {} changed or was deleted",
                key.id.0
            )));
        }
    }
    for meta in &reseal.meta {
        let changed = match &meta.previous {
            Some(previous) => conn
                .prepare_cached("UPDATE meta SET value = ?3 WHERE key = ?1 AND value = ?2")?
                .execute(params![meta.key, previous, meta.value])?,
            None => conn
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?
                .execute(params![meta.key, meta.value])?,
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

pub(super) fn put_tenant(conn: &Connection, tenant: &TenantRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO tenants (tenant_id, display_name, is_default) VALUES (?1, ?2, ?3) \
         ON CONFLICT (tenant_id) DO UPDATE SET display_name = excluded.display_name, \
         is_default = excluded.is_default",
    )?
    .execute(params![
        tenant.tenant_id,
        tenant.display_name,
        tenant.is_default
    ])?;
    Ok(())
}

pub(super) fn get_tenant(
    conn: &Connection,
    tenant_id: &str,
) -> Result<Option<TenantRow>, StoreError> {
    let sql = concat!(tenant_select!(), " WHERE tenant_id = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![tenant_id], tenant_row)
        .optional()?)
}

pub(super) fn list_tenants(conn: &Connection) -> Result<Vec<TenantRow>, StoreError> {
    let sql = concat!(tenant_select!(), " ORDER BY tenant_id");
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], tenant_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn tenant_row(row: &Row<'_>) -> rusqlite::Result<TenantRow> {
    Ok(TenantRow {
        tenant_id: row.get(0)?,
        display_name: row.get(1)?,
        is_default: row.get(2)?,
    })
}

// ---- principals ----

macro_rules! principal_select {
    () => {
        "SELECT object_id, app_id, tenant_id, display_name, kind, is_admin, created FROM principals"
    };
}

pub(super) fn create_principal(
    conn: &Connection,
    principal: &PrincipalRow,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO principals \
         (object_id, app_id, tenant_id, display_name, kind, is_admin, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        principal.object_id,
        principal.app_id,
        principal.tenant_id,
        principal.display_name,
        principal.kind,
        principal.is_admin,
        principal.created.seconds(),
    ])
    .map_err(insert_error)?;
    insert_credentials(conn, &principal.object_id, &principal.credentials)
}

pub(super) fn get_principal_by_app_id(
    conn: &Connection,
    app_id: &str,
) -> Result<Option<PrincipalRow>, StoreError> {
    get_principal(
        conn,
        concat!(principal_select!(), " WHERE app_id = ?1"),
        app_id,
    )
}

pub(super) fn get_principal_by_object_id(
    conn: &Connection,
    object_id: &str,
) -> Result<Option<PrincipalRow>, StoreError> {
    get_principal(
        conn,
        concat!(principal_select!(), " WHERE object_id = ?1"),
        object_id,
    )
}

fn get_principal(
    conn: &Connection,
    sql: &str,
    value: &str,
) -> Result<Option<PrincipalRow>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let found = tx
        .prepare_cached(sql)?
        .query_row(params![value], principal_row)
        .optional()?;
    let Some(mut principal) = found else {
        return Ok(None);
    };
    let mut stmt = tx.prepare_cached(
        "SELECT object_id, key_id, salt, hash, hint, created, expires, certificate, display_name \
         FROM credentials \
         WHERE object_id = ?1 ORDER BY ordinal",
    )?;
    let rows = stmt.query_map(params![principal.object_id], credential_row)?;
    for row in rows {
        principal.credentials.push(row?.1);
    }
    Ok(Some(principal))
}

pub(super) fn list_principals(conn: &Connection) -> Result<Vec<PrincipalRow>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let sql = concat!(principal_select!(), " ORDER BY created, object_id");
    let mut principals: Vec<PrincipalRow> = tx
        .prepare_cached(sql)?
        .query_map([], principal_row)?
        .collect::<Result<_, _>>()?;
    let mut credentials: HashMap<String, Vec<CredentialRow>> = HashMap::new();
    let mut stmt = tx.prepare_cached(
        "SELECT object_id, key_id, salt, hash, hint, created, expires, certificate, display_name \
         FROM credentials \
         ORDER BY object_id, ordinal",
    )?;
    for row in stmt.query_map([], credential_row)? {
        let (object_id, credential) = row?;
        credentials.entry(object_id).or_default().push(credential);
    }
    for principal in &mut principals {
        principal.credentials = credentials.remove(&principal.object_id).unwrap_or_default();
    }
    Ok(principals)
}

pub(super) fn set_principal_credentials(
    conn: &Connection,
    object_id: &str,
    credentials: &[CredentialRow],
) -> Result<(), StoreError> {
    require_principal(conn, object_id)?;
    conn.prepare_cached("DELETE FROM credentials WHERE object_id = ?1")?
        .execute(params![object_id])?;
    insert_credentials(conn, object_id, credentials)
}

/// Appends a credential after the principal's last one (inside the writer's transaction, so
/// the ordinal read and the insert cannot interleave with another writer).
pub(super) fn add_principal_credential(
    conn: &Connection,
    object_id: &str,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    require_principal(conn, object_id)?;
    append_credential(conn, object_id, credential)
}

/// `NotFound` unless the principal exists.
fn require_principal(conn: &Connection, object_id: &str) -> Result<(), StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM principals WHERE object_id = ?1")?
        .exists(params![object_id])?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Inserts the credential after the principal's last one.
fn append_credential(
    conn: &Connection,
    object_id: &str,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    let next_ordinal: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM credentials WHERE object_id = ?1",
        )?
        .query_row(params![object_id], |row| row.get(0))?;
    insert_credential(conn, object_id, next_ordinal, credential)
}

/// Removes one credential of the principal by key id.
pub(super) fn remove_principal_credential(
    conn: &Connection,
    object_id: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    require_principal(conn, object_id)?;
    let n_deleted = conn
        .prepare_cached("DELETE FROM credentials WHERE object_id = ?1 AND key_id = ?2")?
        .execute(params![object_id, key_id])?;
    Ok(n_deleted > 0)
}

/// Removes the principal's certificates not in `keep` and appends `add` (inside the writer's
/// transaction, so no other credential change interleaves).
pub(super) fn replace_certificate_credentials(
    conn: &Connection,
    object_id: &str,
    keep: &[String],
    add: &[CredentialRow],
) -> Result<(), StoreError> {
    require_principal(conn, object_id)?;
    let certificates: Vec<String> = conn
        .prepare_cached(
            "SELECT key_id FROM credentials WHERE object_id = ?1 AND certificate IS NOT NULL",
        )?
        .query_map(params![object_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for key_id in certificates.iter().filter(|key_id| !keep.contains(key_id)) {
        conn.prepare_cached("DELETE FROM credentials WHERE object_id = ?1 AND key_id = ?2")?
            .execute(params![object_id, key_id])?;
    }
    for credential in add {
        let taken = conn
            .prepare_cached("SELECT 1 FROM credentials WHERE object_id = ?1 AND key_id = ?2")?
            .exists(params![object_id, credential.key_id])?;
        if taken {
            return Err(StoreError::AlreadyExists);
        }
        append_credential(conn, object_id, credential)?;
    }
    Ok(())
}

/// Renames the principal; `false` when there is none.
pub(super) fn rename_principal(
    conn: &Connection,
    object_id: &str,
    display_name: &str,
) -> Result<bool, StoreError> {
    let n_updated = conn
        .prepare_cached("UPDATE principals SET display_name = ?2 WHERE object_id = ?1")?
        .execute(params![object_id, display_name])?;
    Ok(n_updated > 0)
}

/// Deletes the principal; its credentials go with it (foreign key cascade).
pub(super) fn delete_principal(conn: &Connection, object_id: &str) -> Result<bool, StoreError> {
    let n_deleted = conn
        .prepare_cached("DELETE FROM principals WHERE object_id = ?1")?
        .execute(params![object_id])?;
    Ok(n_deleted > 0)
}

fn insert_credentials(
    conn: &Connection,
    object_id: &str,
    credentials: &[CredentialRow],
) -> Result<(), StoreError> {
    for (ordinal, credential) in credentials.iter().enumerate() {
        insert_credential(conn, object_id, to_i64(ordinal), credential)?;
    }
    Ok(())
}

fn insert_credential(
    conn: &Connection,
    object_id: &str,
    ordinal: i64,
    credential: &CredentialRow,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO credentials \
         (object_id, ordinal, key_id, salt, hash, hint, created, expires, certificate, \
          display_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        object_id,
        ordinal,
        credential.key_id,
        credential.salt,
        credential.hash,
        credential.hint,
        credential.created.seconds(),
        credential.expires.map(UnixTime::seconds),
        credential.certificate,
        credential.display_name,
    ])
    .map_err(insert_error)?;
    Ok(())
}

fn principal_row(row: &Row<'_>) -> rusqlite::Result<PrincipalRow> {
    Ok(PrincipalRow {
        object_id: row.get(0)?,
        app_id: row.get(1)?,
        tenant_id: row.get(2)?,
        display_name: row.get(3)?,
        kind: row.get(4)?,
        is_admin: row.get(5)?,
        created: UnixTime(row.get(6)?),
        credentials: Vec::new(),
    })
}

fn credential_row(row: &Row<'_>) -> rusqlite::Result<(String, CredentialRow)> {
    Ok((
        row.get(0)?,
        CredentialRow {
            key_id: row.get(1)?,
            salt: row.get(2)?,
            hash: row.get(3)?,
            hint: row.get(4)?,
            created: UnixTime(row.get(5)?),
            expires: row.get::<_, Option<i64>>(6)?.map(UnixTime),
            certificate: row.get(7)?,
            display_name: row.get(8)?,
        },
    ))
}

// ---- vaults and access policies ----

macro_rules! vault_select {
    () => {
        "SELECT id, name, tenant_id, retention_days, created, sealed_data_key, sku, \
         rbac_authorization, resource_group, deleted FROM vaults"
    };
}

macro_rules! policy_select {
    () => {
        "SELECT vault_id, tenant_id, object_id, secrets, keys, certificates FROM access_policies"
    };
}

pub(super) fn create_vault(conn: &Connection, vault: NewVault) -> Result<VaultRow, StoreError> {
    conn.prepare_cached(
        "INSERT INTO vaults (name, tenant_id, retention_days, created, sealed_data_key, sku, \
         rbac_authorization, resource_group) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        vault.name.as_str(),
        vault.tenant_id,
        vault.retention_days,
        vault.created.seconds(),
        vault.sealed_data_key.as_bytes(),
        vault.sku,
        vault.rbac_authorization,
        vault.resource_group,
    ])
    .map_err(insert_error)?;
    let id = VaultId(conn.last_insert_rowid());
    insert_policies(conn, id, &vault.access_policies)?;
    Ok(VaultRow {
        id,
        name: vault.name,
        tenant_id: vault.tenant_id,
        retention_days: vault.retention_days,
        created: vault.created,
        sealed_data_key: vault.sealed_data_key,
        sku: vault.sku,
        access_policies: vault.access_policies,
        rbac_authorization: vault.rbac_authorization,
        resource_group: vault.resource_group,
        deleted: None,
    })
}

/// Switches the vault between access policies and Azure RBAC; `NotFound` if it is absent.
pub(super) fn set_vault_rbac(
    conn: &Connection,
    id: VaultId,
    rbac_authorization: bool,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached("UPDATE vaults SET rbac_authorization = ?2 WHERE id = ?1")?
        .execute(params![id.0, rbac_authorization])?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Marks the vault deleted at `deleted`, or live again with `None`.
pub(super) fn set_vault_deleted(
    conn: &Connection,
    id: VaultId,
    deleted: Option<UnixTime>,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached("UPDATE vaults SET deleted = ?2 WHERE id = ?1")?
        .execute(params![id.0, deleted.map(UnixTime::seconds)])?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn get_vault(
    conn: &Connection,
    name: &VaultName,
) -> Result<Option<VaultRow>, StoreError> {
    get_one_vault(
        conn,
        concat!(vault_select!(), " WHERE name = ?1"),
        &name.as_str(),
    )
}

pub(super) fn get_vault_by_id(
    conn: &Connection,
    id: VaultId,
) -> Result<Option<VaultRow>, StoreError> {
    get_one_vault(conn, concat!(vault_select!(), " WHERE id = ?1"), &id.0)
}

fn get_one_vault(
    conn: &Connection,
    sql: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<Option<VaultRow>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params![value])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let mut vault = vault_row(row)?;
    drop(rows);
    let sql = concat!(policy_select!(), " WHERE vault_id = ?1 ORDER BY ordinal");
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params![vault.id.0])?;
    while let Some(row) = rows.next()? {
        vault.access_policies.push(policy_row(row)?);
    }
    Ok(Some(vault))
}

pub(super) fn list_vaults(conn: &Connection) -> Result<Vec<VaultRow>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let sql = concat!(policy_select!(), " ORDER BY vault_id, ordinal");
    let mut policies: HashMap<i64, Vec<AccessPolicyRow>> = HashMap::new();
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        policies
            .entry(row.get(0)?)
            .or_default()
            .push(policy_row(row)?);
    }
    drop(rows);
    let sql = concat!(vault_select!(), " ORDER BY name");
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    let mut vaults = Vec::new();
    while let Some(row) = rows.next()? {
        let mut vault = vault_row(row)?;
        vault.access_policies = policies.remove(&vault.id.0).unwrap_or_default();
        vaults.push(vault);
    }
    Ok(vaults)
}

/// Deletes the vault; names, versions and policies go with it (foreign key cascade).
pub(super) fn delete_vault(conn: &Connection, id: VaultId) -> Result<bool, StoreError> {
    let n_deleted = conn
        .prepare_cached("DELETE FROM vaults WHERE id = ?1")?
        .execute(params![id.0])?;
    Ok(n_deleted > 0)
}

pub(super) fn set_access_policies(
    conn: &Connection,
    id: VaultId,
    policies: &[AccessPolicyRow],
) -> Result<(), StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM vaults WHERE id = ?1")?
        .exists(params![id.0])?;
    if !exists {
        return Err(StoreError::NotFound);
    }
    conn.prepare_cached("DELETE FROM access_policies WHERE vault_id = ?1")?
        .execute(params![id.0])?;
    insert_policies(conn, id, policies)
}

fn insert_policies(
    conn: &Connection,
    id: VaultId,
    policies: &[AccessPolicyRow],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO access_policies \
         (vault_id, ordinal, tenant_id, object_id, secrets, keys, certificates) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (ordinal, policy) in policies.iter().enumerate() {
        stmt.execute(params![
            id.0,
            to_i64(ordinal),
            policy.tenant_id,
            policy.object_id,
            encode_strings(&policy.secrets),
            encode_strings(&policy.keys),
            encode_strings(&policy.certificates),
        ])
        .map_err(insert_error)?;
    }
    Ok(())
}

fn vault_row(row: &Row<'_>) -> Result<VaultRow, StoreError> {
    let name: String = row.get(1)?;
    Ok(VaultRow {
        id: VaultId(row.get(0)?),
        name: VaultName::parse(&name)
            .map_err(|err| StoreError::Corrupt(format!("stored vault name: {err}")))?,
        tenant_id: row.get(2)?,
        retention_days: row.get(3)?,
        created: UnixTime(row.get(4)?),
        sealed_data_key: Sealed::from(row.get::<_, Vec<u8>>(5)?),
        sku: row.get(6)?,
        access_policies: Vec::new(),
        rbac_authorization: row.get(7)?,
        resource_group: row.get(8)?,
        deleted: row.get::<_, Option<i64>>(9)?.map(UnixTime),
    })
}

fn policy_row(row: &Row<'_>) -> Result<AccessPolicyRow, StoreError> {
    let list = |index: usize| -> Result<Vec<String>, StoreError> {
        let bytes = row
            .get_ref(index)?
            .as_blob()
            .map_err(|err| StoreError::Corrupt(format!("access policy column {index}: {err}")))?;
        decode_strings(bytes)
    };
    Ok(AccessPolicyRow {
        tenant_id: row.get(1)?,
        object_id: row.get(2)?,
        secrets: list(3)?,
        keys: list(4)?,
        certificates: list(5)?,
    })
}
