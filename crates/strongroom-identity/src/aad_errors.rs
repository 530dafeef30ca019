//! Entra-shaped error bodies for the token endpoint.
//!
//! MSAL shows `error_description` to the user (`ClientAuthenticationError: Authentication
//! failed: AADSTS7000215: …`, CLIENT-PROTOCOL.md §3.7), and people search for the AADSTS code,
//! so the messages are Entra's, word for word, as seen in public error reports:
//!
//! ```text
//! {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. …
//!  \r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: 2023-05-06 06:03:00Z","error_codes":[7000215],
//!  "timestamp":"2023-05-06 06:03:00Z","trace_id":"…","correlation_id":"…",
//!  "error_uri":"https://login.microsoftonline.com/error?code=7000215"}
//! ```
//!
//! HTTP framing (headers, content type) is the API layer's business.

use crate::IdentityError;
use serde_json::{Value, json};
use strongroom_model::UnixTime;

/// Status, OAuth `error`, AADSTS code and message of one identity failure.
struct AadError {
    status: u16,
    error: &'static str,
    code: u32,
    message: String,
}

fn classify(err: &IdentityError) -> AadError {
    let (status, error, code, message) = match err {
        // Observed: github.com/OfficeDev/microsoft-365-agents-toolkit/issues/8621 (401).
        IdentityError::InvalidSecret { app_id } => (
            401,
            "invalid_client",
            7_000_215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request \
                 is the client secret value, not the client secret ID, for a secret added to \
                 app '{app_id}'."
            ),
        ),
        IdentityError::ExpiredSecret { app_id } => (
            401,
            "invalid_client",
            7_000_222,
            format!(
                "The provided client secret keys for app '{app_id}' are expired. Visit the \
                 Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, \
                 or consider using certificate credentials for added security: \
                 https://aka.ms/certCreds."
            ),
        ),
        // Entra says the same when the app exists only in another directory.
        IdentityError::UnknownClient { client_id, tenant }
        | IdentityError::TenantMismatch { client_id, tenant } => (
            400,
            "unauthorized_client",
            700_016,
            unknown_application(client_id, tenant),
        ),
        IdentityError::PrincipalNotFound { object_id } => (
            400,
            "unauthorized_client",
            700_016,
            unknown_application(object_id, "the directory"),
        ),
        IdentityError::UnknownTenant { tenant } => (
            400,
            "invalid_request",
            90_002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud. Check with your subscription \
                 administrator, this may happen if there are no active subscriptions for the \
                 tenant."
            ),
        ),
        IdentityError::MissingParameter { name } if name == "client_secret" => (
            401,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'."
                .to_owned(),
        ),
        IdentityError::MissingParameter { name } => (
            400,
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{name}'."),
        ),
        IdentityError::ClientAssertion { code, message } => (
            if *code == 50_027 { 400 } else { 401 },
            if *code == 50_027 {
                "invalid_request"
            } else {
                "invalid_client"
            },
            *code,
            message.clone(),
        ),
        IdentityError::InvalidCertificate => (
            400,
            "invalid_request",
            50_027,
            "The certificate is not a valid, unexpired RSA X.509 certificate.".to_owned(),
        ),
        IdentityError::Grant {
            error,
            code,
            message,
        } => (400, *error, *code, message.clone()),
        // Never reach the token endpoint (only the management API manages users).
        IdentityError::InvalidUserPrincipalName { .. }
        | IdentityError::WeakPassword
        | IdentityError::UserExists { .. } => (
            400,
            "invalid_request",
            90_014,
            "The request is not valid.".to_owned(),
        ),
        // Never reaches the token endpoint (only the management API adds credentials).
        IdentityError::InvalidCredentialLifetime => (
            400,
            "invalid_request",
            90_014,
            "A credential must end after it starts.".to_owned(),
        ),
        IdentityError::UnsupportedGrantType { grant_type } => (
            400,
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ),
        IdentityError::InvalidScope { scope } => (
            400,
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows \
                 must have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ),
        ),
        IdentityError::SigningKey(_)
        | IdentityError::Encoding(_)
        | IdentityError::Crypto(_)
        | IdentityError::Store(_) => (
            500,
            "server_error",
            50_000,
            "There was an error issuing a token or an issue with our sign-in service.".to_owned(),
        ),
    };
    AadError {
        status,
        error,
        code,
        message,
    }
}

fn unknown_application(identifier: &str, directory: &str) -> String {
    format!(
        "Application with identifier '{identifier}' was not found in the directory \
         '{directory}'. This can happen if the application has not been installed by the \
         administrator of the tenant or consented to by any user in the tenant. You may have \
         sent your authentication request to the wrong tenant."
    )
}

/// The HTTP status and JSON body Entra would answer for `err`, with fresh random trace and
/// correlation ids.
pub fn aad_error_body(err: &IdentityError, now: UnixTime) -> (u16, Value) {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    aad_error_body_with_ids(err, now, &trace_id, &correlation_id)
}

/// As `aad_error_body`, with the ids chosen by the caller (Entra echoes the client's
/// `client-request-id` header as the correlation id).
pub fn aad_error_body_with_ids(
    err: &IdentityError,
    now: UnixTime,
    trace_id: &str,
    correlation_id: &str,
) -> (u16, Value) {
    let AadError {
        status,
        error,
        code,
        message,
    } = classify(err);
    let timestamp = aad_timestamp(now);
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: \
             {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, body)
}

/// Entra's timestamp format: `2023-05-06 06:03:00Z` (UTC).
fn aad_timestamp(time: UnixTime) -> String {
    let (year, month, day, hour, minute, second) = time.civil();
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    const NOW: UnixTime = UnixTime(1_683_352_980); // 2023-05-06 06:03:00Z

    #[track_caller]
    fn check(err: IdentityError, expect: Expect) {
        let (status, body) = aad_error_body_with_ids(&err, NOW, "trace", "corr");
        expect.assert_eq(&format!("{status} {body}"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(aad_timestamp(UnixTime(0)), "1970-01-01 00:00:00Z");
        assert_eq!(aad_timestamp(NOW), "2023-05-06 06:03:00Z");
        assert_eq!(aad_timestamp(UnixTime(951_782_400)), "2000-02-29 00:00:00Z");
        assert_eq!(
            aad_timestamp(UnixTime(4_102_444_799)),
            "2099-12-31 23:59:59Z"
        );
        assert_eq!(aad_timestamp(UnixTime(-1)), "1969-12-31 23:59:59Z");
    }

    #[test]
    fn bodies() {
        check(
            IdentityError::InvalidSecret {
                app_id: "a8fdfbd0-da97-42d9-8f1a-fd6a7cb650b4".to_owned(),
            },
            expect![[
                r#"401 {"correlation_id":"corr","error":"invalid_client","error_codes":[7000215],"error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'a8fdfbd0-da97-42d9-8f1a-fd6a7cb650b4'.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=7000215","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::ExpiredSecret {
                app_id: "app".to_owned(),
            },
            expect![[
                r#"401 {"correlation_id":"corr","error":"invalid_client","error_codes":[7000222],"error_description":"AADSTS7000222: The provided client secret keys for app 'app' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=7000222","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::UnknownClient {
                client_id: "cid".to_owned(),
                tenant: "tid".to_owned(),
            },
            expect![[
                r#"400 {"correlation_id":"corr","error":"unauthorized_client","error_codes":[700016],"error_description":"AADSTS700016: Application with identifier 'cid' was not found in the directory 'tid'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=700016","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::UnknownTenant {
                tenant: "nope".to_owned(),
            },
            expect![[
                r#"400 {"correlation_id":"corr","error":"invalid_request","error_codes":[90002],"error_description":"AADSTS90002: Tenant 'nope' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=90002","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::UnsupportedGrantType {
                grant_type: "password".to_owned(),
            },
            expect![[
                r#"400 {"correlation_id":"corr","error":"unsupported_grant_type","error_codes":[70003],"error_description":"AADSTS70003: The app requested an unsupported grant type 'password'.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=70003","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::MissingParameter {
                name: "client_secret".to_owned(),
            },
            expect![[
                r#"401 {"correlation_id":"corr","error":"invalid_client","error_codes":[7000218],"error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=7000218","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::MissingParameter {
                name: "grant_type".to_owned(),
            },
            expect![[
                r#"400 {"correlation_id":"corr","error":"invalid_request","error_codes":[900144],"error_description":"AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=900144","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        check(
            IdentityError::InvalidScope {
                scope: "https://vault.azure.net".to_owned(),
            },
            expect![[
                r#"400 {"correlation_id":"corr","error":"invalid_scope","error_codes":[1002012],"error_description":"AADSTS1002012: The provided value for scope https://vault.azure.net is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).\r\nTrace ID: trace\r\nCorrelation ID: corr\r\nTimestamp: 2023-05-06 06:03:00Z","error_uri":"https://login.microsoftonline.com/error?code=1002012","timestamp":"2023-05-06 06:03:00Z","trace_id":"trace"}"#
            ]],
        );
        let (status, body) = aad_error_body(
            &IdentityError::Store(strongroom_store::StoreError::Unavailable("disk".to_owned())),
            NOW,
        );
        assert_eq!(status, 500);
        assert_eq!(body["error"], "server_error");
        assert!(
            !body.to_string().contains("disk"),
            "internals stay internal"
        );
        assert_ne!(body["trace_id"], body["correlation_id"]);
    }
}
