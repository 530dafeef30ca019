//! One CLI run's connection to the server: the data directory, the HTTPS client, tokens, and
//! JSON calls with Azure's error bodies turned into `CliError`.
//!
//! Tokens come from the server's own token endpoint by client credentials, exactly as an SDK
//! would get them; the CLI has no other way in.

use http::Method;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use strongroom_model::{SecretValue, UnixTime};

use crate::datadir::DataDir;
use crate::endpoints::{Endpoints, MANAGEMENT_SCOPE, Target};
use crate::error::CliError;
use crate::https::{Body, HttpsClient, Outgoing};

/// A guard against a server that keeps sending `nextLink`s.
const MAX_PAGES: usize = 10_000;

/// A secret value as a JSON string in a request body (a certificate's PFX and its password,
/// an issuer's password). The one place such a body reads the secret, beside the requests
/// that carry it; it has no `Debug`, so it cannot be printed by accident.
pub(crate) struct SecretJson<'a>(pub(crate) &'a SecretValue);

impl Serialize for SecretJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose())
    }
}

/// The data directory plus a client for the server it describes.
pub(crate) struct Session {
    pub(crate) data: DataDir,
    pub(crate) endpoints: Endpoints,
    http: HttpsClient,
}

/// Which audience a token is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Audience {
    /// Management API and Graph calls.
    Management,
    /// Key Vault data plane.
    Vault,
}

impl Session {
    pub(crate) fn open(data: DataDir) -> Result<Self, CliError> {
        let http = HttpsClient::new(&data.ca_file, data.server.connect_address())?;
        let endpoints = Endpoints::new(&data.server);
        Ok(Self {
            data,
            endpoints,
            http,
        })
    }

    /// A bearer token for `audience`, by the administrator's client credentials.
    pub(crate) async fn token(&self, audience: Audience) -> Result<SecretValue, CliError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
        }
        let scope = match audience {
            Audience::Management => MANAGEMENT_SCOPE.to_owned(),
            Audience::Vault => self.endpoints.vault_scope(),
        };
        let admin = &self.data.admin;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &admin.client_id)
            .append_pair("client_secret", admin.client_secret.expose())
            .append_pair("scope", &scope)
            .finish();
        let target = self.endpoints.token(&admin.tenant_id);
        let body = Body {
            content_type: "application/x-www-form-urlencoded",
            bytes: form.into_bytes(),
        };
        let response = self.send(Method::POST, &target, None, Some(body)).await?;
        let token: TokenResponse =
            serde_json::from_value(response).map_err(|error| CliError::UnexpectedBody {
                method: Method::POST,
                url: target.to_string(),
                detail: error.to_string(),
            })?;
        Ok(SecretValue::new(token.access_token))
    }

    /// The server's clock as it issued `token` (the JWT's `iat`), which is the clock it judges
    /// a credential's end by; it runs ahead of this host's when the server has `--dev-clock`.
    pub(crate) fn server_time(token: &SecretValue) -> Option<UnixTime> {
        use base64::Engine as _;
        let payload = token.expose().split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("iat")?.as_i64().map(UnixTime)
    }

    /// A call without a body.
    pub(crate) async fn call(
        &self,
        method: Method,
        target: &Target,
        token: &SecretValue,
    ) -> Result<Value, CliError> {
        self.send(method, target, Some(token), None).await
    }

    /// A call with a JSON body.
    pub(crate) async fn call_json(
        &self,
        method: Method,
        target: &Target,
        token: &SecretValue,
        body: &impl Serialize,
    ) -> Result<Value, CliError> {
        let bytes = serde_json::to_vec(body).map_err(|error| CliError::UnexpectedBody {
            method: method.clone(),
            url: target.to_string(),
            detail: format!("cannot encode the request: {error}"),
        })?;
        let body = Body {
            content_type: "application/json",
            bytes,
        };
        self.send(method, target, Some(token), Some(body)).await
    }

    /// Every item of a paged list (`{"value":[…],"nextLink":…}`), following `nextLink`s.
    pub(crate) async fn list_all(
        &self,
        first: Target,
        token: &SecretValue,
    ) -> Result<Vec<Value>, CliError> {
        let mut items = Vec::new();
        let mut target = first;
        for _ in 0..MAX_PAGES {
            let page = self.call(Method::GET, &target, token).await?;
            let unexpected = |detail: String| CliError::UnexpectedBody {
                method: Method::GET,
                url: target.to_string(),
                detail,
            };
            match page.get("value") {
                Some(Value::Array(values)) => items.extend(values.iter().cloned()),
                _ => return Err(unexpected("no `value` list in the page".to_owned())),
            }
            let next = match page.get("nextLink") {
                Some(Value::String(link)) if !link.is_empty() => {
                    Target::parse_absolute(link).map_err(unexpected)?
                }
                Some(Value::Null | Value::String(_)) | None => return Ok(items),
                Some(_) => return Err(unexpected("`nextLink` is not a string".to_owned())),
            };
            // The token goes only where the first page came from.
            if next.authority() != target.authority() {
                return Err(unexpected(format!(
                    "`nextLink` points at another host: {next}"
                )));
            }
            target = next;
        }
        Err(CliError::UnexpectedBody {
            method: Method::GET,
            url: target.to_string(),
            detail: format!("more than {MAX_PAGES} pages"),
        })
    }

    async fn send(
        &self,
        method: Method,
        target: &Target,
        bearer: Option<&SecretValue>,
        body: Option<Body>,
    ) -> Result<Value, CliError> {
        let response = self
            .http
            .send(Outgoing {
                method: method.clone(),
                target,
                bearer,
                body,
            })
            .await?;
        if !response.status.is_success() {
            return Err(CliError::from_response(
                &method,
                target,
                response.status,
                &response.body,
            ));
        }
        if response.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&response.body).map_err(|error| CliError::UnexpectedBody {
            method,
            url: target.to_string(),
            detail: format!("the body is not JSON: {error}"),
        })
    }
}
