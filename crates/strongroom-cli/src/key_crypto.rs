//! `keyvault key encrypt|decrypt|sign|verify|random`: the keys API's cryptographic operations.
//!
//! As az: `--value` of encrypt is base64 (or text with `--data-type plaintext`), `--value` of
//! decrypt, `--digest` and `--signature` are base64, `--iv`, `--tag` and `--aad` are hex; the
//! wire takes base64url. Outputs are az's: `transform_key_encryption_output` and
//! `transform_key_decryption_output` (`kid`, `result`, `algorithm`, hex `iv`/`tag`/`aad`), the
//! SDK's `SignResult` / `VerifyResult` (`keyId`, `signature` / `isValid`), and
//! `{"value": base64}` for random bytes.
//!
//! The operation runs on the server, always. Without `--version` the key is read first (GET,
//! as the SDK's `CryptographyClient` does) so the call names a version. Plaintext stays in
//! zeroizing buffers until it is encoded into the request; decrypt prints it because that is
//! the command's purpose.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Method;
use serde::Serialize;
use serde_json::{Value, json};
use strongroom_model::SecretValue;
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::key_command::{
    DecryptArgs, EncryptArgs, KeyOperationArgs, RandomArgs, SignArgs, VerifyArgs,
};
use crate::key_output::{self, decode_base64url};
use crate::keys::VaultCall;
use crate::session::Session;

/// `KeyOperationsParameters` (encrypt, decrypt), `KeySignParameters` and
/// `KeyVerifyParameters` share these names.
#[derive(Serialize)]
struct OperationParameters<'a> {
    alg: &'a str,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aad: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

impl<'a> OperationParameters<'a> {
    fn new(alg: &'a str, value: &'a str) -> Self {
        Self {
            alg,
            value,
            digest: None,
            iv: None,
            aad: None,
            tag: None,
        }
    }
}

/// The vault, the key's name and version, and its id.
struct KeyVersion {
    call: VaultCall,
    name: String,
    version: String,
    kid: String,
}

impl KeyVersion {
    /// `--version`, or the latest version as the server names it in the key's `kid`.
    async fn resolve(session: &Session, args: &KeyOperationArgs) -> Result<Self, CliError> {
        let call = VaultCall::open(session, &args.key.vault_name).await?;
        let name = args.key.name.clone();
        if let Some(version) = args
            .version
            .as_deref()
            .filter(|version| !version.is_empty())
        {
            let kid = format!("{}/keys/{name}/{version}", call.vault_url());
            return Ok(Self {
                version: version.to_owned(),
                call,
                name,
                kid,
            });
        }
        let target = call.target(&["keys", &name, ""], None);
        let bundle = session.call(Method::GET, &target, &call.token).await?;
        let kid = bundle["key"]["kid"].as_str().unwrap_or_default().to_owned();
        let version = kid.rsplit('/').next().unwrap_or_default().to_owned();
        if version.is_empty() || !kid.contains("/keys/") {
            return Err(CliError::UnexpectedBody {
                method: Method::GET,
                url: target.to_string(),
                detail: "the key bundle has no versioned `key.kid`".to_owned(),
            });
        }
        Ok(Self {
            call,
            name,
            version,
            kid,
        })
    }

    async fn post(
        &self,
        session: &Session,
        operation: &str,
        body: &OperationParameters<'_>,
    ) -> Result<Value, CliError> {
        let target = self
            .call
            .target(&["keys", &self.name, &self.version, operation], None);
        session
            .call_json(Method::POST, &target, &self.call.token, body)
            .await
    }
}

fn base64_argument(flag: &str, raw: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    STANDARD
        .decode(raw.trim())
        .map(Zeroizing::new)
        .map_err(|error| CliError::Usage(format!("{flag} is not valid base64: {error}")))
}

/// A hex argument (`--iv`, `--tag`, `--aad`) as base64url for the wire.
fn hex_argument(flag: &str, raw: Option<&str>) -> Result<Option<String>, CliError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let invalid = || CliError::Usage(format!("{flag} is not valid hex"));
    if raw.len() % 2 != 0 {
        return Err(invalid());
    }
    let bytes = (0..raw.len())
        .step_by(2)
        .map(|index| {
            raw.get(index..index + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    Ok(Some(URL_SAFE_NO_PAD.encode(bytes)))
}

fn base64url_secret(bytes: &[u8]) -> SecretValue {
    let mut text = String::new();
    URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
    SecretValue::new(text)
}

/// `key encrypt`: POST `/keys/{name}/{version}/encrypt`.
pub(crate) async fn encrypt(session: &Session, args: &EncryptArgs) -> Result<Value, CliError> {
    let plaintext = match args.data_type {
        "plaintext" => Zeroizing::new(args.value.expose().as_bytes().to_vec()),
        _ => base64_argument("--value", args.value.expose())?,
    };
    let value = base64url_secret(&plaintext);
    let mut body = OperationParameters::new(args.algorithm, value.expose());
    body.iv = hex_argument("--iv", args.iv.as_deref())?;
    body.aad = hex_argument("--aad", args.aad.as_deref())?;
    let key = KeyVersion::resolve(session, &args.target).await?;
    let result = key.post(session, "encrypt", &body).await?;
    Ok(json!({
        "kid": result["kid"],
        "result": key_output::standard_base64(&result["value"]),
        "algorithm": args.algorithm,
        "iv": key_output::hex(&result["iv"]),
        "tag": key_output::hex(&result["tag"]),
        "aad": key_output::hex(&result["aad"]),
    }))
}

/// `key decrypt`: POST `/keys/{name}/{version}/decrypt`; the result as text with
/// `--data-type plaintext`, else base64.
pub(crate) async fn decrypt(session: &Session, args: &DecryptArgs) -> Result<Value, CliError> {
    let ciphertext = base64_argument("--value", &args.value)?;
    let value = URL_SAFE_NO_PAD.encode(ciphertext.as_slice());
    let mut body = OperationParameters::new(args.algorithm, &value);
    body.iv = hex_argument("--iv", args.iv.as_deref())?;
    body.tag = hex_argument("--tag", args.tag.as_deref())?;
    body.aad = hex_argument("--aad", args.aad.as_deref())?;
    let key = KeyVersion::resolve(session, &args.target).await?;
    let answer = key.post(session, "decrypt", &body).await?;
    let plaintext = Zeroizing::new(
        answer["value"]
            .as_str()
            .and_then(decode_base64url)
            .unwrap_or_default(),
    );
    let result = match args.data_type {
        "plaintext" => Value::String(
            std::str::from_utf8(&plaintext)
                .map_err(|_| {
                    CliError::Usage(
                        "the decrypted value is not UTF-8 text; use --data-type base64".to_owned(),
                    )
                })?
                .to_owned(),
        ),
        _ => Value::String(STANDARD.encode(plaintext.as_slice())),
    };
    Ok(json!({ "kid": answer["kid"], "result": result, "algorithm": args.algorithm }))
}

/// `key sign`: POST `/keys/{name}/{version}/sign`; prints the SDK's `SignResult`.
pub(crate) async fn sign(session: &Session, args: &SignArgs) -> Result<Value, CliError> {
    let digest = URL_SAFE_NO_PAD.encode(base64_argument("--digest", &args.digest)?.as_slice());
    let body = OperationParameters::new(args.algorithm, &digest);
    let key = KeyVersion::resolve(session, &args.target).await?;
    let answer = key.post(session, "sign", &body).await?;
    Ok(json!({
        "algorithm": args.algorithm,
        "keyId": answer["kid"],
        "signature": key_output::standard_base64(&answer["value"]),
    }))
}

/// `key verify`: POST `/keys/{name}/{version}/verify`; prints the SDK's `VerifyResult`.
pub(crate) async fn verify(session: &Session, args: &VerifyArgs) -> Result<Value, CliError> {
    let digest = URL_SAFE_NO_PAD.encode(base64_argument("--digest", &args.digest)?.as_slice());
    let signature =
        URL_SAFE_NO_PAD.encode(base64_argument("--signature", &args.signature)?.as_slice());
    let mut body = OperationParameters::new(args.algorithm, &signature);
    body.digest = Some(digest);
    let key = KeyVersion::resolve(session, &args.target).await?;
    let answer = key.post(session, "verify", &body).await?;
    Ok(json!({
        "algorithm": args.algorithm,
        "isValid": answer["value"],
        "keyId": key.kid,
    }))
}

/// `key random`: POST `/rng`; prints `{"value": base64}`.
pub(crate) async fn random(session: &Session, args: &RandomArgs) -> Result<Value, CliError> {
    let call = VaultCall::open(session, &args.vault_name).await?;
    let target = call.target(&["rng"], None);
    let answer = session
        .call_json(
            Method::POST,
            &target,
            &call.token,
            &json!({ "count": args.count }),
        )
        .await?;
    Ok(json!({ "value": key_output::standard_base64(&answer["value"]) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_arguments() {
        assert_eq!(
            hex_argument("--iv", Some("00ff10")).unwrap(),
            Some("AP8Q".to_owned())
        );
        assert_eq!(hex_argument("--iv", None).unwrap(), None);
        assert_eq!(
            hex_argument("--iv", Some("0g")).unwrap_err().line(),
            "ERROR: --iv is not valid hex"
        );
        assert!(hex_argument("--iv", Some("abc")).is_err());
        assert!(hex_argument("--iv", Some("é0")).is_err());
        assert_eq!(
            base64_argument("--value", "AP8Q").unwrap().as_slice(),
            [0, 255, 16]
        );
        assert!(base64_argument("--digest", "not base64!").is_err());
    }
}
