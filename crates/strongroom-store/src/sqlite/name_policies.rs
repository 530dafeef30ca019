//! Per-name policy documents (a key's rotation policy) as SQL over `name_policies`, keyed by
//! the `object_names` row so a purge (or a vault delete) removes the policy with its name.

use rusqlite::{Connection, OptionalExtension, params};
use strongroom_model::{ObjectKind, ObjectName, VaultId};

use crate::{NamePolicyRow, StoreError};

pub(super) fn put(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    policy: &[u8],
) -> Result<(), StoreError> {
    let name_id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM object_names \
             WHERE vault_id = ?1 AND kind = ?2 AND name = ?3 AND deleted_date IS NULL",
        )?
        .query_row(params![vault.0, kind.tag(), name.as_str()], |row| {
            row.get(0)
        })
        .optional()?;
    let Some(name_id) = name_id else {
        return Err(StoreError::NotFound);
    };
    conn.prepare_cached(
        "INSERT INTO name_policies (name_id, policy) VALUES (?1, ?2) \
         ON CONFLICT (name_id) DO UPDATE SET policy = excluded.policy",
    )?
    .execute(params![name_id, policy])?;
    Ok(())
}

pub(super) fn get(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT p.policy FROM object_names n JOIN name_policies p ON p.name_id = n.id \
             WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL",
        )?
        .query_row(params![vault.0, kind.tag(), name.as_str()], |row| {
            row.get(0)
        })
        .optional()?)
}

pub(super) fn list(conn: &Connection, kind: ObjectKind) -> Result<Vec<NamePolicyRow>, StoreError> {
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
