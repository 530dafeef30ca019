//! Interactive sign-in, as Entra does it: the authorization endpoint with its sign-in page
//! (authorization code + PKCE), sign-out, the device-code flow's endpoint and pages, and the
//! token endpoint's user grants (`grants.rs`).
//!
//! The path a code takes: `GET /{tenant}/oauth2/v2.0/authorize?…` checks the client and its
//! redirect URI first (a failure there is an error page, never a redirect), then shows the
//! sign-in form (or, with a sign-in session, the account picker, or nothing at all); the form
//! posts back to the same URL with the CSRF token; a good password sets the session cookie and
//! sends a signed authorization code to the redirect URI (a 303, or for
//! `response_mode=form_post` a page whose form posts it, which is how MSAL's loopback
//! listener wants it). The client redeems the code at the token endpoint with its PKCE
//! verifier. Passwords are checked on blocking threads, two at a time, behind a per-user
//! lockout (`TokenGuard`: ten failures in a minute lock the name for a minute).

mod clients;
mod cookies;
mod device;
pub(crate) mod grants;
mod pages;

pub(crate) use clients::public_client;

use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use pages::SignInForm;
use std::collections::HashMap;
use strongroom_identity::{
    AuthorizationCode, SignInRefusal, SignInSession, SignedInUser, UserAccount, check_password,
    client_info, find_user, new_artifact_id, resolve_tenant,
};
use strongroom_model::UnixTime;
use strongroom_store::TenantRow;
use zeroize::Zeroizing;

/// How long a sign-in waits for a turn to check its password.
const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sign-in forms are small; anything bigger is refused.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Answers the sign-in paths on the identity host; `None` for any other path.
pub(crate) async fn route(
    state: &AppState,
    request: Request,
    segments: &[&str],
    origin: &str,
) -> Result<Response, Request> {
    let method = request.method().clone();
    let response = match (&method, segments) {
        (&Method::GET | &Method::POST, [tenant, "oauth2", "v2.0", "authorize"]) => {
            authorize(state, request, tenant, origin).await
        }
        (&Method::GET, [_tenant, "oauth2", "v2.0", "logout"]) => logout(state, &request),
        (&Method::POST, [tenant, "oauth2", "v2.0", "devicecode"]) => {
            device::start(state, request, tenant, origin).await
        }
        (&Method::GET | &Method::POST, ["devicelogin"]) => {
            device::page(state, request, origin).await
        }
        (&Method::GET, ["signin-assets", "signin.css"]) => {
            pages::asset("text/css; charset=utf-8", pages::STYLESHEET)
        }
        (&Method::GET, ["signin-assets", "form-post.js"]) => {
            pages::asset("text/javascript; charset=utf-8", pages::FORM_POST_SCRIPT)
        }
        _ => return Err(request),
    };
    Ok(response)
}

/// The authorization request, from the query string (the sign-in form posts back to the
/// same URL, so a post carries it too).
struct AuthorizeQuery {
    params: HashMap<String, String>,
    /// Path and query, the form's `action`.
    action: String,
}

impl AuthorizeQuery {
    fn parse(request: &Request) -> Self {
        let mut params = HashMap::new();
        for (key, value) in form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()) {
            params.entry(key.into_owned()).or_insert(value.into_owned());
        }
        let action = request
            .uri()
            .path_and_query()
            .map_or_else(String::new, |pq| pq.as_str().to_owned());
        Self { params, action }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// This request with `prompt=login`: "Use another account".
    fn with_prompt_login(&self) -> String {
        let path = self.action.split('?').next().unwrap_or_default();
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.params {
            if key != "prompt" {
                query.append_pair(key, value);
            }
        }
        query.append_pair("prompt", "login");
        format!("{path}?{}", query.finish())
    }
}

/// How the answer goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// A checked authorization request: the client and redirect URI are known good.
struct Authorization<'q> {
    query: &'q AuthorizeQuery,
    client: clients::PublicClient,
    redirect_uri: &'q str,
    mode: ResponseMode,
    tenant: TenantRow,
}

impl Authorization<'_> {
    /// Sends `params` (a code, or an error) back to the client, with `state` echoed.
    fn to_client(&self, params: &[(&str, &str)], status_after_post: bool) -> Response {
        let mut fields: Vec<(&str, &str)> = params.to_vec();
        if let Some(client_state) = self.query.get("state") {
            fields.push(("state", client_state));
        }
        match self.mode {
            ResponseMode::FormPost => {
                pages::form_post(self.redirect_uri, &fields, self.client.display_name)
                    .into_response()
            }
            ResponseMode::Query | ResponseMode::Fragment => {
                let mut encoded = form_urlencoded::Serializer::new(String::new());
                for (key, value) in &fields {
                    encoded.append_pair(key, value);
                }
                let separator = match self.mode {
                    ResponseMode::Fragment => '#',
                    _ if self.redirect_uri.contains('?') => '&',
                    _ => '?',
                };
                let location = format!("{}{separator}{}", self.redirect_uri, encoded.finish());
                redirect(&location, status_after_post)
            }
        }
    }

    fn error_to_client(&self, error: &str, code: u32, message: &str, after_post: bool) -> Response {
        let description = format!("AADSTS{code}: {message}");
        self.to_client(
            &[("error", error), ("error_description", &description)],
            after_post,
        )
    }
}

fn redirect(location: &str, after_post: bool) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = if after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    pages::security_headers(response.headers_mut());
    response
}

async fn authorize(
    state: &AppState,
    request: Request,
    tenant_path: &str,
    origin: &str,
) -> Response {
    let query = AuthorizeQuery::parse(&request);
    let console_origin = state.config.public_origin();
    let client_id = query.get("client_id").unwrap_or_default();
    let Some(client) = public_client(client_id) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            700_016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory. \
                 This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant."
            ),
        )
        .into_response();
    };
    let Some(redirect_uri) = query.get("redirect_uri") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            900_144,
            "The request body must contain the following parameter: 'redirect_uri'.",
        )
        .into_response();
    };
    if !client.allows_redirect(redirect_uri, &console_origin) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            50_011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the \
                 redirect URIs configured for the application '{}'. Make sure the redirect URI \
                 sent in the request matches one added to your application.",
                client.client_id
            ),
        )
        .into_response();
    }
    let Ok(tenant) = resolve_tenant(state.store.as_ref(), tenant_path).await else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            90_002,
            &format!(
                "Tenant '{tenant_path}' not found. Check to make sure you have the correct \
                 tenant ID and are signing into the correct cloud."
            ),
        )
        .into_response();
    };
    let mode = match query.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        Some("fragment") => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let flow = Authorization {
        query: &query,
        client,
        redirect_uri,
        mode,
        tenant,
    };
    let is_post = request.method() == Method::POST;
    if query.get("response_type") != Some("code") {
        return flow.error_to_client(
            "unsupported_response_type",
            700_054,
            "The response_type must be 'code': the only flow enabled for this application.",
            is_post,
        );
    }
    match (
        query.get("code_challenge"),
        query.get("code_challenge_method"),
    ) {
        (Some(_), Some("S256")) => {}
        (None, _) => {
            return flow.error_to_client(
                "invalid_request",
                9_002_325,
                "Proof Key for Code Exchange is required for cross-origin authorization code \
                 redemption.",
                is_post,
            );
        }
        (Some(_), _) => {
            return flow.error_to_client(
                "invalid_request",
                5_000_325,
                "The code_challenge_method must be 'S256'.",
                is_post,
            );
        }
    }
    if let Err(message) = grants::user_resource(query.get("scope").unwrap_or_default()) {
        return flow.error_to_client("invalid_scope", 70_011, &message, is_post);
    }
    let now = state.vaults.now();
    let headers = request.headers().clone();
    let session = current_session(state, &headers, &flow.tenant, now).await;
    if !is_post {
        let prompt = query.get("prompt");
        return match (prompt, session) {
            (Some("none"), Some((session, user))) => {
                issue_code_for_session(state, &flow, &session, &user, now, false)
            }
            (Some("none"), None) => flow.error_to_client(
                "login_required",
                50_058,
                "A silent sign-in request was sent but no user is signed in.",
                false,
            ),
            (Some("select_account"), Some((_, user))) => {
                let (csrf, set_csrf) = cookies::csrf_token(&headers);
                pages::account_picker(
                    &query.action,
                    &csrf,
                    flow.client.display_name,
                    &user.user_principal_name,
                    &query.with_prompt_login(),
                )
                .cookie(set_csrf)
                .form_target(clients::origin_of(redirect_uri))
                .into_response()
            }
            (Some("login" | "select_account"), _) | (_, None) => sign_in_page(
                &flow,
                &headers,
                query.get("login_hint").unwrap_or_default(),
                None,
            ),
            (_, Some((session, user))) => {
                issue_code_for_session(state, &flow, &session, &user, now, false)
            }
        };
    }

    // A post of the sign-in form or the account picker.
    let form = match read_form(request).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if !cookies::is_same_site_post(&headers, form.get("csrf").map(|v| v.as_str()), origin) {
        return csrf_refused();
    }
    match form.get("step").map(|v| v.as_str()) {
        Some("continue") => match session {
            Some((session, user)) => {
                issue_code_for_session(state, &flow, &session, &user, now, true)
            }
            None => sign_in_page(&flow, &headers, "", None),
        },
        Some("signin") => {
            let username = form.get("username").map(|v| v.trim()).unwrap_or_default();
            let password = form.get("password").map(|v| v.as_str()).unwrap_or_default();
            match check_credentials(state, &flow.tenant, username, password).await {
                Ok(signed_in) => {
                    let cookie = new_session(state, &signed_in, now);
                    issue_code(
                        state,
                        &flow,
                        &signed_in.account,
                        &signed_in.credential_id,
                        now.0,
                        now,
                        cookie,
                        true,
                    )
                }
                Err(message) => sign_in_page(&flow, &headers, username, Some(message)),
            }
        }
        _ => sign_in_page(&flow, &headers, "", None),
    }
}

fn sign_in_page(
    flow: &Authorization<'_>,
    headers: &HeaderMap,
    login_hint: &str,
    error: Option<&str>,
) -> Response {
    let (csrf, set_csrf) = cookies::csrf_token(headers);
    pages::sign_in(&SignInForm {
        action: &flow.query.action,
        csrf: &csrf,
        hidden: vec![("step", "signin")],
        app: flow.client.display_name,
        login_hint,
        error,
    })
    .cookie(set_csrf)
    .form_target(clients::origin_of(flow.redirect_uri))
    .into_response()
}

fn csrf_refused() -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        90_023,
        "The request could not be verified: it did not come from this sign-in page, or the \
         page is too old. Go back and try again.",
    )
    .into_response()
}

/// [`issue_code`] for the browser's existing sign-in session.
fn issue_code_for_session(
    state: &AppState,
    flow: &Authorization<'_>,
    session: &SignInSession,
    user: &UserAccount,
    now: UnixTime,
    after_post: bool,
) -> Response {
    issue_code(
        state,
        flow,
        user,
        &session.cred,
        session.auth_time,
        now,
        None,
        after_post,
    )
}

/// Signs an authorization code for `user` and sends it to the client; `session_cookie`, when
/// the password was just checked, starts the browser's sign-in session.
#[allow(clippy::too_many_arguments)]
fn issue_code(
    state: &AppState,
    flow: &Authorization<'_>,
    user: &UserAccount,
    credential_id: &str,
    auth_time: i64,
    now: UnixTime,
    session_cookie: Option<String>,
    after_post: bool,
) -> Response {
    let jti = match new_artifact_id() {
        Ok(jti) => jti,
        Err(_) => return server_error(),
    };
    let code = AuthorizationCode {
        jti,
        oid: user.principal.object_id.clone(),
        tid: user.principal.tenant_id.clone(),
        cred: credential_id.to_owned(),
        client_id: flow.client.client_id.to_owned(),
        redirect_uri: flow.redirect_uri.to_owned(),
        code_challenge: flow
            .query
            .get("code_challenge")
            .unwrap_or_default()
            .to_owned(),
        nonce: flow.query.get("nonce").map(str::to_owned),
        scope: flow.query.get("scope").unwrap_or_default().to_owned(),
        auth_time,
    };
    let Ok(sealed) = state.issuer.seal_artifact(&code, now) else {
        return server_error();
    };
    let info = client_info(&user.principal.object_id, &user.principal.tenant_id);
    let mut response = flow.to_client(&[("code", &sealed), ("client_info", &info)], after_post);
    if let Some(cookie) = session_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn server_error() -> Response {
    pages::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        90_033,
        "A transient error has occurred. Please try again.",
    )
    .into_response()
}

/// `Set-Cookie` for a new sign-in session of `user`.
fn new_session(state: &AppState, user: &SignedInUser, now: UnixTime) -> Option<String> {
    let session = SignInSession {
        sid: new_artifact_id().ok()?,
        oid: user.account.principal.object_id.clone(),
        tid: user.account.principal.tenant_id.clone(),
        cred: user.credential_id.clone(),
        auth_time: now.0,
    };
    let sealed = state.issuer.seal_artifact(&session, now).ok()?;
    Some(cookies::session(&sealed))
}

/// The browser's sign-in session in `tenant`, if it has a valid one whose user still
/// exists, is enabled and has the same password.
async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &TenantRow,
    now: UnixTime,
) -> Option<(SignInSession, UserAccount)> {
    let cookie = cookies::cookie(headers, cookies::SESSION_COOKIE)?;
    let session: SignInSession = state.issuer.open_artifact(cookie, now).ok()?;
    if session.tid != tenant.tenant_id {
        return None;
    }
    let user =
        strongroom_identity::find_live_user(state.store.as_ref(), &session.oid, &session.cred)
            .await
            .ok()??;
    Some((session, user))
}

/// Checks a user name and password in `tenant`, behind the lockout and the bound on
/// concurrent hashes. `Err` is the message the page shows.
async fn check_credentials(
    state: &AppState,
    tenant: &TenantRow,
    username: &str,
    password: &str,
) -> Result<SignedInUser, &'static str> {
    const WRONG: &str = "Your account or password is incorrect. If you don't remember your \
                         password, ask your administrator to reset it. (AADSTS50126)";
    const LOCKED: &str = "Your account is locked. You've tried to sign in too many times with \
                          an incorrect user ID or password. Try again later. (AADSTS50053)";
    const DISABLED: &str = "Your account has been locked. Contact your support person to \
                            unlock it, then try again. (AADSTS50057)";
    const BUSY: &str = "We couldn't sign you in. Please try again. (AADSTS90033)";
    if username.is_empty() || password.is_empty() {
        return Err(WRONG);
    }
    let key = format!("user:{}", username.to_ascii_lowercase());
    if state.signin_guard.check(&key).is_err() {
        return Err(LOCKED);
    }
    // A person signs in with their user principal name only: `find_user` also takes an
    // object id, and a second name for one account would also double its lockout budget.
    let user = if username.contains('@') {
        match find_user(state.store.as_ref(), username).await {
            Ok(user) => user.filter(|u| u.principal.tenant_id == tenant.tenant_id),
            Err(_) => return Err(BUSY),
        }
    } else {
        None
    };
    // Waiting is bounded: under a flood of guesses a sign-in fails fast instead of queueing.
    let Ok(Ok(_permit)) =
        tokio::time::timeout(PASSWORD_CHECK_WAIT, state.password_checks.acquire()).await
    else {
        return Err(BUSY);
    };
    let password = Zeroizing::new(password.to_owned());
    let checked = tokio::task::spawn_blocking(move || check_password(user, &password)).await;
    match checked {
        Ok(Ok(signed_in)) => {
            state.signin_guard.succeeded(&key);
            Ok(signed_in)
        }
        Ok(Err(SignInRefusal::Disabled)) => Err(DISABLED),
        Ok(Err(SignInRefusal::UnknownUserOrWrongPassword)) => {
            state.signin_guard.failed(&key);
            Err(WRONG)
        }
        Err(_) => Err(BUSY),
    }
}

/// The posted form's fields (first of each name). The body is wiped after parsing: it holds
/// the password.
async fn read_form(request: Request) -> Result<HashMap<String, Zeroizing<String>>, Response> {
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            pages::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                90_015,
                "The request is too large.",
            )
            .into_response()
        })?;
    let body = Zeroizing::new(body.to_vec());
    let mut fields = HashMap::new();
    for (key, value) in form_urlencoded::parse(&body) {
        fields
            .entry(key.into_owned())
            .or_insert_with(|| Zeroizing::new(value.into_owned()));
    }
    Ok(fields)
}

/// `GET /{tenant}/oauth2/v2.0/logout`: ends the browser's sign-in session, then returns to
/// `post_logout_redirect_uri` when it is a known client's redirect URI.
fn logout(state: &AppState, request: &Request) -> Response {
    let console_origin = state.config.public_origin();
    let target = form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
        .find(|(key, _)| key == "post_logout_redirect_uri")
        .map(|(_, value)| value.into_owned())
        .filter(|uri| {
            [clients::CONSOLE, clients::AZURE_CLI]
                .into_iter()
                .filter_map(public_client)
                .any(|client| client.allows_redirect(uri, &console_origin))
        });
    let mut response = match target {
        Some(uri) => redirect(&uri, false),
        None => pages::signed_out().into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&cookies::clear_session()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
