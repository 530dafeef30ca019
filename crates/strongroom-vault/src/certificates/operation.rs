//! How a certificate's pending operation is kept: a JSON document in the store's
//! per-certificate operation slot, replaced by every create, import, merge and cancel.

use super::policy::IssuerSpec;
use super::types::{CertificateOperation, OperationError, OperationStatus};
use crate::VaultError;
use crate::error::corrupt;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use strongroom_model::{ObjectName, Version};

#[derive(Debug, Serialize, Deserialize)]
struct StoredOperation {
    version: String,
    issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transparency: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    csr: Option<String>,
    cancellation_requested: bool,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    request_id: String,
}

pub(crate) fn encode(operation: &CertificateOperation) -> Result<Vec<u8>, VaultError> {
    let stored = StoredOperation {
        version: operation.version.as_str().to_owned(),
        issuer: operation.issuer.name.clone(),
        certificate_type: operation.issuer.certificate_type.clone(),
        transparency: operation.issuer.transparency,
        csr: operation.csr.as_ref().map(|csr| STANDARD.encode(csr)),
        cancellation_requested: operation.cancellation_requested,
        status: operation.status.as_str().to_owned(),
        status_details: operation.status_details.clone(),
        error_code: operation.error.as_ref().map(|e| e.code.clone()),
        error_message: operation.error.as_ref().map(|e| e.message.clone()),
        request_id: operation.request_id.clone(),
    };
    serde_json::to_vec(&stored).map_err(|_| corrupt("certificate operation could not be encoded"))
}

pub(crate) fn decode(name: &ObjectName, bytes: &[u8]) -> Result<CertificateOperation, VaultError> {
    let damaged = || corrupt("stored certificate operation is not valid");
    let stored: StoredOperation = serde_json::from_slice(bytes).map_err(|_| damaged())?;
    let error = match (stored.error_code, stored.error_message) {
        (Some(code), Some(message)) => Some(OperationError { code, message }),
        (None, None) => None,
        _ => return Err(damaged()),
    };
    Ok(CertificateOperation {
        name: name.clone(),
        version: Version::parse(&stored.version).map_err(|_| damaged())?,
        issuer: IssuerSpec {
            name: stored.issuer,
            certificate_type: stored.certificate_type,
            transparency: stored.transparency,
        },
        csr: stored
            .csr
            .map(|csr| STANDARD.decode(csr).map_err(|_| damaged()))
            .transpose()?,
        cancellation_requested: stored.cancellation_requested,
        status: OperationStatus::parse(&stored.status).ok_or_else(damaged)?,
        status_details: stored.status_details,
        error,
        request_id: stored.request_id,
    })
}
