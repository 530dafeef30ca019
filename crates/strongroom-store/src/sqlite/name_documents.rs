//! Per-name and per-vault documents as SQL: a name's policy (`name_policies`: a key's rotation policy, a
//! certificate's policy) and a certificate's pending operation (`certificate_operations`).
//! Both tables are keyed by the `object_names` row, so a purge (or a vault delete) removes
//! the documents with their name, and soft delete and recover leave them in place. Per-vault
//! documents (`vault_documents`: certificate contacts and issuers) go with their vault.

use rusqlite::{Connection, OptionalExtension, params};
use strongroom_model::{ObjectKind, ObjectName, VaultId};

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
                "INSERT INTO name_policies (name_id, policy) VALUES (?1, ?2) \
                 ON CONFLICT (name_id) DO UPDATE SET policy = excluded.policy"
            }
            Self::CertificateOperation => {
                "INSERT INTO certificate_operations (name_id, operation) VALUES (?1, ?2) \
                 ON CONFLICT (name_id) DO UPDATE SET operation = excluded.operation"
            }
        }
    }

    fn select(self) -> &'static str {
        match self {
            Self::Policy => {
                "SELECT p.policy FROM object_names n JOIN name_policies p ON p.name_id = n.id \
                 WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL"
            }
            Self::CertificateOperation => {
                "SELECT o.operation FROM object_names n \
                 JOIN certificate_operations o ON o.name_id = n.id \
                 WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL"
            }
        }
    }

    fn delete(self) -> &'static str {
        match self {
            Self::Policy => "DELETE FROM name_policies WHERE name_id = ?1",
            Self::CertificateOperation => "DELETE FROM certificate_operations WHERE name_id = ?1",
        }
    }
}

/// The id of a live name, if there is one.
fn live_name_id(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM object_names \
             WHERE vault_id = ?1 AND kind = ?2 AND name = ?3 AND deleted_date IS NULL",
        )?
        .query_row(params![vault.0, kind.tag(), name.as_str()], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Replaces the document; `NotFound` if the name is not live.
pub(super) fn put(
    conn: &Connection,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    document: &[u8],
) -> Result<(), StoreError> {
    let name_id = live_name_id(conn, vault, kind, name)?.ok_or(StoreError::NotFound)?;
    conn.prepare_cached(slot.upsert())?
        .execute(params![name_id, document])?;
    Ok(())
}

pub(super) fn get(
    conn: &Connection,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached(slot.select())?
        .query_row(params![vault.0, kind.tag(), name.as_str()], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Removes the document of a live name; `false` if the name is not live or had none.
pub(super) fn delete(
    conn: &Connection,
    slot: Slot,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<bool, StoreError> {
    let Some(name_id) = live_name_id(conn, vault, kind, name)? else {
        return Ok(false);
    };
    Ok(conn
        .prepare_cached(slot.delete())?
        .execute(params![name_id])?
        > 0)
}

/// Every live name of `kind` with a policy document.
pub(super) fn list_policies(
    conn: &Connection,
    kind: ObjectKind,
) -> Result<Vec<NamePolicyRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.vault_id, n.name, p.policy FROM object_names n \
         JOIN name_policies p ON p.name_id = n.id \
         WHERE n.kind = ?1 AND n.deleted_date IS NULL ORDER BY n.vault_id, n.name",
    )?;
    let mut rows = stmt.query(params![kind.tag()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let stored: String = row.get(1)?;
        out.push(NamePolicyRow {
            vault: VaultId(row.get(0)?),
            name: ObjectName::parse(&stored)
                .map_err(|err| StoreError::Corrupt(format!("stored object name: {err}")))?,
            policy: row.get(2)?,
        });
    }
    Ok(out)
}

/// Creates or replaces a vault document; `NotFound` if the vault does not exist. The name
/// keeps the spelling it was first written with.
pub(super) fn put_vault_document(
    conn: &Connection,
    vault: VaultId,
    kind: &str,
    name: &str,
    document: &[u8],
) -> Result<(), StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT id FROM vaults WHERE id = ?1")?
        .query_row(params![vault.0], |row| row.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    conn.prepare_cached(
        "INSERT INTO vault_documents (vault_id, kind, name, document) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (vault_id, kind, name) DO UPDATE SET document = excluded.document",
    )?
    .execute(params![vault.0, kind, name, document])?;
    Ok(())
}

pub(super) fn get_vault_document(
    conn: &Connection,
    vault: VaultId,
    kind: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT document FROM vault_documents WHERE vault_id = ?1 AND kind = ?2 AND name = ?3",
        )?
        .query_row(params![vault.0, kind, name], |row| row.get(0))
        .optional()?)
}

pub(super) fn list_vault_documents(
    conn: &Connection,
    vault: VaultId,
    kind: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, document FROM vault_documents WHERE vault_id = ?1 AND kind = ?2 \
         ORDER BY name",
    )?;
    let mut rows = stmt.query(params![vault.0, kind])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, row.get(1)?));
    }
    Ok(out)
}

pub(super) fn delete_vault_document(
    conn: &Connection,
    vault: VaultId,
    kind: &str,
    name: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM vault_documents WHERE vault_id = ?1 AND kind = ?2 AND name = ?3",
        )?
        .execute(params![vault.0, kind, name])?
        > 0)
}

/// Creates or replaces a deployment document. The name keeps the spelling it was first
/// written with.
pub(super) fn put_deployment_document(
    conn: &Connection,
    kind: &str,
    name: &str,
    document: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO deployment_documents (kind, name, document) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind, name) DO UPDATE SET document = excluded.document",
    )?
    .execute(params![kind, name, document])?;
    Ok(())
}

pub(super) fn get_deployment_document(
    conn: &Connection,
    kind: &str,
    name: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT name, document FROM deployment_documents WHERE kind = ?1 AND name = ?2",
        )?
        .query_row(params![kind, name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

pub(super) fn list_deployment_documents(
    conn: &Connection,
    kind: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, document FROM deployment_documents WHERE kind = ?1 ORDER BY name",
    )?;
    let mut rows = stmt.query(params![kind])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, row.get(1)?));
    }
    Ok(out)
}

pub(super) fn delete_deployment_document(
    conn: &Connection,
    kind: &str,
    name: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM deployment_documents WHERE kind = ?1 AND name = ?2")?
        .execute(params![kind, name])?
        > 0)
}
