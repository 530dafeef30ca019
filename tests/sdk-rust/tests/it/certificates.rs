//! `CertificateClient` in direct mode: `begin_create_certificate` (the long-running operation,
//! watched status by status and awaited to the certificate), `get_certificate`, and the
//! certificate's key and secret through the keys and secrets clients.
//!
//! Strongroom sends no `Retry-After` with the pending operation (nor, as far as we know, does
//! Azure); the Rust poller then waits `PollerOptions::frequency` between polls, 30 s by default,
//! so the tests ask for the minimum, 1 s.

use aws_lc_rs::digest;
use azure_core::http::poller::PollerOptions;
use azure_core::time::Duration;
use azure_security_keyvault_certificates::ResourceExt;
use azure_security_keyvault_certificates::models::{
    CertificateClientCreateCertificateOptions, CertificatePolicy, CreateCertificateParameters,
    IssuerParameters, X509CertificateProperties,
};
use azure_security_keyvault_keys::models::{SignParameters, SignatureAlgorithm, VerifyParameters};
use futures::TryStreamExt;

use crate::direct_vault;

fn self_signed(subject: &str) -> CreateCertificateParameters {
    CreateCertificateParameters {
        certificate_policy: Some(CertificatePolicy {
            x509_certificate_properties: Some(X509CertificateProperties {
                subject: Some(subject.to_owned()),
                ..Default::default()
            }),
            issuer_parameters: Some(IssuerParameters {
                name: Some("Self".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn poll_every_second() -> Option<CertificateClientCreateCertificateOptions<'static>> {
    Some(CertificateClientCreateCertificateOptions {
        method_options: PollerOptions {
            frequency: Duration::seconds(1),
            ..Default::default()
        },
    })
}

#[tokio::test]
async fn create_poll_get_and_use_the_key() {
    let (_server, _vault, env) = direct_vault("certs");
    let client = env.certificate_client();

    // Each status the poller sees, until the operation completes.
    let statuses: Vec<String> = client
        .begin_create_certificate(
            "web",
            self_signed("CN=web.example").try_into().unwrap(),
            poll_every_second(),
        )
        .unwrap()
        .and_then(|response| async move { Ok(response.into_model()?.status.unwrap_or_default()) })
        .try_collect()
        .await
        .expect("begin_create_certificate, status by status");
    assert_eq!(
        statuses.first().map(String::as_str),
        Some("inProgress"),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("completed"),
        "{statuses:?}"
    );

    let certificate = client
        .get_certificate("web", None)
        .await
        .expect("get_certificate")
        .into_model()
        .unwrap();
    let id = certificate.resource_id().unwrap();
    assert_eq!(
        (id.vault_url.as_str(), id.name.as_str()),
        (env.vault_url(), "web")
    );
    let version = id.version.expect("a version");
    let cer = certificate.cer.expect("cer: the DER certificate");
    assert_eq!(cer[0], 0x30, "not a DER SEQUENCE");
    let thumbprint = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cer);
    assert_eq!(
        certificate.x509_thumbprint.as_deref(),
        Some(thumbprint.as_ref())
    );
    assert_eq!(
        certificate.kid.as_deref(),
        Some(format!("{}/keys/web/{version}", env.vault_url()).as_str())
    );
    assert_eq!(
        certificate.sid.as_deref(),
        Some(format!("{}/secrets/web/{version}", env.vault_url()).as_str())
    );
    let policy = certificate.policy.expect("policy");
    assert_eq!(
        policy
            .x509_certificate_properties
            .unwrap()
            .subject
            .as_deref(),
        Some("CN=web.example")
    );
    assert_eq!(
        policy.issuer_parameters.unwrap().name.as_deref(),
        Some("Self")
    );

    // The certificate's secret is its PKCS#12, and its key signs.
    let secret = env
        .secret_client()
        .get_secret("web", None)
        .await
        .expect("the certificate's secret")
        .into_model()
        .unwrap();
    assert_eq!(secret.content_type.as_deref(), Some("application/x-pkcs12"));
    assert_eq!(secret.kid, certificate.kid);
    assert!(secret.value.is_some_and(|pfx| pfx.len() > 1000));

    let keys = env.key_client();
    let message_digest = digest::digest(&digest::SHA256, b"signed by the certificate's key");
    let signature = keys
        .sign(
            "web",
            SignParameters {
                algorithm: Some(SignatureAlgorithm::Rs256),
                value: Some(message_digest.as_ref().to_vec()),
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("sign with the certificate's key")
        .into_model()
        .unwrap()
        .result
        .unwrap();
    let verified = keys
        .verify(
            "web",
            &version,
            VerifyParameters {
                algorithm: Some(SignatureAlgorithm::Rs256),
                digest: Some(message_digest.as_ref().to_vec()),
                signature: Some(signature),
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("verify")
        .into_model()
        .unwrap();
    assert_eq!(verified.value, Some(true));
}

#[tokio::test]
async fn awaiting_the_poller_returns_the_certificate() {
    let (_server, _vault, env) = direct_vault("certwait");
    let client = env.certificate_client();
    let certificate = client
        .begin_create_certificate(
            "awaited",
            self_signed("CN=awaited").try_into().unwrap(),
            poll_every_second(),
        )
        .unwrap()
        .await
        .expect("the poller's target")
        .into_model()
        .unwrap();
    assert_eq!(certificate.resource_id().unwrap().name, "awaited");
    assert!(certificate.cer.is_some_and(|cer| cer.len() > 300));

    let listed: Vec<String> = client
        .list_certificate_properties(None)
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().name)
        .try_collect()
        .await
        .expect("list_certificate_properties");
    assert_eq!(listed, ["awaited"]);
}
