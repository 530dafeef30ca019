//! The web console: a single-page app embedded in the binary and served on the service host at
//! `/` (its `index.html`, also where sign-in redirects back to) and `/console/…` (its scripts,
//! style sheet and `config.json`). The app signs in with the authorization-code flow + PKCE as
//! the public client [`CONSOLE_CLIENT_ID`] and then calls only the public APIs (ARM, Graph, the
//! vaults' data plane) with the user's token: nothing here reads the store or grants anything.
//!
//! Every answer carries a strict Content-Security-Policy (scripts and styles only from this
//! origin, connections only to it and the deployment's vault hosts, no framing) and the usual
//! hardening headers. The assets are the committed files of `crates/strongroom-api/console/`,
//! plain ES modules with no build step; [`ASSETS`] lists them and a test checks the list
//! against the directory. The vault hosts' CORS for this origin is `cors.rs`.

pub(crate) mod cors;

use crate::state::ApiConfig;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

/// The console's OAuth2 client id: a public client whose only redirect URI is the console's
/// own origin root (`{origin}/`). The identity service knows it; the console reads it from
/// `config.json`.
pub const CONSOLE_CLIENT_ID: &str = "3331b43c-9750-4aad-bfea-85b7bf2f071f";

/// One embedded file: its name under `/console/`, its media type and its bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../console/", $name)),
        }
    };
}

/// `index.html`, served at `/` only.
const INDEX: &[u8] = include_bytes!("../../console/index.html");

/// Everything under `/console/` but `config.json` (which is made from the configuration).
const ASSETS: &[Asset] = &[
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("auth.js", JS),
    asset!("api.js", JS),
    asset!("ui.js", JS),
    asset!("vaults.js", JS),
    asset!("objects.js", JS),
    asset!("secrets.js", JS),
    asset!("keys.js", JS),
    asset!("certificates.js", JS),
    asset!("access.js", JS),
    asset!("principals.js", JS),
    asset!("audit.js", JS),
];

/// Whether the service host answers `path` with the console (`/` and `/console/…`); every
/// other path stays the identity service's and the management API's.
pub(crate) fn serves(segments: &[&str]) -> bool {
    matches!(segments, [""] | ["console", ..])
}

/// Answers a request for `/` or `/console/…` (see [`serves`]).
pub(crate) fn handle(config: &ApiConfig, method: &Method, segments: &[&str]) -> Response {
    if *method != Method::GET && *method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return harden(config, response);
    }
    let response = match segments {
        [""] => file(INDEX, "text/html; charset=utf-8"),
        ["console", "config.json"] => file_owned(
            config_json(config).into_bytes(),
            "application/json; charset=utf-8",
        ),
        ["console", name] => match ASSETS.iter().find(|asset| asset.name == *name) {
            Some(asset) => file(asset.bytes, asset.content_type),
            None => not_found(),
        },
        _ => not_found(),
    };
    let mut response = harden(config, response);
    if *method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    response
}

/// What the app needs to know of the deployment: where vaults live, the tenant, its own
/// client id and the scopes it asks for. Public facts (`server.json` and the OIDC discovery
/// document hold them too).
fn config_json(config: &ApiConfig) -> String {
    serde_json::json!({
        "domain": config.domain,
        "port": config.port,
        "tenantId": config.tenant_id,
        "subscriptionId": config.subscription_id,
        "clientId": CONSOLE_CLIENT_ID,
        "authority": "organizations",
        "vaultHostSuffix": vault_host_suffix(config),
        "managementScope": "https://management.azure.com/.default",
        "graphScope": "https://graph.microsoft.com/.default",
        "vaultScope": "https://vault.azure.net/.default",
    })
    .to_string()
}

/// `vault.{domain}:{port}`: a vault's host is `{name}.` followed by this.
fn vault_host_suffix(config: &ApiConfig) -> String {
    format!("vault.{}:{}", config.domain, config.port)
}

/// The policy: this origin's scripts, styles and images (and `data:` images), connections to
/// this origin and the deployment's vault hosts only; no plugins, frames, base or foreign
/// form targets.
pub(crate) fn content_security_policy(config: &ApiConfig) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' https://*.{}; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        vault_host_suffix(config)
    )
}

const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// The console's security headers, on every answer under its paths (errors too).
fn harden(config: &ApiConfig, mut response: Response) -> Response {
    let headers: &mut HeaderMap = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(config)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    browser_page_headers(headers);
    headers.insert(
        CROSS_ORIGIN_OPENER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// What every page Strongroom serves to a browser (the console's, the sign-in pages) carries
/// besides its own CSP: no content sniffing, no referrer, no framing.
pub(crate) fn browser_page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn file(bytes: &'static [u8], content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn file_owned(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "Not found.\n")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = file(text.as_bytes(), "text/plain; charset=utf-8");
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ApiConfig {
        ApiConfig {
            domain: "strongroom.example".into(),
            port: 8443,
            tenant_id: "t".into(),
            subscription_id: "s".into(),
            dev_clock: None,
        }
    }

    #[test]
    fn every_file_of_the_asset_directory_is_served_and_only_those() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/console");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name != "index.html")
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn the_policy_names_this_deployments_vault_hosts() {
        expect_test::expect![[r#"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.vault.strongroom.example:8443; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"#]]
        .assert_eq(&content_security_policy(&config()));
    }

    #[test]
    fn assets_hold_no_inline_script_or_style() {
        let index = std::str::from_utf8(INDEX).unwrap();
        assert!(!index.contains("<script>"), "inline script");
        assert!(!index.contains("style="), "inline style attribute");
        assert!(!index.contains("<style"), "inline style element");
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.bytes).unwrap();
            // CSP blocks these; a DOM-built element's `style` property is allowed by CSP but
            // we use classes throughout, so any of them is a mistake.
            for banned in [
                "innerHTML",
                "eval(",
                "new Function",
                ".style.",
                "localStorage",
                "document.cookie",
            ] {
                assert!(!text.contains(banned), "{} uses {banned}", asset.name);
            }
        }
    }

    #[test]
    fn routes_only_the_root_and_console_paths() {
        assert!(serves(&[""]));
        assert!(serves(&["console", "app.js"]));
        assert!(!serves(&["organizations", "oauth2"]));
        assert!(!serves(&["subscriptions"]));
        let c = config();
        assert_eq!(
            handle(&c, &Method::GET, &["console", "nope.js"]).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            handle(&c, &Method::POST, &[""]).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
