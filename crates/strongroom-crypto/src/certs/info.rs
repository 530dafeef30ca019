//! What Key Vault reports about a certificate (`x509_props`, `x5t`, `nbf`/`exp`), read from
//! its DER with x509-parser, and the certified public key in our own `PublicKey` terms so it
//! can be compared with a `PrivateKey`.

use super::subject::format_name;
use super::{CertError, KeyUsage};
use crate::keys::{Curve, PrivateKey, PublicKey, strip_zeros};
use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use strongroom_model::UnixTime;
use x509_parser::asn1_rs::{FromDer, Oid, TaggedExplicit};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::public_key;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Microsoft's user principal name, an `otherName` SAN (`1.3.6.1.4.1.311.20.2.3`).
const UPN: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
const SECP256K1: &[u64] = &[1, 3, 132, 0, 10];
/// SEC1 tag of an uncompressed point, `0x04 || x || y`.
const UNCOMPRESSED: u8 = 0x04;

/// A parsed X.509 certificate, in Key Vault's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// `CN=example.com, O=Contoso` (see `subject.rs` for the form).
    pub subject: String,
    pub issuer: String,
    /// The serial number's DER content octets, as the certificate has them.
    pub serial: Vec<u8>,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    /// SHA-1 of the DER: Azure's thumbprint (`x5t` is its base64url, see `x5t`).
    pub sha1_thumbprint: [u8; 20],
    /// SHA-256 of the DER (`x5t#S256`).
    pub sha256_thumbprint: [u8; 32],
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    pub upns: Vec<String>,
    /// Set key usage bits, in bit order; empty when the extension is absent.
    pub key_usage: Vec<KeyUsage>,
    /// Extended key usage OIDs, dotted, in the certificate's order.
    pub ekus: Vec<String>,
    pub is_ca: bool,
    /// The certified key, or `None` when it is of a kind Key Vault keys cannot be (a CA in a
    /// chain may use another curve or Ed25519; such a certificate simply matches no key).
    pub public_key: Option<PublicKey>,
}

impl CertificateInfo {
    /// Parses one DER certificate; trailing bytes are refused.
    pub fn parse(der: &[u8]) -> Result<Self, CertError> {
        let cert = parse_certificate(der)?;
        let mut info = Self {
            subject: format_name(cert.subject()),
            issuer: format_name(cert.issuer()),
            serial: cert.raw_serial().to_vec(),
            not_before: UnixTime(cert.validity().not_before.timestamp()),
            not_after: UnixTime(cert.validity().not_after.timestamp()),
            sha1_thumbprint: sha1(der),
            sha256_thumbprint: sha256(der),
            dns_names: Vec::new(),
            emails: Vec::new(),
            upns: Vec::new(),
            key_usage: Vec::new(),
            ekus: Vec::new(),
            is_ca: cert.is_ca(),
            public_key: public_key_of(cert.public_key())?,
        };
        for extension in cert.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(names) => {
                    for name in &names.general_names {
                        info.add_san(name)?;
                    }
                }
                ParsedExtension::KeyUsage(usage) => {
                    info.key_usage = KeyUsage::ALL
                        .iter()
                        .copied()
                        .filter(|flag| flag.is_set_in(usage))
                        .collect();
                }
                ParsedExtension::ExtendedKeyUsage(_) => {
                    // x509-parser's struct keeps flags, not order; Azure lists the OIDs as
                    // the certificate has them, so read the SEQUENCE OF OID again.
                    let (_, oids) = <Vec<Oid<'_>>>::from_der(extension.value)
                        .map_err(|_| CertError::Malformed("extended key usage"))?;
                    info.ekus = oids.iter().map(Oid::to_id_string).collect();
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// Azure's `x5t`: base64url (no padding) of the SHA-1 thumbprint.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha1_thumbprint)
    }

    /// Whether this certificate certifies `key` (same public key).
    pub fn matches(&self, key: &PrivateKey) -> bool {
        self.public_key
            .as_ref()
            .is_some_and(|public| *public == key.public())
    }

    fn add_san(&mut self, name: &GeneralName<'_>) -> Result<(), CertError> {
        match name {
            GeneralName::DNSName(dns) => self.dns_names.push((*dns).to_owned()),
            GeneralName::RFC822Name(email) => self.emails.push((*email).to_owned()),
            GeneralName::OtherName(oid, value) if oid_is(oid, UPN) => {
                // otherName's value is `[0] EXPLICIT UTF8String` for a UPN.
                let (_, upn) =
                    TaggedExplicit::<String, x509_parser::asn1_rs::Error, 0>::from_der(value)
                        .map_err(|_| CertError::Malformed("user principal name"))?;
                self.upns.push(upn.into_inner());
            }
            _ => {}
        }
        Ok(())
    }
}

/// The certificate, refusing trailing bytes after it.
pub(super) fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(CertError::Malformed("certificate")),
    }
}

/// The certified key in `PublicKey` terms; `None` for kinds Key Vault keys cannot be.
pub(super) fn public_key_of(
    spki: &SubjectPublicKeyInfo<'_>,
) -> Result<Option<PublicKey>, CertError> {
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        let Ok(public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err(CertError::Malformed("RSA public key"));
        };
        return Ok(Some(PublicKey::Rsa {
            n: strip_zeros(rsa.modulus).to_vec(),
            e: strip_zeros(rsa.exponent).to_vec(),
        }));
    }
    if *algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
        return Ok(None);
    }
    let curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok());
    let curve = match curve_oid {
        Some(oid) if oid == OID_EC_P256 => Curve::P256,
        Some(oid) if oid == OID_NIST_EC_P384 => Curve::P384,
        Some(oid) if oid == OID_NIST_EC_P521 => Curve::P521,
        Some(oid) if oid_is(&oid, SECP256K1) => Curve::P256K,
        _ => return Ok(None),
    };
    let point: &[u8] = &spki.subject_public_key.data;
    let field_len = curve.field_len();
    match point.split_first() {
        Some((&UNCOMPRESSED, coordinates)) if coordinates.len() == 2 * field_len => {
            let (x, y) = coordinates.split_at(field_len);
            Ok(Some(PublicKey::Ec {
                curve,
                x: x.to_vec(),
                y: y.to_vec(),
            }))
        }
        // Compressed points are legal but rare; no key of ours would match one anyway.
        Some((0x02 | 0x03, _)) => Ok(None),
        _ => Err(CertError::Malformed("EC public key")),
    }
}

fn oid_is(oid: &Oid<'_>, arcs: &[u64]) -> bool {
    oid.iter()
        .is_some_and(|oid_arcs| oid_arcs.eq(arcs.iter().copied()))
}

/// The SHA-1 thumbprint of a DER certificate (Azure's `x5t`, before base64url).
pub(crate) fn sha1(der: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref());
    out
}

/// The SHA-256 thumbprint of a DER certificate (`x5t#S256`, before base64url).
pub(crate) fn sha256(der: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, der).as_ref());
    out
}
