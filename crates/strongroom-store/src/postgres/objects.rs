//! Objects (secrets, keys, certificates) as PostgreSQL statements: versions of names, soft
//! delete, recover, purge, paging and restore over `object_names` and `object_versions`,
//! with the same rules as `sqlite/objects.rs`.
//!
//! Reads are single statements (one snapshot each). Every write runs in the caller's
//! transaction and first takes the name's advisory lock (`locks.rs`), so what it reads about
//! the name (absent, live, deleted, owned by a certificate) still holds when it writes, even
//! with other nodes writing the same name. Names compare by `lower(name)`; rows carry the name
//! as first written. Cursors: the last name for `list_current`/`list_deleted`, the last
//! version's `seq` (decimal) for `list_versions`.

use deadpool_postgres::{GenericClient, Transaction};
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultId, Version};
use tokio_postgres::Row;

use super::documents::{self, Slot};
use super::error;
use super::locks;
use super::statements::{execute, execute_raw, get, query, query_opt, to_i64};
use crate::codec::{decode_tags, encode_tags};
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

const LIVE_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
     AND n.deleted_date IS NULL"
);

const LIVE_VERSION: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.seq FROM object_names n JOIN object_versions v ON v.name_id = n.id \
     WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
     AND n.deleted_date IS NULL AND v.version = $4"
);

const LIST_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = $1 AND n.kind = $2 AND n.deleted_date IS NULL \
     AND lower(n.name) > lower($3) ORDER BY lower(n.name) LIMIT $4"
);

const LIST_VERSIONS: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.seq FROM object_names n JOIN object_versions v ON v.name_id = n.id \
     WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
     AND n.deleted_date IS NULL AND v.seq > $4 ORDER BY v.seq LIMIT $5"
);

const DELETED_CURRENT: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", n.deleted_date, n.scheduled_purge_date \
     FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = $1 AND n.kind = $2 AND lower(n.name) = lower($3) \
     AND n.deleted_date IS NOT NULL"
);

const LIST_DELETED: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", n.deleted_date, n.scheduled_purge_date \
     FROM object_names n JOIN object_versions v ON v.seq = n.current_version \
     WHERE n.vault_id = $1 AND n.kind = $2 AND n.deleted_date IS NOT NULL \
     AND lower(n.name) > lower($3) ORDER BY lower(n.name) LIMIT $4"
);

const FIND_NAME: &str = "SELECT id, name, deleted_date IS NOT NULL FROM object_names \
                         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3)";

const INSERT_NAME: &str =
    "INSERT INTO object_names (vault_id, kind, name) VALUES ($1, $2, $3) RETURNING id";

const INSERT_VERSION: &str = "INSERT INTO object_versions \
     (name_id, version, enabled, not_before, expires, created, updated, tags, meta, payload) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq";

/// `INSERT_VERSION` and making it current, in one statement (one round trip).
const INSERT_CURRENT_VERSION: &str = "WITH inserted AS (INSERT INTO object_versions \
     (name_id, version, enabled, not_before, expires, created, updated, tags, meta, payload) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq) \
     UPDATE object_names SET current_version = inserted.seq FROM inserted \
     WHERE object_names.id = $1";

const SET_CURRENT: &str = "UPDATE object_names SET current_version = $2 WHERE id = $1";

// ---- reads ----

pub(super) async fn get_version<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<Option<VersionRow>, StoreError> {
    let row = match version {
        None => {
            query_opt(
                client,
                LIVE_CURRENT,
                &[&vault.0, &kind.tag(), &name.as_str()],
            )
            .await?
        }
        Some(version) => {
            query_opt(
                client,
                LIVE_VERSION,
                &[&vault.0, &kind.tag(), &name.as_str(), &version.as_str()],
            )
            .await?
        }
    };
    row.as_ref().map(version_row).transpose()
}

pub(super) async fn list_current<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    page: &PageRequest,
) -> Result<Page<VersionRow>, StoreError> {
    let after = page.after.as_deref().unwrap_or(""); // every name sorts after ""
    let limit = page.limit.max(1);
    let rows = query(
        client,
        LIST_CURRENT,
        &[&vault.0, &kind.tag(), &after, &(to_i64(limit) + 1)],
    )
    .await?;
    let items = rows
        .iter()
        .map(version_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(into_page(items, limit, |last| {
        last.name.as_str().to_owned()
    }))
}

pub(super) async fn list_versions<C: GenericClient>(
    client: &C,
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
    let rows = query(
        client,
        LIST_VERSIONS,
        &[
            &vault.0,
            &kind.tag(),
            &name.as_str(),
            &after_seq,
            &(to_i64(limit) + 1),
        ],
    )
    .await?;
    let items = rows
        .iter()
        .map(|row| Ok((version_row(row)?, get::<i64>(row, EXTRA)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let page = into_page(items, limit, |(_, seq)| seq.to_string());
    Ok(Page {
        items: page.items.into_iter().map(|(row, _)| row).collect(),
        next: page.next,
    })
}

pub(super) async fn all_versions<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Vec<VersionRow>, StoreError> {
    let rows = query(
        client,
        LIST_VERSIONS,
        &[&vault.0, &kind.tag(), &name.as_str(), &i64::MIN, &i64::MAX],
    )
    .await?;
    rows.iter().map(version_row).collect()
}

pub(super) async fn get_deleted<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<DeletedRow>, StoreError> {
    let row = query_opt(
        client,
        DELETED_CURRENT,
        &[&vault.0, &kind.tag(), &name.as_str()],
    )
    .await?;
    row.as_ref().map(deleted_row).transpose()
}

pub(super) async fn list_deleted<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    page: &PageRequest,
) -> Result<Page<DeletedRow>, StoreError> {
    let after = page.after.as_deref().unwrap_or("");
    let limit = page.limit.max(1);
    let rows = query(
        client,
        LIST_DELETED,
        &[&vault.0, &kind.tag(), &after, &(to_i64(limit) + 1)],
    )
    .await?;
    let items = rows
        .iter()
        .map(deleted_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(into_page(items, limit, |last| {
        last.current.name.as_str().to_owned()
    }))
}

// ---- writes (each in the caller's transaction, under the name's lock) ----

/// Takes the advisory lock of `name` in `vault` for the rest of the transaction (all kinds).
pub(super) async fn lock_name(
    tx: &Transaction<'_>,
    vault: VaultId,
    name: &ObjectName,
) -> Result<(), StoreError> {
    let key = locks::name_key(vault.0, name.as_str());
    query(tx, locks::LOCK_NAME, &[&key]).await?;
    Ok(())
}

pub(super) async fn put_version(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    new: &NewVersion,
) -> Result<VersionRow, StoreError> {
    lock_name(tx, vault, &new.name).await?;
    put_locked_version(tx, vault, kind, new).await
}

/// `put_version` once the name is locked.
async fn put_locked_version(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    new: &NewVersion,
) -> Result<VersionRow, StoreError> {
    // A certificate owns the key and the secret of its name (live or deleted): they are
    // written with it only (`put_certificate_versions`), never on their own.
    if kind != ObjectKind::Certificate
        && find_name(tx, vault, ObjectKind::Certificate, &new.name)
            .await?
            .is_some()
    {
        return Err(StoreError::OwnedName {
            owner: ObjectKind::Certificate,
        });
    }
    put_owned_version(tx, vault, kind, new).await
}

/// `put_version` without the ownership check: a certificate's own write.
async fn put_owned_version(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    new: &NewVersion,
) -> Result<VersionRow, StoreError> {
    let (name_id, name) = match find_name(tx, vault, kind, &new.name).await? {
        Some(found) if found.deleted => return Err(StoreError::NameDeleted),
        Some(found) => (found.id, found.name),
        None => (
            insert_name(tx, vault, kind, &new.name).await?,
            new.name.clone(),
        ),
    };
    let attributes = &new.attributes;
    execute_raw(
        tx,
        INSERT_CURRENT_VERSION,
        &[
            &name_id,
            &new.version.as_str(),
            &attributes.enabled,
            &attributes.not_before.map(UnixTime::seconds),
            &attributes.expires.map(UnixTime::seconds),
            &attributes.created.seconds(),
            &attributes.updated.seconds(),
            &encode_tags(&new.tags),
            &new.meta,
            &new.payload.as_bytes(),
        ],
    )
    .await
    .map_err(error::insert)?;
    Ok(into_row(new.clone(), name))
}

/// The certificate version, its key and secret versions, and its policy and operation
/// documents, in the caller's transaction.
pub(super) async fn put_certificate_versions(
    tx: &Transaction<'_>,
    vault: VaultId,
    versions: &CertificateVersions,
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
    if !key.iter().chain(secret).all(carries_its_name) {
        return Err(StoreError::Corrupt(
            "a certificate's key and secret must carry its name".to_owned(),
        ));
    }
    let name = &certificate.name;
    lock_name(tx, vault, name).await?;
    // A new certificate cannot take over a plain key or secret: a key or secret name that
    // exists without a certificate of that name belongs to no certificate.
    if find_name(tx, vault, ObjectKind::Certificate, name)
        .await?
        .is_none()
    {
        for owner in [ObjectKind::Key, ObjectKind::Secret] {
            if find_name(tx, vault, owner, name).await?.is_some() {
                return Err(StoreError::OwnedName { owner });
            }
        }
    }
    for (kind, version) in [(ObjectKind::Key, key), (ObjectKind::Secret, secret)] {
        if let Some(version) = version {
            put_owned_version(tx, vault, kind, version).await?;
        }
    }
    let row = if *completes {
        complete_version(tx, vault, ObjectKind::Certificate, certificate).await?
    } else {
        put_locked_version(tx, vault, ObjectKind::Certificate, certificate).await?
    };
    for (slot, document) in [
        (Slot::Policy, policy),
        (Slot::CertificateOperation, operation),
    ] {
        if let Some(document) = document {
            documents::put_locked(tx, slot, vault, ObjectKind::Certificate, name, document).await?;
        }
    }
    Ok(row)
}

/// Replaces an existing version of a live name in place (all but its id and position) and
/// makes it current; `NotFound` if the name is not live or has no such version.
async fn complete_version(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    new: &NewVersion,
) -> Result<VersionRow, StoreError> {
    let found = query_opt(
        tx,
        LIVE_VERSION,
        &[
            &vault.0,
            &kind.tag(),
            &new.name.as_str(),
            &new.version.as_str(),
        ],
    )
    .await?;
    let Some(found) = found else {
        return Err(StoreError::NotFound);
    };
    let existing = version_row(&found)?;
    let seq: i64 = get(&found, EXTRA)?;
    let attributes = &new.attributes;
    execute(
        tx,
        "UPDATE object_versions SET enabled = $2, not_before = $3, expires = $4, created = $5, \
         updated = $6, tags = $7, meta = $8, payload = $9 WHERE seq = $1",
        &[
            &seq,
            &attributes.enabled,
            &attributes.not_before.map(UnixTime::seconds),
            &attributes.expires.map(UnixTime::seconds),
            &attributes.created.seconds(),
            &attributes.updated.seconds(),
            &encode_tags(&new.tags),
            &new.meta,
            &new.payload.as_bytes(),
        ],
    )
    .await?;
    execute(
        tx,
        "UPDATE object_names SET current_version = $1 \
         WHERE id = (SELECT name_id FROM object_versions WHERE seq = $1)",
        &[&seq],
    )
    .await?;
    Ok(into_row(new.clone(), existing.name))
}

/// A certificate, its key and secret, and its policy from a backup, in the caller's
/// transaction.
pub(super) async fn restore_certificate(
    tx: &Transaction<'_>,
    vault: VaultId,
    backup: &CertificateRestore,
) -> Result<VersionRow, StoreError> {
    let CertificateRestore {
        name,
        certificate,
        key,
        secret,
        policy,
    } = backup;
    lock_name(tx, vault, name).await?;
    restore_locked(tx, vault, ObjectKind::Key, name, key).await?;
    if !secret.is_empty() {
        restore_locked(tx, vault, ObjectKind::Secret, name, secret).await?;
    }
    let row = restore_locked(tx, vault, ObjectKind::Certificate, name, certificate).await?;
    if let Some(policy) = policy {
        documents::put_locked(
            tx,
            Slot::Policy,
            vault,
            ObjectKind::Certificate,
            name,
            policy,
        )
        .await?;
    }
    Ok(row)
}

/// The other kinds a lifecycle change of `kind` moves with it: a certificate takes the key
/// and the secret of its name.
fn linked_kinds(kind: ObjectKind) -> &'static [ObjectKind] {
    match kind {
        ObjectKind::Certificate => &[ObjectKind::Key, ObjectKind::Secret],
        ObjectKind::Secret | ObjectKind::Key => &[],
    }
}

pub(super) async fn update_version(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    version: &Version,
    update: &VersionUpdate,
) -> Result<Option<VersionRow>, StoreError> {
    // Under the name's lock, so two updates of one version (say, one of the tags, one of
    // `enabled`) apply one after the other instead of the second overwriting the first.
    lock_name(tx, vault, name).await?;
    let found = query_opt(
        tx,
        LIVE_VERSION,
        &[&vault.0, &kind.tag(), &name.as_str(), &version.as_str()],
    )
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let mut row = version_row(&found)?;
    let seq: i64 = get(&found, EXTRA)?;
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
    if let Some(tags) = &update.tags {
        row.tags.clone_from(tags);
    }
    if let Some(meta) = &update.meta {
        row.meta = meta.as_slice().into();
    }
    execute(
        tx,
        "UPDATE object_versions SET enabled = $2, not_before = $3, expires = $4, updated = $5, \
         tags = $6, meta = $7 WHERE seq = $1",
        &[
            &seq,
            &row.attributes.enabled,
            &row.attributes.not_before.map(UnixTime::seconds),
            &row.attributes.expires.map(UnixTime::seconds),
            &row.attributes.updated.seconds(),
            &encode_tags(&row.tags),
            &&*row.meta,
        ],
    )
    .await?;
    Ok(Some(row))
}

pub(super) async fn soft_delete(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    deletion: Deletion,
) -> Result<Option<DeletedRow>, StoreError> {
    const SQL: &str = "UPDATE object_names SET deleted_date = $4, scheduled_purge_date = $5 \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3) \
         AND deleted_date IS NULL";
    lock_name(tx, vault, name).await?;
    let dates = (
        deletion.deleted_date.seconds(),
        deletion.scheduled_purge_date.seconds(),
    );
    let n_changed = execute(
        tx,
        SQL,
        &[&vault.0, &kind.tag(), &name.as_str(), &dates.0, &dates.1],
    )
    .await?;
    if n_changed == 0 {
        return Ok(None);
    }
    for linked in linked_kinds(kind) {
        execute(
            tx,
            SQL,
            &[&vault.0, &linked.tag(), &name.as_str(), &dates.0, &dates.1],
        )
        .await?;
    }
    get_deleted(tx, vault, kind, name).await
}

pub(super) async fn recover(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<VersionRow>, StoreError> {
    const SQL: &str = "UPDATE object_names SET deleted_date = NULL, scheduled_purge_date = NULL \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3) \
         AND deleted_date IS NOT NULL";
    lock_name(tx, vault, name).await?;
    if execute(tx, SQL, &[&vault.0, &kind.tag(), &name.as_str()]).await? == 0 {
        return Ok(None);
    }
    for linked in linked_kinds(kind) {
        execute(tx, SQL, &[&vault.0, &linked.tag(), &name.as_str()]).await?;
    }
    get_version(tx, vault, kind, name, None).await
}

/// Deletes a deleted name; its versions and documents go with it (foreign key cascade).
pub(super) async fn purge(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<bool, StoreError> {
    const SQL: &str = "DELETE FROM object_names \
         WHERE vault_id = $1 AND kind = $2 AND lower(name) = lower($3) \
         AND deleted_date IS NOT NULL";
    lock_name(tx, vault, name).await?;
    if execute(tx, SQL, &[&vault.0, &kind.tag(), &name.as_str()]).await? == 0 {
        return Ok(false);
    }
    for linked in linked_kinds(kind) {
        execute(tx, SQL, &[&vault.0, &linked.tag(), &name.as_str()]).await?;
    }
    Ok(true)
}

/// Purges every deleted name due at `now`, and the claims expired then. One statement per
/// table: a name recovered meanwhile is re-checked by PostgreSQL against the condition when its
/// row lock is released, and skipped.
pub(super) async fn purge_expired(tx: &Transaction<'_>, now: UnixTime) -> Result<u64, StoreError> {
    execute(
        tx,
        "DELETE FROM claims WHERE expires <= $1",
        &[&now.seconds()],
    )
    .await?;
    execute(
        tx,
        "DELETE FROM object_names WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1",
        &[&now.seconds()],
    )
    .await
}

pub(super) async fn restore(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    versions: &[NewVersion],
) -> Result<VersionRow, StoreError> {
    lock_name(tx, vault, name).await?;
    restore_locked(tx, vault, kind, name, versions).await
}

async fn restore_locked(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
    versions: &[NewVersion],
) -> Result<VersionRow, StoreError> {
    let last = crate::rows::restored_versions_check(name, versions)?;
    if find_name(tx, vault, kind, name).await?.is_some() {
        return Err(StoreError::AlreadyExists);
    }
    let name_id = insert_name(tx, vault, kind, name).await?;
    let mut last_seq: i64 = 0;
    for new in versions {
        let attributes = &new.attributes;
        let row = tx.prepare_cached(INSERT_VERSION).await.map_err(error::db)?;
        last_seq = tx
            .query_one(
                &row,
                &[
                    &name_id,
                    &new.version.as_str(),
                    &attributes.enabled,
                    &attributes.not_before.map(UnixTime::seconds),
                    &attributes.expires.map(UnixTime::seconds),
                    &attributes.created.seconds(),
                    &attributes.updated.seconds(),
                    &encode_tags(&new.tags),
                    &new.meta,
                    &new.payload.as_bytes(),
                ],
            )
            .await
            .map_err(error::insert)?
            .try_get(0)
            .map_err(error::db)?;
    }
    execute(tx, SET_CURRENT, &[&name_id, &last_seq]).await?;
    Ok(into_row(last.clone(), name.clone()))
}

// ---- helpers ----

struct FoundName {
    id: i64,
    name: ObjectName,
    deleted: bool,
}

async fn find_name<C: GenericClient>(
    client: &C,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<Option<FoundName>, StoreError> {
    let Some(row) = query_opt(client, FIND_NAME, &[&vault.0, &kind.tag(), &name.as_str()]).await?
    else {
        return Ok(None);
    };
    let stored: &str = get(&row, 1)?;
    Ok(Some(FoundName {
        id: get(&row, 0)?,
        // Keep the spelling the name was first written with.
        name: if stored == name.as_str() {
            name.clone()
        } else {
            object_name(stored)?
        },
        deleted: get(&row, 2)?,
    }))
}

async fn insert_name(
    tx: &Transaction<'_>,
    vault: VaultId,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<i64, StoreError> {
    let statement = tx.prepare_cached(INSERT_NAME).await.map_err(error::db)?;
    tx.query_one(&statement, &[&vault.0, &kind.tag(), &name.as_str()])
        .await
        .map_err(error::insert)?
        .try_get(0)
        .map_err(error::db)
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

/// Keeps `limit` items; if there was one more, the cursor points after the last kept one.
fn into_page<T>(mut items: Vec<T>, limit: usize, cursor: impl FnOnce(&T) -> String) -> Page<T> {
    if items.len() <= limit {
        return Page { items, next: None };
    }
    items.truncate(limit);
    let next = items.last().map(cursor);
    Page { items, next }
}

fn version_row(row: &Row) -> Result<VersionRow, StoreError> {
    Ok(VersionRow {
        name: object_name(get(row, 0)?)?,
        version: Version::parse(get(row, 1)?)
            .map_err(|err| StoreError::Corrupt(format!("stored version: {err}")))?,
        attributes: VersionAttributes {
            enabled: get(row, 2)?,
            not_before: get::<Option<i64>>(row, 3)?.map(UnixTime),
            expires: get::<Option<i64>>(row, 4)?.map(UnixTime),
            created: UnixTime(get(row, 5)?),
            updated: UnixTime(get(row, 6)?),
        },
        tags: decode_tags(get(row, 7)?)?,
        meta: get::<&[u8]>(row, 8)?.into(),
        payload: Sealed::from(get::<Vec<u8>>(row, 9)?),
    })
}

fn deleted_row(row: &Row) -> Result<DeletedRow, StoreError> {
    DeletedRow::from_stored(
        version_row(row)?,
        get::<Option<i64>>(row, EXTRA)?,
        get::<Option<i64>>(row, EXTRA + 1)?,
    )
}
