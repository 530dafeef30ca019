//! Wire DTOs: the JSON shapes of the Key Vault API, named as the OpenAPI spec names them
//! (`SecretBundle`, `SecretSetParameters`, `KeyBundle`, ...). Only this module knows field
//! casing and that timestamps are Unix seconds. Domain types are converted by hand in
//! `secrets.rs`, `keys.rs` and `key_ops.rs`. Keys live in `wire/keys.rs`, certificates in
//! `wire/certificates.rs`.

mod certificates;
mod keys;
pub use certificates::*;
pub use keys::*;

use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use strongroom_model::SecretValue;

/// `SecretAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretAttributes {
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

fn serialize_secret<S: Serializer>(value: &Option<SecretValue>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.expose()),
        None => s.serialize_none(),
    }
}

fn deserialize_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretValue>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(raw.map(SecretValue::new))
}

/// `SecretBundle`, and with the deletion fields `DeletedSecretBundle`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBundle {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret",
        deserialize_with = "deserialize_secret",
        default
    )]
    pub value: Option<SecretValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SecretAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
}

/// `SecretItem`, and with the deletion fields `DeletedSecretItem`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SecretAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
}

/// `SecretListResult` / `DeletedSecretListResult`. `nextLink` is written as `null` on the last
/// page, as Azure does (AZURE-ERRORS.md 4.11).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretListResult {
    pub value: Vec<SecretItem>,
    pub next_link: Option<String>,
}

/// `SecretSetParameters`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSetParameters {
    #[serde(
        serialize_with = "serialize_secret",
        deserialize_with = "deserialize_secret",
        default
    )]
    pub value: Option<SecretValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SecretAttributes>,
}

/// `SecretUpdateParameters`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretUpdateParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SecretAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `SecretRestoreParameters` (request) and `BackupSecretResult` (response): a base64url blob.
#[derive(Debug, Deserialize, Serialize)]
pub struct BackupBlob {
    pub value: Option<String>,
}

/// `KeyVaultError`: `{"error":{"code","message","innererror"}}`, serialised compactly in
/// this member order (AZURE-ERRORS.md B.1).
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyVaultError {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub innererror: Option<InnerError>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InnerError {
    pub code: String,
}
