//! What the per-kind dispatchers (`secrets.rs`, `keys.rs`, `key_ops.rs`) share: the request
//! context, narrowing a grant, paging requests and list responses, version segments,
//! backup blobs and the restore-conflict message.

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::operation::VersionRef;
use crate::query::{DataPlaneQuery, next_link};
use crate::wire::BackupBlob;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde::Serialize;
use strongroom_authz::{Any, Grant};
use strongroom_model::{ObjectKind, ObjectName, Version};
use strongroom_store::{Page, PageRequest};
use strongroom_vault::{Vault, VaultCtx, VaultError};

/// Everything one data-plane request carries besides the operation.
pub(crate) struct DataRequest<'a> {
    pub ctx: &'a VaultCtx,
    pub vault: &'a Vault,
    /// `https://{host}` exactly as the client addressed the vault; ids are built from it.
    pub origin: &'a str,
    pub query: &'a DataPlaneQuery<'a>,
    pub api_version: &'a str,
    pub body: Bytes,
}

/// Turns the checked grant into the typed proof the service function asks for.
pub(crate) fn narrow<P: strongroom_authz::PermissionType>(
    grant: Grant<Any>,
) -> Result<Grant<P>, ApiError> {
    grant.narrow::<P>().map_err(ApiError::internal)
}

/// A malformed version segment can name no version: Azure's not-found names `name/version`.
pub(crate) fn resolve_version(
    kind: ObjectKind,
    name: &ObjectName,
    version: Option<VersionRef>,
) -> Result<Option<Version>, ApiError> {
    match version {
        None => Ok(None),
        Some(VersionRef::Valid(version)) => Ok(Some(version)),
        Some(VersionRef::Unknown(raw)) => Err(ApiError::NotFound {
            code: crate::error::not_found_code(kind),
            message: crate::error::not_found_message(kind, &format!("{name}/{raw}")),
        }),
    }
}

pub(crate) fn page_request(query: &DataPlaneQuery<'_>) -> Result<PageRequest, ApiError> {
    Ok(PageRequest {
        after: query.cursor()?,
        limit: query.max_results()?,
    })
}

/// `{"value":[...],"nextLink":...}` with an absolute `nextLink` (`null` on the last page).
pub(crate) fn list_response<T, I: Serialize>(
    req: &DataRequest<'_>,
    path: &str,
    page: Page<T>,
    to_item: impl Fn(&T) -> I,
) -> Response {
    list_response_with(req, path, None, page, to_item)
}

/// `list_response` whose `nextLink` also carries `extra` (`name=value`, already encoded), a
/// filter the next page must apply too (`includePending=true`).
pub(crate) fn list_response_with<T, I: Serialize>(
    req: &DataRequest<'_>,
    path: &str,
    extra: Option<&str>,
    page: Page<T>,
    to_item: impl Fn(&T) -> I,
) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ListResult<I> {
        value: Vec<I>,
        next_link: Option<String>,
    }
    let max_results = req
        .query
        .max_results
        .as_deref()
        .filter(|raw| !raw.is_empty());
    let result = ListResult {
        value: page.items.iter().map(to_item).collect(),
        next_link: page.next.map(|cursor| {
            let mut link = next_link(req.origin, path, req.api_version, max_results, &cursor);
            if let Some(extra) = extra {
                link.push('&');
                link.push_str(extra);
            }
            link
        }),
    };
    json_response(StatusCode::OK, &result)
}

/// `BackupSecretResult` / `BackupKeyResult`: the blob as base64url.
pub(crate) fn backup_response(blob: &[u8]) -> Response {
    json_response(
        StatusCode::OK,
        &BackupBlob {
            value: Some(URL_SAFE_NO_PAD.encode(blob)),
        },
    )
}

/// The blob of a restore request body; anything that is not one is Azure's malformed-backup
/// answer (AZURE-ERRORS.md 6.13).
pub(crate) fn restore_blob(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let params: BackupBlob = parse_json(body)?;
    params
        .value
        .as_deref()
        .and_then(decode_blob)
        .ok_or(ApiError::MalformedBackup)
}

/// A failed restore: a name in use is Azure's conflict naming the backup's versioned id
/// (AZURE-ERRORS.md 5.7).
pub(crate) fn restore_error(origin: &str, err: VaultError) -> ApiError {
    match err {
        VaultError::RestoreConflict {
            kind,
            name,
            version,
        } => restore_conflict(origin, kind, &name, &version),
        other => other.into(),
    }
}

/// A failed recover: AZURE-ERRORS.md 4.9, recovering a name that is not deleted answers with
/// the active-object wording.
pub(crate) fn recover_error(err: VaultError) -> ApiError {
    match err {
        VaultError::DeletedNotFound { kind, name } => VaultError::NotFound {
            kind,
            name,
            version: None,
        }
        .into(),
        other => other.into(),
    }
}

/// A backup blob as clients send it back: base64url, padded or not, or standard base64.
pub(crate) fn decode_blob(raw: &str) -> Option<Vec<u8>> {
    let trimmed = raw.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| STANDARD.decode(raw).ok())
}

/// AZURE-ERRORS.md 5.7: the id in the message is the full versioned id from the backup.
fn restore_conflict(
    origin: &str,
    kind: ObjectKind,
    name: &ObjectName,
    version: &Version,
) -> ApiError {
    let noun = crate::error::kind_noun(kind);
    let id = format!("{origin}/{}/{name}/{version}", kind.collection());
    ApiError::Conflict {
        message: format!(
            "There was a conflict restoring the {noun} '{id}'. This can happen if either: a second {noun} with the same name was created after the first {noun} was deleted; thus trying to restore a {noun} whose name is already in use. To fix this, rename the second {noun} to something else so that the restore works. The second probable cause of this exception is when multiple operations are performed in parallel against the {noun}. To avoid this error, perform operations against a {noun} in a sequential manner."
        ),
        inner: None,
    }
}

/// `{origin}/{collection}/{name}` or `.../{name}/{version}`: an object's id in responses.
/// Sized up front: it is built for every object a response names, and `format!` grows its
/// buffer two or three times for a URL this long.
pub(crate) fn object_id(
    origin: &str,
    collection: &str,
    name: &str,
    version: Option<&str>,
) -> String {
    let version_len = version.map_or(0, |v| v.len() + 1);
    let mut id =
        String::with_capacity(origin.len() + collection.len() + name.len() + version_len + 2);
    for part in [origin, "/", collection, "/", name] {
        id.push_str(part);
    }
    if let Some(version) = version {
        id.push('/');
        id.push_str(version);
    }
    id
}
