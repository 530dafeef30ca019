//! Strongroom's identity provider: who may call, proven by tokens we issue ourselves.
//!
//! Owns: the deployment's RS256 token-signing key (sealed in store meta), issuing access
//! tokens (`TokenIssuer`), verifying them with a cache keyed by token hash (`TokenVerifier`),
//! client-credentials authentication against hashed client secrets or certificate-signed
//! client assertions, tenants and service
//! principals, the OIDC discovery document, the JWKS, and the token endpoint's JSON bodies
//! (success and Entra-shaped AADSTS errors), managed identities and the token bodies of the
//! managed-identity protocols (IMDS, App Service, Azure Arc).
//!
//! Must not touch: HTTP framing (status lines, headers, routing), vault objects, the system
//! clock (every function takes `now`).
//!
//! Invariants:
//! - the signing key exists in the clear only in memory; at rest it is sealed by the master
//!   key with `Aad::deployment("token-signing-key")`;
//! - client secrets are shown once and stored only as salted hashes, compared in constant time
//!   against every credential of the application;
//! - the verification cache holds SHA-256 hashes of tokens, never tokens, and still checks
//!   lifetime and audience on every hit;
//! - a `Caller` comes only from a token whose signature and issuer verified.
//!
//! Start reading at `token.rs` (issuing), then `verify.rs`, `credentials.rs`, `assertion.rs`
//! (client assertions signed with a registered certificate).

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod aad_errors;
mod assertion;
mod credentials;
mod discovery;
mod error;
mod managed;
mod revocation;
mod signin;
mod token;
mod users;
mod verify;

pub use aad_errors::{aad_error_body, aad_error_body_with_ids};
pub use assertion::{
    AssertionReplayGuard, CLIENT_ASSERTION_TYPE_JWT, MAX_ASSERTION_LIFETIME_SECONDS,
    authenticate_client_assertion, certificate_der_thumbprint, certificate_thumbprint,
};
pub use credentials::{
    CLIENT_SECRET_LIFETIME_DAYS, DEFAULT_TENANT_ALIASES, DEFAULT_TENANT_NAME, NewSecret,
    add_client_certificate, add_client_secret, add_named_client_secret, application_object_id,
    authenticate_client, certificate_credential, create_service_principal, ensure_default_tenant,
    resolve_tenant,
};
pub use discovery::openid_configuration;
pub use error::{IdentityError, TokenError};
pub use managed::{
    IdentitySelector, MANAGED_IDENTITY_KIND, app_service_token_response, create_managed_identity,
    find_managed_identity, imds_error, imds_token_response, list_managed_identities,
    selects_identity,
};
pub use revocation::{PrincipalStates, SNAPSHOT_TTL};
pub use signin::{
    Artifact, ArtifactRefusal, AuthorizationCode, DeviceGrant, RefreshGrant, SignInSession,
    client_info, constant_time_eq, new_artifact_id, pkce_matches, random_bytes, random_token,
    user_token_response,
};
/// A new user password's stored form (Argon2id, slow on purpose: hash on a blocking thread),
/// for [`create_user`] and [`set_password`]; the API may not depend on `strongroom-crypto`.
pub use strongroom_crypto::hash_password;
pub use token::{
    AuthenticatedClient, IssuedToken, SIGNING_KEY_META, TOKEN_LIFETIME_SECONDS, TokenIssuer,
    TokenRequest, UserClaims, resource_from_scope, token_response_v1, token_response_v2,
};
pub use users::{
    NewUser, SignInRefusal, SignedInUser, USER_KIND, UserAccount, UserChanges, check_password,
    check_password_complexity, check_user_principal_name, create_user, delete_user, find_live_user,
    find_user, list_users, set_password, update_user,
};
pub use verify::{CLOCK_SKEW_SECONDS, DEFAULT_CACHE_CAPACITY, TokenVerifier};

/// What identity needs to know about the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    /// The deployment's domain (`localhost`): names the token issuer.
    pub domain: String,
    /// Where clients reach the identity endpoints, e.g. `https://localhost:8443`.
    pub public_origin: String,
}

impl IdentityConfig {
    /// The `iss` of tokens for `tenant_id`: `https://sts.strongroom.{domain}/{tenant_id}/`,
    /// shaped like Entra's v1 issuer `https://sts.windows.net/{tid}/`.
    pub fn issuer_for(&self, tenant_id: &str) -> String {
        format!("https://sts.strongroom.{}/{tenant_id}/", self.domain)
    }

    /// `public_origin` without a trailing slash.
    pub fn origin(&self) -> &str {
        self.public_origin.trim_end_matches('/')
    }
}
