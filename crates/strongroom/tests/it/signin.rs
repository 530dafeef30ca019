//! Interactive sign-in at the protocol level (issue 12), on the real binary, without a browser:
//! the sign-in form posted as a browser posts it (CSRF cookie and field), the code redeemed with
//! its PKCE verifier, refresh tokens, the device-code flow. What the browser suite
//! (tests/browser) cannot see cheaply lives here: revocation of every artifact by a new
//! password or a deleted or disabled user, artifacts not accepted as one another, and (in
//! `multinode.rs`) a sign-in that spans nodes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::Value;

use crate::harness::{MANAGEMENT_SCOPE, RawResponse, TestServer};

pub(crate) const CONSOLE: &str = "3331b43c-9750-4aad-bfea-85b7bf2f071f";
pub(crate) const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub(crate) const PASSWORD: &str = "Corr3ct-horse";

/// Creates a user; returns its object id.
pub(crate) fn create_user(server: &TestServer, upn: &str, admin: bool) -> String {
    let mut args = vec![
        "user",
        "create",
        "--display-name",
        upn,
        "--password",
        PASSWORD,
        "--user-principal-name",
        upn,
    ];
    if admin {
        args.push("--admin");
    }
    let out: Value = serde_json::from_str(&server.cli(&args)).expect("user create prints JSON");
    out["id"].as_str().expect("id").to_owned()
}

/// The identity host's public origin (`https://localhost:PORT`, the public port).
pub(crate) fn authority(server: &TestServer) -> String {
    server.ready["authorityHost"]
        .as_str()
        .expect("authorityHost")
        .trim_end_matches('/')
        .to_owned()
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

fn cookie_from(response: &RawResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let pair = v.split(';').next()?;
            let (key, value) = pair.split_once('=')?;
            (key == name && !value.is_empty()).then(|| pair.to_owned())
        })
}

fn field_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').expect("closing quote")].to_owned()
}

/// What a browser holds after signing in: its cookies.
#[derive(Debug)]
pub(crate) struct Browser {
    pub(crate) cookies: Vec<String>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies.join("; ")
    }
}

/// `GET` then `POST` of the sign-in form at `/organizations/oauth2/v2.0/authorize` as the
/// console; returns the code, the verifier and the browser's cookies.
pub(crate) async fn sign_in(
    server: &TestServer,
    upn: &str,
    password: &str,
) -> Result<(String, String, Browser), RawResponse> {
    let (verifier, challenge) = pkce();
    let origin = authority(server);
    let redirect = format!("{origin}/");
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", CONSOLE),
            ("response_type", "code"),
            ("redirect_uri", &redirect),
            (
                "scope",
                "https://management.azure.com/.default openid offline_access",
            ),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let path = format!("/organizations/oauth2/v2.0/authorize?{query}");
    let page = server
        .client()
        .request("GET", "localhost", &path)
        .send()
        .await
        .expect("sign-in page");
    assert_eq!(page.status, StatusCode::OK, "{page}");
    let csrf_cookie = cookie_from(&page, "__Host-strongroom-csrf").expect("a CSRF cookie");
    let csrf = field_value(&page.text(), "csrf");
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("step", "signin"),
            ("username", upn),
            ("password", password),
        ])
        .finish();
    let answer = server
        .client()
        .request("POST", "localhost", &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &csrf_cookie)
        .header("origin", &origin)
        .body(form)
        .send()
        .await
        .expect("sign-in post");
    if answer.status != StatusCode::SEE_OTHER {
        return Err(answer);
    }
    let location = answer.header("location").expect("a Location").to_owned();
    let code = form_urlencoded::parse(location.split_once('?').expect("a query").1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let session = cookie_from(&answer, "__Host-strongroom-session").expect("a session cookie");
    Ok((
        code,
        verifier,
        Browser {
            cookies: vec![csrf_cookie, session],
        },
    ))
}

/// Redeems `code` as the console; the token endpoint's answer as it is.
pub(crate) async fn redeem(
    server: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> RawResponse {
    let redirect = format!("{}/", authority(server));
    server
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", &redirect),
            ("code_verifier", verifier),
            ("scope", MANAGEMENT_SCOPE),
        ])
        .await
}

pub(crate) async fn refresh(
    server: &TestServer,
    client_id: &str,
    refresh_token: &str,
    scope: &str,
) -> RawResponse {
    server
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
            ("scope", scope),
        ])
        .await
}

fn oauth_error(response: &RawResponse) -> (String, u64) {
    let body = response.json();
    (
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_codes"][0].as_u64().unwrap_or_default(),
    )
}

async fn subscriptions(server: &TestServer, token: &str) -> StatusCode {
    server
        .client()
        .request("GET", "localhost", "/subscriptions?api-version=2022-12-01")
        .bearer(token)
        .send()
        .await
        .expect("subscriptions")
        .status
}

/// `prompt=none` with the browser's cookies: a code (303/302 with `code=`) or `login_required`.
async fn silent_sign_in(server: &TestServer, browser: &Browser) -> String {
    let (_, challenge) = pkce();
    let redirect = format!("{}/", authority(server));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", CONSOLE),
            ("response_type", "code"),
            ("redirect_uri", &redirect),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ])
        .finish();
    let answer = server
        .client()
        .request(
            "GET",
            "localhost",
            &format!("/organizations/oauth2/v2.0/authorize?{query}"),
        )
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .expect("silent sign-in");
    assert_eq!(answer.status, StatusCode::FOUND, "{answer}");
    answer.header("location").expect("Location").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_ends_every_token_refresh_token_and_session_bought_with_the_old_one() {
    let server = TestServer::start();
    let user = create_user(&server, "ada@contoso.com", true);
    let (code, verifier, browser) = sign_in(&server, "ada@contoso.com", PASSWORD)
        .await
        .expect("signed in");
    let tokens = redeem(&server, CONSOLE, &code, &verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens}");
    let tokens = tokens.json();
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    assert_eq!(subscriptions(&server, access).await, StatusCode::OK);
    assert!(silent_sign_in(&server, &browser).await.contains("code="));
    // The user principal name signs in; the object id, another name for the account, does not.
    let by_id = sign_in(&server, &user, PASSWORD)
        .await
        .expect_err("object id");
    assert!(by_id.text().contains("AADSTS50126"), "{by_id}");

    server.cli(&[
        "user",
        "set-password",
        "--id",
        &user,
        "--password",
        "N3w-password!",
    ]);

    assert_eq!(
        subscriptions(&server, access).await,
        StatusCode::UNAUTHORIZED
    );
    let refused = refresh(&server, CONSOLE, refresh_token, MANAGEMENT_SCOPE).await;
    assert_eq!(
        oauth_error(&refused),
        ("invalid_grant".to_owned(), 50_173),
        "{refused}"
    );
    let location = silent_sign_in(&server, &browser).await;
    assert!(location.contains("error=login_required"), "{location}");
    // The old password no longer signs in; the new one does.
    assert!(sign_in(&server, "ada@contoso.com", PASSWORD).await.is_err());
    assert!(
        sign_in(&server, "ada@contoso.com", "N3w-password!")
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_disabled_user_can_neither_sign_in_nor_refresh() {
    let server = TestServer::start();
    let grace = create_user(&server, "grace@contoso.com", false);
    let (code, verifier, _) = sign_in(&server, "grace@contoso.com", PASSWORD)
        .await
        .expect("signed in");
    let tokens = redeem(&server, CONSOLE, &code, &verifier).await.json();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    server.cli(&[
        "user",
        "update",
        "--id",
        &grace,
        "--account-enabled",
        "false",
    ]);
    let refused = refresh(&server, CONSOLE, &refresh_token, MANAGEMENT_SCOPE).await;
    assert_eq!(oauth_error(&refused).0, "invalid_grant", "{refused}");
    let page = sign_in(&server, "grace@contoso.com", PASSWORD)
        .await
        .expect_err("disabled");
    assert!(page.text().contains("AADSTS50057"), "{page}");

    server.cli(&[
        "user",
        "update",
        "--id",
        &grace,
        "--account-enabled",
        "true",
    ]);
    assert_eq!(
        refresh(&server, CONSOLE, &refresh_token, MANAGEMENT_SCOPE)
            .await
            .status,
        StatusCode::OK
    );
    server.cli(&["user", "delete", "--id", &grace]);
    let refused = refresh(&server, CONSOLE, &refresh_token, MANAGEMENT_SCOPE).await;
    assert_eq!(
        oauth_error(&refused),
        ("invalid_grant".to_owned(), 50_173),
        "{refused}"
    );
    let page = sign_in(&server, "grace@contoso.com", PASSWORD)
        .await
        .expect_err("deleted");
    assert!(page.text().contains("AADSTS50126"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_refresh_tokens_and_access_tokens_are_not_accepted_as_one_another() {
    let server = TestServer::start();
    create_user(&server, "linus@contoso.com", false);
    let (code, verifier, browser) = sign_in(&server, "linus@contoso.com", PASSWORD)
        .await
        .expect("signed in");
    // Another client cannot redeem the console's code.
    let other = redeem(&server, AZURE_CLI, &code, &verifier).await;
    assert_eq!(oauth_error(&other).0, "invalid_grant", "{other}");
    let tokens = redeem(&server, CONSOLE, &code, &verifier).await.json();
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    let id_token = tokens["id_token"].as_str().expect("id token");

    // A refresh token is not a code, an access token or an id token is not a refresh token.
    let as_code = redeem(&server, CONSOLE, refresh_token, &verifier).await;
    assert_eq!(
        oauth_error(&as_code),
        ("invalid_grant".to_owned(), 9_002_313),
        "{as_code}"
    );
    for not_refresh in [access, id_token, code.as_str()] {
        let refused = refresh(&server, CONSOLE, not_refresh, MANAGEMENT_SCOPE).await;
        assert_eq!(oauth_error(&refused).0, "invalid_grant", "{refused}");
    }
    // Nor is any of them a bearer token; nor is the session cookie's value.
    let session = browser.cookies[1]
        .split_once('=')
        .expect("cookie")
        .1
        .to_owned();
    for not_bearer in [refresh_token, id_token, code.as_str(), session.as_str()] {
        assert_eq!(
            subscriptions(&server, not_bearer).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The user's own token: a user's claims, the console's app id.
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("payload"))
            .expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(claims["idtyp"], "user");
    assert_eq!(claims["upn"], "linus@contoso.com");
    assert_eq!(claims["appid"], CONSOLE);
    assert_eq!(claims["scp"], "user_impersonation");
    // A non-administrator user is refused the management API, as any principal is.
    assert_eq!(subscriptions(&server, access).await, StatusCode::OK);
    let groups = server
        .client()
        .request(
            "GET",
            "localhost",
            &format!(
                "/subscriptions/{}/resourcegroups?api-version=2022-09-01",
                server.subscription_id
            ),
        )
        .bearer(access)
        .send()
        .await
        .expect("resource groups");
    assert_eq!(groups.status, StatusCode::FORBIDDEN, "{groups}");
}

/// 32 random bytes (a PKCE verifier's entropy).
fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    bytes
}

/// `POST /{tenant}/oauth2/v2.0/devicecode` as the Azure CLI: `(user_code, device_code)`.
pub(crate) async fn start_device_code(server: &TestServer) -> (String, String) {
    let started = server
        .client()
        .request(
            "POST",
            "localhost",
            &format!("/{}/oauth2/v2.0/devicecode", server.tenant_id),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={AZURE_CLI}&scope=https%3A%2F%2Fvault.azure.net%2F.default+offline_access"
        ))
        .send()
        .await
        .expect("device code");
    assert_eq!(started.status, StatusCode::OK, "{started}");
    let body = started.json();
    assert!(
        body["verification_uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("/devicelogin")),
        "{body}"
    );
    (
        body["user_code"].as_str().expect("user_code").to_owned(),
        body["device_code"]
            .as_str()
            .expect("device_code")
            .to_owned(),
    )
}

/// The device-code grant as MSAL polls it.
pub(crate) async fn poll_device_code(server: &TestServer, device_code: &str) -> RawResponse {
    server
        .token_request(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", AZURE_CLI),
            ("device_code", device_code),
        ])
        .await
}

/// A person at `/devicelogin`: enters `user_code`, signs in, approves; returns the last page.
pub(crate) async fn approve_device_code(server: &TestServer, user_code: &str, upn: &str) -> String {
    let origin = authority(server);
    let entry = server
        .client()
        .request("GET", "localhost", "/devicelogin")
        .send()
        .await
        .expect("device login page");
    let csrf_cookie = cookie_from(&entry, "__Host-strongroom-csrf").expect("a CSRF cookie");
    let csrf = field_value(&entry.text(), "csrf");
    let mut cookies = vec![csrf_cookie];
    let mut last = String::new();
    for step in [
        vec![("step", "code"), ("user_code", user_code)],
        vec![
            ("step", "signin"),
            ("user_code", user_code),
            ("username", upn),
            ("password", PASSWORD),
        ],
        vec![("step", "approve"), ("user_code", user_code)],
    ] {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf", &csrf);
        form.extend_pairs(step);
        let answer = server
            .client()
            .request("POST", "localhost", "/devicelogin")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookies.join("; "))
            .header("origin", &origin)
            .body(form.finish())
            .send()
            .await
            .expect("device login post");
        assert_eq!(answer.status, StatusCode::OK, "{answer}");
        cookies.extend(cookie_from(&answer, "__Host-strongroom-session"));
        last = answer.text();
    }
    last
}
