//! The token endpoint's user grants: `authorization_code` (with PKCE), `refresh_token` and
//! the device code (`urn:ietf:params:oauth:grant-type:device_code`). Each answers Entra's
//! user token response: an access token for the one resource the scope names, a new refresh
//! token, the `id_token` and `client_info`.
//!
//! Every grant ends in [`respond`], which first checks that the user still exists, is
//! enabled and still has the password the grant was obtained with: deleting a user,
//! disabling one or setting a new password ends every code, refresh token and session as
//! it ends access tokens. Codes and device codes are redeemed once (`claim_once` on their
//! `jti`, after every other check, so a failed attempt does not burn a code its rightful
//! client still holds). Refresh tokens are not single-use: like Entra's, each redemption
//! returns a new one and the old stays valid until it expires or is revoked as above.

use super::device::{self, Status};
use super::public_client;
use crate::error::json_response;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use strongroom_identity::{
    Artifact, ArtifactRefusal, AuthorizationCode, DeviceGrant, IdentityError, RefreshGrant,
    TokenRequest, UserAccount, client_info, new_artifact_id, resolve_tenant, user_token_response,
};
use strongroom_model::UnixTime;

/// The grant types this module answers.
pub(crate) const USER_GRANT_TYPES: [&str; 3] = [
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
];

const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];
/// The resource of a scope with only OpenID Connect scopes (Entra gives Graph's `User.Read`).
const GRAPH: &str = "https://graph.microsoft.com";

/// The resource (access token audience) a user's scope asks for, and the scope to echo:
/// OpenID Connect scopes aside, one `<resource>/.default` or `<resource>/user_impersonation`.
pub(crate) fn user_resource(scope: &str) -> Result<(String, String), String> {
    let items: Vec<&str> = scope
        .split_whitespace()
        .filter(|item| !OIDC_SCOPES.contains(item))
        .collect();
    let invalid = || {
        format!(
            "The provided value for the input parameter 'scope' is not valid. The scope \
             '{scope}' must name one resource, as '<resource>/.default'."
        )
    };
    match items.as_slice() {
        [] => Ok((GRAPH.to_owned(), format!("{GRAPH}/User.Read"))),
        [item] => {
            let (resource, echoed) = if let Some(resource) = item.strip_suffix("/.default") {
                (resource, format!("{resource}/user_impersonation {item}"))
            } else if let Some(resource) = item.strip_suffix("/user_impersonation") {
                (resource, (*item).to_owned())
            } else {
                return Err(invalid());
            };
            if resource.is_empty() || resource.starts_with('/') {
                return Err(invalid());
            }
            Ok((resource.to_owned(), echoed))
        }
        _ => Err(invalid()),
    }
}

fn grant_error(error: &'static str, code: u32, message: &str) -> IdentityError {
    IdentityError::Grant {
        error,
        code,
        message: message.to_owned(),
    }
}

fn missing(name: &str) -> IdentityError {
    grant_error(
        "invalid_request",
        900_144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn refused(refusal: ArtifactRefusal, what: &str) -> IdentityError {
    match refusal {
        ArtifactRefusal::Expired => grant_error(
            "invalid_grant",
            70_008,
            "The provided authorization code or refresh token has expired due to inactivity. \
             Send a new interactive authorization request for this user and resource.",
        ),
        ArtifactRefusal::Invalid => grant_error(
            "invalid_grant",
            9_002_313,
            &format!("Invalid request. Request is malformed or invalid: the {what} is not valid."),
        ),
    }
}

fn revoked() -> IdentityError {
    grant_error(
        "invalid_grant",
        50_173,
        "The provided grant has expired due to it being revoked, a fresh auth token is \
         needed. The user might have changed or reset their password.",
    )
}

fn other_client() -> IdentityError {
    grant_error(
        "invalid_grant",
        70_000,
        "The provided authorization grant is invalid: it was issued to another client.",
    )
}

/// Answers a user grant. `form` is the token request's fields; `origin` the identity
/// host as the client reached it (the `id_token`'s issuer).
pub(crate) async fn redeem(
    state: &AppState,
    tenant_path: &str,
    grant_type: &str,
    field: &(dyn Fn(&str) -> Option<String> + Sync),
    origin: &str,
) -> Result<Response, IdentityError> {
    let tenant = resolve_tenant(state.store.as_ref(), tenant_path).await?;
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    let Some(client) = public_client(&client_id) else {
        return Err(IdentityError::UnknownClient {
            client_id,
            tenant: tenant.tenant_id,
        });
    };
    let now = state.vaults.now();
    let issuer = &state.issuer;
    let redeemed = match grant_type {
        "authorization_code" => {
            let code = field("code").ok_or_else(|| missing("code"))?;
            let grant: AuthorizationCode = issuer
                .open_artifact(&code, now)
                .map_err(|r| refused(r, "authorization code"))?;
            if !grant.client_id.eq_ignore_ascii_case(client.client_id)
                || grant.tid != tenant.tenant_id
            {
                return Err(other_client());
            }
            if field("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str()) {
                return Err(grant_error(
                    "invalid_grant",
                    70_000,
                    "The reply URL specified in the request does not match the reply URL \
                     used in the authorization request.",
                ));
            }
            let verifier = field("code_verifier").ok_or_else(|| missing("code_verifier"))?;
            if !strongroom_identity::pkce_matches(&grant.code_challenge, &verifier) {
                return Err(grant_error(
                    "invalid_grant",
                    501_481,
                    "The Code_Verifier does not match the code_challenge supplied in the \
                     authorization request.",
                ));
            }
            let expires = now.plus_seconds(AuthorizationCode::LIFETIME_SECONDS);
            if !state
                .store
                .claim_once("authorization-code", &grant.jti, now, expires)
                .await?
            {
                return Err(grant_error(
                    "invalid_grant",
                    54_005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new \
                     valid code or use an existing refresh token.",
                ));
            }
            let scope = field("scope").unwrap_or(grant.scope);
            Redeemed {
                object_id: grant.oid,
                credential_id: grant.cred,
                auth_time: grant.auth_time,
                scope,
                nonce: grant.nonce,
                grant: "authorization_code",
            }
        }
        "refresh_token" => {
            let token = field("refresh_token").ok_or_else(|| missing("refresh_token"))?;
            let grant: RefreshGrant = issuer
                .open_artifact(&token, now)
                .map_err(|r| refused(r, "refresh token"))?;
            if !grant.client_id.eq_ignore_ascii_case(client.client_id)
                || grant.tid != tenant.tenant_id
            {
                return Err(other_client());
            }
            Redeemed {
                object_id: grant.oid,
                credential_id: grant.cred,
                auth_time: grant.auth_time,
                scope: field("scope").unwrap_or_default(),
                nonce: None,
                grant: "refresh_token",
            }
        }
        _ => {
            let code = field("device_code")
                .or_else(|| field("code"))
                .ok_or_else(|| missing("device_code"))?;
            let grant: DeviceGrant = issuer.open_artifact(&code, now).map_err(|r| match r {
                ArtifactRefusal::Expired => {
                    grant_error("expired_token", 70_019, "Verification code expired.")
                }
                ArtifactRefusal::Invalid => refused(r, "device code"),
            })?;
            if !grant.client_id.eq_ignore_ascii_case(client.client_id)
                || grant.tid != tenant.tenant_id
            {
                return Err(other_client());
            }
            let gone = || {
                grant_error(
                    "invalid_grant",
                    70_000,
                    "The provided value for the input parameter 'device_code' is not valid: \
                     it was redeemed already.",
                )
            };
            let authorization = device::load(state, &grant.user_code)
                .await?
                .filter(|a| a.jti == grant.jti)
                .ok_or_else(gone)?;
            match authorization.status {
                Status::Pending => {
                    return Err(grant_error(
                        "authorization_pending",
                        70_016,
                        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                    ));
                }
                Status::Denied => {
                    state
                        .store
                        .delete_deployment_document(device::DOCUMENT, &grant.user_code)
                        .await?;
                    return Err(grant_error(
                        "authorization_declined",
                        70_000,
                        "The end user denied the authorization request.",
                    ));
                }
                Status::Approved => {}
            }
            let expires = now.plus_seconds(DeviceGrant::LIFETIME_SECONDS);
            if !state
                .store
                .claim_once("device-code", &grant.jti, now, expires)
                .await?
            {
                return Err(gone());
            }
            state
                .store
                .delete_deployment_document(device::DOCUMENT, &grant.user_code)
                .await?;
            Redeemed {
                object_id: authorization.object_id.unwrap_or_default(),
                credential_id: authorization.credential_id.unwrap_or_default(),
                auth_time: authorization.auth_time.unwrap_or(now.0),
                scope: grant.scope,
                nonce: None,
                grant: "device_code",
            }
        }
    };
    respond(state, client.client_id, redeemed, origin, now).await
}

/// What a grant established: who, with which password, and what they asked for.
struct Redeemed {
    object_id: String,
    credential_id: String,
    auth_time: i64,
    scope: String,
    nonce: Option<String>,
    grant: &'static str,
}

/// The user, if they still exist, are enabled and still have the password `credential_id`.
async fn live_user(
    state: &AppState,
    object_id: &str,
    credential_id: &str,
) -> Result<UserAccount, IdentityError> {
    strongroom_identity::find_live_user(state.store.as_ref(), object_id, credential_id)
        .await?
        .ok_or_else(revoked)
}

async fn respond(
    state: &AppState,
    client_id: &str,
    redeemed: Redeemed,
    origin: &str,
    now: UnixTime,
) -> Result<Response, IdentityError> {
    let user = live_user(state, &redeemed.object_id, &redeemed.credential_id).await?;
    let (resource, scope) =
        user_resource(&redeemed.scope).map_err(|message| IdentityError::Grant {
            error: "invalid_scope",
            code: 70_011,
            message,
        })?;
    let issuer = &state.issuer;
    let issued = issuer.issue(
        &TokenRequest::for_user(&user, &redeemed.credential_id, client_id, resource.clone()),
        now,
    )?;
    let refresh = issuer.seal_artifact(
        &RefreshGrant {
            jti: new_artifact_id()?,
            oid: user.principal.object_id.clone(),
            tid: user.principal.tenant_id.clone(),
            cred: redeemed.credential_id.clone(),
            client_id: client_id.to_owned(),
            auth_time: redeemed.auth_time,
        },
        now,
    )?;
    let id_token = issuer.id_token(&user, client_id, redeemed.nonce.as_deref(), origin, now)?;
    let info = client_info(&user.principal.object_id, &user.principal.tenant_id);
    if let Some(metrics) = &state.metrics {
        metrics.token_issued(false);
    }
    if let Some(audit) = &state.audit {
        audit.record(&crate::audit::token_event(
            &state.config.subscription_id,
            &user.principal.object_id,
            client_id,
            &user.principal.tenant_id,
            &resource,
            redeemed.grant,
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &user_token_response(&issued, &scope, &refresh, &id_token, &info),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_scopes_name_one_resource() {
        let ok = |scope: &str| user_resource(scope).unwrap();
        assert_eq!(
            ok("https://management.core.windows.net//.default offline_access openid profile"),
            (
                "https://management.core.windows.net/".to_owned(),
                "https://management.core.windows.net//user_impersonation \
                 https://management.core.windows.net//.default"
                    .to_owned()
            )
        );
        assert_eq!(
            ok("https://vault.azure.net/.default").0,
            "https://vault.azure.net"
        );
        assert_eq!(
            ok("https://vault.azure.net/user_impersonation").0,
            "https://vault.azure.net"
        );
        assert_eq!(ok("openid profile").0, GRAPH);
        for bad in [
            "https://a/.default https://b/.default",
            "https://vault.azure.net",
            "/.default",
            "//.default",
        ] {
            assert!(user_resource(bad).is_err(), "{bad}");
        }
    }
}
