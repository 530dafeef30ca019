//! Everything that can stop a command, and the one line (`ERROR: …`) the user sees for it.
//!
//! The server's own words win: an Azure-shaped body becomes `(Code) message` as `az` prints
//! it on its first line, an identity error becomes its `error_description`. Only when the
//! server said nothing readable do we describe the status ourselves.

use std::io;
use std::path::PathBuf;

use http::{Method, StatusCode};
use serde::Deserialize;
use strongroom_model::NameError;

use crate::endpoints::Target;
use crate::https::HttpsError;

/// Why a CLI command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{file} not found in the data directory {}: {hint}", dir.display())]
    MissingDataFile {
        file: &'static str,
        dir: PathBuf,
        hint: &'static str,
    },
    #[error("cannot read {}: {source}", path.display())]
    ReadDataFile { path: PathBuf, source: io::Error },
    #[error("{} is not valid: {source}", path.display())]
    InvalidDataFile {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Https(#[from] HttpsError),
    /// Key Vault, ARM or Graph error body: `{"error":{"code","message"}}`.
    #[error("({code}) {message}")]
    Azure { code: String, message: String },
    /// Identity (token endpoint) error body: `{"error","error_description"}`.
    #[error("{description}")]
    Identity { description: String },
    #[error("the server answered {status} to {method} {url}")]
    Status {
        method: Method,
        url: String,
        status: StatusCode,
    },
    #[error("unexpected answer to {method} {url}: {detail}")]
    UnexpectedBody {
        method: Method,
        url: String,
        detail: String,
    },
    #[error("invalid vault name {name:?}: {source}")]
    VaultName { name: String, source: NameError },
    #[error("cannot read the secret value from {}: {source}", path.display())]
    ValueFile { path: PathBuf, source: io::Error },
    /// Arguments clap let through but the command cannot use.
    #[error("{0}")]
    Usage(String),
    #[error("cannot create the certificate: {0}")]
    Certificate(String),
    #[error("cannot write the certificate file {}: {source}", path.display())]
    CertFile { path: PathBuf, source: io::Error },
    #[error("cannot write the output: {0}")]
    Output(io::Error),
    /// `key import`: the PEM could not become a JWK (az's wording: `Import failed: …`).
    #[error("Import failed: {0}")]
    KeyImport(String),
    #[error("cannot read {}: {source}", path.display())]
    ReadFile { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    WriteFile { path: PathBuf, source: io::Error },
}

impl CliError {
    /// The error for a non-success response, from its body when the body says something.
    pub(crate) fn from_response(
        method: &Method,
        target: &Target,
        status: StatusCode,
        body: &[u8],
    ) -> Self {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum ErrorBody {
            Azure {
                error: AzureError,
            },
            Identity {
                error: String,
                error_description: Option<String>,
            },
        }
        #[derive(Deserialize)]
        struct AzureError {
            code: String,
            message: String,
        }
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody::Azure { error }) => Self::Azure {
                code: error.code,
                message: error.message,
            },
            Ok(ErrorBody::Identity {
                error,
                error_description,
            }) => Self::Identity {
                description: error_description
                    .filter(|description| !description.is_empty())
                    .unwrap_or(error),
            },
            Err(_) => Self::Status {
                method: method.clone(),
                url: target.to_string(),
                status,
            },
        }
    }

    /// `ERROR: <message>` on one line: Azure's messages may carry CR LF, which would break
    /// anything reading stderr line by line.
    pub(crate) fn line(&self) -> String {
        let message = self.to_string();
        let one_line: Vec<&str> = message
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        format!("ERROR: {}", one_line.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(status: u16, body: &str, expect: Expect) {
        let target = Target {
            host: "v1.vault.localhost".to_owned(),
            port: 4443,
            path_and_query: "/secrets/s1?api-version=2025-07-01".to_owned(),
        };
        let status = StatusCode::from_u16(status).unwrap();
        let error = CliError::from_response(&Method::GET, &target, status, body.as_bytes());
        expect.assert_eq(&error.line());
    }

    #[test]
    fn response_errors() {
        check(
            404,
            r#"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) s1 was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}}"#,
            expect![[
                r#"ERROR: (SecretNotFound) A secret with (name/id) s1 was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"#
            ]],
        );
        check(
            403,
            r#"{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.\r\nIf role assignments were recently changed, please wait.\r\n","innererror":{"code":"ForbiddenByRbac"}}}"#,
            expect![[
                r#"ERROR: (Forbidden) Caller is not authorized to perform action on resource. If role assignments were recently changed, please wait."#
            ]],
        );
        check(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.","error_codes":[7000215]}"#,
            expect![[
                r#"ERROR: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value."#
            ]],
        );
        check(
            400,
            r#"{"error":"unsupported_grant_type"}"#,
            expect![[r#"ERROR: unsupported_grant_type"#]],
        );
        check(
            502,
            "",
            expect![[
                r#"ERROR: the server answered 502 Bad Gateway to GET https://v1.vault.localhost:4443/secrets/s1?api-version=2025-07-01"#
            ]],
        );
        check(
            500,
            "<html>oops</html>",
            expect![[
                r#"ERROR: the server answered 500 Internal Server Error to GET https://v1.vault.localhost:4443/secrets/s1?api-version=2025-07-01"#
            ]],
        );
    }

    #[test]
    fn other_errors() {
        let lines = [
            CliError::MissingDataFile {
                file: "admin.json",
                dir: PathBuf::from("/srv/strongroom"),
                hint: "a hint",
            },
            CliError::VaultName {
                name: "a_b".to_owned(),
                source: NameError::InvalidChar('_'),
            },
            CliError::Https(HttpsError::Refused {
                address: "127.0.0.1:4443".parse().unwrap(),
            }),
            CliError::Azure {
                code: "BadRequest".to_owned(),
                message: "\n\nline one\r\n  line two\n".to_owned(),
            },
        ]
        .map(|error| error.line())
        .join("\n");
        expect![[r#"
            ERROR: admin.json not found in the data directory /srv/strongroom: a hint
            ERROR: invalid vault name "a_b": name contains the character '_'
            ERROR: cannot reach the Strongroom server at 127.0.0.1:4443 (is `strongroom serve` running?)
            ERROR: (BadRequest) line one line two"#]]
        .assert_eq(&lines);
    }
}
