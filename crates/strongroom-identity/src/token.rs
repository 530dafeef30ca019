//! Issuing access tokens: the deployment's RS256 signing key, the claims we put in a token, the
//! JWKS that publishes the public half, and the token endpoint's success bodies.
//!
//! The signing key is created on first start and kept in store meta `token-signing-key`,
//! sealed by the master key (authenticated data `Aad::deployment("token-signing-key")`), so
//! tokens stay valid across restarts and the store never holds it in the clear.
//!
//! Tokens look like Entra's v1 access tokens (`iss = https://sts.<host>/<tid>/`, `appid`,
//! `idtyp`, `ver = 1.0`); no client decodes them (CLIENT-PROTOCOL.md §3.10), only our verifier.

use crate::{IdentityConfig, IdentityError, TokenVerifier};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;
use strongroom_crypto::{Aad, MasterKey, RsaSigningKey, generate_rsa_signing_key};
use strongroom_model::{ObjectId, Sealed, TenantId, UnixTime};
use strongroom_store::{PrincipalRow, Store};

/// Store meta key of the sealed token-signing key (PKCS#8 DER).
pub const SIGNING_KEY_META: &str = "token-signing-key";
/// How long an access token is valid (`exp - iat`).
pub const TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// The claims of a Strongroom access token. `strongroom_admin` is our own claim, present
/// (and `true`) only for deployment administrators.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) aud: String,
    pub(crate) iss: String,
    pub(crate) iat: i64,
    pub(crate) nbf: i64,
    pub(crate) exp: i64,
    pub(crate) appid: String,
    pub(crate) idtyp: String,
    pub(crate) oid: String,
    pub(crate) sub: String,
    pub(crate) tid: String,
    #[serde(default)]
    pub(crate) ver: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) strongroom_admin: bool,
    /// The key id of the credential the client authenticated with (revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) strongroom_cred: Option<String>,
    /// Delegated (user) tokens: Entra's `scp`, `upn`, `unique_name` and `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unique_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// The person a delegated token is for (absent for an application's own token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub user_principal_name: String,
    pub display_name: String,
}

/// Who a token is for and which resource it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub tenant_id: TenantId,
    pub object_id: ObjectId,
    pub app_id: String,
    /// The `aud` claim: the resource, e.g. `https://vault.azure.net` (see `resource_from_scope`).
    pub audience: String,
    pub is_admin: bool,
    /// The credential the client authenticated with; its deletion revokes the token.
    pub credential_id: Option<String>,
    /// A user's token (`idtyp: user`, `scp`, `upn`); `None` for an application's.
    pub user: Option<UserClaims>,
}

impl TokenRequest {
    /// A request for a client that has just authenticated, to reach `audience`.
    pub fn for_client(client: &AuthenticatedClient, audience: impl Into<String>) -> Self {
        let principal = &client.principal;
        Self {
            tenant_id: TenantId(principal.tenant_id.clone()),
            object_id: ObjectId(principal.object_id.clone()),
            app_id: principal.app_id.clone(),
            audience: audience.into(),
            is_admin: principal.is_admin,
            credential_id: Some(client.credential_id.clone()),
            user: None,
        }
    }

    /// A request for a signed-in user (`user`, its password's key id `credential_id`),
    /// through the public client `client_id`, to reach `audience`.
    pub fn for_user(
        user: &crate::UserAccount,
        credential_id: &str,
        client_id: &str,
        audience: impl Into<String>,
    ) -> Self {
        let principal = &user.principal;
        Self {
            tenant_id: TenantId(principal.tenant_id.clone()),
            object_id: ObjectId(principal.object_id.clone()),
            app_id: client_id.to_ascii_lowercase(),
            audience: audience.into(),
            is_admin: principal.is_admin,
            credential_id: Some(credential_id.to_owned()),
            user: Some(UserClaims {
                user_principal_name: user.user_principal_name.clone(),
                display_name: principal.display_name.clone(),
            }),
        }
    }
}

/// A principal that proved itself, and with which of its credentials.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub principal: PrincipalRow,
    /// The key id of the matching credential.
    pub credential_id: String,
}

/// A signed access token and the times the token endpoint reports.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT. A bearer credential: never log it.
    pub access_token: String,
    /// Seconds the client may use the token: 3599 for a one-hour token, as Entra reports it
    /// (the last second is for the time in transit).
    pub expires_in: i64,
    /// The `exp` claim.
    pub expires_on: UnixTime,
    /// The `nbf` claim.
    pub not_before: UnixTime,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("expires_on", &self.expires_on)
            .field("not_before", &self.not_before)
            .finish()
    }
}

/// The deployment's token issuer: the RS256 key, its `kid`, and the issuer host.
pub struct TokenIssuer {
    config: IdentityConfig,
    key: RsaSigningKey,
    kid: String,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    /// base64url of `{"typ":"JWT","alg":"RS256","kid":…}`, the same for every token.
    encoded_header: String,
    /// The public half, to open what this issuer signed (`signin.rs`'s artifacts).
    decoding: jsonwebtoken::DecodingKey,
}

impl TokenIssuer {
    /// Loads the signing key from the store, or creates and stores it on first start.
    pub async fn load_or_create(
        store: &dyn Store,
        master: &MasterKey,
        config: IdentityConfig,
    ) -> Result<TokenIssuer, IdentityError> {
        let aad = Aad::deployment(SIGNING_KEY_META);
        if let Some(sealed) = store.get_meta(SIGNING_KEY_META).await? {
            let pkcs8 = master
                .open(&aad, &Sealed::from(sealed))
                .map_err(IdentityError::SigningKey)?;
            return Self::from_pkcs8(pkcs8.expose(), config).map_err(|err| match err {
                IdentityError::Crypto(inner) => IdentityError::SigningKey(inner),
                other => other,
            });
        }
        let pkcs8 = generate_rsa_signing_key()?;
        let sealed = master.seal(&aad, pkcs8.expose())?;
        store.put_meta(SIGNING_KEY_META, sealed.as_bytes()).await?;
        let issuer = Self::from_pkcs8(pkcs8.expose(), config)?;
        tracing::info!(kid = %issuer.kid, "created the token-signing key");
        Ok(issuer)
    }

    fn from_pkcs8(pkcs8: &[u8], config: IdentityConfig) -> Result<Self, IdentityError> {
        let key = RsaSigningKey::from_pkcs8(pkcs8)?;
        let (modulus, exponent) = key.public_components();
        let kid = jwk_thumbprint(&modulus, &exponent);
        let header = jsonwebtoken::Header {
            typ: Some("JWT".to_owned()),
            alg: jsonwebtoken::Algorithm::RS256,
            kid: Some(kid.clone()),
            ..jsonwebtoken::Header::default()
        };
        let encoded_header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        let decoding = jsonwebtoken::DecodingKey::from_rsa_raw_components(&modulus, &exponent);
        Ok(Self {
            decoding,
            config,
            key,
            kid,
            modulus,
            exponent,
            encoded_header,
        })
    }

    /// The key id in every token header and in the JWKS: the RFC 7638 SHA-256 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    /// A verifier for the tokens this issuer signs.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(
            self.config.clone(),
            self.kid.clone(),
            &self.modulus,
            &self.exponent,
        )
    }

    /// Signs an access token for `request`, valid from `now` for `TOKEN_LIFETIME_SECONDS`.
    pub fn issue(
        &self,
        request: &TokenRequest,
        now: UnixTime,
    ) -> Result<IssuedToken, IdentityError> {
        let expires_on = now.plus_seconds(TOKEN_LIFETIME_SECONDS);
        let claims = AccessClaims {
            aud: request.audience.clone(),
            iss: self.config.issuer_for(&request.tenant_id.0),
            iat: now.0,
            nbf: now.0,
            exp: expires_on.0,
            appid: request.app_id.clone(),
            idtyp: if request.user.is_some() {
                "user"
            } else {
                "app"
            }
            .to_owned(),
            oid: request.object_id.0.clone(),
            sub: request.object_id.0.clone(),
            tid: request.tenant_id.0.clone(),
            ver: "1.0".to_owned(),
            strongroom_admin: request.is_admin,
            strongroom_cred: request.credential_id.clone(),
            scp: request
                .user
                .as_ref()
                .map(|_| "user_impersonation".to_owned()),
            upn: request.user.as_ref().map(|u| u.user_principal_name.clone()),
            unique_name: request.user.as_ref().map(|u| u.user_principal_name.clone()),
            name: request.user.as_ref().map(|u| u.display_name.clone()),
        };
        let token = self.sign(&claims)?;
        Ok(IssuedToken {
            access_token: token,
            expires_in: TOKEN_LIFETIME_SECONDS - 1,
            expires_on,
            not_before: now,
        })
    }

    /// A JWT of `claims` signed with the deployment key (RS256, our `kid`): access tokens,
    /// and the sign-in artifacts of `signin_artifacts.rs`, which carry their own audience so
    /// that none is accepted as another.
    pub(crate) fn sign(&self, claims: &impl Serialize) -> Result<String, IdentityError> {
        let mut token = self.encoded_header.clone();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
        let signature = self.key.sign_rs256(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// The claims of a JWT this issuer signed (RS256, any claims; the caller checks `aud` and
    /// `exp`). `None` for anything else.
    pub(crate) fn verify_signed<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = std::collections::HashSet::new();
        jsonwebtoken::decode::<T>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The JSON Web Key Set publishing the public key (`/{tenant}/discovery/v2.0/keys`).
    pub fn jwks(&self) -> Value {
        json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "kid": self.kid,
                "n": URL_SAFE_NO_PAD.encode(&self.modulus),
                "e": URL_SAFE_NO_PAD.encode(&self.exponent),
                "alg": "RS256",
            }]
        })
    }
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// RFC 7638 thumbprint of an RSA public key, base64url.
fn jwk_thumbprint(modulus: &[u8], exponent: &[u8]) -> String {
    // Members in lexicographic order, no whitespace, as RFC 7638 §3.2 requires.
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(exponent),
        URL_SAFE_NO_PAD.encode(modulus)
    );
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// The v2 token endpoint's success body (`/{tenant}/oauth2/v2.0/token`). Exactly these four
/// fields: `client_info` or `id_token` would break MSAL's cache (CLIENT-PROTOCOL.md §3.7), and
/// Rust's client needs `expires_in` as an integer.
pub fn token_response_v2(token: &IssuedToken) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "ext_expires_in": token.expires_in,
        "access_token": token.access_token,
    })
}

/// The v1 token endpoint's success body (`/{tenant}/oauth2/token`, `resource=`): the v2 body
/// plus `expires_on` and `not_before` (epoch seconds as strings) and `resource`.
pub fn token_response_v1(token: &IssuedToken, resource: &str) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "ext_expires_in": token.expires_in,
        "expires_on": token.expires_on.0.to_string(),
        "not_before": token.not_before.0.to_string(),
        "resource": resource,
        "access_token": token.access_token,
    })
}

/// The resource (the token's audience) named by a client-credentials `scope`: exactly one
/// `<resource>/.default`, space-separated from any OIDC scopes. `https://vault.azure.net/.default`
/// gives `https://vault.azure.net`; `https://management.azure.com//.default` keeps its slash.
pub fn resource_from_scope(scope: &str) -> Result<String, IdentityError> {
    const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];
    if scope.trim().is_empty() {
        return Err(IdentityError::MissingParameter {
            name: "scope".to_owned(),
        });
    }
    let invalid = || IdentityError::InvalidScope {
        scope: scope.to_owned(),
    };
    let mut resources = scope
        .split_whitespace()
        .filter(|item| !OIDC_SCOPES.contains(item))
        .map(|item| item.strip_suffix("/.default").ok_or_else(invalid));
    match (resources.next(), resources.next()) {
        (Some(Ok(resource)), None) if !resource.is_empty() => Ok(resource.to_owned()),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    #[track_caller]
    fn check_scope(scope: &str, expect: Expect) {
        let actual = match resource_from_scope(scope) {
            Ok(resource) => format!("Ok({resource})"),
            Err(err) => format!("Err({err})"),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn scopes() {
        check_scope(
            "https://vault.azure.net/.default",
            expect!["Ok(https://vault.azure.net)"],
        );
        check_scope(
            "https://vault.localhost:8443/.default",
            expect!["Ok(https://vault.localhost:8443)"],
        );
        check_scope(
            "https://management.azure.com//.default",
            expect!["Ok(https://management.azure.com/)"],
        );
        check_scope(
            "openid https://vault.azure.net/.default offline_access",
            expect!["Ok(https://vault.azure.net)"],
        );
        check_scope("", expect!["Err(the request has no scope parameter)"]);
        check_scope(
            "https://vault.azure.net",
            expect![[
                r#"Err(scope "https://vault.azure.net" is not a single <resource>/.default)"#
            ]],
        );
        check_scope(
            "https://a/.default https://b/.default",
            expect![[
                r#"Err(scope "https://a/.default https://b/.default" is not a single <resource>/.default)"#
            ]],
        );
        check_scope(
            "/.default",
            expect![[r#"Err(scope "/.default" is not a single <resource>/.default)"#]],
        );
        check_scope(
            "openid",
            expect![[r#"Err(scope "openid" is not a single <resource>/.default)"#]],
        );
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1: the example key and its thumbprint.
        let n = URL_SAFE_NO_PAD
            .decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD\
                 R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6C\
                 f0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1\
                 n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1\
                 jF44-csFCur-kEgU8awapJzKnqDKgw",
            )
            .unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        assert_eq!(
            jwk_thumbprint(&n, &e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn token_bodies() {
        let token = IssuedToken {
            access_token: "eyJ.x.y".to_owned(),
            expires_in: 3599,
            expires_on: UnixTime(1_700_003_600),
            not_before: UnixTime(1_700_000_000),
        };
        expect![[r#"{"access_token":"eyJ.x.y","expires_in":3599,"ext_expires_in":3599,"token_type":"Bearer"}"#]]
            .assert_eq(&token_response_v2(&token).to_string());
        expect![[r#"{"access_token":"eyJ.x.y","expires_in":3599,"expires_on":"1700003600","ext_expires_in":3599,"not_before":"1700000000","resource":"https://vault.azure.net","token_type":"Bearer"}"#]]
            .assert_eq(&token_response_v1(&token, "https://vault.azure.net").to_string());
        assert!(!format!("{token:?}").contains("eyJ"));
    }
}
