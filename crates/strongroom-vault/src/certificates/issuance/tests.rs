//! Issuance from a resolved policy: what the certificate says matches the policy and the key,
//! the deployment CA signs when asked by name, `Unknown` gives a CSR, and bad issuers and
//! subjects are the caller's error.

use super::*;
use crate::certificates::policy::{IssuerInput, KeyInput, PolicyInput, SansInput, X509Input};
use strongroom_crypto::certs::{CertificateInfo, KeyUsage};
use strongroom_crypto::keys::Curve;

const NOW: UnixTime = UnixTime(1_767_225_600); // 2026-01-01T00:00:00Z

fn policy(issuer: &str, subject: &str, key_type: &str) -> CertificatePolicy {
    CertificatePolicy::for_create(&PolicyInput {
        key: Some(KeyInput {
            key_type: Some(key_type.to_owned()),
            ..KeyInput::default()
        }),
        x509: Some(X509Input {
            subject: Some(subject.to_owned()),
            sans: Some(SansInput {
                dns_names: vec!["app.example".to_owned(), "www.app.example".to_owned()],
                ..SansInput::default()
            }),
            validity_months: Some(6),
            ..X509Input::default()
        }),
        issuer: Some(IssuerInput {
            name: Some(issuer.to_owned()),
            ..IssuerInput::default()
        }),
        ..PolicyInput::default()
    })
    .unwrap()
}

fn certificate(issued: Issued) -> CertificateInfo {
    match issued {
        Issued::Certificate(der) => CertificateInfo::parse(&der).unwrap(),
        Issued::SigningRequest(_) => panic!("expected a certificate"),
    }
}

#[test]
fn self_issued_certificates_follow_the_policy() {
    let key = PrivateKey::generate_rsa(2048, None).unwrap();
    let rsa = policy("Self", "CN=app.example, O=Contoso", "RSA");
    let info = certificate(issue(&rsa, &key, NOW, None, None).unwrap());
    assert_eq!(info.subject, "CN=app.example, O=Contoso");
    assert_eq!(info.issuer, info.subject, "self-signed");
    assert_eq!(info.dns_names, ["app.example", "www.app.example"]);
    assert_eq!(info.ekus, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    assert_eq!(
        info.key_usage,
        [KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    );
    assert_eq!(info.not_before, NOW);
    assert_eq!(
        info.not_after,
        UnixTime(1_782_864_000),
        "2026-07-01: six months"
    );
    assert!(info.matches(&key));

    let ec = PrivateKey::generate_ec(Curve::P256).unwrap();
    let info = certificate(issue(&policy(SELF, "CN=ec", "EC"), &ec, NOW, None, None).unwrap());
    assert!(info.matches(&ec));
    assert_eq!(info.key_usage, [KeyUsage::DigitalSignature]);
}

const SELF: &str = "self";

#[test]
fn the_deployment_ca_signs_when_named() {
    let ca = LocalCa::generate("Strongroom test CA").unwrap();
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let by_ca = policy("strongroom", "CN=svc.internal", "EC");
    let info = certificate(issue(&by_ca, &key, NOW, Some(&ca), None).unwrap());
    // A vault issuer of the Strongroom provider, under its own name, is the same CA.
    let named = policy("internal-ca", "CN=named.example", "EC");
    let via_name = certificate(issue(&named, &key, NOW, Some(&ca), Some("strongroom")).unwrap());
    assert_eq!(via_name.issuer, info.issuer);
    assert_eq!(info.issuer, "CN=Strongroom test CA");
    assert!(info.matches(&key));
    // Without the CA in this process, the same policy is refused rather than self-signed.
    assert!(matches!(
        issue(&by_ca, &key, NOW, None, None),
        Err(VaultError::NotSupported(_))
    ));
}

#[test]
fn unknown_issuer_gives_a_signing_request() {
    let key = PrivateKey::generate_ec(Curve::P384).unwrap();
    match issue(&policy("Unknown", "CN=later", "EC"), &key, NOW, None, None).unwrap() {
        // A DER SEQUENCE; its content is checked in strongroom-crypto's CSR tests.
        Issued::SigningRequest(der) => assert_eq!(der.first(), Some(&0x30)),
        Issued::Certificate(_) => panic!("Unknown must not issue"),
    }
}

#[test]
fn caller_errors_are_invalid_parameters() {
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let message = |result: Result<Issued, VaultError>| match result {
        Err(VaultError::InvalidParameter(message)) => message,
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    assert!(
        message(issue(
            &policy("DigiCert", "CN=x", "EC"),
            &key,
            NOW,
            None,
            None
        ))
        .contains("The issuer 'DigiCert' is not configured")
    );
    assert!(
        message(issue(
            &policy("ExternalCa", "CN=x", "EC"),
            &key,
            NOW,
            None,
            Some("DigiCert")
        ))
        .contains("uses the provider 'DigiCert', which this deployment cannot reach")
    );
    assert!(
        message(issue(&policy(SELF, "CN", "EC"), &key, NOW, None, None))
            .starts_with("The policy's subject is invalid:")
    );
}

/// One row: the policy's X.509 members as a request sends them, and what the issued
/// certificate must say.
struct Row {
    subject: &'static str,
    dns: &'static [&'static str],
    emails: &'static [&'static str],
    upns: &'static [&'static str],
    ekus: Option<&'static [&'static str]>,
    usages: Option<&'static [&'static str]>,
    months: i64,
    want_usages: &'static [KeyUsage],
    want_ekus: &'static [&'static str],
    want_not_after: i64,
}

#[test]
fn policy_to_certificate_table() {
    const SERVER_CLIENT: &[&str] = &["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"];
    let rows = [
        Row {
            subject: "CN=defaults",
            dns: &[],
            emails: &[],
            upns: &[],
            ekus: None,
            usages: None,
            months: 12,
            // An EC key's default: it cannot encipher keys.
            want_usages: &[KeyUsage::DigitalSignature],
            want_ekus: SERVER_CLIENT,
            want_not_after: 1_798_761_600, // 2027-01-01
        },
        Row {
            subject: "CN=mail, O=Contoso, OU=Ops, C=US",
            dns: &[],
            emails: &["a@contoso.com", "b@contoso.com"],
            upns: &["user@contoso.com"],
            ekus: Some(&["1.3.6.1.5.5.7.3.4"]),
            usages: Some(&["digitalSignature", "nonRepudiation", "dataEncipherment"]),
            months: 1,
            want_usages: &[
                KeyUsage::DigitalSignature,
                KeyUsage::NonRepudiation,
                KeyUsage::DataEncipherment,
            ],
            want_ekus: &["1.3.6.1.5.5.7.3.4"],
            want_not_after: 1_769_904_000, // 2026-02-01
        },
        Row {
            subject: "CN=ca-like",
            dns: &["only-a-san.example"],
            emails: &[],
            upns: &[],
            ekus: Some(&[]),
            usages: Some(&["keyCertSign", "cRLSign", "digitalSignature"]),
            months: 25,
            want_usages: &[
                KeyUsage::DigitalSignature,
                KeyUsage::KeyCertSign,
                KeyUsage::CrlSign,
            ],
            want_ekus: &[],
            want_not_after: 1_832_976_000, // 2028-02-01
        },
    ];
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    for row in rows {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let policy = CertificatePolicy::for_create(&PolicyInput {
            key: Some(KeyInput {
                key_type: Some("EC".to_owned()),
                ..KeyInput::default()
            }),
            x509: Some(X509Input {
                subject: Some(row.subject.to_owned()),
                sans: Some(SansInput {
                    dns_names: strings(row.dns),
                    emails: strings(row.emails),
                    upns: strings(row.upns),
                }),
                ekus: row.ekus.map(strings),
                key_usage: row.usages.map(strings),
                validity_months: Some(row.months),
            }),
            issuer: Some(IssuerInput {
                name: Some("Self".to_owned()),
                ..IssuerInput::default()
            }),
            ..PolicyInput::default()
        })
        .unwrap_or_else(|err| panic!("{}: {err}", row.subject));
        let info = certificate(issue(&policy, &key, NOW, None, None).unwrap());
        assert_eq!(info.subject, row.subject);
        assert_eq!(info.dns_names, row.dns, "{}", row.subject);
        assert_eq!(info.emails, row.emails, "{}", row.subject);
        assert_eq!(info.upns, row.upns, "{}", row.subject);
        assert_eq!(info.ekus, row.want_ekus, "{}", row.subject);
        assert_eq!(info.key_usage, row.want_usages, "{}", row.subject);
        assert_eq!(
            info.not_after,
            UnixTime(row.want_not_after),
            "{}",
            row.subject
        );
        assert!(info.matches(&key));
    }
}

#[test]
fn key_types_sizes_and_curves_reach_the_certificate() {
    for (key_type, key, size, curve) in [
        (
            "RSA",
            PrivateKey::generate_rsa(3072, None).unwrap(),
            Some(3072),
            None,
        ),
        (
            "EC",
            PrivateKey::generate_ec(Curve::P384).unwrap(),
            None,
            Some("P-384"),
        ),
        (
            "EC",
            PrivateKey::generate_ec(Curve::P521).unwrap(),
            None,
            Some("P-521"),
        ),
    ] {
        let policy = CertificatePolicy::for_create(&PolicyInput {
            key: Some(KeyInput {
                key_type: Some(key_type.to_owned()),
                size,
                curve: curve.map(str::to_owned),
                ..KeyInput::default()
            }),
            x509: Some(X509Input {
                subject: Some("CN=sizes".to_owned()),
                ..X509Input::default()
            }),
            issuer: Some(IssuerInput {
                name: Some("Self".to_owned()),
                ..IssuerInput::default()
            }),
            ..PolicyInput::default()
        })
        .unwrap();
        let info = certificate(issue(&policy, &key, NOW, None, None).unwrap());
        assert!(info.matches(&key), "{key_type} {size:?} {curve:?}");
        assert_eq!(info.public_key, Some(key.public()));
    }
}
