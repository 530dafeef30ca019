//! The certificate service's domain values: what a request asks for and what an operation
//! returns, free of wire JSON.

use super::policy::{CertificatePolicy, IssuerSpec, PolicyInput, SecretContentType};
use std::collections::BTreeMap;
use strongroom_model::{ObjectName, SecretValue, UnixTime, Version};

/// A certificate version's attributes. `not_before` and `expires` are the X.509 validity of
/// its certificate (absent while it is pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAttributes {
    pub enabled: bool,
    pub not_before: Option<UnixTime>,
    pub expires: Option<UnixTime>,
    pub created: UnixTime,
    pub updated: UnixTime,
}

/// One certificate version. `cer` and `x5t` are absent while the version waits for a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateProperties {
    pub name: ObjectName,
    pub version: Version,
    pub attributes: CertificateAttributes,
    pub tags: BTreeMap<String, String>,
    /// The certificate (DER).
    pub cer: Option<Vec<u8>>,
    /// SHA-1 of `cer` (Azure's thumbprint).
    pub x5t: Option<Vec<u8>>,
    /// What the version's secret holds.
    pub content_type: SecretContentType,
}

impl CertificateProperties {
    /// Whether the version still waits for its certificate (an `Unknown` issuer's merge).
    pub fn is_pending(&self) -> bool {
        self.cer.is_none()
    }
}

/// A version with the name's policy, as GET answers. The policy is absent only where the
/// name's policy cannot be read: a soft-deleted certificate listed or read from the deleted
/// collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub properties: CertificateProperties,
    pub policy: Option<CertificatePolicy>,
}

/// A soft-deleted certificate: its current version and policy, and the deletion dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedCertificate {
    pub certificate: Certificate,
    pub deleted_date: UnixTime,
    pub scheduled_purge_date: UnixTime,
}

/// `CreateCertificate`: a new version issued from `policy` (or the stored policy when the
/// request has none).
#[derive(Debug, Clone, Default)]
pub struct CreateCertificate {
    pub policy: Option<PolicyInput>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// `ImportCertificate`: a new version from the caller's PFX (base64) or PEM.
#[derive(Debug, Clone)]
pub struct ImportCertificate {
    pub value: SecretValue,
    pub password: Option<SecretValue>,
    pub policy: Option<PolicyInput>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// `MergeCertificate`: the signed certificate (leaf first, then its chain, DER) for the
/// pending version.
#[derive(Debug, Clone)]
pub struct MergeCertificate {
    pub x5c: Vec<Vec<u8>>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// `UpdateCertificate`: one version's attributes and tags, and the name's policy.
#[derive(Debug, Clone, Default)]
pub struct UpdateCertificate {
    pub policy: Option<PolicyInput>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// Where a certificate's pending operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationStatus {
    InProgress,
    Completed,
    Cancelled,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "inProgress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::InProgress,
            Self::Completed,
            Self::Cancelled,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError {
    pub code: String,
    pub message: String,
}

/// A certificate's pending operation: the latest create, import or merge of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateOperation {
    pub name: ObjectName,
    /// The version the operation makes.
    pub version: Version,
    pub issuer: IssuerSpec,
    /// The PKCS#10 request (DER) of an `Unknown` issuer's operation.
    pub csr: Option<Vec<u8>>,
    pub cancellation_requested: bool,
    pub status: OperationStatus,
    pub status_details: Option<String>,
    pub error: Option<OperationError>,
    pub request_id: String,
}
