//! The identity provider's two cookies and the checks that make its forms CSRF-safe.
//!
//! - `__Host-strongroom-session`: the sign-in session (a signed `SignInSession`), so the next
//!   authorization request in this browser needs no password. `__Host-` pins it to this
//!   host, `Secure`, `Path=/`; `HttpOnly` keeps it from scripts; `SameSite=Strict` keeps it
//!   on this site's own requests only. Cookies are not bound to a port, and browsers treat
//!   `http://localhost` as secure: with the domain `localhost`, a Lax cookie would follow a
//!   top-level navigation to a native client's loopback listener (`http://localhost:PORT`);
//!   a Strict one does not (another scheme is another site).
//! - `__Host-strongroom-csrf`: a random value echoed in every form (double submit). A post
//!   is accepted only when the form's value equals the cookie's (constant time) and, when the
//!   browser says where the request came from (`Origin`, `Sec-Fetch-Site`), it came from
//!   this origin. A page on another site can neither read the cookie nor set it (`__Host-`),
//!   so it cannot forge a sign-in, an approval of a device code, or a sign-out.

use axum::http::{HeaderMap, header};
use strongroom_identity::{Artifact, SignInSession};

pub(crate) const SESSION_COOKIE: &str = "__Host-strongroom-session";
pub(crate) const CSRF_COOKIE: &str = "__Host-strongroom-csrf";

/// The value of cookie `name` in the request, if it is there once or more (the first wins).
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn set(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// `Set-Cookie` for a new sign-in session.
pub(crate) fn session(value: &str) -> String {
    set(SESSION_COOKIE, value, SignInSession::LIFETIME_SECONDS)
}

/// `Set-Cookie` that removes the sign-in session.
pub(crate) fn clear_session() -> String {
    set(SESSION_COOKIE, "", 0)
}

/// The request's CSRF token, or a new one and the `Set-Cookie` that plants it.
pub(crate) fn csrf_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|v| is_token_shaped(v)) {
        Some(existing) => (existing.to_owned(), None),
        None => {
            let fresh = strongroom_identity::random_token(32).unwrap_or_default();
            let set_cookie = set(CSRF_COOKIE, &fresh, 86_400);
            (fresh, Some(set_cookie))
        }
    }
}

fn is_token_shaped(value: &str) -> bool {
    (32..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a form post is this site's own: the CSRF field equals the cookie, and the
/// browser's `Origin` and `Sec-Fetch-Site`, when sent, say it came from `origin`.
pub(crate) fn is_same_site_post(
    headers: &HeaderMap,
    form_csrf: Option<&str>,
    origin: &str,
) -> bool {
    let Some(expected) = cookie(headers, CSRF_COOKIE).filter(|v| is_token_shaped(v)) else {
        return false;
    };
    let token_ok = form_csrf.is_some_and(|presented| {
        presented.len() == expected.len()
            && strongroom_identity::constant_time_eq(presented.as_bytes(), expected.as_bytes())
    });
    // `Origin: null` is the browser declining to say: Chromium sends it on every form post
    // from a page under `Referrer-Policy: no-referrer`, as ours are; `Sec-Fetch-Site` still says.
    let origin_ok = headers
        .get(header::ORIGIN)
        .is_none_or(|value| value.as_bytes() == origin.as_bytes() || value == "null");
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|value| value == "same-origin" || value == "none");
    token_ok && origin_ok && fetch_site_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const TOKEN: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn csrf_needs_the_cookie_the_field_and_this_origin() {
        let cookie = format!("a=b; {CSRF_COOKIE}={TOKEN}");
        let ok = headers(&[("cookie", &cookie), ("origin", "https://h:1")]);
        assert!(is_same_site_post(&ok, Some(TOKEN), "https://h:1"));
        assert!(!is_same_site_post(&ok, Some("x"), "https://h:1"));
        assert!(!is_same_site_post(&ok, None, "https://h:1"));
        assert!(!is_same_site_post(&ok, Some(TOKEN), "https://other:1"));
        let no_cookie = headers(&[("origin", "https://h:1")]);
        assert!(!is_same_site_post(&no_cookie, Some(TOKEN), "https://h:1"));
        let cross = headers(&[("cookie", &cookie), ("sec-fetch-site", "cross-site")]);
        assert!(!is_same_site_post(&cross, Some(TOKEN), "https://h:1"));
        let no_origin = headers(&[("cookie", &cookie)]);
        assert!(is_same_site_post(&no_origin, Some(TOKEN), "https://h:1"));
        let null_origin = headers(&[
            ("cookie", &cookie),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(is_same_site_post(&null_origin, Some(TOKEN), "https://h:1"));
        let null_cross = headers(&[
            ("cookie", &cookie),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!is_same_site_post(&null_cross, Some(TOKEN), "https://h:1"));
    }

    #[test]
    fn a_new_csrf_token_is_planted_once() {
        let (token, set_cookie) = csrf_token(&HeaderMap::new());
        let set_cookie = set_cookie.unwrap();
        assert!(set_cookie.starts_with(&format!("{CSRF_COOKIE}={token};")));
        assert!(set_cookie.contains("Secure; HttpOnly; SameSite=Strict"));
        let cookie = format!("{CSRF_COOKIE}={token}");
        let (again, none) = csrf_token(&headers(&[("cookie", &cookie)]));
        assert_eq!(again, token);
        assert!(none.is_none());
    }
}
