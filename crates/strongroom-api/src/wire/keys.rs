//! The keys API's JSON shapes (keys.json 2026-04-01). Binary fields are base64url strings
//! here; `keys.rs`/`key_ops.rs` decode them. Private JWK members (`d`, `p`, ..., `k`) are
//! accepted on import and never written: `JsonWebKey` serialises only public members.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// `KeyAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyAttributes {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsm_platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<serde_json::Value>,
}

/// A JWK private member: wiped when dropped, never serialised.
#[derive(Clone, Default, PartialEq)]
pub struct PrivateMember(pub Zeroizing<String>);

impl<'de> Deserialize<'de> for PrivateMember {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Self(Zeroizing::new(text)))
    }
}

impl std::fmt::Debug for PrivateMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateMember(<redacted>)")
    }
}

/// `JsonWebKey`. Serialising writes the public members only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct JsonWebKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing)]
    pub d: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub dp: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub dq: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub qi: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub p: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub q: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub k: Option<PrivateMember>,
    #[serde(default, skip_serializing)]
    pub key_hsm: Option<PrivateMember>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// `KeyReleasePolicy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyReleasePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// `KeyBundle`, and with the deletion fields `DeletedKeyBundle`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyBundle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<JsonWebKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(rename = "release_policy", skip_serializing_if = "Option::is_none")]
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyItem`, and with the deletion fields `DeletedKeyItem`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
}

/// `KeyListResult` / `DeletedKeyListResult`: the shape `objects::list_response` writes, with
/// `nextLink` as `null` on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyListResult {
    pub value: Vec<KeyItem>,
    pub next_link: Option<String>,
}

/// `KeyCreateParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyCreateParameters {
    pub kty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_exponent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyImportParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyImportParameters {
    #[serde(rename = "Hsm", default, skip_serializing_if = "Option::is_none")]
    pub hsm: Option<bool>,
    pub key: Option<JsonWebKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyUpdateParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyUpdateParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyOperationsParameters` (encrypt, decrypt, wrapKey, unwrapKey).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyOperationsParameters {
    pub alg: Option<String>,
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// `KeySignParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeySignParameters {
    pub alg: Option<String>,
    pub value: Option<String>,
}

/// `KeyVerifyParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyVerifyParameters {
    pub alg: Option<String>,
    pub digest: Option<String>,
    pub value: Option<String>,
}

/// `KeyOperationResult`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyOperationResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aad: Option<String>,
}

/// `KeyVerifyResult`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyVerifyResult {
    pub value: bool,
}

/// `KeyReleaseParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyReleaseParameters {
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc: Option<String>,
}

/// `KeyReleaseResult`: a JWS whose payload carries the released key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyReleaseResult {
    pub value: String,
}

/// `SecureKeyWrapOperationParameters`. Secure wrap is a Managed HSM operation that a Standard
/// vault refuses (`key_ops.rs`); the shapes are kept so the spec round trip covers them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecureKeyWrapOperationParameters {
    pub alg: Option<String>,
}

/// `SecureKeyUnWrapOperationParameters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecureKeyUnWrapOperationParameters {
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `SecureKeyOperationResult`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecureKeyOperationResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The payload of `KeyReleaseResult.value`'s JWS. The spec leaves it undescribed; the shape
/// is what Microsoft's SKR client reads (`microsoft/confidential-sidecar-containers`,
/// `pkg/skr/akv.go`, `releaseKeyResponseJWSPayload`): the request echoed, then the key bundle
/// whose JWK carries the wrapped private material in `key_hsm`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyReleasePayload {
    pub request: KeyReleaseRequestEcho,
    pub response: KeyReleaseResponse,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyReleaseRequestEcho {
    #[serde(rename = "api-version")]
    pub api_version: String,
    pub enc: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyReleaseResponse {
    pub key: ReleasedKeyBundle,
}

/// A `KeyBundle` whose JWK also has `key_hsm`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReleasedKeyBundle {
    pub key: ReleasedJsonWebKey,
    #[serde(flatten)]
    pub bundle: KeyBundle,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReleasedJsonWebKey {
    #[serde(flatten)]
    pub public: JsonWebKey,
    /// base64url of the JSON `KeyHsmBlob`.
    pub key_hsm: String,
}

/// The released material (`key_hsm` decoded): `ciphertext` is the RSA-OAEP-wrapped AES key
/// followed by the AES-KWP-wrapped private key, for the target key `header.kid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyHsmBlob {
    pub schema_version: String,
    pub header: KeyHsmHeader,
    pub ciphertext: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyHsmHeader {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub alg: String,
    pub enc: String,
}

/// `KeyRotationPolicy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotationPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeActions>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyRotationPolicyAttributes>,
}

/// `LifetimeActions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifetimeActions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<LifetimeActionsTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<LifetimeActionsType>,
}

/// `LifetimeActionsTrigger`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeActionsTrigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_after_create: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_before_expiry: Option<String>,
}

/// `LifetimeActionsType`: `{"type":"Rotate"|"Notify"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifetimeActionsType {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
}

/// `KeyRotationPolicyAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotationPolicyAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

/// `GetRandomBytesRequest`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetRandomBytesRequest {
    pub count: Option<i64>,
}

/// `RandomBytes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RandomBytes {
    pub value: String,
}
