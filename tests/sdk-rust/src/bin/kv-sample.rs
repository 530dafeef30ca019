//! A program written for Azure, as Microsoft's Rust samples are: the vault is
//! `https://{KEY_VAULT_NAME}.vault.azure.net`, the credential is the SDK's own with its defaults
//! (tokens from `login.microsoftonline.com`, managed identity from IMDS at 169.254.169.254), and
//! the clients take no options. Nothing in it knows Strongroom: the transparent-mode tests run
//! it with only `strongroom env --proxy`'s variables (HTTPS_PROXY, HTTP_PROXY, SSL_CERT_FILE …)
//! and the Azure variables below in its environment.
//!
//! `kv-sample CREDENTIAL COMMAND [ARGS]`, printing one JSON object on stdout:
//! - CREDENTIAL: `client-secret` (`ClientSecretCredential` from `AZURE_TENANT_ID`,
//!   `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), `managed-identity` (`ManagedIdentityCredential`,
//!   system-assigned) or `managed-identity-client-id` (user-assigned, `AZURE_CLIENT_ID`).
//! - COMMAND: `set NAME VALUE`, `get NAME`, `list`, `sign-verify KEY` (create an EC P-256 key,
//!   sign a SHA-256 digest, verify it), `create-certificate NAME` (self-signed, awaited).

use std::error::Error;
use std::sync::Arc;

use aws_lc_rs::digest;
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::poller::PollerOptions;
use azure_core::time::Duration;
use azure_identity::{
    ClientSecretCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use azure_security_keyvault_certificates::CertificateClient;
use azure_security_keyvault_certificates::models::{
    CertificateClientCreateCertificateOptions, CertificatePolicy, CreateCertificateParameters,
    IssuerParameters, X509CertificateProperties,
};
use azure_security_keyvault_keys::KeyClient;
use azure_security_keyvault_keys::models::{
    CreateKeyParameters, CurveName, KeyType, SignParameters, SignatureAlgorithm, VerifyParameters,
};
use azure_security_keyvault_secrets::models::SetSecretParameters;
use azure_security_keyvault_secrets::{ResourceExt, SecretClient};
use futures::TryStreamExt;
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn var(name: &str) -> Result<String> {
    std::env::var(name).map_err(|err| format!("{name}: {err}").into())
}

fn credential(kind: &str) -> Result<Arc<dyn TokenCredential>> {
    Ok(match kind {
        "client-secret" => ClientSecretCredential::new(
            &var("AZURE_TENANT_ID")?,
            var("AZURE_CLIENT_ID")?,
            Secret::new(var("AZURE_CLIENT_SECRET")?),
            None,
        )?,
        "managed-identity" => ManagedIdentityCredential::new(None)?,
        "managed-identity-client-id" => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: Some(UserAssignedId::ClientId(var("AZURE_CLIENT_ID")?)),
                ..Default::default()
            }))?
        }
        other => return Err(format!("unknown credential {other}").into()),
    })
}

async fn run(args: &[String]) -> Result<Value> {
    let [kind, command, rest @ ..] = args else {
        return Err("usage: kv-sample CREDENTIAL COMMAND [ARGS]".into());
    };
    let vault_url = format!("https://{}.vault.azure.net", var("KEY_VAULT_NAME")?);
    let credential = credential(kind)?;
    let arg = |i: usize| {
        rest.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("{command}: missing argument {}", i + 1))
    };

    match command.as_str() {
        "set" => {
            let client = SecretClient::new(&vault_url, credential, None)?;
            let parameters = SetSecretParameters {
                value: Some(arg(1)?.to_owned()),
                ..Default::default()
            };
            let secret = client
                .set_secret(arg(0)?, parameters.try_into()?, None)
                .await?
                .into_model()?;
            Ok(json!({ "id": secret.id, "value": secret.value }))
        }
        "get" => {
            let client = SecretClient::new(&vault_url, credential, None)?;
            let secret = client.get_secret(arg(0)?, None).await?.into_model()?;
            Ok(json!({ "id": secret.id, "value": secret.value }))
        }
        "list" => {
            let client = SecretClient::new(&vault_url, credential, None)?;
            let names: Vec<String> = client
                .list_secret_properties(None)?
                .map_ok(|properties| properties.resource_id().map(|id| id.name))
                .try_collect::<Vec<_>>()
                .await?
                .into_iter()
                .collect::<azure_core::Result<_>>()?;
            Ok(json!({ "names": names }))
        }
        "sign-verify" => {
            let client = KeyClient::new(&vault_url, credential, None)?;
            let name = arg(0)?;
            let parameters = CreateKeyParameters {
                kty: Some(KeyType::Ec),
                curve: Some(CurveName::P256),
                ..Default::default()
            };
            let key = client
                .create_key(name, parameters.try_into()?, None)
                .await?
                .into_model()?;
            let message_digest = digest::digest(&digest::SHA256, b"signed through the proxy");
            let sign = SignParameters {
                algorithm: Some(SignatureAlgorithm::Es256),
                value: Some(message_digest.as_ref().to_vec()),
            };
            let signature = client
                .sign(name, sign.try_into()?, None)
                .await?
                .into_model()?
                .result
                .ok_or("no signature")?;
            let verify = VerifyParameters {
                algorithm: Some(SignatureAlgorithm::Es256),
                digest: Some(message_digest.as_ref().to_vec()),
                signature: Some(signature.clone()),
            };
            let verified = client
                .verify(name, "", verify.try_into()?, None)
                .await?
                .into_model()?
                .value;
            let kid = key.key.and_then(|jwk| jwk.kid);
            Ok(json!({ "kid": kid, "signatureLength": signature.len(), "verified": verified }))
        }
        "create-certificate" => {
            let client = CertificateClient::new(&vault_url, credential, None)?;
            let parameters = CreateCertificateParameters {
                certificate_policy: Some(CertificatePolicy {
                    x509_certificate_properties: Some(X509CertificateProperties {
                        subject: Some(format!("CN={}", arg(0)?)),
                        ..Default::default()
                    }),
                    issuer_parameters: Some(IssuerParameters {
                        name: Some("Self".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            // The poller's default interval is 30 s when the service sends no Retry-After.
            let options = CertificateClientCreateCertificateOptions {
                method_options: PollerOptions {
                    frequency: Duration::seconds(1),
                    ..Default::default()
                },
            };
            let certificate = client
                .begin_create_certificate(arg(0)?, parameters.try_into()?, Some(options))?
                .await?
                .into_model()?;
            let subject = certificate
                .policy
                .and_then(|policy| policy.x509_certificate_properties)
                .and_then(|x509| x509.subject);
            Ok(json!({
                "id": certificate.id,
                "subject": subject,
                "cerLength": certificate.cer.map(|cer| cer.len()),
            }))
        }
        other => Err(format!("unknown command {other}").into()),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(report) => println!("{report}"),
        Err(err) => {
            // Debug: the status and Azure's error code, beside the message.
            eprintln!("error: {err}\n{err:?}");
            std::process::exit(1);
        }
    }
}
