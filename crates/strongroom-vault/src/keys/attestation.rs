//! Secure key release's trust: the attestation authorities this deployment trusts (each a URL
//! and the RSA keys of its JWKS, read at start-up), the verification of a target attestation
//! token (a JWT: `RS256` or `PS256`, `kid` in the authority's JWKS, `iss` the authority,
//! `exp`/`nbf` against the injected clock), the target's wrapping key from its claims, and
//! the deployment's release-signing key that signs the released-key JWS.
//!
//! Nothing here reads the network: an authority's keys are what the operator configured, so
//! release works offline and trusts exactly what it was told to.

use super::release_policy::same_authority;
use crate::VaultError;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;
use strongroom_crypto::keys::PublicKey;
use strongroom_crypto::{AssertionAlgorithm, RsaSigningKey, rsa_signature_verifies};
use strongroom_model::UnixTime;

// Inferred messages in the style of AZURE-ERRORS.md 6.14: the codes are ours, not observed.
pub(crate) const SKR_INVALID_POLICY: &str = "AKV.SKR.1010";
pub(crate) const SKR_INVALID_TOKEN: &str = "AKV.SKR.1030";
pub(crate) const SKR_TOKEN_EXPIRED: &str = "AKV.SKR.1031";
pub(crate) const SKR_UNTRUSTED_AUTHORITY: &str = "AKV.SKR.1032";
pub(crate) const SKR_POLICY_NOT_SATISFIED: &str = "AKV.SKR.1033";
pub(crate) const SKR_NO_WRAPPING_KEY: &str = "AKV.SKR.1034";

pub(crate) fn skr_error(code: &str, message: impl fmt::Display) -> VaultError {
    VaultError::InvalidParameter(format!("{code}: {message}"))
}

/// An attestation authority this deployment trusts: its URL (a release policy's
/// `authority`, a token's `iss`) and its token-signing keys.
#[derive(Clone)]
pub struct AttestationAuthority {
    url: String,
    /// `(kid, n, e)` of each RSA key of its JWKS.
    keys: Vec<(String, Vec<u8>, Vec<u8>)>,
}

impl AttestationAuthority {
    /// From the authority's URL and its JWKS document (`{"keys": [...]}`): RSA keys with
    /// `n`/`e`, or with only `x5c` (as Microsoft Azure Attestation publishes them). Keys
    /// without a `kid`, and keys of other types, are skipped; at least one must remain.
    pub fn from_jwks(url: &str, jwks: &[u8]) -> Result<Self, VaultError> {
        let invalid = |why: &str| VaultError::InvalidParameter(format!("JWKS for {url}: {why}"));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(invalid("the authority must be an http(s) URL"));
        }
        let document: Value = serde_json::from_slice(jwks).map_err(|_| invalid("not JSON"))?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no \"keys\" array"))?;
        let mut keys = Vec::new();
        for entry in entries {
            let (Some(kid), Some("RSA")) = (
                entry.get("kid").and_then(Value::as_str),
                entry.get("kty").and_then(Value::as_str).or(Some("RSA")),
            ) else {
                continue;
            };
            if let Some((n, e)) = rsa_components(entry) {
                keys.push((kid.to_owned(), n, e));
            } else if let Some(der) = entry
                .get("x5c")
                .and_then(|chain| chain.get(0))
                .and_then(Value::as_str)
                .and_then(|text| STANDARD.decode(text).ok())
            {
                let info = strongroom_crypto::parse_client_certificate(&der)
                    .map_err(|_| invalid("an x5c certificate does not hold an RSA key"))?;
                let (n, e) = info.rsa_public();
                keys.push((kid.to_owned(), n.to_vec(), e.to_vec()));
            }
        }
        if keys.is_empty() {
            return Err(invalid("no RSA key with a kid"));
        }
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            keys,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn key(&self, kid: &str) -> Option<(&[u8], &[u8])> {
        self.keys
            .iter()
            .find(|(id, _, _)| id == kid)
            .map(|(_, n, e)| (n.as_slice(), e.as_slice()))
    }
}

impl fmt::Debug for AttestationAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestationAuthority")
            .field("url", &self.url)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The deployment's release-signing key and the certificate chain (`x5c`) that names it.
pub struct ReleaseSigner {
    key: RsaSigningKey,
    x5c: Vec<String>,
    thumbprint: String,
}

impl ReleaseSigner {
    /// From an RSA private key (PKCS#8 DER) and its certificate chain, leaf first.
    pub fn new(key_pkcs8: &[u8], chain_der: &[Vec<u8>]) -> Result<Self, VaultError> {
        let key = RsaSigningKey::from_pkcs8(key_pkcs8)?;
        let leaf = chain_der
            .first()
            .ok_or_else(|| VaultError::InvalidParameter("the signing chain is empty".to_owned()))?;
        let info = strongroom_crypto::parse_client_certificate(leaf)?;
        if info.rsa_public()
            != (
                key.public_components().0.as_slice(),
                key.public_components().1.as_slice(),
            )
        {
            return Err(VaultError::InvalidParameter(
                "the signing certificate does not certify the signing key".to_owned(),
            ));
        }
        Ok(Self {
            key,
            x5c: chain_der.iter().map(|der| STANDARD.encode(der)).collect(),
            thumbprint: URL_SAFE_NO_PAD.encode(info.sha256),
        })
    }

    /// A compact JWS (`RS256`) of `payload`; the header names the key by `kid` (the leaf's
    /// SHA-256 thumbprint, also `x5t#S256`) and carries the chain in `x5c`, like Azure's.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<String, VaultError> {
        let header = json!({
            "alg": "RS256",
            "kid": self.thumbprint,
            "x5t#S256": self.thumbprint,
            "typ": "JWT",
            "x5c": self.x5c,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.key.sign_rs256(signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

impl fmt::Debug for ReleaseSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleaseSigner")
            .field("kid", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// What secure key release needs from the deployment: the trusted authorities and the
/// signing key. The default trusts nobody and cannot sign, so every release is refused.
#[derive(Debug, Clone, Default)]
pub struct ReleaseConfig {
    pub authorities: Vec<AttestationAuthority>,
    pub signer: Option<Arc<ReleaseSigner>>,
}

impl ReleaseConfig {
    pub(crate) fn authority(&self, url: &str) -> Option<&AttestationAuthority> {
        self.authorities
            .iter()
            .find(|authority| same_authority(&authority.url, url))
    }
}

/// A verified attestation token: its issuer and claims.
#[derive(Debug)]
pub(crate) struct VerifiedToken {
    pub(crate) issuer: String,
    pub(crate) claims: Value,
}

/// Verifies `token` as issued by one of `candidates` (authorities the key's policy names
/// and this deployment trusts) and valid at `now`.
pub(crate) fn verify_token(
    token: &str,
    candidates: &[&AttestationAuthority],
    now: UnixTime,
) -> Result<VerifiedToken, VaultError> {
    let invalid = |why: &str| {
        skr_error(
            SKR_INVALID_TOKEN,
            format_args!("The target attestation token is invalid: {why}."),
        )
    };
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("it is not a compact JWS"));
    };
    let decode_json = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
    };
    let header_json =
        decode_json(header).ok_or_else(|| invalid("the header is not base64url JSON"))?;
    let claims =
        decode_json(payload).ok_or_else(|| invalid("the payload is not base64url JSON"))?;
    if !claims.is_object() {
        return Err(invalid("the payload is not a JSON object"));
    }
    let algorithm = match header_json.get("alg").and_then(Value::as_str) {
        Some("RS256") => AssertionAlgorithm::Rs256,
        Some("PS256") => AssertionAlgorithm::Ps256,
        _ => return Err(invalid("alg must be RS256 or PS256")),
    };
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("it has no iss"))?;
    let authority = candidates
        .iter()
        .find(|authority| same_authority(&authority.url, issuer))
        .ok_or_else(|| {
            skr_error(
                SKR_UNTRUSTED_AUTHORITY,
                format_args!(
                    "The target attestation token's issuer '{issuer}' is not a trusted authority of the key release policy."
                ),
            )
        })?;
    let kid = header_json
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the header has no kid"))?;
    let (n, e) = authority
        .key(kid)
        .ok_or_else(|| invalid("its kid names no key of the authority"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("the signature is not base64url"))?;
    let signing_input = &token.trim()[..header.len() + 1 + payload.len()];
    if !rsa_signature_verifies(algorithm, n, e, signing_input.as_bytes(), &signature) {
        return Err(invalid("the signature does not verify"));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let expired = |why: &str| {
        skr_error(
            SKR_TOKEN_EXPIRED,
            format_args!("The target attestation token {why}."),
        )
    };
    match time("exp") {
        Some(exp) if now.seconds() >= exp => return Err(expired("has expired")),
        Some(_) => {}
        None => return Err(invalid("it has no exp")),
    }
    if time("nbf").is_some_and(|nbf| now.seconds() < nbf) {
        return Err(expired("is not yet valid"));
    }
    Ok(VerifiedToken {
        issuer: issuer.to_owned(),
        claims,
    })
}

/// The target's wrapping key: from `x-ms-runtime.keys` (or, in a confidential VM's token,
/// `x-ms-isolation-tee.x-ms-runtime.keys`), the RSA key whose `key_ops` include "encrypt",
/// else the first RSA key. Returns its `kid` (if any) and public key.
pub(crate) fn wrapping_key(claims: &Value) -> Result<(Option<String>, PublicKey), VaultError> {
    let runtime_keys = ["x-ms-runtime", "x-ms-isolation-tee.x-ms-runtime"]
        .into_iter()
        .filter_map(|path| super::release_policy::lookup(claims, path))
        .filter_map(|runtime| runtime.get("keys").and_then(Value::as_array))
        .flatten();
    let rsa_keys: Vec<(&Value, RsaComponents)> = runtime_keys
        .filter(|key| key.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter_map(|key| Some((key, rsa_components(key)?)))
        .collect();
    let encrypts = |key: &Value| {
        key.get("key_ops")
            .and_then(Value::as_array)
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("encrypt")))
    };
    let (chosen, (n, e)) = rsa_keys
        .iter()
        .find(|(key, _)| encrypts(key))
        .or_else(|| rsa_keys.first())
        .cloned()
        .ok_or_else(|| {
            skr_error(
                SKR_NO_WRAPPING_KEY,
                "The target attestation token carries no RSA key to wrap the released key (x-ms-runtime.keys).",
            )
        })?;
    let kid = chosen.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((kid, PublicKey::Rsa { n, e }))
}

/// An RSA public key's `(n, e)`, big-endian.
type RsaComponents = (Vec<u8>, Vec<u8>);

/// A JWK's base64url `n` and `e`.
fn rsa_components(jwk: &Value) -> Option<RsaComponents> {
    let part = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|text| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())
            .filter(|bytes| !bytes.is_empty())
    };
    Some((part("n")?, part("e")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use strongroom_crypto::generate_rsa_signing_key;

    const MAA: &str = "https://maa.example.test";
    const NOW: UnixTime = UnixTime(1_800_000_000);

    struct Authority {
        key: RsaSigningKey,
        trusted: AttestationAuthority,
    }

    fn authority(url: &str) -> Authority {
        let key = RsaSigningKey::from_pkcs8(generate_rsa_signing_key().unwrap().expose()).unwrap();
        let (n, e) = key.public_components();
        let jwks = json!({"keys": [
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "k1", "n": URL_SAFE_NO_PAD.encode(&n), "e": URL_SAFE_NO_PAD.encode(&e)}
        ]});
        let trusted = AttestationAuthority::from_jwks(url, jwks.to_string().as_bytes()).unwrap();
        Authority { key, trusted }
    }

    fn token(signer: &RsaSigningKey, alg: &str, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match alg {
            "PS256" => signer.sign_ps256(input.as_bytes()).unwrap(),
            _ => signer.sign_rs256(input.as_bytes()).unwrap(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn claims(iss: &str) -> Value {
        json!({"iss": iss, "nbf": NOW.seconds() - 60, "exp": NOW.seconds() + 600,
               "x-ms-attestation-type": "sevsnpvm"})
    }

    #[track_caller]
    fn check(token: &str, trusted: &[&AttestationAuthority], expect: Expect) {
        let outcome = match verify_token(token, trusted, NOW) {
            Ok(verified) => format!("ok iss={}", verified.issuer),
            Err(err) => err.to_string(),
        };
        expect.assert_eq(&outcome);
    }

    #[test]
    fn token_verification() {
        let maa = authority(MAA);
        let other = authority("https://other.example.test/");
        let trusted = [&maa.trusted];
        let good = claims(MAA);
        check(
            &token(&maa.key, "RS256", "k1", &good),
            &trusted,
            expect!["ok iss=https://maa.example.test"],
        );
        check(
            &token(&maa.key, "PS256", "k1", &good),
            &trusted,
            expect!["ok iss=https://maa.example.test"],
        );
        check(
            &token(&maa.key, "RS256", "k1", &claims(&format!("{MAA}/"))),
            &trusted,
            expect!["ok iss=https://maa.example.test/"],
        );
        check(
            &token(
                &maa.key,
                "RS256",
                "k1",
                &claims("https://evil.example.test"),
            ),
            &trusted,
            expect![
                "AKV.SKR.1032: The target attestation token's issuer 'https://evil.example.test' is not a trusted authority of the key release policy."
            ],
        );
        check(
            &token(
                &other.key,
                "RS256",
                "k1",
                &claims("https://other.example.test"),
            ),
            &trusted,
            expect![
                "AKV.SKR.1032: The target attestation token's issuer 'https://other.example.test' is not a trusted authority of the key release policy."
            ],
        );
        // Signed by another authority's key but claiming to be MAA.
        check(
            &token(&other.key, "RS256", "k1", &good),
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: the signature does not verify."
            ],
        );
        check(
            &token(&maa.key, "RS256", "k2", &good),
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: its kid names no key of the authority."
            ],
        );
        check(
            &token(&maa.key, "RS256", "ec", &good),
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: its kid names no key of the authority."
            ],
        );
        check(
            &token(&maa.key, "HS256", "k1", &good),
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: alg must be RS256 or PS256."
            ],
        );
        check(
            &token(&maa.key, "none", "k1", &good),
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: alg must be RS256 or PS256."
            ],
        );
        let mut expired = good.clone();
        expired["exp"] = json!(NOW.seconds());
        check(
            &token(&maa.key, "RS256", "k1", &expired),
            &trusted,
            expect!["AKV.SKR.1031: The target attestation token has expired."],
        );
        let mut early = good.clone();
        early["nbf"] = json!(NOW.seconds() + 1);
        check(
            &token(&maa.key, "RS256", "k1", &early),
            &trusted,
            expect!["AKV.SKR.1031: The target attestation token is not yet valid."],
        );
        let mut no_exp = good.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        check(
            &token(&maa.key, "RS256", "k1", &no_exp),
            &trusted,
            expect!["AKV.SKR.1030: The target attestation token is invalid: it has no exp."],
        );

        // Tampering with the payload after signing.
        let signed = token(&maa.key, "RS256", "k1", &good);
        let parts: Vec<&str> = signed.split('.').collect();
        let mut debuggable = good.clone();
        debuggable["x-ms-attestation-type"] = json!("sgx");
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(debuggable.to_string()),
            parts[2]
        );
        check(
            &tampered,
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: the signature does not verify."
            ],
        );
        check(
            "a.b",
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: it is not a compact JWS."
            ],
        );
        check(
            "eyJhbGciOiJub25lIn0.e30.",
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: alg must be RS256 or PS256."
            ],
        );
        check(
            "!.!.!",
            &trusted,
            expect![
                "AKV.SKR.1030: The target attestation token is invalid: the header is not base64url JSON."
            ],
        );
    }

    #[test]
    fn jwks_needs_an_rsa_key_with_a_kid() {
        let outcome = |url: &str, jwks: Value| match AttestationAuthority::from_jwks(
            url,
            jwks.to_string().as_bytes(),
        ) {
            Ok(authority) => format!("{authority:?}"),
            Err(err) => err.to_string(),
        };
        expect!["JWKS for https://a: no RSA key with a kid"].assert_eq(&outcome(
            "https://a",
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}),
        ));
        expect![[r#"JWKS for https://a: no "keys" array"#]]
            .assert_eq(&outcome("https://a", json!({})));
        expect!["JWKS for maa: the authority must be an http(s) URL"]
            .assert_eq(&outcome("maa", json!({"keys": []})));
        expect![[r#"AttestationAuthority { url: "https://a", keys: 1 }"#]].assert_eq(&outcome(
            "https://a/",
            json!({"keys": [{"kid": "x", "n": "AQAB", "e": "AQAB"}]}),
        ));
    }

    #[test]
    fn wrapping_key_prefers_an_encrypt_key_of_the_runtime_claims() {
        let rsa = |kid: &str, ops: Value| json!({"kid": kid, "kty": "RSA", "n": "AQAB", "e": "AQAB", "key_ops": ops});
        let pick = |claims: Value| match wrapping_key(&claims) {
            Ok((kid, _)) => format!("{kid:?}"),
            Err(err) => err.to_string(),
        };
        expect![[r#"Some("enc")"#]].assert_eq(&pick(json!({"x-ms-runtime": {"keys": [rsa("sig", json!(["sign"])), rsa("enc", json!(["encrypt"]))]}})));
        expect![[r#"Some("sig")"#]].assert_eq(&pick(json!({"x-ms-runtime": {"keys": [{"kty": "EC", "kid": "ec"}, rsa("sig", json!(["sign"]))]}})));
        expect![[r#"Some("tpm")"#]].assert_eq(&pick(json!({"x-ms-isolation-tee": {"x-ms-runtime": {"keys": [rsa("tpm", json!(["encrypt"]))]}}})));
        expect!["AKV.SKR.1034: The target attestation token carries no RSA key to wrap the released key (x-ms-runtime.keys)."].assert_eq(&pick(json!({"x-ms-runtime": {"keys": []}})));
        expect!["AKV.SKR.1034: The target attestation token carries no RSA key to wrap the released key (x-ms-runtime.keys)."].assert_eq(&pick(json!({})));
    }
}
