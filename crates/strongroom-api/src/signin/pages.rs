//! The identity provider's HTML: sign-in, account picker, the form that posts a code back
//! to a native client, the device-code pages, errors. Server-rendered, no script except the
//! one same-origin file that submits the form-post form (a visible button does the same
//! without it), every value escaped, and a Content-Security-Policy that allows nothing else:
//! no inline script or style, no framing, forms only to this origin and, where a page posts
//! or redirects to the client, to that client's redirect origin.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// The sign-in pages' stylesheet and the form-post script, embedded in the binary.
pub(crate) const STYLESHEET: &str = include_str!("../../signin-assets/signin.css");
pub(crate) const FORM_POST_SCRIPT: &str = include_str!("../../signin-assets/form-post.js");

/// Text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One page: a title, the main card's content, the origins its forms may post or redirect
/// to besides this one, and cookies to set.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) form_targets: Vec<String>,
    pub(crate) script: bool,
    pub(crate) cookies: Vec<String>,
}

impl Page {
    pub(crate) fn new(title: &str, body: String) -> Self {
        Self {
            status: StatusCode::OK,
            title: title.to_owned(),
            body,
            form_targets: Vec::new(),
            script: false,
            cookies: Vec::new(),
        }
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn cookie(mut self, cookie: Option<String>) -> Self {
        self.cookies.extend(cookie);
        self
    }

    pub(crate) fn form_target(mut self, origin: Option<&str>) -> Self {
        self.form_targets.extend(origin.map(str::to_owned));
        self
    }

    pub(crate) fn into_response(self) -> Response {
        let script = if self.script {
            "<script src=\"/signin-assets/form-post.js\"></script>\n"
        } else {
            ""
        };
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title} - Strongroom</title>\n\
             <link rel=\"stylesheet\" href=\"/signin-assets/signin.css\">\n</head>\n<body>\n\
             <main class=\"card\">\n<p class=\"brand\" aria-hidden=\"true\">Strongroom</p>\n\
             {body}\n</main>\n{script}</body>\n</html>\n",
            title = escape(&self.title),
            body = self.body,
        );
        let mut form_action = String::from("'self'");
        for target in &self.form_targets {
            form_action.push(' ');
            form_action.push_str(target);
        }
        let csp = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        );
        let mut response = Response::new(axum::body::Body::from(html));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        security_headers(headers);
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// Headers every identity page and asset carries: the console's hardening, and never kept
/// in a cache (the pages hold CSRF tokens, codes and password forms).
pub(crate) fn security_headers(headers: &mut axum::http::HeaderMap) {
    crate::console::browser_page_headers(headers);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A static asset of the sign-in pages.
pub(crate) fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    security_headers(headers);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

fn error_paragraph(error: Option<&str>) -> String {
    error.map_or_else(String::new, |message| {
        format!(
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>\n",
            escape(message)
        )
    })
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(name),
        escape(value)
    )
}

/// What a sign-in form needs: where it posts, its CSRF token, the hidden fields that carry
/// the flow's state, the application's name, a name to prefill and an error to show.
pub(crate) struct SignInForm<'a> {
    pub(crate) action: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) hidden: Vec<(&'a str, &'a str)>,
    pub(crate) app: &'a str,
    pub(crate) login_hint: &'a str,
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn sign_in(form: &SignInForm<'_>) -> Page {
    let hidden_fields: String = form
        .hidden
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    let body = format!(
        "<h1>Sign in</h1>\n<p>to continue to <strong>{app}</strong></p>\n{error}\
         <form method=\"post\" action=\"{action}\">\n{csrf}{hidden_fields}\
         <label for=\"username\">User name (email)</label>\n\
         <input id=\"username\" name=\"username\" type=\"text\" inputmode=\"email\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required \
         value=\"{hint}\">\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required>\n\
         <button id=\"signin\" type=\"submit\">Sign in</button>\n</form>",
        app = escape(form.app),
        error = error_paragraph(form.error),
        action = escape(form.action),
        csrf = hidden("csrf", form.csrf),
        hint = escape(form.login_hint),
    );
    Page::new("Sign in", body)
}

/// "Continue as …" for a browser that is already signed in (`prompt=select_account`).
pub(crate) fn account_picker(
    action: &str,
    csrf: &str,
    app: &str,
    upn: &str,
    other_account: &str,
) -> Page {
    let body = format!(
        "<h1>Pick an account</h1>\n<p>to continue to <strong>{app}</strong></p>\n\
         <form method=\"post\" action=\"{action}\">\n{csrf}{step}\
         <button id=\"continue\" type=\"submit\">Continue as {upn}</button>\n</form>\n\
         <p><a id=\"other-account\" href=\"{other}\">Use another account</a></p>",
        app = escape(app),
        action = escape(action),
        csrf = hidden("csrf", csrf),
        step = hidden("step", "continue"),
        upn = escape(upn),
        other = escape(other_account),
    );
    Page::new("Pick an account", body)
}

/// The page that hands a code (or an error) to a client that asked for
/// `response_mode=form_post`: a form to its redirect URI, submitted by the same-origin script
/// or by the button.
pub(crate) fn form_post(redirect_uri: &str, fields: &[(&str, &str)], app: &str) -> Page {
    let hidden_fields: String = fields
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    let body = format!(
        "<h1>Signing you in</h1>\n<form id=\"form-post\" method=\"post\" action=\"{action}\">\n\
         {hidden_fields}<p>Returning you to <strong>{app}</strong>.</p>\n\
         <button id=\"form-post-continue\" type=\"submit\">Continue</button>\n</form>",
        action = escape(redirect_uri),
        app = escape(app),
    );
    let mut page =
        Page::new("Signing you in", body).form_target(super::clients::origin_of(redirect_uri));
    page.script = true;
    page
}

/// An error page: the request cannot go back to the client (unknown client, foreign
/// redirect URI, unknown tenant), so the person sees Entra's code and message.
pub(crate) fn error(status: StatusCode, code: u32, message: &str) -> Page {
    let body = format!(
        "<h1>Sign-in failed</h1>\n<p id=\"error\" class=\"error\" role=\"alert\">\
         AADSTS{code}: {message}</p>",
        message = escape(message),
    );
    Page::new("Sign-in failed", body).status(status)
}

pub(crate) fn signed_out() -> Page {
    Page::new(
        "Signed out",
        "<h1>You have signed out</h1>\n<p id=\"signed-out\">It is a good idea to close all \
         browser windows.</p>"
            .to_owned(),
    )
}

/// Device code: the page where a person types the code a device showed them.
pub(crate) fn device_code_entry(csrf: &str, error: Option<&str>) -> Page {
    let body = format!(
        "<h1>Enter code</h1>\n<p>Enter the code displayed on your app or device.</p>\n{error}\
         <form method=\"post\" action=\"/devicelogin\">\n{csrf}{step}\
         <label for=\"user_code\">Code</label>\n\
         <input id=\"user_code\" name=\"user_code\" type=\"text\" autocomplete=\"off\" \
         autocapitalize=\"characters\" spellcheck=\"false\" required>\n\
         <button id=\"next\" type=\"submit\">Next</button>\n</form>",
        error = error_paragraph(error),
        csrf = hidden("csrf", csrf),
        step = hidden("step", "code"),
    );
    Page::new("Enter code", body)
}

/// Device code: "Are you trying to sign in to …?", for the signed-in person.
pub(crate) fn device_code_confirm(csrf: &str, user_code: &str, app: &str, upn: &str) -> Page {
    let body = format!(
        "<h1>Are you trying to sign in to {app}?</h1>\n\
         <p>Only continue if you started this sign-in from an app or device you trust. \
         You are signed in as <strong>{upn}</strong>.</p>\n\
         <form method=\"post\" action=\"/devicelogin\">\n{csrf}{code}\
         <button id=\"approve\" type=\"submit\" name=\"step\" value=\"approve\">Continue</button>\n\
         <button id=\"deny\" type=\"submit\" name=\"step\" value=\"deny\" class=\"secondary\">\
         Cancel</button>\n</form>",
        app = escape(app),
        upn = escape(upn),
        csrf = hidden("csrf", csrf),
        code = hidden("user_code", user_code),
    );
    Page::new("Confirm sign-in", body)
}

/// Device code: the end.
pub(crate) fn device_code_done(app: &str, approved: bool) -> Page {
    let title = if approved {
        "Signed in"
    } else {
        "Sign-in cancelled"
    };
    let body = if approved {
        format!(
            "<h1>You have signed in</h1>\n<p id=\"done\">You have signed in to {} on your \
             device. You may now close this window.</p>",
            escape(app)
        )
    } else {
        "<h1>Sign-in cancelled</h1>\n<p id=\"done\">The sign-in was cancelled. You may now \
         close this window.</p>"
            .to_owned()
    };
    Page::new(title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_carry_a_strict_policy() {
        let page = form_post(
            "http://localhost:1234",
            &[("code", "c"), ("state", "\"><script>")],
            "app",
        );
        let response = page.into_response();
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("form-action 'self' http://localhost:1234;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
    }
}
