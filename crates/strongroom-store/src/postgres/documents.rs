//! Documents as PostgreSQL statements, with `sqlite/name_documents.rs`'s rules: a name's
//! policy (`name_policies`) and a certificate's pending operation (`certificate_operations`),
//! keyed by the `object_names` row so purge removes them and soft delete keeps them (writes
//! take the name's lock first, as every object write does); per-vault documents
//! (`vault_documents`) that go with their vault; deployment documents. Document names compare
//! by `lower(name)` and keep their first spelling (an upsert never rewrites `name`).

use deadpool_postgres::{GenericClient, Transaction};
use strongroom_model::{ObjectKind, ObjectName, VaultId};

use super::error;
use super::objects::lock_name;
use super::statements::{execute, execute_raw, get, query, query_opt};
use crate::{NamePolicyRow, StoreError};

/// Which document of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Policy,
    CertificateOperation,
}

impl Slot {
    fn upsert(self) -> &'static str {
        match self {
            Self::Policy => {
                "INSERT INTO name_policies (name_id, policy) VALUES ($1, $2) \
                 ON CONFLICT (name_id) DO UPDATE SET policy = excluded.policy"
            }
            Self::CertificateOperation => {
                "INSERT INTO certificate_operations (name_id, operation) VALUES ($1, $2) \
                 ON CONFLICT (name_id) DO UPDATE SET operation = excluded.operation"
            }
        }
    }

    fn select(self) -> &'static str {
        match self {
            Self::Policy => {
                "SELECT p.policy FROM object_names n JOIN name_policies p ON p.name_id = n.id \
                 WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
                 AND n.deleted_date IS NULL"
            }
            Self::CertificateOperation => {
                "SELECT o.operation FROM object_names n \
                 JOIN certificate_operations o ON o.name_id = n.id \
                 WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
                 AND n.deleted_date IS NULL"
            }
        }
    }

    fn delete(self) -> &'static str {
        match self {
            Self::Policy => "DELETE FROM name_policies WHERE name_id = $1",
            Self::CertificateOperation => "DELETE FROM certificate_operations WHERE name_id = $1",
        }
    }
}

/// The id of a live name, if there is one.
async fn live_name_id<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<i64>, StoreError> {
    let row = query_opt(
        client,
        "SELECT id FROM object_names \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3) AND deleted_date IS NULL",
        &[&vault.0, &kind.tag(), &name.as_str()],
    )
    .await?;
    row.map(|row| get(&row, 0)).transpose()
}

/// Replaces the document; `NotFound` if the name is not live.
pub(super) async fn put(
    tx: &Transaction<'_>,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    document: &[u8],
) -> Result<(), StoreError> {
    lock_name(tx, vault, name).await?;
    put_locked(tx, slot, vault, kind, name, document).await
}

/// `put` once the caller holds the name's lock.
pub(super) async fn put_locked(
    tx: &Transaction<'_>,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    document: &[u8],
) -> Result<(), StoreError> {
    let name_id = live_name_id(tx, vault, kind, name)
        .await?
        .ok_or(StoreError::NotFound)?;
    execute(tx, slot.upsert(), &[&name_id, &document]).await?;
    Ok(())
}

pub(super) async fn get_document<C: GenericClient>(
    client: &C,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = query_opt(
        client,
        slot.select(),
        &[&vault.0, &kind.tag(), &name.as_str()],
    )
    .await?;
    row.map(|row| get(&row, 0)).transpose()
}

/// Removes the document of a live name; `false` if the name is not live or had none.
pub(super) async fn delete(
    tx: &Transaction<'_>,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<bool, StoreError> {
    lock_name(tx, vault, name).await?;
    let Some(name_id) = live_name_id(tx, vault, kind, name).await? else {
        return Ok(false);
    };
    Ok(execute(tx, slot.delete(), &[&name_id]).await? > 0)
}

/// Every live name of `kind` with a policy document.
pub(super) async fn list_policies<C: GenericClient>(
    client: &C,
    kind: ObjectKind,
) -> Result<Vec<NamePolicyRow>, StoreError> {
    let rows = query(
        client,
        "SELECT n.vault_id, n.name, p.policy FROM object_names n \
         JOIN name_policies p ON p.name_id = n.id \
         WHERE n.kind = $1 AND n.deleted_date IS NULL ORDER BY n.vault_id, lower(n.name)",
        &[&kind.tag()],
    )
    .await?;
    rows.iter()
        .map(|row| {
            let stored: &str = get(row, 1)?;
            Ok(NamePolicyRow {
                vault: VaultId(get(row, 0)?),
                name: ObjectName::parse(stored)
                    .map_err(|err| StoreError::Corrupt(format!("stored object name: {err}")))?,
                policy: get(row, 2)?,
            })
        })
        .collect()
}

/// Creates or replaces a vault document; `NotFound` if the vault does not exist (the foreign
/// key). The name keeps the spelling it was first written with.
pub(super) async fn put_vault_document<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: &str,
    name: &str,
    document: &[u8],
) -> Result<(), StoreError> {
    execute_raw(
        client,
        "INSERT INTO vault_documents (vault_id, kind, name, document) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (vault_id, kind, lower(name)) DO UPDATE SET document = excluded.document",
        &[&vault.0, &kind, &name, &document],
    )
    .await
    .map_err(error::insert)?;
    Ok(())
}

pub(super) async fn get_vault_document<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = query_opt(
        client,
        "SELECT document FROM vault_documents \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3)",
        &[&vault.0, &kind, &name],
    )
    .await?;
    row.map(|row| get(&row, 0)).transpose()
}

pub(super) async fn list_vault_documents<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let rows = query(
        client,
        "SELECT name, document FROM vault_documents WHERE vault_id = $1 AND kind = $2 \
         ORDER BY lower(name)",
        &[&vault.0, &kind],
    )
    .await?;
    rows.iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
        .collect()
}

pub(super) async fn delete_vault_document<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: &str,
    name: &str,
) -> Result<bool, StoreError> {
    Ok(execute(
        client,
        "DELETE FROM vault_documents \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3)",
        &[&vault.0, &kind, &name],
    )
    .await?
        > 0)
}

/// Creates or replaces a deployment document. The name keeps the spelling it was first
/// written with.
pub(super) async fn put_deployment_document<C: GenericClient>(
    client: &C,
    kind: &str,
    name: &str,
    document: &[u8],
) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO deployment_documents (kind, name, document) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, lower(name)) DO UPDATE SET document = excluded.document",
        &[&kind, &name, &document],
    )
    .await?;
    Ok(())
}

pub(super) async fn get_deployment_document<C: GenericClient>(
    client: &C,
    kind: &str,
    name: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let row = query_opt(
        client,
        "SELECT name, document FROM deployment_documents \
         WHERE kind = $1 AND lower(name) = lower($2)",
        &[&kind, &name],
    )
    .await?;
    row.map(|row| Ok((get(&row, 0)?, get(&row, 1)?)))
        .transpose()
}

pub(super) async fn list_deployment_documents<C: GenericClient>(
    client: &C,
    kind: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let rows = query(
        client,
        "SELECT name, document FROM deployment_documents WHERE kind = $1 ORDER BY lower(name)",
        &[&kind],
    )
    .await?;
    rows.iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
        .collect()
}

pub(super) async fn delete_deployment_document<C: GenericClient>(
    client: &C,
    kind: &str,
    name: &str,
) -> Result<bool, StoreError> {
    Ok(execute(
        client,
        "DELETE FROM deployment_documents WHERE kind = $1 AND lower(name) = lower($2)",
        &[&kind, &name],
    )
    .await?
        > 0)
}
