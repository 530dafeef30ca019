//! Dispatch arms of the secrets operations: narrow the grant to the type the service asks
//! for, call `strongroom_vault::secrets`, convert domain values to wire DTOs by hand.

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::objects::{
    DataRequest, backup_response, list_response, narrow, object_id, page_request, recover_error,
    restore_blob, restore_error,
};
use crate::operation::{Operation, VersionRef};
use crate::wire::{SecretAttributes, SecretBundle, SecretItem};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use strongroom_authz::{Any, Grant, perm};
use strongroom_model::{ObjectKind, ObjectName, UnixTime, Version};
use strongroom_vault::Vault;
use strongroom_vault::secrets::{self, DeletedSecret, SecretProperties, SetSecret, UpdateSecret};

const KIND: ObjectKind = ObjectKind::Secret;

pub(crate) async fn dispatch(
    req: DataRequest<'_>,
    grant: Grant<Any>,
    op: Operation,
) -> Result<Response, ApiError> {
    let DataRequest {
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
                secrets::recover(ctx, vault, &narrow::<perm::SecretRecover>(grant)?, &name)
                    .await
                    .map_err(recover_error)?;
            Ok(json_response(
                StatusCode::OK,
                &bundle(origin, vault, &properties),
            ))
        }
        Operation::BackupSecret { name } => {
            let blob =
                secrets::backup(ctx, vault, &narrow::<perm::SecretBackup>(grant)?, &name).await?;
            Ok(backup_response(&blob))
        }
        Operation::RestoreSecret => {
            let blob = restore_blob(&req.body)?;
            let grant = narrow::<perm::SecretRestore>(grant)?;
            let properties = secrets::restore(ctx, vault, &grant, &blob)
                .await
                .map_err(|err| restore_error(origin, err))?;
            Ok(json_response(
                StatusCode::OK,
                &bundle(origin, vault, &properties),
            ))
        }
        other => Err(ApiError::internal(std::io::Error::other(format!(
            "{} is not a secret operation",
            other.operation_id()
        )))),
    }
}

/// A malformed version segment can name no version: Azure's not-found names `name/version`.
fn resolve_version(
    name: &ObjectName,
    version: Option<VersionRef>,
) -> Result<Option<Version>, ApiError> {
    crate::objects::resolve_version(KIND, name, version)
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
        recovery_level: Some(Cow::Borrowed(vault.recovery_level())),
    }
}

fn tags(props: &SecretProperties) -> Option<std::collections::BTreeMap<String, String>> {
    (!props.tags.is_empty()).then(|| props.tags.clone())
}

fn bundle(origin: &str, vault: &Vault, props: &SecretProperties) -> SecretBundle {
    SecretBundle {
        value: None,
        id: Some(object_id(
            origin,
            "secrets",
            props.name.as_str(),
            Some(props.version.as_str()),
        )),
        content_type: props.content_type.clone(),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        // A certificate's secret is backed by the key of its name and version.
        kid: props.managed.then(|| {
            object_id(
                origin,
                "keys",
                props.name.as_str(),
                Some(props.version.as_str()),
            )
        }),
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
    let version = with_version.then_some(props.version.as_str());
    let id = object_id(origin, "secrets", props.name.as_str(), version);
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
