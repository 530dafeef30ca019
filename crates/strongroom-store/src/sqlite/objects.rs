//! Objects (secrets, keys, certificates) as SQL: versions of names, soft delete, recover,
//! purge, paging and restore over `object_names` and `object_versions`.
//!
//! Each function takes a connection: the reader pool runs the queries, the writer thread runs
//! the changes inside its group transaction. Names compare case-insensitively (the column is
//! `COLLATE NOCASE`) and rows carry the name as it was first written. Cursors: the last name
//! for `list_current`/`list_deleted`, the last version's `seq` (decimal) for `list_versions`.

use rusqlite::{Connection, Params, Row, params};
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultId, Version};

use super::codec::{decode_tags, encode_tags, to_i64};
use super::name_documents::{self, Slot};
use crate::rows::stored_object_name as object_name;
use crate::{
    CertificateRestore, CertificateVersions, DeletedRow, Deletion, NewVersion, Page, PageRequest,
    StoreError, VersionAttributes, VersionRow, VersionUpdate,
};

/// The columns `version_row` decodes, in order; queries may select more after them.
macro_rules! version_columns {
    () => {
        "n.name, v.version, v.enabled, v.not_before, v.expires, v.created, v.updated, \
         v.tags, v.meta, v.payload"
    };
}
/// Index of the first column after `version_columns!()`.
const EXTRA: usize = 10;

pub(super) const LIVE_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL"
);

pub(super) const LIVE_VERSION: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.seq, v.seq = n.current_version FROM object_names n \
     JOIN object_versions v ON v.name_id = n.id \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL \
     AND v.version = ?4"
);

const LIST_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.deleted_date IS NULL AND n.name > ?3 \
     ORDER BY n.name LIMIT ?4"
);

const LIST_VERSIONS: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.seq FROM object_names n JOIN object_versions v ON v.name_id = n.id \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NULL \
     AND v.seq > ?4 ORDER BY v.seq LIMIT ?5"
);

const DELETED_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", n.deleted_date, n.scheduled_purge_date \
     FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.name = ?3 AND n.deleted_date IS NOT NULL"
);

const LIST_DELETED: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", n.deleted_date, n.scheduled_purge_date \
     FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = ?1 AND n.kind = ?2 AND n.deleted_date IS NOT NULL AND n.name > ?3 \
     ORDER BY n.name LIMIT ?4"
);

const FIND_NAME: &str = "SELECT id, name, deleted_date IS NOT NULL FROM object_names \
                         WHERE vault_id = ?1 AND kind = ?2 AND name = ?3";

const INSERT_NAME: &str = "INSERT INTO object_names (vault_id, kind, name) VALUES (?1, ?2, ?3)";

const INSERT_VERSION: &str = "INSERT INTO object_versions \
     (name_id, version, enabled, not_before, expires, created, updated, tags, meta, payload) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

const SET_CURRENT: &str = "UPDATE object_names SET current_version = ?2 WHERE id = ?1";

// ---- reads ----

/// One version of a live name by its id, and whether it is the name's current version (so
/// the caller may cache it as the current row).
pub(super) fn get_exact_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    version: &Version,
) -> Result<Option<(VersionRow, bool)>, StoreError> {
    query_one(
        conn,
        LIVE_VERSION,
        params![vault.0, kind.tag(), name.as_str(), version.as_str()],
        |row| Ok((version_row(row)?, row.get::<_, bool>(EXTRA + 1)?)),
    )
}

pub(super) fn get_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<Option<VersionRow>, StoreError> {
    let found = match version {
        None => query_one(
            conn,
            LIVE_CURRENT,
            params![vault.0, kind.tag(), name.as_str()],
            version_row,
        )?,
        Some(version) => query_one(
            conn,
            LIVE_VERSION,
            params![vault.0, kind.tag(), name.as_str(), version.as_str()],
            version_row,
        )?,
    };
    Ok(found)
}

pub(super) fn list_current(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    page: &PageRequest,
) -> Result<Page<VersionRow>, StoreError> {
    let after = page.after.as_deref().unwrap_or(""); // every name sorts after ""
    let limit = page.limit.max(1);
    let mut stmt = conn.prepare_cached(LIST_CURRENT)?;
    let mut rows = stmt.query(params![vault.0, kind.tag(), after, to_i64(limit) + 1])?;
    let mut items = Vec::with_capacity(limit.min(64));
    while let Some(row) = rows.next()? {
        items.push(version_row(row)?);
    }
    Ok(into_page(items, limit, |last| {
        last.name.as_str().to_owned()
    }))
}

pub(super) fn list_versions(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    page: &PageRequest,
) -> Result<Page<VersionRow>, StoreError> {
    let after_seq = match page.after.as_deref() {
        None => i64::MIN,
        Some(cursor) => cursor
            .parse::<i64>()
            .map_err(|_| StoreError::InvalidCursor)?,
    };
    let limit = page.limit.max(1);
    let mut stmt = conn.prepare_cached(LIST_VERSIONS)?;
    let mut rows = stmt.query(params![
        vault.0,
        kind.tag(),
        name.as_str(),
        after_seq,
        to_i64(limit) + 1
    ])?;
    let mut items = Vec::with_capacity(limit.min(64));
    while let Some(row) = rows.next()? {
        items.push((version_row(row)?, row.get::<_, i64>(EXTRA)?));
    }
    let page = into_page(items, limit, |(_, seq)| seq.to_string());
    Ok(Page {
        items: page.items.into_iter().map(|(row, _)| row).collect(),
        next: page.next,
    })
}

pub(super) fn all_versions(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Vec<VersionRow>, StoreError> {
    let mut stmt = conn.prepare_cached(LIST_VERSIONS)?;
    let mut rows = stmt.query(params![
        vault.0,
        kind.tag(),
        name.as_str(),
        i64::MIN,
        i64::MAX
    ])?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(version_row(row)?);
    }
    Ok(items)
}

pub(super) fn get_deleted(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<DeletedRow>, StoreError> {
    query_one(
        conn,
        DELETED_CURRENT,
        params![vault.0, kind.tag(), name.as_str()],
        deleted_row,
    )
}

pub(super) fn list_deleted(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    page: &PageRequest,
) -> Result<Page<DeletedRow>, StoreError> {
    let after = page.after.as_deref().unwrap_or("");
    let limit = page.limit.max(1);
    let mut stmt = conn.prepare_cached(LIST_DELETED)?;
    let mut rows = stmt.query(params![vault.0, kind.tag(), after, to_i64(limit) + 1])?;
    let mut items = Vec::with_capacity(limit.min(64));
    while let Some(row) = rows.next()? {
        items.push(deleted_row(row)?);
    }
    Ok(into_page(items, limit, |last| {
        last.current.name.as_str().to_owned()
    }))
}

// ---- writes (run by the writer thread, inside a savepoint) ----

pub(super) fn put_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    new: NewVersion,
) -> Result<VersionRow, StoreError> {
    // A certificate owns the key and the secret of its name (live or deleted): they are
    // written with it only (`put_certificate_versions`), never on their own.
    if kind != ObjectKind::Certificate
        && find_name(conn, vault, ObjectKind::Certificate, &new.name)?.is_some()
    {
        return Err(StoreError::OwnedName {
            owner: ObjectKind::Certificate,
        });
    }
    put_owned_version(conn, vault, kind, new)
}

/// `put_version` without the ownership check: a certificate's own write.
fn put_owned_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    new: NewVersion,
) -> Result<VersionRow, StoreError> {
    let (name_id, name) = match find_name(conn, vault, kind, &new.name)? {
        Some(found) if found.deleted => return Err(StoreError::NameDeleted),
        Some(found) => (found.id, found.name),
        None => (insert_name(conn, vault, kind, &new.name)?, new.name.clone()),
    };
    let seq = insert_version(conn, name_id, &new)?;
    conn.prepare_cached(SET_CURRENT)?
        .execute(params![name_id, seq])?;
    Ok(into_row(new, name))
}

/// The certificate version, its key and secret versions, and its policy and operation
/// documents, in the caller's transaction.
pub(super) fn put_certificate_versions(
    conn: &Connection,
    vault: VaultId,
    versions: CertificateVersions,
) -> Result<VersionRow, StoreError> {
    let CertificateVersions {
        certificate,
        completes,
        key,
        secret,
        policy,
        operation,
    } = versions;
    let carries_its_name = |v: &NewVersion| {
        v.name
            .as_str()
            .eq_ignore_ascii_case(certificate.name.as_str())
    };
    if !key.iter().chain(&secret).all(carries_its_name) {
        return Err(StoreError::Corrupt(
            "a certificate's key and secret must carry its name".to_owned(),
        ));
    }
    let name = certificate.name.clone();
    // A new certificate cannot take over a plain key or secret: a key or secret name that
    // exists without a certificate of that name belongs to no certificate.
    if find_name(conn, vault, ObjectKind::Certificate, &name)?.is_none() {
        for owner in [ObjectKind::Key, ObjectKind::Secret] {
            if find_name(conn, vault, owner, &name)?.is_some() {
                return Err(StoreError::OwnedName { owner });
            }
        }
    }
    for (kind, version) in [(ObjectKind::Key, key), (ObjectKind::Secret, secret)] {
        if let Some(version) = version {
            put_owned_version(conn, vault, kind, version)?;
        }
    }
    let row = if completes {
        complete_version(conn, vault, ObjectKind::Certificate, certificate)?
    } else {
        put_version(conn, vault, ObjectKind::Certificate, certificate)?
    };
    for (slot, document) in [
        (Slot::Policy, policy),
        (Slot::CertificateOperation, operation),
    ] {
        if let Some(document) = document {
            name_documents::put(conn, slot, vault, ObjectKind::Certificate, &name, &document)?;
        }
    }
    Ok(row)
}

/// Replaces an existing version of a live name in place (all but its id and position) and
/// makes it current; `NotFound` if the name is not live or has no such version.
fn complete_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    new: NewVersion,
) -> Result<VersionRow, StoreError> {
    let found = query_one(
        conn,
        LIVE_VERSION,
        params![vault.0, kind.tag(), new.name.as_str(), new.version.as_str()],
        |row| Ok((version_row(row)?, row.get::<_, i64>(EXTRA)?)),
    )?;
    let Some((existing, seq)) = found else {
        return Err(StoreError::NotFound);
    };
    let attributes = &new.attributes;
    conn.prepare_cached(
        "UPDATE object_versions SET enabled = ?2, not_before = ?3, expires = ?4, created = ?5, \
         updated = ?6, tags = ?7, meta = ?8, payload = ?9 WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        attributes.enabled,
        attributes.not_before.map(UnixTime::seconds),
        attributes.expires.map(UnixTime::seconds),
        attributes.created.seconds(),
        attributes.updated.seconds(),
        encode_tags(&new.tags),
        new.meta,
        new.payload.as_bytes(),
    ])?;
    conn.prepare_cached(
        "UPDATE object_names SET current_version = ?2 \
         WHERE id = (SELECT name_id FROM object_versions WHERE seq = ?1)",
    )?
    .execute(params![seq, seq])?;
    Ok(into_row(new, existing.name))
}

/// A certificate, its key and secret, and its policy from a backup, in the caller's
/// transaction.
pub(super) fn restore_certificate(
    conn: &Connection,
    vault: VaultId,
    backup: CertificateRestore,
) -> Result<VersionRow, StoreError> {
    let CertificateRestore {
        name,
        certificate,
        key,
        secret,
        policy,
    } = backup;
    restore(conn, vault, ObjectKind::Key, &name, key)?;
    if !secret.is_empty() {
        restore(conn, vault, ObjectKind::Secret, &name, secret)?;
    }
    let row = restore(conn, vault, ObjectKind::Certificate, &name, certificate)?;
    if let Some(policy) = policy {
        name_documents::put(
            conn,
            Slot::Policy,
            vault,
            ObjectKind::Certificate,
            &name,
            &policy,
        )?;
    }
    Ok(row)
}

/// The other kinds a lifecycle change of `kind` moves with it: a certificate takes the key
/// and the secret of its name.
pub(super) fn linked_kinds(kind: ObjectKind) -> &'static [ObjectKind] {
    match kind {
        ObjectKind::Certificate => &[ObjectKind::Key, ObjectKind::Secret],
        ObjectKind::Secret | ObjectKind::Key => &[],
    }
}

pub(super) fn update_version(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    version: &Version,
    update: VersionUpdate,
) -> Result<Option<VersionRow>, StoreError> {
    let found = query_one(
        conn,
        LIVE_VERSION,
        params![vault.0, kind.tag(), name.as_str(), version.as_str()],
        |row| Ok((version_row(row)?, row.get::<_, i64>(EXTRA)?)),
    )?;
    let Some((mut row, seq)) = found else {
        return Ok(None);
    };
    let attributes = &mut row.attributes;
    if let Some(enabled) = update.enabled {
        attributes.enabled = enabled;
    }
    if let Some(not_before) = update.not_before {
        attributes.not_before = not_before;
    }
    if let Some(expires) = update.expires {
        attributes.expires = expires;
    }
    attributes.updated = update.updated;
    if let Some(tags) = update.tags {
        row.tags = tags;
    }
    if let Some(meta) = update.meta {
        row.meta = meta.into();
    }
    conn.prepare_cached(
        "UPDATE object_versions SET enabled = ?2, not_before = ?3, expires = ?4, updated = ?5, \
         tags = ?6, meta = ?7 WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        row.attributes.enabled,
        row.attributes.not_before.map(UnixTime::seconds),
        row.attributes.expires.map(UnixTime::seconds),
        row.attributes.updated.seconds(),
        encode_tags(&row.tags),
        row.meta,
    ])?;
    Ok(Some(row))
}

pub(super) fn soft_delete(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    deletion: Deletion,
) -> Result<Option<DeletedRow>, StoreError> {
    let mut statement = conn.prepare_cached(
        "UPDATE object_names SET deleted_date = ?4, scheduled_purge_date = ?5 \
         WHERE vault_id = ?1 AND kind = ?2 AND name = ?3 AND deleted_date IS NULL",
    )?;
    let n_changed = statement.execute(params![
        vault.0,
        kind.tag(),
        name.as_str(),
        deletion.deleted_date.seconds(),
        deletion.scheduled_purge_date.seconds(),
    ])?;
    if n_changed == 0 {
        return Ok(None);
    }
    for linked in linked_kinds(kind) {
        statement.execute(params![
            vault.0,
            linked.tag(),
            name.as_str(),
            deletion.deleted_date.seconds(),
            deletion.scheduled_purge_date.seconds(),
        ])?;
    }
    get_deleted(conn, vault, kind, name)
}

pub(super) fn recover(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<VersionRow>, StoreError> {
    let mut statement = conn.prepare_cached(
        "UPDATE object_names SET deleted_date = NULL, scheduled_purge_date = NULL \
         WHERE vault_id = ?1 AND kind = ?2 AND name = ?3 AND deleted_date IS NOT NULL",
    )?;
    if statement.execute(params![vault.0, kind.tag(), name.as_str()])? == 0 {
        return Ok(None);
    }
    for linked in linked_kinds(kind) {
        statement.execute(params![vault.0, linked.tag(), name.as_str()])?;
    }
    get_version(conn, vault, kind, name, None)
}

/// Deletes a deleted name; its versions go with it (foreign key cascade).
pub(super) fn purge(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<bool, StoreError> {
    let mut statement = conn.prepare_cached(
        "DELETE FROM object_names \
         WHERE vault_id = ?1 AND kind = ?2 AND name = ?3 AND deleted_date IS NOT NULL",
    )?;
    if statement.execute(params![vault.0, kind.tag(), name.as_str()])? == 0 {
        return Ok(false);
    }
    for linked in linked_kinds(kind) {
        statement.execute(params![vault.0, linked.tag(), name.as_str()])?;
    }
    Ok(true)
}

pub(super) fn purge_expired(conn: &Connection, now: UnixTime) -> Result<u64, StoreError> {
    let n_deleted = conn
        .prepare_cached(
            "DELETE FROM object_names \
             WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?1",
        )?
        .execute(params![now.seconds()])?;
    Ok(u64::try_from(n_deleted).unwrap_or(u64::MAX))
}

pub(super) fn restore(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    versions: Vec<NewVersion>,
) -> Result<VersionRow, StoreError> {
    crate::rows::restored_versions_check(name, &versions)?;
    if find_name(conn, vault, kind, name)?.is_some() {
        return Err(StoreError::AlreadyExists);
    }
    let name_id = insert_name(conn, vault, kind, name)?;
    let mut last = None;
    for new in versions {
        let seq = insert_version(conn, name_id, &new)?;
        last = Some((seq, new));
    }
    let Some((seq, new)) = last else {
        return Err(StoreError::Corrupt(
            "a restore needs at least one version".to_owned(),
        ));
    };
    conn.prepare_cached(SET_CURRENT)?
        .execute(params![name_id, seq])?;
    Ok(into_row(new, name.clone()))
}

// ---- helpers ----

struct FoundName {
    id: i64,
    name: ObjectName,
    deleted: bool,
}

fn find_name(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<FoundName>, StoreError> {
    query_one(
        conn,
        FIND_NAME,
        params![vault.0, kind.tag(), name.as_str()],
        |row| {
            let stored = text(row, 1)?;
            Ok(FoundName {
                id: row.get(0)?,
                // Keep the spelling the name was first written with.
                name: if stored == name.as_str() {
                    name.clone()
                } else {
                    object_name(stored)?
                },
                deleted: row.get(2)?,
            })
        },
    )
}

fn insert_name(
    conn: &Connection,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<i64, StoreError> {
    conn.prepare_cached(INSERT_NAME)?
        .execute(params![vault.0, kind.tag(), name.as_str()])
        .map_err(super::codec::insert_error)?;
    Ok(conn.last_insert_rowid())
}

fn insert_version(conn: &Connection, name_id: i64, new: &NewVersion) -> Result<i64, StoreError> {
    let attributes = &new.attributes;
    conn.prepare_cached(INSERT_VERSION)?
        .execute(params![
            name_id,
            new.version.as_str(),
            attributes.enabled,
            attributes.not_before.map(UnixTime::seconds),
            attributes.expires.map(UnixTime::seconds),
            attributes.created.seconds(),
            attributes.updated.seconds(),
            encode_tags(&new.tags),
            new.meta,
            new.payload.as_bytes(),
        ])
        .map_err(super::codec::insert_error)?;
    Ok(conn.last_insert_rowid())
}

fn into_row(new: NewVersion, name: ObjectName) -> VersionRow {
    VersionRow {
        name,
        version: new.version,
        attributes: new.attributes,
        tags: new.tags,
        meta: new.meta.into(),
        payload: new.payload,
    }
}

/// Runs a query expected to give at most one row.
fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

/// Keeps `limit` items; if there was one more, the cursor points after the last kept one.
fn into_page<T>(mut items: Vec<T>, limit: usize, cursor: impl FnOnce(&T) -> String) -> Page<T> {
    if items.len() <= limit {
        return Page { items, next: None };
    }
    items.truncate(limit);
    let next = items.last().map(cursor);
    Page { items, next }
}

fn version_row(row: &Row<'_>) -> Result<VersionRow, StoreError> {
    Ok(VersionRow {
        name: object_name(text(row, 0)?)?,
        version: Version::parse(text(row, 1)?)
            .map_err(|err| StoreError::Corrupt(format!("stored version: {err}")))?,
        attributes: VersionAttributes {
            enabled: row.get(2)?,
            not_before: row.get::<_, Option<i64>>(3)?.map(UnixTime),
            expires: row.get::<_, Option<i64>>(4)?.map(UnixTime),
            created: UnixTime(row.get(5)?),
            updated: UnixTime(row.get(6)?),
        },
        tags: decode_tags(blob(row, 7)?)?,
        meta: row.get(8)?,
        payload: Sealed::from(row.get::<_, Vec<u8>>(9)?),
    })
}

fn deleted_row(row: &Row<'_>) -> Result<DeletedRow, StoreError> {
    DeletedRow::from_stored(
        version_row(row)?,
        row.get::<_, Option<i64>>(EXTRA)?,
        row.get::<_, Option<i64>>(EXTRA + 1)?,
    )
}

fn text<'r>(row: &'r Row<'_>, index: usize) -> Result<&'r str, StoreError> {
    row.get_ref(index)?
        .as_str()
        .map_err(|err| StoreError::Corrupt(format!("column {index}: {err}")))
}

fn blob<'r>(row: &'r Row<'_>, index: usize) -> Result<&'r [u8], StoreError> {
    row.get_ref(index)?
        .as_blob()
        .map_err(|err| StoreError::Corrupt(format!("column {index}: {err}")))
}
