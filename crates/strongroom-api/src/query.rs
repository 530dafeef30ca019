//! Query parameters, decoded names and values alike (JS sends `api%2Dversion`, Rust
//! `%24skiptoken`; CLIENT-PROTOCOL.md 8.2), and the api-versions we accept.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::borrow::Cow;

/// The newest api-version, named in Azure's "not recognized" message.
pub(crate) const LATEST_API_VERSION: &str = "2026-04-01";

/// Every Key Vault data-plane api-version from 2016-10-01 to 2026-04-01, previews included.
/// (From 7.5 on, the `Versions` enum of the specs' TypeSpec, `data-plane/*/main.tsp`.
/// `2026-03-01-preview` is the default of azure_security_keyvault_* 1.1.0-beta for Rust,
/// observed in tests/sdk-rust.)
const KNOWN_API_VERSIONS: &[&str] = &[
    "2016-10-01",
    "7.0",
    "7.0-preview",
    "7.1",
    "7.1-preview",
    "7.2",
    "7.2-preview",
    "7.3",
    "7.3-preview",
    "7.4",
    "7.4-preview.1",
    "7.5",
    "7.5-preview.1",
    "7.6",
    "7.6-preview.1",
    "7.6-preview.2",
    "2025-06-01-preview",
    "2025-07-01",
    "2026-01-01-preview",
    "2026-03-01-preview",
    "2026-04-01",
];

/// The query parameters the data plane reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DataPlaneQuery<'a> {
    // Borrowed from the request's query unless percent-decoding changed them.
    pub api_version: Option<Cow<'a, str>>,
    pub max_results: Option<Cow<'a, str>>,
    pub skip_token: Option<Cow<'a, str>>,
    /// `includePending` of the certificate lists.
    pub include_pending: Option<Cow<'a, str>>,
}

impl<'a> DataPlaneQuery<'a> {
    pub(crate) fn parse(raw_query: Option<&'a str>) -> Self {
        let raw = raw_query.unwrap_or("");
        let mut query = Self::default();
        if raw.bytes().any(|b| b == b'%' || b == b'+') {
            for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
                query.set(&name, value);
            }
        } else {
            // Nothing to decode (the usual `api-version=7.5`): the same pairs as
            // `form_urlencoded::parse` gives, without its per-pair decoding work.
            for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                query.set(name, Cow::Borrowed(value));
            }
        }
        query
    }

    fn set(&mut self, name: &str, value: Cow<'a, str>) {
        match name {
            "api-version" => self.api_version = Some(value),
            "maxresults" => self.max_results = Some(value),
            "$skiptoken" => self.skip_token = Some(value),
            "includePending" => self.include_pending = Some(value),
            _ => {}
        }
    }

    /// Checks the api-version. AZURE-ERRORS.md 6.1 for the template; a missing version is
    /// not captured from Azure and gets the same template with an empty version.
    pub(crate) fn api_version(&self) -> Result<&str, ApiError> {
        let requested = self.api_version.as_deref().unwrap_or("");
        if KNOWN_API_VERSIONS.contains(&requested) {
            Ok(requested)
        } else {
            Err(ApiError::BadParameter(format!(
                "The specified version ({requested}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."
            )))
        }
    }

    /// `maxresults`: 1..=25, default 25 (spec). Out of range is not captured from Azure
    /// (AZURE-ERRORS.md 6.17); we answer 400 `BadParameter`.
    pub(crate) fn max_results(&self) -> Result<usize, ApiError> {
        match self.max_results.as_deref() {
            None | Some("") => Ok(25),
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=25).contains(&n) => Ok(n),
                _ => Err(ApiError::BadParameter(format!(
                    "Invalid maxresults value: {raw}. The value must be between 1 and 25."
                ))),
            },
        }
    }

    /// `includePending=true` (any casing); anything else, or nothing, is false.
    pub(crate) fn include_pending(&self) -> bool {
        self.include_pending
            .as_deref()
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// The store cursor inside `$skiptoken` (opaque base64url to clients).
    pub(crate) fn cursor(&self) -> Result<Option<String>, ApiError> {
        match self.skip_token.as_deref() {
            None | Some("") => Ok(None),
            Some(token) => decode_skip_token(token)
                .map(Some)
                .ok_or_else(|| ApiError::BadParameter("The $skiptoken is invalid.".to_owned())),
        }
    }
}

pub(crate) fn encode_skip_token(cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(cursor.as_bytes())
}

fn decode_skip_token(token: &str) -> Option<String> {
    // Clients may re-encode or pad; accept both forms.
    let trimmed = token.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(trimmed).ok()?;
    String::from_utf8(bytes).ok()
}

/// The absolute `nextLink` for a list: the request's origin and path, the request's
/// api-version, any `maxresults`, and the opaque `$skiptoken` (CLIENT-PROTOCOL.md 6).
pub(crate) fn next_link(
    origin: &str,
    path: &str,
    api_version: &str,
    max_results: Option<&str>,
    cursor: &str,
) -> String {
    // Only known api-versions reach here and the token is base64url, so nothing needs
    // escaping; `$skiptoken` stays literal as in Azure's links.
    let mut link = format!(
        "{origin}{path}?api-version={api_version}&$skiptoken={}",
        encode_skip_token(cursor)
    );
    if let Some(n) = max_results {
        link.push_str("&maxresults=");
        link.push_str(n);
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encoded_names() {
        let q = DataPlaneQuery::parse(Some("api%2Dversion=7.4&%24skiptoken=YWJj&maxresults=2"));
        assert_eq!(q.api_version().unwrap(), "7.4");
        assert_eq!(q.cursor().unwrap().as_deref(), Some("abc"));
        assert_eq!(q.max_results().unwrap(), 2);
    }

    #[test]
    fn the_plain_path_reads_what_form_urlencoded_reads() {
        for raw in [
            "api-version=7.5",
            "api-version=7.5&maxresults=3",
            "&&api-version=2025-07-01&",
            "maxresults&api-version",
            "api-version=a=b&$skiptoken=abc&other=1",
            "api-version=7.4&api-version=7.5",
            "",
        ] {
            let mut slow = DataPlaneQuery::default();
            for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
                slow.set(&name, value);
            }
            assert_eq!(DataPlaneQuery::parse(Some(raw)), slow, "{raw:?}");
        }
        // Escapes still take the decoding path.
        assert_eq!(
            DataPlaneQuery::parse(Some("api%2Dversion=7.5&maxresults=2+"))
                .max_results
                .as_deref(),
            Some("2 ")
        );
    }

    #[test]
    fn api_versions() {
        for ok in [
            "2016-10-01",
            "7.0",
            "7.6",
            "2025-07-01",
            "2026-01-01-preview",
            "2026-03-01-preview",
            "2026-04-01",
        ] {
            let raw = format!("api-version={ok}");
            let q = DataPlaneQuery::parse(Some(&raw));
            assert!(q.api_version().is_ok(), "{ok}");
        }
        let q = DataPlaneQuery::parse(Some("api-version=7.7"));
        assert_eq!(
            q.api_version().unwrap_err().to_string(),
            "bad parameter: The specified version (7.7) is not recognized. Consider using the latest supported version (2026-04-01)."
        );
        assert!(DataPlaneQuery::parse(None).api_version().is_err());
    }

    #[test]
    fn max_results_bounds() {
        for (raw, ok) in [
            ("1", true),
            ("25", true),
            ("0", false),
            ("26", false),
            ("x", false),
        ] {
            let query = format!("maxresults={raw}");
            let q = DataPlaneQuery::parse(Some(&query));
            assert_eq!(q.max_results().is_ok(), ok, "{raw}");
        }
    }

    #[test]
    fn next_link_round_trips_through_python_reencoding() {
        let link = next_link(
            "https://v.vault.localhost:8443",
            "/secrets",
            "7.4",
            Some("2"),
            "name-7",
        );
        assert!(
            link.starts_with("https://v.vault.localhost:8443/secrets?api-version=7.4&$skiptoken=")
        );
        let query = link.split_once('?').unwrap().1;
        let q = DataPlaneQuery::parse(Some(query));
        assert_eq!(q.cursor().unwrap().as_deref(), Some("name-7"));
        assert_eq!(q.max_results().unwrap(), 2);
    }
}
