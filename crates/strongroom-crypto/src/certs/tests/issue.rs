//! Issuance (`issue_self_signed`, `issue_with_ca`, `build_csr`) read back with
//! `CertificateInfo` and x509-parser, and `CertificateInfo` on certificates OpenSSL made.

use super::*;
use crate::certs::issue::add_months;
use crate::certs::{CertError, CertificateInfo, build_csr};
use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::signature::{ECDSA_P521_SHA512_ASN1, UnparsedPublicKey};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

const SUBJECT: &str = "CN=example.com, O=Contoso, OU=Engineering, L=Redmond, S=Washington, C=US";
/// 2027-01-31T12:00:00Z: twelve calendar months after `NOW`.
const NOW_PLUS_12_MONTHS: UnixTime = UnixTime(1_801_396_800);

#[track_caller]
fn check_issued(info: &CertificateInfo, key: &PrivateKey, issuer: &str) {
    assert_eq!(info.subject, SUBJECT);
    assert_eq!(info.issuer, issuer);
    assert_eq!(info.dns_names, ["example.com", "*.example.com"]);
    assert_eq!(info.emails, ["admin@example.com"]);
    assert_eq!(info.upns, ["alice@contoso.com"]);
    assert_eq!(
        info.key_usage,
        [KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    );
    assert_eq!(info.ekus, [SERVER_AUTH, CLIENT_AUTH]);
    assert_eq!(info.not_before, NOW);
    assert_eq!(info.not_after, NOW_PLUS_12_MONTHS);
    assert!(!info.is_ca);
    assert!(info.matches(key));
    assert!(!info.matches(&ec_key(Curve::P256)));
    // Random, positive, 16 octets.
    assert_eq!(info.serial.len(), 16);
    assert!(info.serial[0] & 0x80 == 0 && info.serial[0] != 0);
}

#[test]
fn self_signed_certificates_read_back_for_every_supported_key() {
    for key in [
        rsa_key(),
        ec_key(Curve::P256),
        ec_key(Curve::P384),
        ec_key(Curve::P521),
    ] {
        let der = issue_self_signed(&key, &spec(SUBJECT)).unwrap();
        let info = CertificateInfo::parse(&der).unwrap();
        check_issued(&info, &key, SUBJECT);
        assert_eq!(info.public_key, Some(key.public()));
        assert_eq!(
            info.sha1_thumbprint.as_slice(),
            digest(&SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref()
        );
        assert_eq!(
            info.sha256_thumbprint.as_slice(),
            digest(&SHA256, &der).as_ref()
        );
        assert_eq!(info.x5t().len(), 27, "base64url of 20 bytes, unpadded");

        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        verify_self_signed(&cert, key.curve());
        let algorithm = cert.signature_algorithm.algorithm.to_id_string();
        let expected = match key.curve() {
            None => "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
            Some(Curve::P256) => "1.2.840.10045.4.3.2", // ecdsa-with-SHA256
            Some(Curve::P384) => "1.2.840.10045.4.3.3", // ecdsa-with-SHA384
            Some(_) => "1.2.840.10045.4.3.4", // ecdsa-with-SHA512
        };
        assert_eq!(algorithm, expected, "{key:?}");
        assert!(cert.basic_constraints().unwrap().is_none());
    }
}

/// x509-parser verifies P-256 and P-384 but not P-521, so P-521 goes to aws-lc-rs directly.
#[track_caller]
fn verify_self_signed(cert: &X509Certificate<'_>, curve: Option<Curve>) {
    if curve == Some(Curve::P521) {
        let public_key = &cert.public_key().subject_public_key.data;
        UnparsedPublicKey::new(&ECDSA_P521_SHA512_ASN1, public_key)
            .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
            .unwrap();
    } else {
        cert.verify_signature(None).unwrap();
    }
}

#[test]
fn ca_issued_certificates_verify_against_the_ca_only() {
    let ca = ca();
    let key = rsa_key();
    let der = issue_with_ca(&key, &spec(SUBJECT), &ca).unwrap();
    let info = CertificateInfo::parse(&der).unwrap();
    check_issued(&info, &key, "CN=Strongroom Local CA");

    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let (_, ca_cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
    cert.verify_signature(Some(ca_cert.public_key())).unwrap();
    assert!(cert.verify_signature(None).is_err(), "not self-signed");
    let stranger = LocalCa::generate_at("Strongroom Local CA", NOW).unwrap();
    let (_, stranger_cert) = x509_parser::parse_x509_certificate(stranger.cert_der()).unwrap();
    assert!(
        cert.verify_signature(Some(stranger_cert.public_key()))
            .is_err()
    );
    // The CA's key identifier links the leaf to it.
    let authority = cert
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.clone(),
            _ => None,
        })
        .unwrap();
    let subject_key = ca_cert
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(ski) => Some(ski.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(authority.0, subject_key.0);

    let ca_info = CertificateInfo::parse(ca.cert_der()).unwrap();
    assert!(ca_info.is_ca);
    assert_eq!(
        ca_info.key_usage,
        [KeyUsage::KeyCertSign, KeyUsage::CrlSign]
    );
}

#[test]
fn csr_carries_the_subject_the_key_and_the_requested_extensions() {
    for key in [rsa_key(), ec_key(Curve::P384)] {
        let der = build_csr(&key, &spec(SUBJECT)).unwrap();
        let (rest, csr) = X509CertificationRequest::from_der(&der).unwrap();
        assert!(rest.is_empty());
        csr.verify_signature().unwrap();
        let request = &csr.certification_request_info;
        assert_eq!(
            crate::certs::subject::format_name(&request.subject),
            SUBJECT
        );
        assert_eq!(
            crate::certs::info::public_key_of(&request.subject_pki).unwrap(),
            Some(key.public())
        );
        let mut dns_names = Vec::new();
        let mut saw_key_usage = false;
        let mut saw_eku = false;
        for extension in csr.requested_extensions().unwrap() {
            match extension {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        if let GeneralName::DNSName(dns) = name {
                            dns_names.push((*dns).to_owned());
                        }
                    }
                }
                ParsedExtension::KeyUsage(usage) => {
                    saw_key_usage = usage.digital_signature() && usage.key_encipherment();
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    saw_eku = eku.server_auth && eku.client_auth;
                }
                _ => {}
            }
        }
        assert_eq!(dns_names, ["example.com", "*.example.com"]);
        assert!(saw_key_usage && saw_eku);
    }
}

#[test]
fn validity_is_calendar_months_clamped_to_the_month_end() {
    let at = |seconds: i64| OffsetDateTime::from_unix_timestamp(seconds).unwrap();
    let date = |seconds: i64| at(seconds).date().to_string();
    // 2026-01-31T12:00:00Z
    assert_eq!(
        date(add_months(at(NOW.0), 1).unwrap().unix_timestamp()),
        "2026-02-28"
    );
    assert_eq!(
        date(add_months(at(NOW.0), 25).unwrap().unix_timestamp()),
        "2028-02-29"
    );
    assert_eq!(
        date(add_months(at(NOW.0), 12).unwrap().unix_timestamp()),
        "2027-01-31"
    );
    assert_eq!(
        date(add_months(at(NOW.0), 1200).unwrap().unix_timestamp()),
        "2126-01-31"
    );
    assert_eq!(add_months(at(NOW.0), 1).unwrap().time(), at(NOW.0).time());

    let key = ec_key(Curve::P256);
    let issue = |months: u32, not_before: UnixTime| {
        let mut spec = spec("CN=a");
        spec.validity_months = months;
        spec.not_before = not_before;
        issue_self_signed(&key, &spec)
    };
    let info = CertificateInfo::parse(&issue(1, NOW).unwrap()).unwrap();
    assert_eq!(date(info.not_after.0), "2026-02-28");
    let bad = |reason: &str| CertError::BadRequest(reason.to_owned());
    assert_eq!(
        issue(0, NOW).unwrap_err(),
        bad("validity must be at least one month")
    );
    assert_eq!(
        issue(u32::MAX, NOW).unwrap_err(),
        bad("the validity period is out of range")
    );
    assert_eq!(
        issue(12, UnixTime(-1)).unwrap_err(),
        bad("the validity period is out of range")
    );
    assert_eq!(
        issue(12, UnixTime(253_402_300_799)).unwrap_err(),
        bad("the validity period is out of range")
    );
}

#[test]
fn issuance_refuses_keys_and_fields_it_cannot_certify() {
    let key = ec_key(Curve::P256);
    let with = |edit: &dyn Fn(&mut CertificateRequestSpec)| {
        let mut spec = spec("CN=a");
        edit(&mut spec);
        issue_self_signed(&key, &spec).unwrap_err()
    };
    let bad = |reason: &str| CertError::BadRequest(reason.to_owned());
    assert_eq!(
        with(&|spec| spec.ekus = vec!["serverAuth".to_owned()]),
        bad("\"serverAuth\" is not a dotted OID")
    );
    assert_eq!(
        with(&|spec| spec.ekus = vec!["3.1".to_owned()]),
        bad("\"3.1\" is not a dotted OID")
    );
    assert_eq!(
        with(&|spec| spec.dns_names = vec!["b\u{e9}b\u{e9}.example".to_owned()]),
        bad("\"b\u{e9}b\u{e9}.example\" is not a valid DNS name")
    );
    assert_eq!(
        with(&|spec| spec.upns = vec![String::new()]),
        bad("a subject alternative name is empty")
    );
    assert_eq!(
        with(&|spec| spec.subject = "CN=a, CN=b".to_owned()),
        CertError::BadSubject("CN appears more than once, which cannot be issued".to_owned())
    );

    let unsupported = |key: &PrivateKey| issue_self_signed(key, &spec("CN=a")).unwrap_err();
    assert_eq!(
        unsupported(&ec_key(Curve::P256K)),
        CertError::Unsupported("certificates for P-256K keys")
    );
    let oct = PrivateKey::generate_oct(256).unwrap();
    assert_eq!(
        unsupported(&oct),
        CertError::Unsupported("certificates for symmetric keys")
    );
    assert!(build_csr(&oct, &spec("CN=a")).is_err());
}

#[test]
fn certificate_info_reads_what_openssl_writes() {
    let tools = Tools::new();
    tools.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem");
    tools.openssl_with(
        "req -x509 -key key.pem -out cert.pem -days 30 -set_serial 0x00ff01",
        &[
            "-subj",
            "/C=US/ST=Washington/O=Contoso, Ltd/CN=openssl.example/emailAddress=ops@contoso.com",
            "-addext",
            "subjectAltName=DNS:a.example,email:x@contoso.com,\
             otherName:1.3.6.1.4.1.311.20.2.3;UTF8:bob@contoso.com,DNS:b.example",
            "-addext",
            "keyUsage=critical,digitalSignature,nonRepudiation,keyAgreement,cRLSign",
            "-addext",
            "extendedKeyUsage=clientAuth,serverAuth,1.3.6.1.4.1.311.10.3.12",
        ],
    );
    let der = pem_cert_der(&tools.read_text("cert.pem"));
    let info = CertificateInfo::parse(&der).unwrap();
    let subject = "C=US, S=Washington, O=\"Contoso, Ltd\", CN=openssl.example, E=ops@contoso.com";
    assert_eq!(info.subject, subject);
    assert_eq!(info.issuer, subject);
    // The DER integer's octets: a leading zero keeps 0xff01 positive.
    assert_eq!(info.serial, [0x00, 0xff, 0x01]);
    assert_eq!(info.dns_names, ["a.example", "b.example"]);
    assert_eq!(info.emails, ["x@contoso.com"]);
    assert_eq!(info.upns, ["bob@contoso.com"]);
    assert_eq!(
        info.key_usage,
        [
            KeyUsage::DigitalSignature,
            KeyUsage::NonRepudiation,
            KeyUsage::KeyAgreement,
            KeyUsage::CrlSign
        ]
    );
    assert_eq!(
        info.ekus,
        [CLIENT_AUTH, SERVER_AUTH, "1.3.6.1.4.1.311.10.3.12"]
    );
    assert_eq!(info.not_after.0 - info.not_before.0, 30 * 86_400);
    let key_pem = tools.read_text("key.pem");
    let bundle = crate::certs::parse_pem_bundle(&(key_pem + &tools.read_text("cert.pem"))).unwrap();
    assert!(info.matches(bundle.key.as_ref().unwrap()));

    // x509-parser's own rendering, which `format_name` replaces: `ST=`, `Email=`, no quotes.
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert_eq!(
        cert.subject().to_string(),
        "C=US, ST=Washington, O=Contoso, Ltd, CN=openssl.example, Email=ops@contoso.com"
    );

    assert_eq!(
        CertificateInfo::parse(b"garbage").unwrap_err(),
        CertError::Malformed("certificate")
    );
    let mut trailing = der.clone();
    trailing.push(0);
    assert_eq!(
        CertificateInfo::parse(&trailing).unwrap_err(),
        CertError::Malformed("certificate")
    );
    for len in (0..der.len()).step_by(5) {
        assert!(CertificateInfo::parse(&der[..len]).is_err());
    }
}

#[test]
fn certificate_info_leaves_unknown_key_types_unmatched() {
    let tools = Tools::new();
    tools.openssl(
        "req -x509 -newkey ed25519 -nodes -keyout ed.key -out ed.pem -subj /CN=ed -days 1",
    );
    let info = CertificateInfo::parse(&pem_cert_der(&tools.read_text("ed.pem"))).unwrap();
    assert_eq!(info.public_key, None);
    assert!(!info.matches(&ec_key(Curve::P256)));
}

#[test]
fn an_empty_subject_with_sans_gives_a_critical_san_extension() {
    let key = ec_key(Curve::P256);
    let mut only_sans = spec("");
    only_sans.emails.clear();
    only_sans.upns.clear();
    let der = issue_self_signed(&key, &only_sans).unwrap();
    let info = CertificateInfo::parse(&der).unwrap();
    assert_eq!(info.subject, "");
    assert_eq!(info.dns_names, ["example.com", "*.example.com"]);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let san = cert
        .extensions()
        .iter()
        .find(|ext| {
            matches!(
                ext.parsed_extension(),
                ParsedExtension::SubjectAlternativeName(_)
            )
        })
        .unwrap();
    assert!(
        san.critical,
        "RFC 5280: SANs of an empty subject are critical"
    );

    let mut nothing = spec("");
    nothing.dns_names.clear();
    nothing.emails.clear();
    nothing.upns.clear();
    assert_eq!(
        issue_self_signed(&key, &nothing).unwrap_err(),
        CertError::BadSubject("the subject is empty".to_owned())
    );
}
