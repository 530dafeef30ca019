//! Dispatch arms of the cryptographic key operations (sign, verify, encrypt, decrypt,
//! wrapKey, unwrapKey), release, the secure wrap operations a Standard vault does not offer,
//! and GetRandomBytes: decode base64url inputs, name the algorithm, call
//! `strongroom_vault::keys`, answer `KeyOperationResult`.

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::keys::b64;
use crate::objects::{DataRequest, narrow, resolve_version};
use crate::operation::Operation;
use crate::wire::{
    GetRandomBytesRequest, KeyHsmBlob, KeyHsmHeader, KeyOperationResult, KeyOperationsParameters,
    KeyReleaseParameters, KeyReleasePayload, KeyReleaseRequestEcho, KeyReleaseResponse,
    KeySignParameters, KeyVerifyParameters, KeyVerifyResult, RandomBytes, ReleasedJsonWebKey,
    ReleasedKeyBundle,
};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use strongroom_authz::{Any, Grant, perm};
use strongroom_model::ObjectKind;
use strongroom_vault::VaultError;
use strongroom_vault::keys::{
    self, CipherInput, EncryptionAlgorithm, ReleaseWrapping, ReleasedKey, SignatureAlgorithm,
    UsedKey,
};

const KIND: ObjectKind = ObjectKind::Key;

/// The most a single operation's `value` may carry once decoded: far above any key wrap or
/// RSA block, and the body limit keeps the whole request bounded anyway.
const MAX_OPERATION_INPUT: usize = 64 * 1024;

pub(crate) async fn dispatch(
    req: DataRequest<'_>,
    grant: Grant<Any>,
    op: Operation,
) -> Result<Response, ApiError> {
    let DataRequest {
        ctx, vault, origin, ..
    } = req;
    let kid = |used: &UsedKey| {
        crate::objects::object_id(
            origin,
            "keys",
            used.name.as_str(),
            Some(used.version.as_str()),
        )
    };
    match op {
        Operation::Sign { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeySignParameters = parse_json(&req.body)?;
            let algorithm = signature_algorithm(params.alg.as_deref())?;
            let digest = input("value", params.value.as_deref())?;
            let (used, signature) = keys::sign(
                ctx,
                vault,
                &narrow::<perm::KeySign>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &digest,
            )
            .await?;
            Ok(result(kid(&used), &signature, None, None).with_aad(None))
        }
        Operation::Verify { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyVerifyParameters = parse_json(&req.body)?;
            let algorithm = signature_algorithm(params.alg.as_deref())?;
            let digest = input("digest", params.digest.as_deref())?;
            let signature = input("value", params.value.as_deref())?;
            let (_used, valid) = keys::verify(
                ctx,
                vault,
                &narrow::<perm::KeyVerify>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &digest,
                &signature,
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &KeyVerifyResult { value: valid },
            ))
        }
        Operation::Encrypt { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyOperationsParameters = parse_json(&req.body)?;
            let algorithm = encryption_algorithm(params.alg.as_deref())?;
            let parts = CipherParts::decode(&params)?;
            let (used, output) = keys::encrypt(
                ctx,
                vault,
                &narrow::<perm::KeyEncrypt>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &parts.input(),
            )
            .await?;
            Ok(result(
                kid(&used),
                &output.data,
                output.iv.as_deref(),
                output.tag.as_deref(),
            )
            .with_aad(parts.aad.as_deref()))
        }
        Operation::Decrypt { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyOperationsParameters = parse_json(&req.body)?;
            let algorithm = encryption_algorithm(params.alg.as_deref())?;
            let parts = CipherParts::decode(&params)?;
            let (used, plaintext) = keys::decrypt(
                ctx,
                vault,
                &narrow::<perm::KeyDecrypt>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &parts.input(),
            )
            .await?;
            Ok(result(kid(&used), &plaintext, None, None).with_aad(None))
        }
        Operation::WrapKey { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyOperationsParameters = parse_json(&req.body)?;
            let algorithm = encryption_algorithm(params.alg.as_deref())?;
            let key_bytes = input("value", params.value.as_deref())?;
            let (used, wrapped) = keys::wrap_key(
                ctx,
                vault,
                &narrow::<perm::KeyWrapKey>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &key_bytes,
            )
            .await?;
            Ok(result(kid(&used), &wrapped, None, None).with_aad(None))
        }
        Operation::UnwrapKey { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyOperationsParameters = parse_json(&req.body)?;
            let algorithm = encryption_algorithm(params.alg.as_deref())?;
            let wrapped = input("value", params.value.as_deref())?;
            let (used, key_bytes) = keys::unwrap_key(
                ctx,
                vault,
                &narrow::<perm::KeyUnwrapKey>(grant)?,
                &name,
                version.as_ref(),
                algorithm,
                &wrapped,
            )
            .await?;
            Ok(result(kid(&used), &key_bytes, None, None).with_aad(None))
        }
        Operation::Release { name, version } => {
            let version = resolve_version(KIND, &name, version)?;
            let params: KeyReleaseParameters = parse_json(&req.body)?;
            let target = params
                .target
                .filter(|target| !target.is_empty())
                .ok_or_else(|| {
                    ApiError::BadParameter("Property target has invalid value\r\n".to_owned())
                })?;
            let wrapping = match params.enc.as_deref() {
                None => ReleaseWrapping::CkmRsaAesKeyWrap,
                Some(enc) => ReleaseWrapping::parse(enc).ok_or_else(|| {
                    ApiError::BadParameter("Property enc has invalid value\r\n".to_owned())
                })?,
            };
            let released = keys::release(
                ctx,
                vault,
                &narrow::<perm::KeyRelease>(grant)?,
                &name,
                version.as_ref(),
                &target,
                wrapping,
            )
            .await?;
            let payload = release_payload(&req, params.nonce, &released)?;
            Ok(json_response(
                StatusCode::OK,
                &crate::wire::KeyReleaseResult {
                    value: released.sign(&payload)?,
                },
            ))
        }
        Operation::SecureWrapKey { .. } | Operation::SecureUnwrapKey { .. } => {
            Err(VaultError::NotSupported(
                "Secure key wrap operations are only available in a Managed HSM.".to_owned(),
            )
            .into())
        }
        Operation::GetRandomBytes => {
            let params: GetRandomBytesRequest = parse_json(&req.body)?;
            let _grant = narrow::<perm::KeyGet>(grant)?;
            let bytes = keys::random_bytes(params.count.unwrap_or(0))?;
            Ok(json_response(
                StatusCode::OK,
                &RandomBytes {
                    value: URL_SAFE_NO_PAD.encode(bytes),
                },
            ))
        }
        other => Err(ApiError::internal(std::io::Error::other(format!(
            "{} is not a key crypto operation",
            other.operation_id()
        )))),
    }
}

/// The JSON payload of a release's JWS (`wire::KeyReleasePayload`).
fn release_payload(
    req: &DataRequest<'_>,
    nonce: Option<String>,
    released: &ReleasedKey,
) -> Result<Vec<u8>, ApiError> {
    let mut bundle = crate::keys::bundle(req.origin, req.vault, &released.properties);
    let public = bundle.key.take().unwrap_or_default();
    let key_hsm = KeyHsmBlob {
        schema_version: "1.0".to_owned(),
        header: KeyHsmHeader {
            kid: released.target_kid.clone(),
            alg: "dir".to_owned(),
            enc: released.wrapping.as_str().to_owned(),
        },
        ciphertext: URL_SAFE_NO_PAD.encode(&released.ciphertext),
    };
    let key_hsm = serde_json::to_vec(&key_hsm).map_err(ApiError::internal)?;
    let payload = KeyReleasePayload {
        request: KeyReleaseRequestEcho {
            api_version: req.api_version.to_owned(),
            enc: released.wrapping.as_str().to_owned(),
            kid: public.kid.clone().unwrap_or_default(),
            nonce,
        },
        response: KeyReleaseResponse {
            key: ReleasedKeyBundle {
                key: ReleasedJsonWebKey {
                    public,
                    key_hsm: URL_SAFE_NO_PAD.encode(key_hsm),
                },
                bundle,
            },
        },
    };
    serde_json::to_vec(&payload).map_err(ApiError::internal)
}

/// A `KeyOperationResult` on its way out; `with_aad` finishes it (GCM echoes the aad).
struct OperationResponse(KeyOperationResult);

impl OperationResponse {
    fn with_aad(mut self, aad: Option<&[u8]>) -> Response {
        self.0.aad = aad.map(|aad| URL_SAFE_NO_PAD.encode(aad));
        json_response(StatusCode::OK, &self.0)
    }
}

fn result(kid: String, value: &[u8], iv: Option<&[u8]>, tag: Option<&[u8]>) -> OperationResponse {
    OperationResponse(KeyOperationResult {
        kid: Some(kid),
        value: Some(URL_SAFE_NO_PAD.encode(value)),
        iv: iv.map(|iv| URL_SAFE_NO_PAD.encode(iv)),
        tag: tag.map(|tag| URL_SAFE_NO_PAD.encode(tag)),
        aad: None,
    })
}

/// The decoded inputs of an encrypt or decrypt.
struct CipherParts {
    data: Vec<u8>,
    iv: Option<Vec<u8>>,
    aad: Option<Vec<u8>>,
    tag: Option<Vec<u8>>,
}

impl CipherParts {
    fn decode(params: &KeyOperationsParameters) -> Result<Self, ApiError> {
        let optional =
            |property: &str, value: Option<&String>| -> Result<Option<Vec<u8>>, ApiError> {
                value.map(|text| bounded(property, text)).transpose()
            };
        Ok(Self {
            data: input("value", params.value.as_deref())?,
            iv: optional("iv", params.iv.as_ref())?,
            aad: optional("aad", params.aad.as_ref())?,
            tag: optional("tag", params.tag.as_ref())?,
        })
    }

    fn input(&self) -> CipherInput<'_> {
        CipherInput {
            data: &self.data,
            iv: self.iv.as_deref(),
            aad: self.aad.as_deref(),
            tag: self.tag.as_deref(),
        }
    }
}

/// A required base64url input.
fn input(property: &str, value: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let text = value.ok_or_else(|| {
        ApiError::BadParameter(format!("Property {property} has invalid value\r\n"))
    })?;
    bounded(property, text)
}

fn bounded(property: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    if text.len() > MAX_OPERATION_INPUT * 4 / 3 + 4 {
        return Err(ApiError::BadParameter(format!(
            "Property {property} has invalid value\r\n"
        )));
    }
    b64(property, text)
}

/// AZURE-ERRORS.md 6.11: a missing or unknown `alg` is "Property  has invalid value" with
/// the property name left empty, as recorded.
fn missing_algorithm() -> ApiError {
    ApiError::BadParameter("Property  has invalid value\r\n".to_owned())
}

fn signature_algorithm(raw: Option<&str>) -> Result<SignatureAlgorithm, ApiError> {
    raw.and_then(SignatureAlgorithm::parse)
        .ok_or_else(missing_algorithm)
}

fn encryption_algorithm(raw: Option<&str>) -> Result<EncryptionAlgorithm, ApiError> {
    raw.and_then(EncryptionAlgorithm::parse)
        .ok_or_else(missing_algorithm)
}
