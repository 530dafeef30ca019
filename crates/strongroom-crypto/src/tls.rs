//! The deployment's local certificate authority and the TLS server certificates it issues.
//!
//! The CA (ECDSA P-256, CA:true with path length 0, ten years) is created once and written to
//! the data directory as `ca.pem` / `ca-key.pem`; clients trust `ca.pem`. Server leaves (ECDSA
//! P-256, serverAuth, one year) are issued from it at start-up and may later be minted per host
//! name on demand, so issuing takes `&self`, holds no lock, and costs one P-256 key generation
//! and one signature. `LocalCa` is `Send + Sync`.
//!
//! Validity is wall-clock time, never the injected `Clock`: TLS clients check certificates
//! against their own clocks, so a leaf dated by `--dev-clock` would be "not yet valid" to them.
//! The plain constructors read `SystemClock`; the `_at` variants take the time for tests.
//!
//! The CA that clients trust for TLS is made with X.509 name constraints (`NameScope`,
//! RFC 5280 4.2.1.10, a critical extension): it can vouch only for the names Strongroom
//! serves, so its key, stolen or misused, cannot impersonate any other site to a client that
//! trusts it (`SSL_CERT_FILE` may make it a client's only root). The caller decides which
//! names those are; `is_constrained_to` tells whether a stored CA was made for them.

use crate::{CryptoError, random_bytes};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PKCS_ECDSA_P256_SHA256, PublicKeyData, SanType, SerialNumber,
};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use strongroom_model::{Clock, SecretBytes, SecretValue, SystemClock, UnixTime};
use zeroize::Zeroizing;

const CA_VALIDITY_DAYS: i64 = 3650;
const LEAF_VALIDITY_DAYS: i64 = 365;
/// Certificates start an hour in the past, so a client whose clock lags ours still accepts them.
const BACKDATE_SECONDS: i64 = 3600;
/// 9999-12-31T23:59:59Z, the last instant X.509 `GeneralizedTime` can express.
const MAX_CERT_TIME: u64 = 253_402_300_799;

/// RFC 6761's reserved `.invalid` domain, which no real mailbox is in: the one mailbox
/// subtree a constrained CA permits, so it cannot certify e-mail addresses (S/MIME) either.
const NO_MAILBOX: &str = "invalid";

/// The names a CA may certify: each DNS name with every name under it (`localhost` covers
/// `x.vault.localhost`), and single IP addresses. Nothing else: no mailbox (see
/// `NO_MAILBOX`); a constrained CA's certificate also names no other kind of subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameScope {
    pub dns_subtrees: Vec<String>,
    pub addresses: Vec<IpAddr>,
}

impl NameScope {
    fn name_constraints(&self) -> Result<NameConstraints, CryptoError> {
        let mut permitted = Vec::with_capacity(self.dns_subtrees.len() + self.addresses.len() + 1);
        for name in &self.dns_subtrees {
            if name.is_empty() || !name.is_ascii() || name.contains('*') {
                return Err(CryptoError::Certificate(format!(
                    "{name:?} is not a DNS subtree"
                )));
            }
            permitted.push(GeneralSubtree::DnsName(name.to_ascii_lowercase()));
        }
        for address in &self.addresses {
            let subnet = match address {
                IpAddr::V4(v4) => CidrSubnet::V4(v4.octets(), [0xff; 4]),
                IpAddr::V6(v6) => CidrSubnet::V6(v6.octets(), [0xff; 16]),
            };
            permitted.push(GeneralSubtree::IpAddress(subnet));
        }
        permitted.push(GeneralSubtree::Rfc822Name(NO_MAILBOX.to_owned()));
        Ok(NameConstraints {
            permitted_subtrees: permitted,
            excluded_subtrees: Vec::new(),
        })
    }

    /// The permitted subtrees as comparable text: `dns:NAME`, `ip:ADDRESS/MASK` (hex), `email:`.
    fn canonical(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .dns_subtrees
            .iter()
            .map(|name| format!("dns:{}", name.to_ascii_lowercase()))
            .chain(self.addresses.iter().map(|address| {
                let (bytes, mask) = match address {
                    IpAddr::V4(v4) => (v4.octets().to_vec(), vec![0xff; 4]),
                    IpAddr::V6(v6) => (v6.octets().to_vec(), vec![0xff; 16]),
                };
                format!("ip:{}/{}", hex(&bytes), hex(&mask))
            }))
            .chain([format!("email:{NO_MAILBOX}")])
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The local CA: its certificate and the key that signs server leaves.
pub struct LocalCa {
    cert_pem: String,
    cert_der: Vec<u8>,
    key_pem: SecretValue,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and its private key, in PEM (for files) and DER (for rustls).
#[derive(Debug)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: SecretValue,
    pub cert_der: Vec<u8>,
    /// PKCS#8 DER of the leaf's private key.
    pub key_der: SecretBytes,
}

pub(crate) fn certificate_error(err: rcgen::Error) -> CryptoError {
    CryptoError::Certificate(err.to_string())
}

pub(crate) fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

/// A random positive 128-bit serial number (RFC 5280 allows up to 20 octets).
pub(crate) fn random_serial() -> Result<SerialNumber, CryptoError> {
    let mut serial = random_bytes::<16>()?;
    serial[0] &= 0x7f;
    serial[0] |= 0x01; // never a leading zero octet, so the encoding is always 16 bytes
    Ok(SerialNumber::from_slice(&serial))
}

fn cert_seconds(time: UnixTime) -> Result<u64, CryptoError> {
    u64::try_from(time.seconds())
        .ok()
        .filter(|seconds| *seconds <= MAX_CERT_TIME)
        .ok_or_else(|| CryptoError::Certificate(format!("time {} is out of range", time.0)))
}

/// Sets `not_before = now - 1 h` and `not_after = now + days`.
pub(crate) fn set_validity(
    params: &mut CertificateParams,
    now: UnixTime,
    days: i64,
) -> Result<(), CryptoError> {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let not_before = cert_seconds(now.plus_seconds(-BACKDATE_SECONDS).max(UnixTime(0)))?;
    let not_after = cert_seconds(now.plus_days(days))?;
    params.not_before = epoch + Duration::from_secs(not_before);
    params.not_after = epoch + Duration::from_secs(not_after);
    Ok(())
}

/// `key` as PKCS#8 PEM, written into a string sized once (see `certs::private_key_pem`).
pub(crate) fn key_pem(key: &KeyPair) -> SecretValue {
    let der = Zeroizing::new(key.serialize_der());
    let mut pem = crate::certs::private_key_pem(&der);
    SecretValue::new(std::mem::take(&mut *pem))
}

fn new_p256_key() -> Result<KeyPair, CryptoError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(certificate_error)
}

impl LocalCa {
    /// A new CA named `common_name`, valid for ten years from now.
    pub fn generate(common_name: &str) -> Result<LocalCa, CryptoError> {
        Self::generate_at(common_name, SystemClock.now())
    }

    /// A new CA valid from `now` (less an hour) for ten years, without name constraints: for
    /// certificates of arbitrary subjects, never a TLS trust root.
    pub fn generate_at(name: &str, now: UnixTime) -> Result<LocalCa, CryptoError> {
        Self::generate_with(name, None, now)
    }

    /// A new CA that can certify only the names in `scope` (see the module doc), valid for
    /// ten years from now.
    pub fn generate_constrained(name: &str, scope: &NameScope) -> Result<LocalCa, CryptoError> {
        Self::generate_constrained_at(name, scope, SystemClock.now())
    }

    /// As `generate_constrained`, valid from `now` (less an hour).
    pub fn generate_constrained_at(
        name: &str,
        scope: &NameScope,
        now: UnixTime,
    ) -> Result<LocalCa, CryptoError> {
        Self::generate_with(name, Some(scope.name_constraints()?), now)
    }

    fn generate_with(
        name: &str,
        name_constraints: Option<NameConstraints>,
        now: UnixTime,
    ) -> Result<LocalCa, CryptoError> {
        let key = new_p256_key()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(name);
        // rcgen marks the extension critical, as RFC 5280 requires of a CA's constraints.
        params.name_constraints = name_constraints;
        // Path length 0: this CA signs leaves only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(random_serial()?);
        set_validity(&mut params, now, CA_VALIDITY_DAYS)?;
        let cert = params.self_signed(&key).map_err(certificate_error)?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key_pem(&key),
            issuer: Issuer::new(params, key),
        })
    }

    /// Reloads a CA from `ca.pem` and `ca-key.pem`. Refuses a certificate that is not a CA and
    /// a key that does not belong to the certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<LocalCa, CryptoError> {
        let key = KeyPair::from_pem(key_pem).map_err(|_| CryptoError::BadKey)?;
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .map_err(|err| CryptoError::Certificate(format!("CA certificate is not PEM: {err}")))?;
        let cert_der = pem.contents;
        let (_, cert) = x509_parser::parse_x509_certificate(&cert_der).map_err(|err| {
            CryptoError::Certificate(format!("CA certificate does not parse: {err}"))
        })?;
        if !cert.is_ca() {
            return Err(CryptoError::Certificate(
                "the certificate is not a CA (basicConstraints CA:false or absent)".to_owned(),
            ));
        }
        if cert.public_key().raw != key.subject_public_key_info().as_slice() {
            return Err(CryptoError::Certificate(
                "the CA key does not belong to the CA certificate".to_owned(),
            ));
        }
        let issuer = Issuer::from_ca_cert_der(&cert_der.as_slice().into(), key)
            .map_err(certificate_error)?;
        Ok(Self {
            cert_pem: cert_pem.to_owned(),
            cert_der,
            key_pem: SecretValue::new(key_pem.to_owned()),
            issuer,
        })
    }

    /// Whether the CA certificate carries a critical name constraints extension that permits
    /// exactly `scope` and excludes nothing: `false` for a CA made without constraints, or for
    /// other names (another deployment domain, or a build that served fewer names).
    pub fn is_constrained_to(&self, scope: &NameScope) -> bool {
        use x509_parser::extensions::GeneralName;
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(&self.cert_der) else {
            return false;
        };
        let Ok(Some(extension)) = cert.name_constraints() else {
            return false;
        };
        let constraints = extension.value;
        if !extension.critical || constraints.excluded_subtrees.is_some() {
            return false;
        }
        let mut found = Vec::new();
        for subtree in constraints.permitted_subtrees.iter().flatten() {
            let text = match &subtree.base {
                GeneralName::DNSName(name) => format!("dns:{}", name.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) if bytes.len() == 8 || bytes.len() == 32 => {
                    let (address, mask) = bytes.split_at(bytes.len() / 2);
                    format!("ip:{}/{}", hex(address), hex(mask))
                }
                GeneralName::RFC822Name(mailbox) => format!("email:{mailbox}"),
                _ => return false,
            };
            found.push(text);
        }
        found.sort();
        found.dedup();
        found == scope.canonical()
    }

    /// The CA certificate in PEM, what clients trust.
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA as rcgen's signer, for Key Vault certificates issued by the local CA
    /// (`certs::issue_with_ca`), which take their key and profile from the caller.
    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// The CA private key in PEM (PKCS#8), for `ca-key.pem`.
    pub fn key_pem(&self) -> SecretValue {
        self.key_pem.clone()
    }

    /// A server leaf for these names, valid for a year from now. DNS names may be wildcards
    /// (`*.vault.localhost`); at least one name or address is required.
    pub fn issue_server_cert(
        &self,
        dns_names: &[String],
        ip_addrs: &[IpAddr],
    ) -> Result<IssuedCert, CryptoError> {
        self.issue_server_cert_at(dns_names, ip_addrs, SystemClock.now())
    }

    /// As `issue_server_cert`, valid from `now` (less an hour).
    pub fn issue_server_cert_at(
        &self,
        dns_names: &[String],
        ip_addrs: &[IpAddr],
        now: UnixTime,
    ) -> Result<IssuedCert, CryptoError> {
        let subject = match (dns_names.first(), ip_addrs.first()) {
            (Some(name), _) => name.clone(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => {
                return Err(CryptoError::Certificate(
                    "a server certificate needs at least one name or address".to_owned(),
                ));
            }
        };
        let mut subject_alt_names = Vec::with_capacity(dns_names.len() + ip_addrs.len());
        for name in dns_names {
            let ia5 = name.clone().try_into().map_err(|_| {
                CryptoError::Certificate(format!("{name:?} is not a valid DNS name"))
            })?;
            subject_alt_names.push(SanType::DnsName(ia5));
        }
        subject_alt_names.extend(ip_addrs.iter().copied().map(SanType::IpAddress));

        let key = new_p256_key()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(&subject);
        params.subject_alt_names = subject_alt_names;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        set_validity(&mut params, now, LEAF_VALIDITY_DAYS)?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(certificate_error)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key_pem(&key),
            cert_der: cert.der().to_vec(),
            key_der: SecretBytes::new(key.serialize_der()),
        })
    }
}

impl LocalCa {
    /// A certificate for a document-signing RSA key (PKCS#8 DER): the deployment's secure key
    /// release signing key, named like the vault hosts so a client can check both the chain
    /// to `ca.pem` and the vault's name, as Microsoft's SKR client does with Azure's `x5c`.
    /// Valid for a year from now; key usage digitalSignature only, no extended usage.
    pub fn issue_signing_cert(
        &self,
        key_pkcs8: &[u8],
        dns_names: &[String],
    ) -> Result<Vec<u8>, CryptoError> {
        let key = KeyPair::from_pkcs8_der_and_sign_algo(&key_pkcs8.into(), &rcgen::PKCS_RSA_SHA256)
            .map_err(|_| CryptoError::BadKey)?;
        let subject = dns_names.first().ok_or_else(|| {
            CryptoError::Certificate("a signing certificate needs a name".to_owned())
        })?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(subject);
        for name in dns_names {
            let ia5 = name.clone().try_into().map_err(|_| {
                CryptoError::Certificate(format!("{name:?} is not a valid DNS name"))
            })?;
            params.subject_alt_names.push(SanType::DnsName(ia5));
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        set_validity(&mut params, SystemClock.now(), LEAF_VALIDITY_DAYS)?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(certificate_error)?;
        Ok(cert.der().to_vec())
    }
}

impl fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_der_len", &self.cert_der.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{self, CertificateDer, ServerName};
    use std::sync::Arc;
    use x509_parser::extensions::GeneralName;

    const NOW: UnixTime = UnixTime(1_767_225_600); // 2026-01-01T00:00:00Z

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Verifies `leaf` for `host` at `at` the way a rustls client would, trusting only `ca`.
    fn verify(ca: &LocalCa, leaf: &IssuedCert, host: &str, at: UnixTime) -> Result<(), String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca.cert_der().to_vec()))
            .map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
        let server_name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let at = pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(at.0).unwrap(),
        ));
        verifier
            .verify_server_cert(
                &CertificateDer::from(leaf.cert_der.clone()),
                &[],
                &server_name,
                &[],
                at,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn ca_is_a_p256_ca_for_ten_years() {
        let ca = LocalCa::generate_at("Strongroom Local CA", NOW).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        assert!(cert.is_ca());
        let constraints = cert.basic_constraints().unwrap().unwrap();
        assert!(constraints.critical);
        assert_eq!(constraints.value.path_len_constraint, Some(0));
        let usage = cert.key_usage().unwrap().unwrap().value;
        assert!(usage.key_cert_sign() && usage.crl_sign());
        assert_eq!(
            cert.subject().to_string(),
            "CN=Strongroom Local CA",
            "subject"
        );
        assert_eq!(cert.subject(), cert.issuer(), "self-signed");
        assert_eq!(
            cert.validity().not_before.timestamp(),
            NOW.0 - BACKDATE_SECONDS
        );
        assert_eq!(cert.validity().not_after.timestamp(), NOW.plus_days(3650).0);
        assert_eq!(
            cert.public_key().algorithm.algorithm.to_id_string(),
            "1.2.840.10045.2.1",
            "id-ecPublicKey"
        );
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(
            ca.key_pem()
                .expose()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(!format!("{ca:?}").contains("PRIVATE"));
    }

    #[test]
    fn leaf_verifies_against_the_ca_including_wildcards_and_ips() {
        let ca = LocalCa::generate_at("Strongroom Local CA", NOW).unwrap();
        let dns = names(&["*.vault.localhost", "vault.localhost", "localhost"]);
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        let leaf = ca.issue_server_cert_at(&dns, &ips, NOW).unwrap();
        let later = NOW.plus_days(30);

        for host in [
            "myvault.vault.localhost",
            "vault.localhost",
            "localhost",
            "127.0.0.1",
            "::1",
        ] {
            verify(&ca, &leaf, host, later).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        // A wildcard covers exactly one label.
        assert!(verify(&ca, &leaf, "a.b.vault.localhost", later).is_err());
        assert!(verify(&ca, &leaf, "example.com", later).is_err());
        assert!(verify(&ca, &leaf, "127.0.0.2", later).is_err());
        // About a year of validity.
        assert!(verify(&ca, &leaf, "localhost", NOW.plus_days(364)).is_ok());
        assert!(verify(&ca, &leaf, "localhost", NOW.plus_days(366)).is_err());
        assert!(verify(&ca, &leaf, "localhost", NOW.plus_seconds(-7200)).is_err());
        // Another CA does not vouch for it.
        let stranger = LocalCa::generate_at("Another CA", NOW).unwrap();
        assert!(verify(&stranger, &leaf, "localhost", later).is_err());

        let (_, cert) = x509_parser::parse_x509_certificate(&leaf.cert_der).unwrap();
        assert!(!cert.is_ca());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        let sans: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|name| match name {
                GeneralName::DNSName(dns) => (*dns).to_owned(),
                GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            sans,
            [
                "*.vault.localhost",
                "vault.localhost",
                "localhost",
                "ip:[127, 0, 0, 1]",
                "ip:[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]"
            ]
        );
        assert_eq!(cert.subject().to_string(), "CN=*.vault.localhost");

        // The key in the PEM and DER is the key in the certificate.
        let key = KeyPair::from_pem(leaf.key_pem.expose()).unwrap();
        assert_eq!(
            cert.public_key().raw,
            key.subject_public_key_info().as_slice()
        );
        assert_eq!(key.serialize_der(), leaf.key_der.expose());
        assert!(!format!("{leaf:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn ca_round_trips_through_pem_and_keeps_issuing() {
        let ca = LocalCa::generate_at("Strongroom Local CA", NOW).unwrap();
        let reloaded = LocalCa::from_pem(&ca.cert_pem(), ca.key_pem().expose()).unwrap();
        assert_eq!(reloaded.cert_der(), ca.cert_der());
        assert_eq!(reloaded.cert_pem(), ca.cert_pem());
        let leaf = reloaded
            .issue_server_cert_at(&names(&["localhost"]), &[], NOW)
            .unwrap();
        verify(&ca, &leaf, "localhost", NOW.plus_days(1)).unwrap();
        verify(&reloaded, &leaf, "localhost", NOW.plus_days(1)).unwrap();
    }

    #[test]
    fn from_pem_refuses_mismatched_or_non_ca_material() {
        let ca = LocalCa::generate_at("A", NOW).unwrap();
        let other = LocalCa::generate_at("B", NOW).unwrap();
        let leaf = ca
            .issue_server_cert_at(&names(&["localhost"]), &[], NOW)
            .unwrap();
        let check = |cert: &str, key: &str| match LocalCa::from_pem(cert, key) {
            Ok(_) => "Ok".to_owned(),
            Err(err) => err.to_string(),
        };
        assert_eq!(
            check(&ca.cert_pem(), other.key_pem().expose()),
            "certificate generation failed: the CA key does not belong to the CA certificate"
        );
        assert_eq!(
            check(&leaf.cert_pem, leaf.key_pem.expose()),
            "certificate generation failed: the certificate is not a CA (basicConstraints CA:false or absent)"
        );
        assert_eq!(
            check(&ca.cert_pem(), "garbage"),
            "key material is malformed"
        );
        assert!(check("garbage", ca.key_pem().expose()).contains("is not PEM"));
    }

    #[test]
    fn signing_cert_certifies_the_given_rsa_key_under_the_ca() {
        let ca = LocalCa::generate_at("Test CA", NOW).unwrap();
        let pkcs8 = crate::generate_rsa_signing_key().unwrap();
        let der = ca
            .issue_signing_cert(pkcs8.expose(), &names(&["*.vault.localhost"]))
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let (_, ca_cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        assert!(!cert.is_ca());
        let info = crate::parse_client_certificate(&der).unwrap();
        let (n, e) = crate::rsa_public_components(pkcs8.expose()).unwrap();
        assert_eq!(info.rsa_public(), (n.as_slice(), e.as_slice()));
        assert!(ca.issue_signing_cert(b"not a key", &names(&["a"])).is_err());
        assert!(ca.issue_signing_cert(pkcs8.expose(), &[]).is_err());
    }

    #[test]
    fn refuses_leaves_without_names_or_with_bad_names() {
        let ca = LocalCa::generate_at("A", NOW).unwrap();
        assert!(ca.issue_server_cert_at(&[], &[], NOW).is_err());
        assert!(
            ca.issue_server_cert_at(&names(&["bad\u{e9}"]), &[], NOW)
                .is_err()
        );
        let ip_only = ca
            .issue_server_cert_at(&[], &["127.0.0.1".parse().unwrap()], NOW)
            .unwrap();
        verify(&ca, &ip_only, "127.0.0.1", NOW).unwrap();
        assert!(
            ca.issue_server_cert_at(&names(&["a"]), &[], UnixTime(i64::MAX))
                .is_err()
        );
    }

    fn scope(dns: &[&str]) -> NameScope {
        NameScope {
            dns_subtrees: names(dns),
            addresses: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        }
    }

    #[test]
    fn a_constrained_ca_vouches_only_for_its_names() {
        let served = scope(&["localhost", "vault.azure.net", "login.microsoftonline.com"]);
        let ca = LocalCa::generate_constrained_at("Strongroom Local CA", &served, NOW).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        let constraints = cert.name_constraints().unwrap().unwrap();
        assert!(constraints.critical, "name constraints must be critical");
        assert!(constraints.value.excluded_subtrees.is_none());

        let later = NOW.plus_days(1);
        let dns = names(&["*.vault.localhost", "vault.localhost", "localhost"]);
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        let server_leaf = ca.issue_server_cert_at(&dns, &ips, NOW).unwrap();
        for host in ["v.vault.localhost", "localhost", "127.0.0.1", "::1"] {
            verify(&ca, &server_leaf, host, later).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        for name in [
            "x.vault.localhost",
            "a.b.localhost",
            "myvault.vault.azure.net",
            "login.microsoftonline.com",
        ] {
            let leaf = ca.issue_server_cert_at(&names(&[name]), &[], NOW).unwrap();
            verify(&ca, &leaf, name, later).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Outside the subtrees, including names that only end in the same characters.
        for name in [
            "www.example.com",
            "evillocalhost",
            "vault.azure.net.example.com",
            "microsoftonline.com",
            "x.login.microsoftonline.com.example",
        ] {
            let leaf = ca.issue_server_cert_at(&names(&[name]), &[], NOW).unwrap();
            let err = verify(&ca, &leaf, name, later).expect_err(name);
            assert!(err.contains("NameConstraintViolation"), "{name}: {err}");
        }
        // An address outside the permitted ones poisons a leaf even for its good names.
        let stray_ip = ca
            .issue_server_cert_at(&names(&["localhost"]), &["10.0.0.1".parse().unwrap()], NOW)
            .unwrap();
        assert!(verify(&ca, &stray_ip, "localhost", later).is_err());
        // The same CA without constraints would have vouched for it.
        let open = LocalCa::generate_at("Open CA", NOW).unwrap();
        let leaf = open
            .issue_server_cert_at(&names(&["www.example.com"]), &[], NOW)
            .unwrap();
        verify(&open, &leaf, "www.example.com", later).unwrap();
    }

    #[test]
    fn is_constrained_to_tells_which_names_a_stored_ca_was_made_for() {
        let served = scope(&["localhost", "vault.azure.net"]);
        let ca = LocalCa::generate_constrained_at("Strongroom Local CA", &served, NOW).unwrap();
        assert!(ca.is_constrained_to(&served));
        let reloaded = LocalCa::from_pem(&ca.cert_pem(), ca.key_pem().expose()).unwrap();
        assert!(reloaded.is_constrained_to(&served), "after a reload");
        // The order and case of the names do not matter; their set does.
        assert!(ca.is_constrained_to(&scope(&["VAULT.azure.net", "localhost"])));
        assert!(!ca.is_constrained_to(&scope(&["example.test", "vault.azure.net"])));
        assert!(!ca.is_constrained_to(&scope(&["localhost"])));
        assert!(!ca.is_constrained_to(&NameScope {
            dns_subtrees: names(&["localhost", "vault.azure.net"]),
            addresses: Vec::new(),
        }));
        let open = LocalCa::generate_at("Open CA", NOW).unwrap();
        assert!(!open.is_constrained_to(&served));
        assert!(
            LocalCa::generate_constrained_at("x", &scope(&["*.localhost"]), NOW).is_err(),
            "a subtree is a name, not a wildcard"
        );
    }

    #[test]
    fn issuing_is_concurrent_and_serials_are_unique() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<LocalCa>();

        let ca = Arc::new(LocalCa::generate_at("A", NOW).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let ca = Arc::clone(&ca);
                std::thread::spawn(move || {
                    ca.issue_server_cert_at(&[format!("v{i}.vault.localhost")], &[], NOW)
                        .unwrap()
                })
            })
            .collect();
        let leaves: Vec<IssuedCert> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut serials: Vec<Vec<u8>> = leaves
            .iter()
            .map(|leaf| {
                let (_, cert) = x509_parser::parse_x509_certificate(&leaf.cert_der).unwrap();
                cert.raw_serial().to_vec()
            })
            .collect();
        for (i, leaf) in leaves.iter().enumerate() {
            verify(&ca, leaf, &format!("v{i}.vault.localhost"), NOW).unwrap();
        }
        serials.sort();
        serials.dedup();
        assert_eq!(serials.len(), 4);
        assert!(serials.iter().all(|s| s.len() == 16));
    }
}
