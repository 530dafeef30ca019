//! The certificate operations: create (issue now, or a CSR to merge later), import, merge,
//! get, list, update, the policy, the pending operation, and the lifecycle (delete, recover,
//! purge) that moves the certificate's key and secret with it.
//!
//! Every write of a version goes through `Store::put_certificate_versions`, so a
//! certificate, its key, its secret, its policy and its operation change in one transaction.

use super::meta::{self, CertificateMeta};
use super::policy::{
    CertificatePolicy, IssuerSpec, KeySpec, LifetimeAction, LifetimeActionType, PolicyInput,
    SecretContentType, Trigger, X509Spec,
};
use super::types::{
    Certificate, CertificateOperation, CertificateProperties, CreateCertificate,
    DeletedCertificate, ImportCertificate, MergeCertificate, OperationStatus, UpdateCertificate,
};
use super::{DEPLOYMENT_CA_ISSUER, Issued, issue, material, operation, stored};
use crate::error::corrupt;
use crate::keys::{self, KeyFamily, KeyType};
use crate::lifecycle::{self, ManagedSlot, check_tags};
use crate::{Page, PageRequest, Vault, VaultCtx, VaultError, secrets};
use std::collections::BTreeMap;
use strongroom_authz::{Grant, perm};
use strongroom_crypto::certs::CertificateInfo;
use strongroom_crypto::keys::PrivateKey;
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, Version};
use strongroom_store::{
    CertificateVersions, DeletedRow, NewVersion, StoreError, VersionAttributes, VersionUpdate,
};

const KIND: ObjectKind = ObjectKind::Certificate;

// AZURE-ERRORS.md 5.8.
const CREATE_WHILE_IN_PROGRESS: &str = "A new key vault certificate can not be created or imported while a pending key vault certificate's status is inProgress.";
// The spec's example 202 (CLIENT-PROTOCOL.md 5.1) and Key Vault's text for a manual merge.
const IN_PROGRESS_DETAILS: &str = "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.";
const AWAITING_MERGE_DETAILS: &str =
    "Pending certificate created. Please Perform Merge to complete the request.";

/// Creates a version from the policy. A `Self` or deployment-CA issuer signs it at once
/// (the operation is `completed` when this returns); the `Unknown` issuer leaves a pending
/// version with its key and a CSR, `inProgress` until a merge.
pub async fn create(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateCreate>,
    name: &ObjectName,
    params: CreateCertificate,
) -> Result<CertificateOperation, VaultError> {
    create_version(ctx, vault, name, params).await
}

/// `create` without a caller: also the lifetime action `AutoRenew` (the system's own work).
pub(crate) async fn create_version(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    params: CreateCertificate,
) -> Result<CertificateOperation, VaultError> {
    let tags = params.tags.unwrap_or_default();
    check_tags(&tags)?;
    prepare_new_version(ctx, vault, name).await?;
    let policy = match &params.policy {
        Some(input) => CertificatePolicy::for_create(input)?,
        None => stored_policy(ctx, vault, name).await?.ok_or_else(|| {
            VaultError::InvalidParameter("Property policy has invalid value\r\n".to_owned())
        })?,
    };
    keys::check_type_allowed(vault, policy.key.key_type)?;
    let provider = if policy.issuer.is_self() || policy.issuer.is_unknown() {
        None
    } else {
        super::issuers::provider_of(ctx, vault, &policy.issuer.name).await?
    };
    let by_ca = by_deployment_ca(&policy.issuer, provider.as_deref());
    if by_ca {
        refuse_served_names(ctx, &policy.x509)?;
    }
    let private = new_or_reused_key(ctx, vault, name, &policy.key).await?;
    let now = ctx.now();
    let version = Version::new_random();
    let enabled = params.enabled.unwrap_or(true);
    let ca = ctx.issuing_ca().map(|issuing| issuing.ca.as_ref());
    let issued = issue(&policy, &private, now, ca, provider.as_deref())?;
    let issuer = policy.issuer.clone();
    let (material, csr) = match issued {
        Issued::Certificate(der) => {
            let chain = match ctx.issuing_ca() {
                Some(issuing) if by_ca => vec![issuing.ca.cert_der().to_vec()],
                _ => Vec::new(),
            };
            (Some((der, chain)), None)
        }
        Issued::SigningRequest(csr) => (None, Some(csr)),
    };
    let status = if material.is_some() {
        OperationStatus::Completed
    } else {
        OperationStatus::InProgress
    };
    let operation = CertificateOperation {
        name: name.clone(),
        version: version.clone(),
        issuer,
        csr,
        cancellation_requested: false,
        status,
        status_details: (status == OperationStatus::InProgress)
            .then(|| AWAITING_MERGE_DETAILS.to_owned()),
        error: None,
        request_id: Version::new_random().as_str().to_owned(),
    };
    let write = VersionWrite {
        name,
        version: &version,
        policy: &policy,
        enabled,
        tags,
        now,
    };
    let versions = write
        .build(
            ctx,
            vault,
            &private,
            material
                .as_ref()
                .map(|(der, chain)| (der.as_slice(), chain.as_slice())),
        )
        .await?;
    put_versions(
        ctx,
        vault,
        name,
        CertificateVersions {
            policy: Some(stored::encode(&policy)?),
            operation: Some(operation::encode(&operation)?),
            ..versions
        },
    )
    .await?;
    Ok(operation)
}

/// The status details a create's first answer carries: the request is accepted and in
/// progress (CLIENT-PROTOCOL.md 5.1 explains why it always says so).
pub fn accepted_details() -> &'static str {
    IN_PROGRESS_DETAILS
}

/// Imports a certificate with its private key from a PFX (base64, with or without a
/// password) or PEM; the secret keeps it without the password, in the policy's format.
pub async fn import(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateImport>,
    name: &ObjectName,
    params: ImportCertificate,
) -> Result<Certificate, VaultError> {
    let tags = params.tags.unwrap_or_default();
    check_tags(&tags)?;
    prepare_new_version(ctx, vault, name).await?;
    let requested = match params.policy.as_ref().and_then(|p| p.content_type.as_deref()) {
        Some(text) => Some(SecretContentType::parse(text).ok_or_else(|| {
            VaultError::InvalidParameter(format!(
                "The secret content type '{text}' is not supported. Supported content types are application/x-pkcs12 and application/x-pem-file."
            ))
        })?),
        None => None,
    };
    let value = params.value;
    let password = params.password;
    // A PFX's key derivation is attacker-sized work: keep it off the request threads.
    let (mut bundle, format) =
        tokio::task::spawn_blocking(move || material::parse_import(&value, password.as_ref()))
            .await
            .map_err(|_| corrupt("certificate import did not finish"))??;
    // The secret takes the format the policy names, else the one the value came in.
    let format = requested.unwrap_or(format);
    let private = bundle
        .key
        .take()
        .ok_or_else(|| VaultError::InvalidParameter(material::PEM_WITHOUT_KEY.to_owned()))?;
    let info = CertificateInfo::parse(&bundle.leaf)
        .map_err(|_| VaultError::InvalidParameter("The certificate is malformed.".to_owned()))?;
    let derived = imported_policy(&info, &private, format)?;
    let policy = match &params.policy {
        Some(input) => derived.updated(input)?,
        None => derived,
    };
    keys::check_type_allowed(vault, policy.key.key_type)?;
    let now = ctx.now();
    let version = Version::new_random();
    let write = VersionWrite {
        name,
        version: &version,
        policy: &policy,
        enabled: params.enabled.unwrap_or(true),
        tags,
        now,
    };
    let versions = write
        .build(
            ctx,
            vault,
            &private,
            Some((bundle.leaf.as_slice(), bundle.chain.as_slice())),
        )
        .await?;
    let row = put_versions(
        ctx,
        vault,
        name,
        CertificateVersions {
            policy: Some(stored::encode(&policy)?),
            ..versions
        },
    )
    .await?;
    Ok(Certificate {
        properties: meta::properties(row)?,
        policy: Some(policy),
    })
}

/// Completes a pending `Unknown`-issuer version with the certificate a CA signed for its
/// CSR. The leaf must certify the pending key.
pub async fn merge(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateCreate>,
    name: &ObjectName,
    params: MergeCertificate,
) -> Result<Certificate, VaultError> {
    let mut operation = get_operation_doc(ctx, vault, name).await?;
    if operation.status != OperationStatus::InProgress {
        return Err(VaultError::PendingNotFound { name: name.clone() });
    }
    if !operation.issuer.is_unknown() {
        // AZURE-ERRORS.md 3.8 ("progess" as Key Vault spells it).
        return Err(VaultError::OperationForbidden(format!(
            "Merge is forbidden on pending object created with issuer : {} while it is in progess.",
            operation.issuer.name
        )));
    }
    let Some((leaf, chain)) = params.x5c.split_first() else {
        return Err(VaultError::InvalidParameter(
            "Property x5c has invalid value\r\n".to_owned(),
        ));
    };
    let info = CertificateInfo::parse(leaf).map_err(|_| {
        VaultError::InvalidParameter("The merged certificate is malformed.".to_owned())
    })?;
    for der in chain {
        CertificateInfo::parse(der).map_err(|_| {
            VaultError::InvalidParameter(
                "A certificate of the merged chain is malformed.".to_owned(),
            )
        })?;
    }
    let pending = lifecycle::get_row(ctx, vault, KIND, name, Some(&operation.version)).await?;
    let pending = meta::properties(pending)?;
    let key_row =
        lifecycle::get_row(ctx, vault, ObjectKind::Key, name, Some(&operation.version)).await?;
    let data_key = ctx.data_key(vault).await?;
    let private = keys::open_key(
        &data_key,
        &vault.name,
        &key_row.name,
        &key_row.version,
        &key_row.payload,
    )?;
    if !info.matches(&private) {
        return Err(VaultError::InvalidParameter(
            material::KEY_MISMATCH.to_owned(),
        ));
    }
    let policy = stored_policy(ctx, vault, name)
        .await?
        .ok_or_else(|| corrupt("a pending certificate has no policy"))?;
    let now = ctx.now();
    let write = VersionWrite {
        name,
        version: &operation.version,
        policy: &policy,
        enabled: params.enabled.unwrap_or(pending.attributes.enabled),
        tags: params.tags.unwrap_or(pending.tags),
        now,
    };
    let mut versions = write
        .build(ctx, vault, &private, Some((leaf.as_slice(), chain)))
        .await?;
    versions.certificate.attributes.created = pending.attributes.created;
    operation.status = OperationStatus::Completed;
    operation.status_details = None;
    let row = put_versions(
        ctx,
        vault,
        name,
        CertificateVersions {
            completes: true,
            key: None,
            operation: Some(operation::encode(&operation)?),
            ..versions
        },
    )
    .await?;
    Ok(Certificate {
        properties: meta::properties(row)?,
        policy: Some(policy),
    })
}

/// A version (the current one when `version` is `None`) with the name's policy.
pub async fn get(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateGet>,
    name: &ObjectName,
    version: Option<&Version>,
) -> Result<Certificate, VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    Ok(Certificate {
        properties: meta::properties(row)?,
        policy: stored_policy(ctx, vault, name).await?,
    })
}

/// The current version of every live certificate, by name; pending ones only when asked
/// (`includePending`).
pub async fn list(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateList>,
    page: PageRequest,
    include_pending: bool,
) -> Result<Page<CertificateProperties>, VaultError> {
    let mut page = lifecycle::list(ctx, vault, KIND, page, meta::properties).await?;
    if !include_pending {
        page.items.retain(|item| !item.is_pending());
    }
    Ok(page)
}

/// Every version of one live certificate, oldest first; a missing name gives an empty page.
pub async fn list_versions(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateList>,
    name: &ObjectName,
    page: PageRequest,
) -> Result<Page<CertificateProperties>, VaultError> {
    lifecycle::list_versions(ctx, vault, KIND, name, page, meta::properties).await
}

/// Changes one version's `enabled` and tags (the key and secret of that version follow
/// `enabled`), and the name's policy when the request has one.
pub async fn update(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateUpdate>,
    name: &ObjectName,
    version: Option<&Version>,
    params: UpdateCertificate,
) -> Result<Certificate, VaultError> {
    if let Some(tags) = &params.tags {
        check_tags(tags)?;
    }
    let row = lifecycle::get_row(ctx, vault, KIND, name, version).await?;
    let mut policy = stored_policy(ctx, vault, name).await?;
    if let Some(input) = &params.policy {
        let base = policy
            .as_ref()
            .ok_or_else(|| corrupt("a certificate has no policy"))?;
        let updated = base.updated(input)?;
        ctx.store()
            .put_name_policy(vault.id, KIND, name, stored::encode(&updated)?)
            .await?;
        policy = Some(updated);
    }
    let now = ctx.now();
    let update = |tags| VersionUpdate {
        enabled: params.enabled,
        not_before: None,
        expires: None,
        tags,
        meta: None,
        updated: now,
    };
    let updated = ctx
        .store()
        .update_version(
            vault.id,
            KIND,
            &row.name,
            &row.version,
            update(params.tags.clone()),
        )
        .await?
        .ok_or_else(|| lifecycle::not_found(KIND, name, version))?;
    if params.enabled.is_some() {
        for kind in [ObjectKind::Key, ObjectKind::Secret] {
            ctx.store()
                .update_version(vault.id, kind, &row.name, &row.version, update(None))
                .await?;
        }
    }
    Ok(Certificate {
        properties: meta::properties(updated)?,
        policy,
    })
}

/// The name's policy.
pub async fn get_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateGet>,
    name: &ObjectName,
) -> Result<CertificatePolicy, VaultError> {
    live_policy(ctx, vault, name).await
}

/// Sets the given members of the name's policy; the next version is issued from it.
pub async fn update_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateUpdate>,
    name: &ObjectName,
    input: &PolicyInput,
) -> Result<CertificatePolicy, VaultError> {
    let base = live_policy(ctx, vault, name).await?;
    let updated = base.updated(input)?;
    ctx.store()
        .put_name_policy(vault.id, KIND, name, stored::encode(&updated)?)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => lifecycle::not_found(KIND, name, None),
            other => other.into(),
        })?;
    Ok(updated)
}

/// The name's pending operation.
pub async fn get_operation(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateGet>,
    name: &ObjectName,
) -> Result<CertificateOperation, VaultError> {
    get_operation_doc(ctx, vault, name).await
}

/// Requests cancellation of an operation in progress; it is cancelled at once (nothing is
/// waiting on an outside issuer). Anything else is a 400, as Key Vault documents.
pub async fn cancel_operation(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateUpdate>,
    name: &ObjectName,
    cancellation_requested: bool,
) -> Result<CertificateOperation, VaultError> {
    let mut operation = get_operation_doc(ctx, vault, name).await?;
    if !cancellation_requested {
        return Ok(operation);
    }
    if operation.status != OperationStatus::InProgress {
        return Err(VaultError::InvalidParameter(format!(
            "The pending certificate operation cannot be cancelled: its status is {}.",
            operation.status.as_str()
        )));
    }
    operation.cancellation_requested = true;
    operation.status = OperationStatus::Cancelled;
    operation.status_details = Some("Pending certificate cancelled.".to_owned());
    ctx.store()
        .put_certificate_operation(vault.id, name, operation::encode(&operation)?)
        .await?;
    Ok(operation)
}

/// Deletes the pending operation (the pending version, if any, stays).
pub async fn delete_operation(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateDelete>,
    name: &ObjectName,
) -> Result<CertificateOperation, VaultError> {
    let operation = get_operation_doc(ctx, vault, name).await?;
    if !ctx
        .store()
        .delete_certificate_operation(vault.id, name)
        .await?
    {
        return Err(VaultError::PendingNotFound { name: name.clone() });
    }
    Ok(operation)
}

/// Soft-deletes a certificate with its key and secret.
pub async fn delete(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateDelete>,
    name: &ObjectName,
) -> Result<DeletedCertificate, VaultError> {
    // Read before: a deleted name's policy is not readable until it is recovered.
    let policy = stored_policy(ctx, vault, name).await?;
    let row = lifecycle::delete(ctx, vault, KIND, name).await?;
    deleted_certificate(row, policy)
}

/// Soft-deleted certificates, by name.
pub async fn list_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateList>,
    page: PageRequest,
) -> Result<Page<DeletedCertificate>, VaultError> {
    lifecycle::list_deleted(ctx, vault, KIND, page, |row| deleted_certificate(row, None)).await
}

/// One soft-deleted certificate.
pub async fn get_deleted(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateList>,
    name: &ObjectName,
) -> Result<DeletedCertificate, VaultError> {
    deleted_certificate(lifecycle::get_deleted(ctx, vault, KIND, name).await?, None)
}

/// Makes a soft-deleted certificate live again, with its key and secret.
pub async fn recover(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateRecover>,
    name: &ObjectName,
) -> Result<Certificate, VaultError> {
    let row = lifecycle::recover(ctx, vault, KIND, name).await?;
    Ok(Certificate {
        properties: meta::properties(row)?,
        policy: stored_policy(ctx, vault, name).await?,
    })
}

/// Removes a soft-deleted certificate, its key and its secret for good.
pub async fn purge(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificatePurge>,
    name: &ObjectName,
) -> Result<(), VaultError> {
    lifecycle::purge(ctx, vault, KIND, name).await
}

// ---- shared ----

/// The three versions of one certificate version, built from its key and (unless it is
/// pending) its certificate.
struct VersionWrite<'a> {
    name: &'a ObjectName,
    version: &'a Version,
    policy: &'a CertificatePolicy,
    enabled: bool,
    tags: BTreeMap<String, String>,
    now: UnixTime,
}

impl VersionWrite<'_> {
    /// `material`: the leaf and its chain (DER), or `None` for a pending version.
    async fn build(
        self,
        ctx: &VaultCtx,
        vault: &Vault,
        private: &PrivateKey,
        material: Option<(&[u8], &[Vec<u8>])>,
    ) -> Result<CertificateVersions, VaultError> {
        let data_key = ctx.data_key(vault).await?;
        let info = material
            .map(|(leaf, _)| {
                CertificateInfo::parse(leaf)
                    .map_err(|_| corrupt("an issued certificate does not parse"))
            })
            .transpose()?;
        let attributes = VersionAttributes {
            enabled: self.enabled,
            not_before: info.as_ref().map(|info| info.not_before),
            expires: info.as_ref().map(|info| info.not_after),
            created: self.now,
            updated: self.now,
        };
        let content_type = self.policy.content_type;
        let slot = || ManagedSlot {
            data_key: &data_key,
            vault,
            name: self.name,
            version: self.version,
            attributes: attributes.clone(),
            tags: self.tags.clone(),
        };
        let key = keys::managed_version(
            slot(),
            private,
            self.policy.key.key_type,
            &material::key_ops(self.policy),
        )?;
        let secret = match material {
            Some((leaf, chain)) => {
                let exported = if self.policy.key.exportable {
                    Some(PrivateKey::from_pkcs8_der(&private.private_bytes())?)
                } else {
                    None
                };
                let value = material::secret_value(content_type, exported, leaf, chain)?;
                Some(secrets::managed_version(
                    slot(),
                    &value,
                    content_type.as_str(),
                )?)
            }
            None => None,
        };
        let meta = CertificateMeta::new(
            material.map(|(leaf, _)| leaf),
            info.as_ref().map(|info| info.sha1_thumbprint.as_slice()),
            content_type,
        );
        let certificate = NewVersion {
            name: self.name.clone(),
            version: self.version.clone(),
            attributes,
            tags: self.tags,
            meta: meta.encode()?,
            // Nothing about a certificate version is secret (see meta.rs).
            payload: Sealed::from(Vec::new()),
        };
        Ok(CertificateVersions {
            certificate,
            completes: false,
            key: Some(key),
            secret,
            policy: None,
            operation: None,
        })
    }
}

/// Checks that a new version may be written under `name`: no create is in progress and the
/// certificate is not soft-deleted. (That no plain key or secret has the name is checked by
/// the store inside the write.)
async fn prepare_new_version(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<(), VaultError> {
    let store = ctx.store();
    if store.get_deleted(vault.id, KIND, name).await?.is_some() {
        return Err(VaultError::DeletedButRecoverable {
            kind: KIND,
            name: name.clone(),
        });
    }
    if let Some(bytes) = store.get_certificate_operation(vault.id, name).await?
        && operation::decode(name, &bytes)?.status == OperationStatus::InProgress
    {
        return Err(VaultError::OperationConflict(
            CREATE_WHILE_IN_PROGRESS.to_owned(),
        ));
    }
    Ok(())
}

/// Writes the versions; a name soft-deleted under one of the three kinds is reported as
/// that kind's deleted-but-recoverable conflict.
async fn put_versions(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    versions: CertificateVersions,
) -> Result<strongroom_store::VersionRow, VaultError> {
    match ctx
        .store()
        .put_certificate_versions(vault.id, versions)
        .await
    {
        Ok(row) => Ok(row),
        Err(StoreError::NameDeleted) => {
            for kind in [KIND, ObjectKind::Key, ObjectKind::Secret] {
                if ctx
                    .store()
                    .get_deleted(vault.id, kind, name)
                    .await?
                    .is_some()
                {
                    return Err(VaultError::DeletedButRecoverable {
                        kind,
                        name: name.clone(),
                    });
                }
            }
            Err(StoreError::NameDeleted.into())
        }
        Err(StoreError::OwnedName { owner }) => Err(VaultError::NameInUse {
            kind: owner,
            name: name.clone(),
        }),
        Err(StoreError::NotFound) => Err(lifecycle::not_found(KIND, name, None)),
        Err(other) => Err(other.into()),
    }
}

/// The key for a new version: the current one when the policy reuses keys and the
/// certificate has one of the policy's type, otherwise fresh material.
async fn new_or_reused_key(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    spec: &KeySpec,
) -> Result<PrivateKey, VaultError> {
    if spec.reuse_key
        && let Some(row) = ctx
            .store()
            .get_version(vault.id, ObjectKind::Key, name, None)
            .await?
        && keys::is_managed(&row)?
    {
        let data_key = ctx.data_key(vault).await?;
        let current = keys::open_key(
            &data_key,
            &vault.name,
            &row.name,
            &row.version,
            &row.payload,
        )?;
        let same_kind = current.family() == spec.key_type.family()
            && spec.size.is_none_or(|size| size == current.size_bits())
            && spec
                .curve
                .is_none_or(|curve| current.curve() == Some(curve));
        if same_kind {
            return Ok(current);
        }
    }
    keys::generate(spec.key_type, spec.size, None, spec.curve).await
}

/// Whether the deployment CA signs for this issuer: by its built-in name, or a vault issuer
/// of its provider.
fn by_deployment_ca(issuer: &IssuerSpec, provider: Option<&str>) -> bool {
    issuer.name.eq_ignore_ascii_case(DEPLOYMENT_CA_ISSUER)
        || provider.is_some_and(|p| p.eq_ignore_ascii_case(DEPLOYMENT_CA_ISSUER))
}

/// The deployment CA never signs for a name the deployment serves (its vault and identity
/// hosts, the Azure names transparent mode intercepts): every client of the deployment
/// trusts that CA, so such a certificate would let its holder impersonate the server.
fn refuse_served_names(ctx: &VaultCtx, x509: &X509Spec) -> Result<(), VaultError> {
    let Some(issuing) = ctx.issuing_ca() else {
        return Ok(());
    };
    let common_names = x509.subject.split(',').filter_map(|part| {
        let (attribute, value) = part.split_once('=')?;
        attribute
            .trim()
            .eq_ignore_ascii_case("CN")
            .then(|| value.trim().trim_matches('"'))
    });
    for name in x509
        .dns_names
        .iter()
        .map(String::as_str)
        .chain(common_names)
    {
        if (issuing.served)(name) {
            return Err(VaultError::InvalidParameter(format!(
                "The {DEPLOYMENT_CA_ISSUER} issuer does not sign certificates for '{name}': this deployment serves that name itself."
            )));
        }
    }
    Ok(())
}

/// The policy an imported certificate implies: its subject, names, usages, validity and key,
/// issuer `Unknown` (Key Vault did not issue it), the secret in the format it came in.
fn imported_policy(
    info: &CertificateInfo,
    private: &PrivateKey,
    format: SecretContentType,
) -> Result<CertificatePolicy, VaultError> {
    let family = private.family();
    let key_type = KeyType::of(family, false);
    let (size, curve) = match family {
        KeyFamily::Rsa => (Some(private.size_bits()), None),
        KeyFamily::Ec => (None, private.curve()),
        KeyFamily::Oct => {
            return Err(VaultError::InvalidParameter(
                "A certificate's key must be RSA or EC.".to_owned(),
            ));
        }
    };
    let lifetime_days =
        (info.not_after.seconds() - info.not_before.seconds()).max(0) / UnixTime::SECONDS_PER_DAY;
    let validity_months = u32::try_from((lifetime_days + 29) / 30)
        .unwrap_or(u32::MAX)
        .clamp(1, super::policy::MAX_VALIDITY_MONTHS);
    Ok(CertificatePolicy {
        key: KeySpec {
            key_type,
            size,
            curve,
            exportable: true,
            reuse_key: false,
        },
        content_type: format,
        x509: X509Spec {
            subject: info.subject.clone(),
            dns_names: info.dns_names.clone(),
            emails: info.emails.clone(),
            upns: info.upns.clone(),
            ekus: info.ekus.clone(),
            key_usage: info.key_usage.clone(),
            validity_months,
        },
        lifetime_actions: vec![LifetimeAction {
            trigger: Trigger::LifetimePercentage(80),
            action: LifetimeActionType::EmailContacts,
        }],
        issuer: IssuerSpec {
            name: super::policy::UNKNOWN_ISSUER.to_owned(),
            certificate_type: None,
            transparency: None,
        },
        enabled: true,
    })
}

async fn stored_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<Option<CertificatePolicy>, VaultError> {
    ctx.store()
        .get_name_policy(vault.id, KIND, name)
        .await?
        .map(|bytes| stored::decode(&bytes))
        .transpose()
}

/// The policy of a live certificate: `CertificateNotFound` if there is none.
async fn live_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<CertificatePolicy, VaultError> {
    lifecycle::get_row(ctx, vault, KIND, name, None).await?;
    stored_policy(ctx, vault, name)
        .await?
        .ok_or_else(|| corrupt("a certificate has no policy"))
}

async fn get_operation_doc(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<CertificateOperation, VaultError> {
    let bytes = ctx
        .store()
        .get_certificate_operation(vault.id, name)
        .await?
        .ok_or_else(|| VaultError::PendingNotFound { name: name.clone() })?;
    operation::decode(name, &bytes)
}

fn deleted_certificate(
    row: DeletedRow,
    policy: Option<CertificatePolicy>,
) -> Result<DeletedCertificate, VaultError> {
    Ok(DeletedCertificate {
        certificate: Certificate {
            properties: meta::properties(row.current)?,
            policy,
        },
        deleted_date: row.deletion.deleted_date,
        scheduled_purge_date: row.deletion.scheduled_purge_date,
    })
}
