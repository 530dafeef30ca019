//! The certificates API's JSON shapes (certificates.json 2026-04-01). The spec mixes casings:
//! bundles, items, attributes and parameters are camelCase (`contentType`, `recoveryId`), the
//! policy, operation and issuer members snake_case (`key_props`, `cancellation_requested`,
//! `org_details`), so each struct says which, and single exceptions are renamed by hand.
//! Binary members stay the strings the spec uses: `cer`, `csr` and `x5c` are base64, `x5t`
//! base64url. Enum-valued members (`kty`, `crv`, `key_usage`, `action_type`) are strings, as
//! in the keys DTOs.
//!
//! Secret material: `CertificateImportParameters.value` (a PFX or PEM, possibly with its
//! private key) and `.pwd` are `SecretValue`s, wiped on drop and redacted in `Debug`.
//! `IssuerCredentials.pwd` is accepted and never serialised, so no response can echo an
//! issuer's password (Azure's example responses do not carry it either).
//!
//! Reused rather than redefined: `BackupBlob` (`BackupCertificateResult`,
//! `CertificateRestoreParameters`) and `ErrorBody` (the spec's `Error`, which
//! `CertificateOperation.error` shares with `KeyVaultError.error`). Not defined: `Attributes`
//! and `PendingCertificateSigningRequestResult`, which no operation of the spec references.

use super::{ErrorBody, deserialize_secret, serialize_secret};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use strongroom_model::SecretValue;

/// `CertificateAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recoverable_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    // Borrowed when serialising (one of two fixed strings), owned when parsed.
    pub recovery_level: Option<Cow<'static, str>>,
}

/// `CertificateBundle`, and with the deletion fields `DeletedCertificateBundle`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateBundle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// SHA-1 thumbprint, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// The DER certificate, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
}

/// `CertificateItem`, and with the deletion fields `DeletedCertificateItem`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
}

/// `CertificateListResult` / `DeletedCertificateListResult`, with `nextLink` as `null` on the
/// last page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateListResult {
    pub value: Vec<CertificateItem>,
    pub next_link: Option<String>,
}

/// `CertificatePolicy`: snake_case members, except `platformManaged`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CertificatePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_props: Option<KeyProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_props: Option<SecretProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x509_props: Option<X509CertificateProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(rename = "platformManaged", skip_serializing_if = "Option::is_none")]
    pub platform_managed: Option<PlatformManaged>,
}

/// `KeyProperties`: `kty` and `crv` take the keys API's strings (`JsonWebKeyType`,
/// `JsonWebKeyCurveName`), as `KeyCreateParameters` does.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
}

/// `SecretProperties`: the content type of the certificate's secret (`application/x-pkcs12`
/// or `application/x-pem-file`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `X509CertificateProperties`. `key_usage` holds `KeyUsageType` strings
/// (`digitalSignature`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct X509CertificateProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ekus: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sans: Option<SubjectAlternativeNames>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_months: Option<i64>,
}

/// `SubjectAlternativeNames`: snake_case, except `ipAddresses`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SubjectAlternativeNames {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<String>>,
    #[serde(rename = "ipAddresses", skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
}

/// `LifetimeAction`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifetimeAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// `Trigger`: one of the two is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_percentage: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_before_expiry: Option<i64>,
}

/// `Action`: `{"action_type":"EmailContacts"|"AutoRenew"}` (`CertificatePolicyAction`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Action {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
}

/// `IssuerParameters`: `name` is `Self`, `Unknown` or an issuer's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssuerParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_transparency: Option<bool>,
}

/// `PlatformManaged`. `certificateUsage` is required; like the keys DTOs' required members
/// it is an `Option` so that its absence is the handler's 400, in Azure's words.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformManaged {
    #[serde(default)]
    pub certificate_usage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, serde_json::Value>>,
}

/// `CertificateOperation`: snake_case members, except `preserveCertOrder`. `error` is the
/// spec's shared `Error`, i.e. our `ErrorBody` (which is why this has no `Clone`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CertificateOperation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerParameters>,
    /// The PKCS#10 request, base64 DER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_requested: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `CertificateCreateParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateCreateParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
}

/// `CertificateImportParameters`. `value` is a base64 PFX or PEM text, `pwd` the PFX's
/// password: both secret, read into `SecretValue`s and written only through
/// `serialize_secret`, as `SecretSetParameters.value` is.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateImportParameters {
    #[serde(
        serialize_with = "serialize_secret",
        deserialize_with = "deserialize_secret",
        default
    )]
    pub value: Option<SecretValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret",
        deserialize_with = "deserialize_secret",
        default
    )]
    pub pwd: Option<SecretValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
}

/// `CertificateUpdateParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateUpdateParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `CertificateOperationUpdateParameter` (required member, an `Option` as above).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateOperationUpdateParameter {
    #[serde(default)]
    pub cancellation_requested: Option<bool>,
}

/// `CertificateMergeParameters`: `x5c` (required) is the signed chain, base64 DER each.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateMergeParameters {
    #[serde(default)]
    pub x5c: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `Contacts`: the vault's certificate contacts (request and response).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Contacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
}

/// `Contact`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `IssuerBundle`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssuerBundle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IssuerCredentials>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_details: Option<OrganizationDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<IssuerAttributes>,
}

/// `IssuerCredentials`. `pwd` is write-only: read from Set/UpdateCertificateIssuer, never
/// serialised, so an `IssuerBundle` cannot echo it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssuerCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(deserialize_with = "deserialize_secret", default, skip_serializing)]
    pub pwd: Option<SecretValue>,
}

/// `OrganizationDetails`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OrganizationDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_details: Option<Vec<AdministratorDetails>>,
}

/// `AdministratorDetails`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AdministratorDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `IssuerAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssuerAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

/// `CertificateIssuerSetParameters` (`provider` required, an `Option` as above).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateIssuerSetParameters {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IssuerCredentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_details: Option<OrganizationDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<IssuerAttributes>,
}

/// `CertificateIssuerUpdateParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateIssuerUpdateParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IssuerCredentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_details: Option<OrganizationDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<IssuerAttributes>,
}

/// `CertificateIssuerItem`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CertificateIssuerItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// `CertificateIssuerListResult`, with `nextLink` as `null` on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateIssuerListResult {
    pub value: Vec<CertificateIssuerItem>,
    pub next_link: Option<String>,
}
