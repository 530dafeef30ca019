//! Dispatch arms of the key lifecycle operations (create, import, get, update, list,
//! versions, delete, deleted keys, recover, purge, backup, restore, rotate, rotation
//! policy, attestation): parse the body, narrow the grant, call `strongroom_vault::keys`,
//! convert domain values to wire DTOs by hand. The cryptographic operations are in
//! `key_ops.rs`.

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::objects::{
    DataRequest, backup_response, list_response, narrow, page_request, recover_error,
    resolve_version, restore_blob, restore_error,
};
use crate::operation::Operation;
use crate::wire::{
    JsonWebKey, KeyAttributes as WireKeyAttributes, KeyBundle, KeyCreateParameters,
    KeyImportParameters, KeyItem, KeyReleasePolicy, KeyRotationPolicy, KeyRotationPolicyAttributes,
    KeyUpdateParameters, LifetimeActions, LifetimeActionsTrigger, LifetimeActionsType,
    PrivateMember,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::borrow::Cow;
use strongroom_authz::{Any, Grant, perm};
use strongroom_model::{ObjectKind, UnixTime};
use strongroom_vault::keys::rotation::{
    self, LifetimeAction, LifetimeActionType, LifetimeTrigger, RotationPolicy, RotationPolicyUpdate,
};
use strongroom_vault::keys::{
    self, CreateKey, Curve, DeletedKey, ImportKey, KeyMaterial, KeyOperation, KeyProperties,
    KeyType, PublicKey, ReleasePolicy, UpdateKey,
};
use strongroom_vault::{Vault, VaultError};
use zeroize::Zeroizing;

const KIND: ObjectKind = ObjectKind::Key;

pub(crate) async fn dispatch(
    req: DataRequest<'_>,
    grant: Grant<Any>,
    op: Operation,
) -> Result<Response, ApiError> {
    let DataRequest {
        ctx, vault, origin, ..
    } = req;
    let bundle_response =
        |props: &KeyProperties| json_response(StatusCode::OK, &bundle(origin, vault, props));
    match op {
        Operation::CreateKey { name } => {
            let params: KeyCreateParameters = parse_json(&req.body)?;
            let create = create_params(params)?;
            let props = keys::create(
                ctx,
                vault,
                &narrow::<perm::KeyCreate>(grant)?,
                &name,
                create,
            )
            .await?;
            Ok(bundle_response(&props))
        }
        Operation::ImportKey { name } => {
            let params: KeyImportParameters = parse_json(&req.body)?;
            let import = import_params(params)?;
            let props = keys::import(
                ctx,
                vault,
                &narrow::<perm::KeyImport>(grant)?,
                &name,
                import,
            )
            .await?;
            Ok(bundle_response(&props))
        }
        Operation::GetKey { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let props = keys::get(
                ctx,
                vault,
                &narrow::<perm::KeyGet>(grant)?,
                &name,
                version.as_ref(),
            )
            .await?;
            Ok(bundle_response(&props))
        }
        Operation::UpdateKey { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyUpdateParameters = parse_json(&req.body)?;
            let attributes = params.attributes.unwrap_or_default();
            let update = UpdateKey {
                key_ops: params.key_ops.as_deref().map(key_ops).transpose()?,
                enabled: attributes.enabled,
                not_before: attributes.nbf.map(UnixTime),
                expires: attributes.exp.map(UnixTime),
                exportable: attributes.exportable,
                tags: params.tags,
                release_policy: params.release_policy.map(release_policy).transpose()?,
            };
            let props = keys::update(
                ctx,
                vault,
                &narrow::<perm::KeyUpdate>(grant)?,
                &name,
                version.as_ref(),
                update,
            )
            .await?;
            Ok(bundle_response(&props))
        }
        Operation::GetKeys => {
            let page = page_request(req.query)?;
            let page = keys::list(ctx, vault, &narrow::<perm::KeyList>(grant)?, page).await?;
            Ok(list_response(&req, "/keys", page, |p| {
                item(origin, vault, p, false)
            }))
        }
        Operation::GetKeyVersions { name } => {
            let page = page_request(req.query)?;
            let path = format!("/keys/{name}/versions");
            let page =
                keys::list_versions(ctx, vault, &narrow::<perm::KeyList>(grant)?, &name, page)
                    .await?;
            Ok(list_response(&req, &path, page, |p| {
                item(origin, vault, p, true)
            }))
        }
        Operation::DeleteKey { name } => {
            let deleted =
                keys::delete(ctx, vault, &narrow::<perm::KeyDelete>(grant)?, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::GetDeletedKeys => {
            let page = page_request(req.query)?;
            let page =
                keys::list_deleted(ctx, vault, &narrow::<perm::KeyList>(grant)?, page).await?;
            Ok(list_response(&req, "/deletedkeys", page, |d| {
                deleted_item(origin, vault, d)
            }))
        }
        Operation::GetDeletedKey { name } => {
            let deleted =
                keys::get_deleted(ctx, vault, &narrow::<perm::KeyList>(grant)?, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::PurgeDeletedKey { name } => {
            keys::purge(ctx, vault, &narrow::<perm::KeyPurge>(grant)?, &name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Operation::RecoverDeletedKey { name } => {
            let props = keys::recover(ctx, vault, &narrow::<perm::KeyRecover>(grant)?, &name)
                .await
                .map_err(recover_error)?;
            Ok(bundle_response(&props))
        }
        Operation::BackupKey { name } => {
            let blob = keys::backup(ctx, vault, &narrow::<perm::KeyBackup>(grant)?, &name).await?;
            Ok(backup_response(&blob))
        }
        Operation::RestoreKey => {
            let blob = restore_blob(&req.body)?;
            let grant = narrow::<perm::KeyRestore>(grant)?;
            let props = keys::restore(ctx, vault, &grant, &blob)
                .await
                .map_err(|err| restore_error(origin, err))?;
            Ok(bundle_response(&props))
        }
        Operation::RotateKey { name } => {
            let props =
                rotation::rotate(ctx, vault, &narrow::<perm::KeyRotate>(grant)?, &name).await?;
            Ok(bundle_response(&props))
        }
        Operation::GetKeyRotationPolicy { name } => {
            let policy = rotation::get_policy(
                ctx,
                vault,
                &narrow::<perm::KeyGetRotationPolicy>(grant)?,
                &name,
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &rotation_policy(origin, &name, &policy),
            ))
        }
        Operation::UpdateKeyRotationPolicy { name } => {
            let params: KeyRotationPolicy = parse_json(&req.body)?;
            let update = rotation_update(params)?;
            let policy = rotation::update_policy(
                ctx,
                vault,
                &narrow::<perm::KeySetRotationPolicy>(grant)?,
                &name,
                update,
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &rotation_policy(origin, &name, &policy),
            ))
        }
        Operation::GetKeyAttestation { name, version } => {
            // The key must exist (404 first), then: attestation blobs come from the HSM
            // vendor's hardware, which a software-backed deployment does not have.
            let version = resolve_version(KIND, &name, version)?;
            keys::get(
                ctx,
                vault,
                &narrow::<perm::KeyGet>(grant)?,
                &name,
                version.as_ref(),
            )
            .await?;
            Err(VaultError::NotSupported(
                "Key attestation is only available for keys in a Managed HSM.".to_owned(),
            )
            .into())
        }
        other => Err(ApiError::internal(std::io::Error::other(format!(
            "{} is not a key lifecycle operation",
            other.operation_id()
        )))),
    }
}

// ---- request bodies -> domain ----

fn invalid_property(property: &str) -> ApiError {
    // AZURE-ERRORS.md 6.11: "Property <name> has invalid value\r\n".
    ApiError::BadParameter(format!("Property {property} has invalid value\r\n"))
}

pub(crate) fn b64(property: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| invalid_property(property))
}

fn key_type(raw: Option<&str>) -> Result<KeyType, ApiError> {
    let raw = raw.ok_or_else(|| invalid_property("kty"))?;
    KeyType::parse(raw).ok_or_else(|| ApiError::BadParameterInner {
        // AZURE-ERRORS.md 6.8.
        message: format!("Invalid kty value: {raw}"),
        inner: "KeyTypeNotSupported",
    })
}

fn key_ops(names: &[String]) -> Result<Vec<KeyOperation>, ApiError> {
    names
        .iter()
        .map(|name| KeyOperation::parse(name).ok_or_else(|| invalid_property("key_ops")))
        .collect()
}

fn curve(raw: &str) -> Result<Curve, ApiError> {
    Curve::parse(raw)
        .ok_or_else(|| ApiError::BadParameter(format!("The curve name '{raw}' is not supported.")))
}

fn release_policy(wire: KeyReleasePolicy) -> Result<ReleasePolicy, ApiError> {
    let data = wire
        .data
        .ok_or_else(|| invalid_property("release_policy.data"))?;
    Ok(ReleasePolicy {
        content_type: wire
            .content_type
            .unwrap_or_else(|| "application/json; charset=utf-8".to_owned()),
        data: b64("release_policy.data", &data)?,
        immutable: wire.immutable.unwrap_or(false),
    })
}

fn create_params(params: KeyCreateParameters) -> Result<CreateKey, ApiError> {
    let key_type = key_type(params.kty.as_deref())?;
    let attributes = params.attributes.unwrap_or_default();
    let size = params
        .key_size
        .map(|size| usize::try_from(size).map_err(|_| invalid_property("key_size")))
        .transpose()?;
    let public_exponent = params
        .public_exponent
        .map(|exponent| u64::try_from(exponent).map_err(|_| invalid_property("public_exponent")))
        .transpose()?;
    Ok(CreateKey {
        key_type,
        size,
        public_exponent,
        curve: params.crv.as_deref().map(curve).transpose()?,
        key_ops: params.key_ops.as_deref().map(key_ops).transpose()?,
        enabled: attributes.enabled,
        not_before: attributes.nbf.map(UnixTime),
        expires: attributes.exp.map(UnixTime),
        exportable: attributes.exportable,
        tags: params.tags,
        release_policy: params.release_policy.map(release_policy).transpose()?,
    })
}

fn private_member(
    property: &str,
    member: Option<&PrivateMember>,
) -> Result<Option<Zeroizing<Vec<u8>>>, ApiError> {
    member
        .map(|text| b64(property, &text.0).map(Zeroizing::new))
        .transpose()
}

fn public_member(property: &str, member: Option<&String>) -> Result<Option<Vec<u8>>, ApiError> {
    member.map(|text| b64(property, text)).transpose()
}

fn import_params(params: KeyImportParameters) -> Result<ImportKey, ApiError> {
    let jwk = params.key.ok_or_else(|| invalid_property("key"))?;
    let key_type = key_type(jwk.kty.as_deref())?;
    let material = KeyMaterial {
        family: Some(key_type.family()),
        n: public_member("n", jwk.n.as_ref())?,
        e: public_member("e", jwk.e.as_ref())?,
        d: private_member("d", jwk.d.as_ref())?,
        p: private_member("p", jwk.p.as_ref())?,
        q: private_member("q", jwk.q.as_ref())?,
        dp: private_member("dp", jwk.dp.as_ref())?,
        dq: private_member("dq", jwk.dq.as_ref())?,
        qi: private_member("qi", jwk.qi.as_ref())?,
        curve: jwk.crv.as_deref().map(curve).transpose()?,
        x: public_member("x", jwk.x.as_ref())?,
        y: public_member("y", jwk.y.as_ref())?,
        k: private_member("k", jwk.k.as_ref())?,
    };
    let attributes = params.attributes.unwrap_or_default();
    Ok(ImportKey {
        material,
        key_type,
        hsm: params.hsm,
        key_ops: jwk.key_ops.as_deref().map(key_ops).transpose()?,
        enabled: attributes.enabled,
        not_before: attributes.nbf.map(UnixTime),
        expires: attributes.exp.map(UnixTime),
        exportable: attributes.exportable,
        tags: params.tags,
        release_policy: params.release_policy.map(release_policy).transpose()?,
    })
}

fn rotation_update(params: KeyRotationPolicy) -> Result<RotationPolicyUpdate, ApiError> {
    let lifetime_actions = params
        .lifetime_actions
        .map(|actions| {
            actions
                .into_iter()
                .map(|action| {
                    let trigger = action.trigger.unwrap_or_default();
                    let trigger = match (trigger.time_after_create, trigger.time_before_expiry) {
                        (Some(after), None) => LifetimeTrigger::TimeAfterCreate(after),
                        (None, Some(before)) => LifetimeTrigger::TimeBeforeExpiry(before),
                        _ => {
                            return Err(ApiError::BadParameter(
                                "A lifetime action's trigger needs exactly one of timeAfterCreate and timeBeforeExpiry.".to_owned(),
                            ));
                        }
                    };
                    let action_type = action
                        .action
                        .and_then(|action| action.action_type)
                        .ok_or_else(|| invalid_property("lifetimeActions.action.type"))?;
                    let action = if action_type.eq_ignore_ascii_case("rotate") {
                        LifetimeActionType::Rotate
                    } else if action_type.eq_ignore_ascii_case("notify") {
                        LifetimeActionType::Notify
                    } else {
                        return Err(invalid_property("lifetimeActions.action.type"));
                    };
                    Ok(LifetimeAction { trigger, action })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(RotationPolicyUpdate {
        lifetime_actions,
        expiry_time: params
            .attributes
            .and_then(|attributes| attributes.expiry_time),
    })
}

// ---- domain -> wire ----

pub(crate) fn key_id(origin: &str, props: &KeyProperties) -> String {
    crate::objects::object_id(
        origin,
        "keys",
        props.name.as_str(),
        Some(props.version.as_str()),
    )
}

fn attributes(vault: &Vault, props: &KeyProperties) -> WireKeyAttributes {
    let a = &props.attributes;
    WireKeyAttributes {
        enabled: Some(a.enabled),
        nbf: a.not_before.map(UnixTime::seconds),
        exp: a.expires.map(UnixTime::seconds),
        created: Some(a.created.seconds()),
        updated: Some(a.updated.seconds()),
        recoverable_days: Some(vault.retention_days),
        recovery_level: Some(Cow::Borrowed(vault.recovery_level())),
        exportable: Some(a.exportable),
        hsm_platform: None,
        attestation: None,
    }
}

fn tags(props: &KeyProperties) -> Option<std::collections::BTreeMap<String, String>> {
    (!props.tags.is_empty()).then(|| props.tags.clone())
}

fn jwk(origin: &str, props: &KeyProperties) -> JsonWebKey {
    let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
    let mut key = JsonWebKey {
        kid: Some(key_id(origin, props)),
        kty: Some(props.key_type.as_str().to_owned()),
        key_ops: Some(
            props
                .key_ops
                .iter()
                .map(|op| op.as_str().to_owned())
                .collect(),
        ),
        ..JsonWebKey::default()
    };
    match &props.public {
        PublicKey::Rsa { n, e } => {
            key.n = b64(n);
            key.e = b64(e);
        }
        PublicKey::Ec { curve, x, y } => {
            key.crv = Some(curve.as_str().to_owned());
            key.x = b64(x);
            key.y = b64(y);
        }
        PublicKey::Oct => {}
    }
    key
}

fn wire_release_policy(policy: &ReleasePolicy) -> KeyReleasePolicy {
    KeyReleasePolicy {
        content_type: Some(policy.content_type.clone()),
        immutable: Some(policy.immutable),
        data: Some(URL_SAFE_NO_PAD.encode(&policy.data)),
    }
}

pub(crate) fn bundle(origin: &str, vault: &Vault, props: &KeyProperties) -> KeyBundle {
    KeyBundle {
        key: Some(jwk(origin, props)),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        managed: props.managed.then_some(true),
        release_policy: props.release_policy.as_ref().map(wire_release_policy),
        ..KeyBundle::default()
    }
}

fn deleted_bundle(origin: &str, vault: &Vault, deleted: &DeletedKey) -> KeyBundle {
    KeyBundle {
        recovery_id: Some(format!("{origin}/deletedkeys/{}", deleted.properties.name)),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..bundle(origin, vault, &deleted.properties)
    }
}

fn item(origin: &str, vault: &Vault, props: &KeyProperties, with_version: bool) -> KeyItem {
    let version = with_version.then_some(props.version.as_str());
    let kid = crate::objects::object_id(origin, "keys", props.name.as_str(), version);
    KeyItem {
        kid: Some(kid),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        managed: props.managed.then_some(true),
        ..KeyItem::default()
    }
}

fn deleted_item(origin: &str, vault: &Vault, deleted: &DeletedKey) -> KeyItem {
    KeyItem {
        recovery_id: Some(format!("{origin}/deletedkeys/{}", deleted.properties.name)),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..item(origin, vault, &deleted.properties, false)
    }
}

fn rotation_policy(
    origin: &str,
    name: &strongroom_model::ObjectName,
    policy: &RotationPolicy,
) -> KeyRotationPolicy {
    KeyRotationPolicy {
        id: Some(format!("{origin}/keys/{name}/rotationpolicy")),
        lifetime_actions: Some(
            policy
                .lifetime_actions
                .iter()
                .map(|action| {
                    let (after, before) = match &action.trigger {
                        LifetimeTrigger::TimeAfterCreate(after) => (Some(after.clone()), None),
                        LifetimeTrigger::TimeBeforeExpiry(before) => (None, Some(before.clone())),
                    };
                    LifetimeActions {
                        trigger: Some(LifetimeActionsTrigger {
                            time_after_create: after,
                            time_before_expiry: before,
                        }),
                        action: Some(LifetimeActionsType {
                            action_type: Some(
                                match action.action {
                                    LifetimeActionType::Rotate => "Rotate",
                                    LifetimeActionType::Notify => "Notify",
                                }
                                .to_owned(),
                            ),
                        }),
                    }
                })
                .collect(),
        ),
        attributes: Some(KeyRotationPolicyAttributes {
            expiry_time: policy.expiry_time.clone(),
            created: policy.created.map(UnixTime::seconds),
            updated: policy.updated.map(UnixTime::seconds),
        }),
    }
}
