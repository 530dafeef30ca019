//! The device-code flow (RFC 8628), as Entra serves it: `POST /{tenant}/oauth2/v2.0/devicecode`
//! starts it, the person opens `/devicelogin`, types the user code, signs in (or uses the
//! browser's session) and approves; the client, polling the token endpoint with its device
//! code, then gets its tokens (`grants.rs`).
//!
//! The pending authorization is a deployment document keyed by the user code, so any node
//! can show it, approve it or answer a poll. The device code itself is a signed
//! `DeviceGrant` naming its user code and a `jti` that the document repeats (a document
//! replaced under the same user code does not answer an older device code), and redemption
//! is once only (`claim_once` on the `jti`). Expired documents are removed when a new flow
//! starts; at most `MAX_PENDING` wait at once. Guessing user codes: 20^8 codes, a fifteen
//! minute life, and each browser (its CSRF cookie) locked after ten wrong codes in a minute,
//! plus the guard's global limit on failures.

use super::cookies;
use super::pages::{self, SignInForm};
use super::{check_credentials, current_session, new_session, public_client, read_form};
use crate::error::json_response;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use strongroom_identity::{Artifact, DeviceGrant, IdentityError, new_artifact_id, resolve_tenant};
use strongroom_model::UnixTime;
use strongroom_store::TenantRow;

/// Deployment document kind of a pending device authorization, keyed by its user code.
pub(super) const DOCUMENT: &str = "device-authorization";
/// Device authorizations that may wait at once.
const MAX_PENDING: usize = 1_000;
/// Seconds between polls, as Entra asks.
const POLL_INTERVAL_SECONDS: u64 = 5;
/// The user code's alphabet: consonants only, so no code spells a word, and none of the
/// letters people confuse with digits.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH: usize = 8;

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Status {
    Pending,
    Approved,
    Denied,
}

/// A pending (or decided) device authorization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeviceAuthorization {
    pub(super) jti: String,
    pub(super) client_id: String,
    pub(super) tenant_id: String,
    pub(super) expires: i64,
    pub(super) status: Status,
    #[serde(default)]
    pub(super) object_id: Option<String>,
    #[serde(default)]
    pub(super) credential_id: Option<String>,
    #[serde(default)]
    pub(super) auth_time: Option<i64>,
}

impl DeviceAuthorization {
    fn is_live(&self, now: UnixTime) -> bool {
        now.0 < self.expires
    }
}

/// The user code as stored: upper case, without the spaces and dashes people type.
fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .take(USER_CODE_LENGTH + 1)
        .collect()
}

fn new_user_code() -> Result<String, IdentityError> {
    let bytes = strongroom_identity::random_bytes::<USER_CODE_LENGTH>()?;
    // 256 is not a multiple of 20: the first 240 byte values map evenly, the rest are
    // redrawn (rarely) so that every letter is equally likely.
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    for byte in bytes {
        let mut value = byte;
        while usize::from(value) >= 240 {
            value = strongroom_identity::random_bytes::<1>()?[0];
        }
        code.push(char::from(
            USER_CODE_ALPHABET[usize::from(value) % USER_CODE_ALPHABET.len()],
        ));
    }
    Ok(code)
}

pub(super) async fn load(
    state: &AppState,
    user_code: &str,
) -> Result<Option<DeviceAuthorization>, IdentityError> {
    Ok(state
        .store
        .get_deployment_document(DOCUMENT, user_code)
        .await?
        .and_then(|(_, body)| serde_json::from_slice(&body).ok()))
}

async fn save(
    state: &AppState,
    user_code: &str,
    authorization: &DeviceAuthorization,
) -> Result<(), IdentityError> {
    state
        .store
        .put_deployment_document(DOCUMENT, user_code, serde_json::to_vec(authorization)?)
        .await?;
    Ok(())
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(super) async fn start(
    state: &AppState,
    request: Request,
    tenant_path: &str,
    origin: &str,
) -> Response {
    match start_flow(state, request, tenant_path, origin).await {
        Ok(response) => response,
        Err(err) => crate::identity_routes::entra_error_response(state, &err),
    }
}

async fn start_flow(
    state: &AppState,
    request: Request,
    tenant_path: &str,
    origin: &str,
) -> Result<Response, IdentityError> {
    let tenant = resolve_tenant(state.store.as_ref(), tenant_path).await?;
    let form = read_form(request).await.map_err(|_| IdentityError::Grant {
        error: "invalid_request",
        code: 90_015,
        message: "The request is too large.".to_owned(),
    })?;
    let client_id = form
        .get("client_id")
        .map(|v| v.as_str())
        .unwrap_or_default();
    let Some(client) = public_client(client_id) else {
        return Err(IdentityError::UnknownClient {
            client_id: client_id.to_owned(),
            tenant: tenant.tenant_id,
        });
    };
    let scope = form.get("scope").map(|v| v.as_str()).unwrap_or_default();
    super::grants::user_resource(scope).map_err(|message| IdentityError::Grant {
        error: "invalid_scope",
        code: 70_011,
        message,
    })?;
    let now = state.vaults.now();
    let pending = purge_expired(state, now).await?;
    if pending >= MAX_PENDING {
        return Err(IdentityError::Grant {
            error: "temporarily_unavailable",
            code: 90_033,
            message: "Too many sign-ins are waiting. Please try again later.".to_owned(),
        });
    }
    let user_code = new_user_code()?;
    let grant = DeviceGrant {
        jti: new_artifact_id()?,
        user_code: user_code.clone(),
        client_id: client.client_id.to_owned(),
        tid: tenant.tenant_id.clone(),
        scope: scope.to_owned(),
    };
    let device_code = state.issuer.seal_artifact(&grant, now)?;
    save(
        state,
        &user_code,
        &DeviceAuthorization {
            jti: grant.jti.clone(),
            client_id: grant.client_id.clone(),
            tenant_id: tenant.tenant_id,
            expires: now.0 + DeviceGrant::LIFETIME_SECONDS,
            status: Status::Pending,
            object_id: None,
            credential_id: None,
            auth_time: None,
        },
    )
    .await?;
    let verification_uri = format!("{}/devicelogin", origin.trim_end_matches('/'));
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": DeviceGrant::LIFETIME_SECONDS,
            "interval": POLL_INTERVAL_SECONDS,
            "message": format!(
                "To sign in, use a web browser to open the page {verification_uri} and enter \
                 the code {user_code} to authenticate."
            ),
        }),
    ))
}

/// Removes expired device authorizations; returns how many live ones remain.
async fn purge_expired(state: &AppState, now: UnixTime) -> Result<usize, IdentityError> {
    let documents = state.store.list_deployment_documents(DOCUMENT).await?;
    let mut live = 0;
    for (name, body) in documents {
        let expired =
            serde_json::from_slice::<DeviceAuthorization>(&body).map_or(true, |a| !a.is_live(now));
        if expired {
            state
                .store
                .delete_deployment_document(DOCUMENT, &name)
                .await?;
        } else {
            live += 1;
        }
    }
    Ok(live)
}

/// `GET|POST /devicelogin`: the pages where a person enters a user code and approves it.
pub(super) async fn page(state: &AppState, request: Request, origin: &str) -> Response {
    let headers = request.headers().clone();
    let (csrf, set_csrf) = cookies::csrf_token(&headers);
    if request.method() == Method::GET {
        return pages::device_code_entry(&csrf, None)
            .cookie(set_csrf)
            .into_response();
    }
    let form = match read_form(request).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if !cookies::is_same_site_post(&headers, form.get("csrf").map(|v| v.as_str()), origin) {
        return super::csrf_refused();
    }
    let now = state.vaults.now();
    let user_code = normalize_user_code(form.get("user_code").map(|v| v.as_str()).unwrap_or(""));
    // Wrong codes are counted per browser (its CSRF cookie), against guessing.
    let guard_key = format!("device:{csrf}");
    if state.signin_guard.check(&guard_key).is_err() {
        return pages::device_code_entry(
            &csrf,
            Some("Too many wrong codes. Wait a minute, then try again."),
        )
        .into_response();
    }
    let found = match load(state, &user_code).await {
        Ok(found) => found.filter(|a| a.is_live(now) && a.status == Status::Pending),
        Err(_) => return super::server_error(),
    };
    let Some(mut authorization) = found else {
        state.signin_guard.failed(&guard_key);
        return pages::device_code_entry(
            &csrf,
            Some("That code didn't work. Check the code and try again."),
        )
        .into_response();
    };
    let app = public_client(&authorization.client_id).map_or("an application", |c| c.display_name);
    let tenant = TenantRow {
        tenant_id: authorization.tenant_id.clone(),
        display_name: String::new(),
        is_default: false,
    };
    let session = current_session(state, &headers, &tenant, now).await;
    match form.get("step").map(|v| v.as_str()) {
        Some("signin") => {
            let username = form.get("username").map(|v| v.trim()).unwrap_or_default();
            let password = form.get("password").map(|v| v.as_str()).unwrap_or_default();
            match check_credentials(state, &tenant, username, password).await {
                Ok(signed_in) => {
                    let cookie = new_session(state, &signed_in, now);
                    pages::device_code_confirm(
                        &csrf,
                        &user_code,
                        app,
                        &signed_in.account.user_principal_name,
                    )
                    .cookie(cookie)
                    .into_response()
                }
                Err(message) => device_sign_in(&csrf, &user_code, app, username, Some(message)),
            }
        }
        Some(decision @ ("approve" | "deny")) => {
            let Some((session, user)) = session else {
                return device_sign_in(&csrf, &user_code, app, "", None);
            };
            let approved = decision == "approve";
            authorization.status = if approved {
                Status::Approved
            } else {
                Status::Denied
            };
            authorization.object_id = Some(user.principal.object_id.clone());
            authorization.credential_id = Some(session.cred.clone());
            authorization.auth_time = Some(session.auth_time);
            if save(state, &user_code, &authorization).await.is_err() {
                return super::server_error();
            }
            state.signin_guard.succeeded(&guard_key);
            pages::device_code_done(app, approved).into_response()
        }
        // The code was entered: confirm as the signed-in person, or sign in first.
        _ => match session {
            Some((_, user)) => {
                pages::device_code_confirm(&csrf, &user_code, app, &user.user_principal_name)
                    .into_response()
            }
            None => device_sign_in(&csrf, &user_code, app, "", None),
        },
    }
}

fn device_sign_in(
    csrf: &str,
    user_code: &str,
    app: &str,
    login_hint: &str,
    error: Option<&str>,
) -> Response {
    let mut response = pages::sign_in(&SignInForm {
        action: "/devicelogin",
        csrf,
        hidden: vec![("step", "signin"), ("user_code", user_code)],
        app,
        login_hint,
        error,
    })
    .into_response();
    // The sign-in form asks for a password: never keep it in a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants() {
        for _ in 0..200 {
            let code = new_user_code().unwrap();
            assert_eq!(code.len(), USER_CODE_LENGTH);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
        }
        assert_eq!(normalize_user_code(" bcdf-ghjk "), "BCDFGHJK");
    }
}
