//! A program for Azure App Service, as Microsoft's samples are: `ManagedIdentityCredential::new(None)`
//! (the SDK picks the App Service protocol because `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are
//! set) and `SecretClient::new(AZURE_KEYVAULT_URL, credential).get_secret(NAME)`. The tests run it
//! with only `strongroom env --agent --vault V`'s variables in its environment
//! (`tests/it/managed_identity.rs`).
//!
//! Its one addition, in the vault client only: `localhost` and `*.localhost` resolve to 127.0.0.1,
//! as systemd-resolved would answer (a plain Debian resolver does not know `V.vault.localhost`;
//! the Python and JavaScript suites resolve those names inside their programs the same way). The
//! client is otherwise azure_core's default one (its timeouts, no redirects, TLS roots from
//! `SSL_CERT_FILE` through rustls-platform-verifier); the credential has no options at all.
//!
//! `mi-read-secret NAME` prints one JSON object on stdout and exits 0:
//! `{"value": V}`, `{"status": 403, "code": "Forbidden", "body": {...}}` for a service error, or
//! `{"authError": [MESSAGE, ...]}` (the error's chain of messages) when the credential got no token.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, Transport, Url};
use azure_identity::ManagedIdentityCredential;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// azure_core's default reqwest client (`new_reqwest_client`), plus loopback for `*.localhost`.
fn vault_transport(vault_url: &Url) -> Result<Transport> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none());
    let host = vault_url
        .host_str()
        .ok_or("AZURE_KEYVAULT_URL has no host")?;
    if host == "localhost" || host.ends_with(".localhost") {
        // Port 0: the URL's own port.
        builder = builder.resolve(host, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    }
    Ok(Transport::new(Arc::new(builder.build()?)))
}

async fn run(name: &str) -> Result<Value> {
    let vault_url =
        std::env::var("AZURE_KEYVAULT_URL").map_err(|err| format!("AZURE_KEYVAULT_URL: {err}"))?;
    let credential = ManagedIdentityCredential::new(None)?;
    let options = SecretClientOptions {
        client_options: ClientOptions {
            transport: Some(vault_transport(&Url::parse(&vault_url)?)?),
            ..Default::default()
        },
        ..Default::default()
    };
    let client = SecretClient::new(&vault_url, credential, Some(options))?;
    let err = match client.get_secret(name, None).await {
        Ok(response) => return Ok(json!({ "value": response.into_model()?.value })),
        Err(err) => err,
    };
    Ok(match err.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => {
            let body = raw_response
                .as_ref()
                .and_then(|response| serde_json::from_slice::<Value>(response.body()).ok())
                .unwrap_or(Value::Null);
            json!({ "status": u16::from(*status), "code": error_code, "body": body })
        }
        ErrorKind::Credential => {
            // The pipeline wraps the credential's error (its retry policy adds a context):
            // every message of the chain, outermost first.
            let mut chain = Vec::new();
            let mut current: Option<&dyn std::error::Error> = Some(&err);
            while let Some(error) = current {
                chain.push(error.to_string().chars().take(800).collect::<String>());
                current = error.source();
            }
            json!({ "authError": chain })
        }
        _ => return Err(err.into()),
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name] = args.as_slice() else {
        eprintln!("usage: mi-read-secret NAME");
        std::process::exit(2);
    };
    match run(name).await {
        Ok(report) => println!("{report}"),
        Err(err) => {
            eprintln!("error: {err}\n{err:?}");
            std::process::exit(1);
        }
    }
}
