//! Azure's subject text: parsed for issuance, printed from the issued certificate.

use super::*;
use crate::certs::{CertError, CertificateInfo};

/// The subject as it reads back from a certificate issued with `subject`.
/// The subject a certificate gets for `subject`, with no SANs (with SANs an empty subject is
/// allowed: `issue.rs` tests that).
fn issued_subject(subject: &str) -> Result<String, CertError> {
    let key = ec_key(Curve::P256);
    let mut spec = spec(subject);
    spec.dns_names.clear();
    spec.emails.clear();
    spec.upns.clear();
    let der = issue_self_signed(&key, &spec)?;
    Ok(CertificateInfo::parse(&der).unwrap().subject)
}

#[test]
fn subjects_read_back_in_azure_form() {
    let cases = [
        ("CN=example.com", "CN=example.com"),
        ("CN=a, O=b", "CN=a, O=b"),
        // Order is the text's; short names are .NET's; types are case-insensitive.
        (
            "cn=host;o=Contoso;ou=Eng;l=Redmond;st=WA;c=US;emailAddress=a@b.example;dc=corp",
            "CN=host, O=Contoso, OU=Eng, L=Redmond, S=WA, C=US, E=a@b.example, DC=corp",
        ),
        ("E=a@b.example, CN=x", "E=a@b.example, CN=x"),
        ("  CN = spaced out  ,O=  x ", "CN=spaced out, O=x"),
        (
            "CN=\"Contoso, Ltd\", O=\"say \"\"hi\"\"\"",
            "CN=\"Contoso, Ltd\", O=\"say \"\"hi\"\"\"",
        ),
        ("CN=a\\, b", "CN=\"a, b\""),
        ("CN=C++ dev", "CN=\"C++ dev\""),
        ("CN=caf\u{e9}", "CN=caf\u{e9}"),
        (
            "CN=x, STREET=1 Main St, SERIALNUMBER=42, T=Boss, G=Ann, SN=Lee",
            "CN=x, STREET=1 Main St, SERIALNUMBER=42, T=Boss, G=Ann, SN=Lee",
        ),
        ("CN=x, OID.2.5.4.17=98052", "CN=x, OID.2.5.4.17=98052"),
        ("CN=x, 2.5.4.10=dotted", "CN=x, O=dotted"),
    ];
    for (input, expected) in cases {
        assert_eq!(issued_subject(input).as_deref(), Ok(expected), "{input}");
    }
}

#[test]
fn malformed_subjects_are_bad_subject() {
    let cases = [
        ("", "the subject is empty"),
        ("   ", "the subject is empty"),
        (
            "example.com",
            "\"example.com\" is not of the form TYPE=value",
        ),
        ("CN=a,", "\"\" is not of the form TYPE=value"),
        ("CN=a,,O=b", "\"\" is not of the form TYPE=value"),
        ("CN=", "CN has an empty value"),
        ("XX=1", "\"XX\" is not a known attribute type"),
        ("OID.9.1=1", "\"OID.9.1\" is not a known attribute type"),
        ("CN=\"open", "CN has an unclosed quote"),
        ("CN=\"a\" b", "CN has text after its closing quote"),
        ("CN=a\\", "a trailing \\"),
        ("C=USA", "C must be a two-letter country code"),
        ("E=caf\u{e9}@example.com", "E must be ASCII"),
        ("SERIALNUMBER=a_b", "SERIALNUMBER must be printable ASCII"),
        (
            "OU=a, OU=b",
            "OU appears more than once, which cannot be issued",
        ),
    ];
    for (input, reason) in cases {
        assert_eq!(
            issued_subject(input),
            Err(CertError::BadSubject(reason.to_owned())),
            "{input:?}"
        );
    }
}
