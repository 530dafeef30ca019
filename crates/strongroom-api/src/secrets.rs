//! Dispatch arms of the secrets operations: narrow the grant to the type the service asks
//! for, call `strongroom_vault::secrets`, convert domain values to wire DTOs by hand.

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::operation::{Operation, VersionRef};
use crate::query::{DataPlaneQuery, next_link};
use crate::wire::{BackupBlob, SecretAttributes, SecretBundle, SecretItem, SecretListResult};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use strongroom_authz::{Any, Grant, perm};
use strongroom_model::{ObjectKind, ObjectName, UnixTime, Version};
use strongroom_store::{Page, PageRequest};
use strongroom_vault::secrets::{self, DeletedSecret, SecretProperties, SetSecret, UpdateSecret};
use strongroom_vault::{Vault, VaultCtx, VaultError};

/// Everything one data-plane request carries besides the operation.
pub(crate) struct SecretRequest<'a> {
    pub ctx: &'a VaultCtx,
    pub vault: &'a Vault,
    /// `https://{host}` exactly as the client addressed the vault; ids are built from it.
    pub origin: &'a str,
    pub query: &'a DataPlaneQuery,
    pub api_version: &'a str,
    pub body: Bytes,
}

fn narrow<P: strongroom_authz::PermissionType>(grant: Grant<Any>) -> Result<Grant<P>, ApiError> {
    grant.narrow::<P>().map_err(ApiError::internal)
}

pub(crate) async fn dispatch(
    req: SecretRequest<'_>,
    grant: Grant<Any>,
    op: Operation,
) -> Result<Response, ApiError> {
    let SecretRequest {
        ctx, vault, origin, ..
    } = req;
    match op {
        Operation::SetSecret { name } => {
            let params: crate::wire::SecretSetParameters = parse_json(&req.body)?;
            let value = params.value.ok_or_else(|| {
                ApiError::BadParameter("Property value has invalid value\r\n".to_owned())
            })?;
            let attributes = params.attributes.unwrap_or_default();
            let set = SetSecret {
                value,
                content_type: params.content_type,
                tags: params.tags,
                enabled: attributes.enabled,
                not_before: attributes.nbf.map(UnixTime),
                expires: attributes.exp.map(UnixTime),
            };
            let secret =
                secrets::set(ctx, vault, &narrow::<perm::SecretSet>(grant)?, &name, set).await?;
            let mut bundle = bundle(origin, vault, &secret.properties);
            bundle.value = Some(secret.value);
            Ok(json_response(StatusCode::OK, &bundle))
        }
        Operation::GetSecret { name, version } => {
            let version = resolve_version(&name, version)?;
            let secret = secrets::get(
                ctx,
                vault,
                &narrow::<perm::SecretGet>(grant)?,
                &name,
                version.as_ref(),
            )
            .await?;
            let mut bundle = bundle(origin, vault, &secret.properties);
            bundle.value = Some(secret.value);
            Ok(json_response(StatusCode::OK, &bundle))
        }
        Operation::UpdateSecret { name, version } => {
            let version = resolve_version(&name, version)?;
            let params: crate::wire::SecretUpdateParameters = parse_json(&req.body)?;
            let attributes = params.attributes.unwrap_or_default();
            let update = UpdateSecret {
                content_type: params.content_type,
                tags: params.tags,
                enabled: attributes.enabled,
                not_before: attributes.nbf.map(UnixTime),
                expires: attributes.exp.map(UnixTime),
            };
            let properties = secrets::update(
                ctx,
                vault,
                &narrow::<perm::SecretSet>(grant)?,
                &name,
                version.as_ref(),
                update,
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &bundle(origin, vault, &properties),
            ))
        }
        Operation::GetSecrets => {
            let page = page_request(req.query)?;
            let page = secrets::list(ctx, vault, &narrow::<perm::SecretList>(grant)?, page).await?;
            Ok(list_response(&req, "/secrets", page, |p| {
                item(origin, vault, p, false)
            }))
        }
        Operation::GetSecretVersions { name } => {
            let page = page_request(req.query)?;
            let path = format!("/secrets/{name}/versions");
            let page = secrets::list_versions(
                ctx,
                vault,
                &narrow::<perm::SecretList>(grant)?,
                &name,
                page,
            )
            .await?;
            Ok(list_response(&req, &path, page, |p| {
                item(origin, vault, p, true)
            }))
        }
        Operation::DeleteSecret { name } => {
            let deleted =
                secrets::delete(ctx, vault, &narrow::<perm::SecretDelete>(grant)?, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::GetDeletedSecrets => {
            let page = page_request(req.query)?;
            let page = secrets::list_deleted(ctx, vault, &narrow::<perm::SecretList>(grant)?, page)
                .await?;
            Ok(list_response(&req, "/deletedsecrets", page, |d| {
                deleted_item(origin, vault, d)
            }))
        }
        Operation::GetDeletedSecret { name } => {
            let deleted =
                secrets::get_deleted(ctx, vault, &narrow::<perm::SecretList>(grant)?, &name)
                    .await?;
            Ok(json_response(
                StatusCode::OK,
                &deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::PurgeDeletedSecret { name } => {
            secrets::purge(ctx, vault, &narrow::<perm::SecretPurge>(grant)?, &name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Operation::RecoverDeletedSecret { name } => {
            let properties =
                match secrets::recover(ctx, vault, &narrow::<perm::SecretRecover>(grant)?, &name)
                    .await
                {
                    // AZURE-ERRORS.md 4.9: recovering a name that is not deleted answers
                    // with the active-object wording.
                    Err(VaultError::DeletedNotFound { kind, name }) => {
                        return Err(VaultError::NotFound {
                            kind,
                            name,
                            version: None,
                        }
                        .into());
                    }
                    other => other?,
                };
            Ok(json_response(
                StatusCode::OK,
                &bundle(origin, vault, &properties),
            ))
        }
        Operation::BackupSecret { name } => {
            let blob =
                secrets::backup(ctx, vault, &narrow::<perm::SecretBackup>(grant)?, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &BackupBlob {
                    value: Some(URL_SAFE_NO_PAD.encode(blob)),
                },
            ))
        }
        Operation::RestoreSecret => {
            let params: BackupBlob = parse_json(&req.body)?;
            let blob = params
                .value
                .as_deref()
                .and_then(decode_blob)
                .ok_or(ApiError::MalformedBackup)?;
            let grant = narrow::<perm::SecretRestore>(grant)?;
            match secrets::restore(ctx, vault, &grant, &blob).await {
                Ok(properties) => Ok(json_response(
                    StatusCode::OK,
                    &bundle(origin, vault, &properties),
                )),
                Err(VaultError::RestoreConflict { name, version, .. }) => {
                    Err(restore_conflict(origin, &name, &version))
                }
                Err(err) => Err(err.into()),
            }
        }
    }
}

/// AZURE-ERRORS.md 5.7: the id in the message is the full versioned id from the backup.
fn restore_conflict(origin: &str, name: &ObjectName, version: &Version) -> ApiError {
    let id = format!("{origin}/secrets/{name}/{version}");
    ApiError::Conflict {
        message: format!(
            "There was a conflict restoring the secret '{id}'. This can happen if either: a second secret with the same name was created after the first secret was deleted; thus trying to restore a secret whose name is already in use. To fix this, rename the second secret to something else so that the restore works. The second probable cause of this exception is when multiple operations are performed in parallel against the secret. To avoid this error, perform operations against a secret in a sequential manner."
        ),
        inner: None,
    }
}

fn decode_blob(raw: &str) -> Option<Vec<u8>> {
    let trimmed = raw.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| STANDARD.decode(raw).ok())
}

/// A malformed version segment can name no version: Azure's not-found names `name/version`.
fn resolve_version(
    name: &ObjectName,
    version: Option<VersionRef>,
) -> Result<Option<Version>, ApiError> {
    match version {
        None => Ok(None),
        Some(VersionRef::Valid(version)) => Ok(Some(version)),
        Some(VersionRef::Unknown(raw)) => Err(ApiError::NotFound {
            code: "SecretNotFound",
            message: crate::error::not_found_message(ObjectKind::Secret, &format!("{name}/{raw}")),
        }),
    }
}

fn page_request(query: &DataPlaneQuery) -> Result<PageRequest, ApiError> {
    Ok(PageRequest {
        after: query.cursor()?,
        limit: query.max_results()?,
    })
}

fn list_response<T>(
    req: &SecretRequest<'_>,
    path: &str,
    page: Page<T>,
    to_item: impl Fn(&T) -> SecretItem,
) -> Response {
    let max_results = req
        .query
        .max_results
        .as_deref()
        .filter(|raw| !raw.is_empty());
    let result = SecretListResult {
        value: page.items.iter().map(to_item).collect(),
        next_link: page
            .next
            .map(|cursor| next_link(req.origin, path, req.api_version, max_results, &cursor)),
    };
    json_response(StatusCode::OK, &result)
}

fn attributes(vault: &Vault, props: &SecretProperties) -> SecretAttributes {
    let a = &props.attributes;
    SecretAttributes {
        enabled: Some(a.enabled),
        nbf: a.not_before.map(UnixTime::seconds),
        exp: a.expires.map(UnixTime::seconds),
        created: Some(a.created.seconds()),
        updated: Some(a.updated.seconds()),
        recoverable_days: Some(vault.retention_days),
        recovery_level: Some(vault.recovery_level().to_owned()),
    }
}

fn tags(props: &SecretProperties) -> Option<std::collections::BTreeMap<String, String>> {
    (!props.tags.is_empty()).then(|| props.tags.clone())
}

fn bundle(origin: &str, vault: &Vault, props: &SecretProperties) -> SecretBundle {
    SecretBundle {
        value: None,
        id: Some(format!("{origin}/secrets/{}/{}", props.name, props.version)),
        content_type: props.content_type.clone(),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        kid: props.key_id.clone(),
        managed: props.managed.then_some(true),
        ..SecretBundle::default()
    }
}

fn deleted_bundle(origin: &str, vault: &Vault, deleted: &DeletedSecret) -> SecretBundle {
    SecretBundle {
        recovery_id: Some(format!(
            "{origin}/deletedsecrets/{}",
            deleted.properties.name
        )),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..bundle(origin, vault, &deleted.properties)
    }
}

fn item(origin: &str, vault: &Vault, props: &SecretProperties, with_version: bool) -> SecretItem {
    let id = if with_version {
        format!("{origin}/secrets/{}/{}", props.name, props.version)
    } else {
        format!("{origin}/secrets/{}", props.name)
    };
    SecretItem {
        id: Some(id),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        content_type: props.content_type.clone(),
        managed: props.managed.then_some(true),
        ..SecretItem::default()
    }
}

fn deleted_item(origin: &str, vault: &Vault, deleted: &DeletedSecret) -> SecretItem {
    SecretItem {
        recovery_id: Some(format!(
            "{origin}/deletedsecrets/{}",
            deleted.properties.name
        )),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..item(origin, vault, &deleted.properties, false)
    }
}
