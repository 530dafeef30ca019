//! What interactive sign-in hands out besides access tokens: authorization codes, refresh
//! tokens, the sign-in session cookie and device codes (the [`Artifact`]s), the OpenID
//! Connect `id_token`, `client_info`, and the PKCE check.
//!
//! Every artifact is a JWT signed with the deployment's token key, so any node of a
//! deployment can open what another issued without shared state; each carries its own
//! audience (`urn:strongroom:…`), so one kind is never accepted as another, nor as an access
//! token (whose audiences are resources). What must happen at most once (redeeming a code, a
//! refresh token or an approved device code) is settled by the store's `claim_once` on the
//! artifact's `jti`, by the caller. An artifact names the key id of the password it was
//! obtained with, so a new password (or a deleted user) ends it like the access tokens.
//!
//! The `id_token` is for the client, which only decodes it (MSAL does not check its
//! signature); it is signed anyway, with the same key, so tools that do check can.

use crate::token::TokenIssuer;
use crate::{IdentityError, IssuedToken, UserAccount};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_model::UnixTime;
use subtle_compare::equal;

/// A signed, self-contained grant of one kind.
pub trait Artifact: Serialize + DeserializeOwned {
    /// The `aud` that marks this kind.
    const AUDIENCE: &'static str;
    /// Seconds from issue to expiry.
    const LIFETIME_SECONDS: i64;
}

/// An authorization code: what the user approved, for whom, and the PKCE challenge the
/// redemption must answer. Ten minutes, as Entra's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub jti: String,
    pub oid: String,
    pub tid: String,
    pub cred: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub scope: String,
    pub auth_time: i64,
}

impl Artifact for AuthorizationCode {
    const AUDIENCE: &'static str = "urn:strongroom:authorization-code";
    const LIFETIME_SECONDS: i64 = 600;
}

/// A refresh token: single use (each redemption returns a new one), 90 days, as Entra's
/// inactivity limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub jti: String,
    pub oid: String,
    pub tid: String,
    pub cred: String,
    pub client_id: String,
    pub auth_time: i64,
}

impl Artifact for RefreshGrant {
    const AUDIENCE: &'static str = "urn:strongroom:refresh-token";
    const LIFETIME_SECONDS: i64 = 90 * 86_400;
}

/// The sign-in session behind the identity provider's cookie: who signed in, so the next
/// authorization request in this browser needs no password. Twelve hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSession {
    pub sid: String,
    pub oid: String,
    pub tid: String,
    pub cred: String,
    pub auth_time: i64,
}

impl Artifact for SignInSession {
    const AUDIENCE: &'static str = "urn:strongroom:sign-in-session";
    const LIFETIME_SECONDS: i64 = 12 * 3600;
}

/// A device code (RFC 8628): the client polls with it; the user code it names is what the
/// person types on the verification page. Fifteen minutes, as Entra's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub jti: String,
    pub user_code: String,
    pub client_id: String,
    pub tid: String,
    pub scope: String,
}

impl Artifact for DeviceGrant {
    const AUDIENCE: &'static str = "urn:strongroom:device-code";
    const LIFETIME_SECONDS: i64 = 900;
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(flatten)]
    body: T,
}

/// Why an artifact was not accepted. The token endpoint answers both as `invalid_grant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactRefusal {
    /// Not ours, tampered with, of another kind, or malformed.
    Invalid,
    Expired,
}

impl TokenIssuer {
    /// Signs `artifact`, valid from `now` for its kind's lifetime.
    pub fn seal_artifact<A: Artifact>(
        &self,
        artifact: &A,
        now: UnixTime,
    ) -> Result<String, IdentityError> {
        self.sign(&Envelope {
            aud: A::AUDIENCE.to_owned(),
            iat: now.0,
            exp: now.0.saturating_add(A::LIFETIME_SECONDS),
            body: artifact,
        })
    }

    /// The artifact `token` carries, if this deployment signed it as an `A` and it has not
    /// expired at `now`.
    pub fn open_artifact<A: Artifact>(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<A, ArtifactRefusal> {
        let envelope: Envelope<A> = self
            .verify_signed(token.trim())
            .ok_or(ArtifactRefusal::Invalid)?;
        if envelope.aud != A::AUDIENCE {
            return Err(ArtifactRefusal::Invalid);
        }
        if now.0 >= envelope.exp {
            return Err(ArtifactRefusal::Expired);
        }
        Ok(envelope.body)
    }

    /// The OpenID Connect `id_token` for `user` signed in through `client_id`: Entra's v2
    /// claims (MSAL builds the account from `tid`, `oid`, `preferred_username`; the
    /// authorization-code flow requires `nonce` to be echoed).
    pub fn id_token(
        &self,
        user: &UserAccount,
        client_id: &str,
        nonce: Option<&str>,
        origin: &str,
        now: UnixTime,
    ) -> Result<String, IdentityError> {
        let tid = &user.principal.tenant_id;
        let mut claims = json!({
            "aud": client_id.to_ascii_lowercase(),
            "iss": format!("{}/{tid}/v2.0", origin.trim_end_matches('/')),
            "iat": now.0,
            "nbf": now.0,
            "exp": now.0 + crate::TOKEN_LIFETIME_SECONDS,
            "name": user.principal.display_name,
            "oid": user.principal.object_id,
            "preferred_username": user.user_principal_name,
            "sub": user.principal.object_id,
            "tid": tid,
            "ver": "2.0",
        });
        if let (Some(nonce), Value::Object(map)) = (nonce, &mut claims) {
            map.insert("nonce".to_owned(), Value::String(nonce.to_owned()));
        }
        self.sign(&claims)
    }
}

/// Entra's `client_info`: base64url of `{"uid": oid, "utid": tid}`, from which MSAL makes
/// the account's home id.
pub fn client_info(object_id: &str, tenant_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!({"uid": object_id, "utid": tenant_id}).to_string())
}

/// The token endpoint's answer to a user's grant: the access token, a new refresh token,
/// the `id_token`, `client_info`, and the scope granted (MSAL files the access token under
/// it; a device-code poll carries no scope of its own).
pub fn user_token_response(
    issued: &IssuedToken,
    scope: &str,
    refresh_token: &str,
    id_token: &str,
    client_info: &str,
) -> Value {
    json!({
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": issued.expires_in,
        "ext_expires_in": issued.expires_in,
        "access_token": issued.access_token,
        "refresh_token": refresh_token,
        "id_token": id_token,
        "client_info": client_info,
    })
}

/// RFC 7636 S256: whether `verifier` (43 to 128 unreserved characters) hashes to
/// `challenge`. Compared in constant time.
pub fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    // Compute the comparison whatever the shape, then combine.
    equal(computed.as_bytes(), challenge.as_bytes()) && well_formed
}

/// A fresh random identifier for an artifact's `jti` or a session id (128 bits, base64url).
pub fn new_artifact_id() -> Result<String, IdentityError> {
    Ok(strongroom_crypto::random_token(16)?)
}

/// Constant-time equality of two byte strings (their lengths are not secret), for CSRF
/// tokens and the like.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle_compare::equal(a, b)
}

/// Random bytes and base64url tokens for the sign-in layer (CSRF tokens, user codes).
pub use strongroom_crypto::{random_bytes, random_token};

mod subtle_compare {
    /// Constant-time equality of two byte strings (length is not secret here).
    pub(super) fn equal(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, verifier));
        assert!(!pkce_matches(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"
        ));
        assert!(!pkce_matches(challenge, ""));
        assert!(!pkce_matches("", verifier));
        // Too short to be a verifier, even if it hashed right.
        let short = "abc";
        let short_challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, b"abc"));
        assert!(!pkce_matches(&short_challenge, short));
    }

    #[test]
    fn client_info_is_msals_shape() {
        let info = client_info("o-id", "t-id");
        let decoded = URL_SAFE_NO_PAD.decode(info).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).unwrap(),
            json!({"uid": "o-id", "utid": "t-id"})
        );
    }
}
