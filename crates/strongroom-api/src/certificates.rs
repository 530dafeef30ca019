//! Dispatch arms of the certificates operations: narrow the grant to the type the service
//! asks for, call `strongroom_vault::certificates`, convert with `cert_wire`.

use crate::body::parse_json;
use crate::cert_wire::{self, decode_x5c, policy_input};
use crate::error::{ApiError, json_response};
use crate::objects::{
    DataRequest, backup_response, list_response, list_response_with, narrow, page_request,
    recover_error, restore_blob, restore_error,
};
use crate::operation::{Operation, VersionRef};
use crate::wire as w;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use strongroom_authz::{Any, Grant, perm};
use strongroom_model::{ObjectKind, ObjectName, Version};
use strongroom_vault::certificates::{
    self, CreateCertificate, ImportCertificate, MergeCertificate, OperationStatus,
    UpdateCertificate, contacts, issuers,
};

const KIND: ObjectKind = ObjectKind::Certificate;

pub(crate) async fn dispatch(
    req: DataRequest<'_>,
    grant: Grant<Any>,
    op: Operation,
) -> Result<Response, ApiError> {
    let DataRequest {
        ctx, vault, origin, ..
    } = req;
    match op {
        Operation::CreateCertificate { name } => {
            let params: w::CertificateCreateParameters = parse_json(&req.body)?;
            let create = CreateCertificate {
                policy: params.policy.as_ref().map(policy_input),
                enabled: params.attributes.and_then(|a| a.enabled),
                tags: params.tags,
            };
            let grant = narrow::<perm::CertificateCreate>(grant)?;
            let operation = certificates::create(ctx, vault, &grant, &name, create).await?;
            // The official pollers treat a first answer that is already `completed` as the
            // end and never fetch the certificate (CLIENT-PROTOCOL.md 5.1): the 202 reports
            // the request accepted and in progress, and `/pending` gives the outcome.
            let accepted = cert_wire::operation(
                origin,
                &operation,
                Some((
                    OperationStatus::InProgress,
                    certificates::accepted_details(),
                )),
            );
            Ok(json_response(StatusCode::ACCEPTED, &accepted))
        }
        Operation::ImportCertificate { name } => {
            let params: w::CertificateImportParameters = parse_json(&req.body)?;
            let value = params.value.ok_or_else(|| {
                ApiError::BadParameter("Property value has invalid value\r\n".to_owned())
            })?;
            let import = ImportCertificate {
                value,
                password: params.pwd,
                policy: params.policy.as_ref().map(policy_input),
                enabled: params.attributes.and_then(|a| a.enabled),
                tags: params.tags,
            };
            let grant = narrow::<perm::CertificateImport>(grant)?;
            let certificate = certificates::import(ctx, vault, &grant, &name, import).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::MergeCertificate { name } => {
            let params: w::CertificateMergeParameters = parse_json(&req.body)?;
            let x5c = decode_x5c(params.x5c.as_deref().unwrap_or_default())?;
            let merge = MergeCertificate {
                x5c,
                enabled: params.attributes.and_then(|a| a.enabled),
                tags: params.tags,
            };
            let grant = narrow::<perm::CertificateCreate>(grant)?;
            let certificate = certificates::merge(ctx, vault, &grant, &name, merge).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::GetCertificate { name, version } => {
            let version = resolve_version(&name, version)?;
            let grant = narrow::<perm::CertificateGet>(grant)?;
            let certificate =
                certificates::get(ctx, vault, &grant, &name, version.as_ref()).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::UpdateCertificate { name, version } => {
            let version = resolve_version(&name, version)?;
            let params: w::CertificateUpdateParameters = parse_json(&req.body)?;
            let update = UpdateCertificate {
                policy: params.policy.as_ref().map(policy_input),
                enabled: params.attributes.and_then(|a| a.enabled),
                tags: params.tags,
            };
            let grant = narrow::<perm::CertificateUpdate>(grant)?;
            let certificate =
                certificates::update(ctx, vault, &grant, &name, version.as_ref(), update).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::GetCertificates => {
            let page = page_request(req.query)?;
            let grant = narrow::<perm::CertificateList>(grant)?;
            let include_pending = req.query.include_pending();
            let page = certificates::list(ctx, vault, &grant, page, include_pending).await?;
            let extra = include_pending.then_some("includePending=true");
            Ok(list_response_with(
                &req,
                "/certificates",
                extra,
                page,
                |p| cert_wire::item(origin, vault, p, false),
            ))
        }
        Operation::GetCertificateVersions { name } => {
            let page = page_request(req.query)?;
            let path = format!("/certificates/{name}/versions");
            let grant = narrow::<perm::CertificateList>(grant)?;
            let page = certificates::list_versions(ctx, vault, &grant, &name, page).await?;
            Ok(list_response(&req, &path, page, |p| {
                cert_wire::item(origin, vault, p, true)
            }))
        }
        Operation::GetCertificatePolicy { name } => {
            let grant = narrow::<perm::CertificateGet>(grant)?;
            let policy = certificates::get_policy(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::policy(origin, name.as_str(), &policy),
            ))
        }
        Operation::UpdateCertificatePolicy { name } => {
            let params: w::CertificatePolicy = parse_json(&req.body)?;
            let grant = narrow::<perm::CertificateUpdate>(grant)?;
            let policy =
                certificates::update_policy(ctx, vault, &grant, &name, &policy_input(&params))
                    .await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::policy(origin, name.as_str(), &policy),
            ))
        }
        Operation::GetCertificateOperation { name } => {
            let grant = narrow::<perm::CertificateGet>(grant)?;
            let operation = certificates::get_operation(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::operation(origin, &operation, None),
            ))
        }
        Operation::UpdateCertificateOperation { name } => {
            let params: w::CertificateOperationUpdateParameter = parse_json(&req.body)?;
            let requested = params.cancellation_requested.ok_or_else(|| {
                ApiError::BadParameter(
                    "Property cancellation_requested has invalid value\r\n".to_owned(),
                )
            })?;
            let grant = narrow::<perm::CertificateUpdate>(grant)?;
            let operation =
                certificates::cancel_operation(ctx, vault, &grant, &name, requested).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::operation(origin, &operation, None),
            ))
        }
        Operation::DeleteCertificateOperation { name } => {
            let grant = narrow::<perm::CertificateDelete>(grant)?;
            let operation = certificates::delete_operation(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::operation(origin, &operation, None),
            ))
        }
        Operation::DeleteCertificate { name } => {
            let grant = narrow::<perm::CertificateDelete>(grant)?;
            let deleted = certificates::delete(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::GetDeletedCertificates => {
            let page = page_request(req.query)?;
            let grant = narrow::<perm::CertificateList>(grant)?;
            let page = certificates::list_deleted(ctx, vault, &grant, page).await?;
            Ok(list_response(&req, "/deletedcertificates", page, |d| {
                cert_wire::deleted_item(origin, vault, d)
            }))
        }
        Operation::GetDeletedCertificate { name } => {
            let grant = narrow::<perm::CertificateList>(grant)?;
            let deleted = certificates::get_deleted(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::deleted_bundle(origin, vault, &deleted),
            ))
        }
        Operation::RecoverDeletedCertificate { name } => {
            let grant = narrow::<perm::CertificateRecover>(grant)?;
            let certificate = certificates::recover(ctx, vault, &grant, &name)
                .await
                .map_err(recover_error)?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::PurgeDeletedCertificate { name } => {
            let grant = narrow::<perm::CertificatePurge>(grant)?;
            certificates::purge(ctx, vault, &grant, &name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Operation::BackupCertificate { name } => {
            let grant = narrow::<perm::CertificateBackup>(grant)?;
            let blob = certificates::backup(ctx, vault, &grant, &name).await?;
            Ok(backup_response(&blob))
        }
        Operation::RestoreCertificate => {
            let blob = restore_blob(&req.body)?;
            let grant = narrow::<perm::CertificateRestore>(grant)?;
            let certificate = certificates::restore(ctx, vault, &grant, &blob)
                .await
                .map_err(|err| restore_error(origin, err))?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::bundle(origin, vault, &certificate),
            ))
        }
        Operation::SetCertificateContacts => {
            let params: w::Contacts = parse_json(&req.body)?;
            let grant = narrow::<perm::CertificateManageContacts>(grant)?;
            let set = contacts::set_contacts(ctx, vault, &grant, cert_wire::contacts_input(params))
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::contacts(origin, &set),
            ))
        }
        Operation::GetCertificateContacts => {
            let grant = narrow::<perm::CertificateManageContacts>(grant)?;
            let got = contacts::get_contacts(ctx, vault, &grant).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::contacts(origin, &got),
            ))
        }
        Operation::DeleteCertificateContacts => {
            let grant = narrow::<perm::CertificateManageContacts>(grant)?;
            let deleted = contacts::delete_contacts(ctx, vault, &grant).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::contacts(origin, &deleted),
            ))
        }
        Operation::SetCertificateIssuer { name } => {
            let p: w::CertificateIssuerSetParameters = parse_json(&req.body)?;
            let params =
                cert_wire::issuer_params(p.provider, p.credentials, p.org_details, p.attributes);
            let grant = narrow::<perm::CertificateSetIssuers>(grant)?;
            let issuer = issuers::set_issuer(ctx, vault, &grant, &name, params).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::issuer(origin, &issuer),
            ))
        }
        Operation::UpdateCertificateIssuer { name } => {
            let p: w::CertificateIssuerUpdateParameters = parse_json(&req.body)?;
            let params =
                cert_wire::issuer_params(p.provider, p.credentials, p.org_details, p.attributes);
            let grant = narrow::<perm::CertificateSetIssuers>(grant)?;
            let issuer = issuers::update_issuer(ctx, vault, &grant, &name, params).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::issuer(origin, &issuer),
            ))
        }
        Operation::GetCertificateIssuer { name } => {
            let grant = narrow::<perm::CertificateGetIssuers>(grant)?;
            let issuer = issuers::get_issuer(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::issuer(origin, &issuer),
            ))
        }
        Operation::DeleteCertificateIssuer { name } => {
            let grant = narrow::<perm::CertificateDeleteIssuers>(grant)?;
            let issuer = issuers::delete_issuer(ctx, vault, &grant, &name).await?;
            Ok(json_response(
                StatusCode::OK,
                &cert_wire::issuer(origin, &issuer),
            ))
        }
        Operation::GetCertificateIssuers => {
            let grant = narrow::<perm::CertificateListIssuers>(grant)?;
            let all = issuers::list_issuers(ctx, vault, &grant).await?;
            // A vault has few issuers: one page.
            let page = strongroom_store::Page {
                items: all,
                next: None,
            };
            Ok(list_response(&req, "/certificates/issuers", page, |i| {
                cert_wire::issuer_item(origin, i)
            }))
        }
        other => Err(ApiError::internal(std::io::Error::other(format!(
            "{} is not a certificate operation",
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
