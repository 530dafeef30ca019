//! The life every versioned object shares, whatever its kind: versions of a name, soft
//! delete, recover, purge, listing, restore, and the limits on tags and dates.
//!
//! Kind modules (`secrets`, `keys`) hold the typed grants and their kind's rules and call
//! these functions with their `ObjectKind`; a store error becomes the kind-aware domain error
//! here, once. Nothing in this module opens a payload.

use crate::{Page, PageRequest, Vault, VaultCtx, VaultError};
use std::collections::BTreeMap;
use strongroom_crypto::Aad;
use strongroom_model::{ObjectKind, ObjectName, UnixTime, VaultName, Version};
use strongroom_store::{DeletedRow, Deletion, NewVersion, StoreError, VersionRow};

/// Azure's limit on tags per object.
pub const MAX_TAGS: usize = 15;
/// Azure's limit on a tag name, in characters.
pub const MAX_TAG_NAME_CHARS: usize = 512;
/// Azure's limit on a tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// Where a certificate's key or secret version goes, and what it shares with the certificate
/// version: the vault and its data key, name, version id, attributes and tags.
pub(crate) struct ManagedSlot<'a> {
    pub(crate) data_key: &'a strongroom_crypto::DataKey,
    pub(crate) vault: &'a Vault,
    pub(crate) name: &'a ObjectName,
    pub(crate) version: &'a Version,
    pub(crate) attributes: strongroom_store::VersionAttributes,
    pub(crate) tags: BTreeMap<String, String>,
}

/// Decodes whether a stored version backs a certificate (each kind reads its own `meta`).
pub(crate) type IsManaged = fn(&VersionRow) -> Result<bool, VaultError>;

/// Refuses a direct change to a key or secret that backs a certificate: only the
/// certificate's own operations write, delete, recover, purge or back it up.
pub(crate) fn refuse_managed(
    row: &VersionRow,
    kind: ObjectKind,
    is_managed: IsManaged,
    operation: &'static str,
) -> Result<(), VaultError> {
    if is_managed(row)? {
        return Err(VaultError::Managed { kind, operation });
    }
    Ok(())
}

/// `refuse_managed` for the current version of a live name, if there is one.
pub(crate) async fn refuse_managed_current(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
    is_managed: IsManaged,
    operation: &'static str,
) -> Result<(), VaultError> {
    match ctx.store().get_version(vault.id, kind, name, None).await? {
        Some(row) => refuse_managed(&row, kind, is_managed, operation),
        None => Ok(()),
    }
}

/// `refuse_managed` for a soft-deleted name, if it is one.
pub(crate) async fn refuse_managed_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
    is_managed: IsManaged,
    operation: &'static str,
) -> Result<(), VaultError> {
    match ctx.store().get_deleted(vault.id, kind, name).await? {
        Some(deleted) => refuse_managed(&deleted.current, kind, is_managed, operation),
        None => Ok(()),
    }
}

/// Writes a new current version. A soft-deleted name is `DeletedButRecoverable`; a key or
/// secret that a certificate owns is refused as `Managed` (the store checks that inside the
/// write, so no certificate can appear between a check and the write).
pub(crate) async fn put_version(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    new: NewVersion,
    operation: &'static str,
) -> Result<VersionRow, VaultError> {
    let name = new.name.clone();
    ctx.store()
        .put_version(vault.id, kind, new)
        .await
        .map_err(|err| match err {
            StoreError::NameDeleted => VaultError::DeletedButRecoverable { kind, name },
            StoreError::OwnedName { .. } => VaultError::Managed { kind, operation },
            other => VaultError::Store(other),
        })
}

/// A version of a live name (the current one when `version` is `None`), or `NotFound`.
pub(crate) async fn get_row(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<VersionRow, VaultError> {
    ctx.store()
        .get_version(vault.id, kind, name, version)
        .await?
        .ok_or_else(|| not_found(kind, name, version))
}

/// The current version of every live name of `kind`, by name.
pub(crate) async fn list<T>(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    page: PageRequest,
    convert: impl Fn(VersionRow) -> Result<T, VaultError>,
) -> Result<Page<T>, VaultError> {
    let rows = ctx
        .store()
        .list_current(vault.id, kind, page)
        .await
        .map_err(cursor_error)?;
    map_page(rows, convert)
}

/// Every version of one live name, oldest first. A missing name gives an empty page, not an
/// error (Azure answers 200 with an empty list, AZURE-ERRORS.md §4.11).
pub(crate) async fn list_versions<T>(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
    page: PageRequest,
    convert: impl Fn(VersionRow) -> Result<T, VaultError>,
) -> Result<Page<T>, VaultError> {
    let rows = ctx
        .store()
        .list_versions(vault.id, kind, name, page)
        .await
        .map_err(cursor_error)?;
    map_page(rows, convert)
}

/// Soft-deletes a name with all its versions; it is purged `retention_days` from now.
pub(crate) async fn delete(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<DeletedRow, VaultError> {
    let now = ctx.now();
    let deletion = Deletion {
        deleted_date: now,
        scheduled_purge_date: now.plus_days(vault.retention_days),
    };
    ctx.store()
        .soft_delete(vault.id, kind, name, deletion)
        .await?
        .ok_or_else(|| not_found(kind, name, None))
}

/// Soft-deleted names of `kind`, by name.
pub(crate) async fn list_deleted<T>(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    page: PageRequest,
    convert: impl Fn(DeletedRow) -> Result<T, VaultError>,
) -> Result<Page<T>, VaultError> {
    let rows = ctx
        .store()
        .list_deleted(vault.id, kind, page)
        .await
        .map_err(cursor_error)?;
    map_page(rows, convert)
}

/// One soft-deleted name, or `DeletedNotFound`.
pub(crate) async fn get_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<DeletedRow, VaultError> {
    ctx.store()
        .get_deleted(vault.id, kind, name)
        .await?
        .ok_or_else(|| deleted_not_found(kind, name))
}

/// Removes a soft-deleted name for good. Live or absent names: `DeletedNotFound`.
pub(crate) async fn purge(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<(), VaultError> {
    if ctx.store().purge(vault.id, kind, name).await? {
        Ok(())
    } else {
        Err(deleted_not_found(kind, name))
    }
}

/// Makes a soft-deleted name live again; returns its current version.
pub(crate) async fn recover(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
) -> Result<VersionRow, VaultError> {
    ctx.store()
        .recover(vault.id, kind, name)
        .await?
        .ok_or_else(|| deleted_not_found(kind, name))
}

/// Writes every version of a backup, the last one current. The name must be free.
pub(crate) async fn restore(
    ctx: &VaultCtx,
    vault: &Vault,
    kind: ObjectKind,
    name: &ObjectName,
    versions: Vec<NewVersion>,
) -> Result<VersionRow, VaultError> {
    let current_version = versions
        .last()
        .map(|version| version.version.clone())
        .ok_or(VaultError::MalformedBackup)?;
    ctx.store()
        .restore(vault.id, kind, name, versions)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists | StoreError::NameDeleted => VaultError::RestoreConflict {
                kind,
                name: name.clone(),
                version: current_version,
            },
            other => VaultError::Store(other),
        })
}

/// Names are case-insensitive, so a payload is bound to the lower-cased name: it opens
/// whichever casing the caller (or the store) uses.
pub(crate) fn payload_aad(
    vault_name: &VaultName,
    kind: ObjectKind,
    name: &ObjectName,
    version: &Version,
) -> Aad {
    Aad::object(vault_name.as_str(), kind, &name.folded(), version.as_str())
}

pub(crate) fn not_found(
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<&Version>,
) -> VaultError {
    VaultError::NotFound {
        kind,
        name: name.clone(),
        version: version.cloned(),
    }
}

pub(crate) fn deleted_not_found(kind: ObjectKind, name: &ObjectName) -> VaultError {
    VaultError::DeletedNotFound {
        kind,
        name: name.clone(),
    }
}

/// A cursor the store did not produce came from the client (an edited `$skiptoken`).
fn cursor_error(err: StoreError) -> VaultError {
    match err {
        StoreError::InvalidCursor => {
            VaultError::InvalidParameter("the paging cursor is not valid".to_owned())
        }
        other => VaultError::Store(other),
    }
}

pub(crate) fn map_page<T, U>(
    page: Page<T>,
    convert: impl Fn(T) -> Result<U, VaultError>,
) -> Result<Page<U>, VaultError> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(convert)
            .collect::<Result<_, _>>()?,
        next: page.next,
    })
}

pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), VaultError> {
    if tags.len() > MAX_TAGS {
        return Err(VaultError::InvalidParameter(format!(
            "at most {MAX_TAGS} tags are allowed, got {}",
            tags.len()
        )));
    }
    for (tag_name, tag_value) in tags {
        if tag_name.chars().count() > MAX_TAG_NAME_CHARS {
            return Err(VaultError::InvalidParameter(format!(
                "tag names may be at most {MAX_TAG_NAME_CHARS} characters long"
            )));
        }
        if tag_value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(VaultError::InvalidParameter(format!(
                "tag values may be at most {MAX_TAG_VALUE_CHARS} characters long"
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_dates(
    not_before: Option<UnixTime>,
    expires: Option<UnixTime>,
) -> Result<(), VaultError> {
    match (not_before, expires) {
        (Some(not_before), Some(expires)) if not_before > expires => {
            Err(VaultError::InvalidParameter(
                "the not-before date is later than the expiry date".into(),
            ))
        }
        _ => Ok(()),
    }
}
