//! CORS on vault hosts, for the web console only: the console runs on the service host
//! (`https://{domain}:{port}`) and calls each vault's data plane on `{vault}.vault.{domain}`,
//! another origin. A request whose `Origin` is the console's gets
//! `Access-Control-Allow-Origin` with that origin (never `*`) and the headers the app must
//! read; its preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here,
//! before authentication, as browsers send it without credentials. Any other origin gets no
//! CORS header, so browsers keep its scripts out; a request without `Origin` (every SDK's)
//! costs one header lookup and is answered exactly as before.

use crate::state::ApiConfig;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

/// A vault request from the console's origin.
pub(crate) struct ConsoleOrigin {
    /// The request's `Origin`, echoed.
    origin: HeaderValue,
    /// `OPTIONS` with `Access-Control-Request-Method`: a preflight, answered without a token.
    preflight: bool,
}

impl ConsoleOrigin {
    /// The console's origin if `headers` carry it; `None` (and no CORS headers) otherwise.
    pub(crate) fn of(config: &ApiConfig, method: &Method, headers: &HeaderMap) -> Option<Self> {
        let origin = headers.get(header::ORIGIN)?;
        if !is_console_origin(config, origin.to_str().ok()?) {
            return None;
        }
        Some(Self {
            origin: origin.clone(),
            preflight: *method == Method::OPTIONS
                && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD),
        })
    }

    /// The answer to a preflight, if this is one.
    pub(crate) fn preflight(&self) -> Option<Response> {
        if !self.preflight {
            return None;
        }
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, PUT, POST, PATCH, DELETE"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        Some(response)
    }

    /// Adds the CORS headers to the answer (a preflight's too).
    pub(crate) fn decorate(self, headers: &mut HeaderMap) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, self.origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "WWW-Authenticate, Retry-After, Location, x-ms-request-id, x-ms-keyvault-service-version",
            ),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// Whether `origin` is the service host's as a browser writes it: `https://{domain}:{port}`
/// (`port` is `--public-port` when given), without the port when it is 443.
fn is_console_origin(config: &ApiConfig, origin: &str) -> bool {
    let Some(host) = origin
        .strip_prefix("https://")
        .and_then(|rest| rest.get(..config.domain.len()).map(|name| (name, rest)))
        .filter(|(name, _)| name.eq_ignore_ascii_case(&config.domain))
        .map(|(name, rest)| &rest[name.len()..])
    else {
        return false;
    };
    match host.strip_prefix(':') {
        Some(port) => port.parse::<u16>().is_ok_and(|p| p == config.port) && !port.starts_with('0'),
        None => host.is_empty() && config.port == 443,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(port: u16) -> ApiConfig {
        ApiConfig {
            domain: "localhost".into(),
            port,
            tenant_id: "t".into(),
            subscription_id: "s".into(),
            dev_clock: None,
        }
    }

    #[test]
    fn only_the_service_hosts_origin_is_the_console() {
        let c = config(8443);
        assert!(is_console_origin(&c, "https://localhost:8443"));
        assert!(is_console_origin(&c, "https://LOCALHOST:8443"));
        for other in [
            "https://localhost",
            "https://localhost:443",
            "https://localhost:08443",
            "https://localhost:8444",
            "http://localhost:8443",
            "https://evil.localhost:8443",
            "https://localhost.evil:8443",
            "https://v.vault.localhost:8443",
            "https://localhost:8443/",
            "null",
            "",
        ] {
            assert!(!is_console_origin(&c, other), "{other}");
        }
        let standard = config(443);
        assert!(is_console_origin(&standard, "https://localhost"));
        assert!(is_console_origin(&standard, "https://localhost:443"));
    }

    #[test]
    fn a_preflight_needs_options_and_the_request_method() {
        let c = config(8443);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost:8443"),
        );
        let plain = ConsoleOrigin::of(&c, &Method::OPTIONS, &headers).unwrap();
        assert!(plain.preflight().is_none());
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("PUT"),
        );
        let preflight = ConsoleOrigin::of(&c, &Method::OPTIONS, &headers).unwrap();
        assert_eq!(
            preflight.preflight().unwrap().status(),
            StatusCode::NO_CONTENT
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(ConsoleOrigin::of(&c, &Method::OPTIONS, &headers).is_none());
    }
}
