//! Request bodies: size-limited reading and JSON parsing that names the bad property but never
//! echoes a value (values may be secrets).

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// Far above any valid Key Vault request (a 25 KiB secret, JSON-escaped, with 15 tags), far
/// below what could hurt the server.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Reads a request body of at most `MAX_BODY_BYTES`.
///
/// A client that sent `Expect: 100-continue` with a declared `Content-Length` over the limit
/// gets the 413 before the body is polled (polling is what makes hyper send `100 Continue`),
/// so it never uploads. Any other client is read up to the limit first: answering before it
/// has finished writing would make the server close a connection with unread data, and the
/// resulting reset can swallow the 413 on the client's side.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let expects_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)
}

/// Parses a JSON body. Errors follow Azure's `Property {name} has invalid value` shape
/// (AZURE-ERRORS.md 6.11), with the JSON path of the offending property.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::BadParameter(
            "The request body is not valid UTF-8.".to_owned(),
        ));
    }
    // Every Key Vault request body is a JSON object, but serde also fills a struct from an
    // array, by position: `["RS256","<digest>"]` would sign and `["x"]` set a secret to "x".
    // An array is refused like the other non-objects (`null`, `"text"`), with the empty path.
    let first = body
        .iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    if first == Some(&b'[') {
        return Err(ApiError::BadParameter(
            "Property  has invalid value\r\n".to_owned(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    match parsed {
        Ok(value) => {
            if deserializer.end().is_err() {
                return Err(ApiError::BadParameter(
                    "The request body is not valid JSON.".to_owned(),
                ));
            }
            Ok(value)
        }
        Err(err) => {
            let path = err.path().to_string();
            let message = if err.inner().is_syntax() || err.inner().is_eof() {
                "The request body is not valid JSON.".to_owned()
            } else if path == "." {
                "Property  has invalid value\r\n".to_owned()
            } else {
                format!("Property {path} has invalid value\r\n")
            };
            Err(ApiError::BadParameter(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SecretSetParameters;

    #[track_caller]
    fn check(body: &[u8], expected: &str) {
        let got = match parse_json::<SecretSetParameters>(body) {
            Ok(_) => "ok".to_owned(),
            Err(err) => err.to_string(),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn errors_name_the_property_not_the_value() {
        check(br#"{"value":"x"}"#, "ok");
        check(br#"{"value":"x","unknown":1}"#, "ok");
        check(
            br#"{"value":"#,
            "bad parameter: The request body is not valid JSON.",
        );
        check(b"", "bad parameter: The request body is not valid JSON.");
        check(
            b"\xff\xfe",
            "bad parameter: The request body is not valid UTF-8.",
        );
        check(
            br#"{"value":"x","tags":"hunter2"}"#,
            "bad parameter: Property tags has invalid value\r\n",
        );
        check(
            br#"{"value":"x","attributes":{"enabled":"hunter2"}}"#,
            "bad parameter: Property attributes.enabled has invalid value\r\n",
        );
        check(
            br#""text""#,
            "bad parameter: Property  has invalid value\r\n",
        );
        // A struct is not read from an array by position: `["x"]` sets no secret.
        check(
            br#"["x"]"#,
            "bad parameter: Property  has invalid value\r\n",
        );
        check(
            b" \r\n\t[\"x\", {}]",
            "bad parameter: Property  has invalid value\r\n",
        );
    }
}
