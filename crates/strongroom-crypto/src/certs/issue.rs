//! Issuing Key Vault certificates with rcgen, signed through aws-lc-rs by *our* key: self-signed
//! (issuer `Self`), by the deployment's local CA (a stand-in for Azure's integrated CAs), or
//! as a PKCS#10 request for an unknown issuer (Azure's pending certificate `csr`).
//!
//! Validity runs from `spec.not_before` for `validity_months` calendar months, as Azure's
//! `validity_in_months` does; a day that the target month lacks becomes its last day (Jan 31
//! plus one month is Feb 28 or 29). Callers pass the time from the injected `Clock`.

use super::subject::{parse_oid, parse_subject};
use super::{CertError, KeyUsage};
use crate::LocalCa;
use crate::keys::{Curve, KeyFamily, PrivateKey};
use crate::tls::random_serial;
use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, OtherNameValue, SanType,
    SignatureAlgorithm,
};
use strongroom_model::UnixTime;
use time::{Date, Month, OffsetDateTime};
use zeroize::Zeroizing;

/// Microsoft's user principal name, an `otherName` SAN.
const UPN: [u64; 10] = [1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
/// 9999-12-31T23:59:59Z, the last instant X.509 `GeneralizedTime` can express.
const MAX_CERT_TIME: i64 = 253_402_300_799;

/// What a certificate (or CSR) says, from a Key Vault certificate policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequestSpec {
    /// Azure's form, `CN=example.com, O=Contoso` (see `subject.rs` for what is accepted).
    pub subject: String,
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    /// User principal names, written as `otherName` SANs.
    pub upns: Vec<String>,
    pub key_usage: Vec<KeyUsage>,
    /// Extended key usage OIDs, dotted (`1.3.6.1.5.5.7.3.1`).
    pub ekus: Vec<String>,
    pub validity_months: u32,
    /// Start of validity; `not_after` is this plus `validity_months` calendar months.
    pub not_before: UnixTime,
}

/// A certificate for `key` signed by `key` itself (DER).
pub fn issue_self_signed(
    key: &PrivateKey,
    spec: &CertificateRequestSpec,
) -> Result<Vec<u8>, CertError> {
    let key_pair = key_pair(key)?;
    let mut params = certificate_params(spec)?;
    params.serial_number = Some(serial()?);
    set_validity(&mut params, spec)?;
    let cert = params.self_signed(&*key_pair).map_err(issuance_error)?;
    Ok(cert.der().to_vec())
}

/// A certificate for `key` signed by the local CA (DER). The CA's own validity does not cut
/// the leaf's short; clients that check the chain will see the CA expire first.
pub fn issue_with_ca(
    key: &PrivateKey,
    spec: &CertificateRequestSpec,
    ca: &LocalCa,
) -> Result<Vec<u8>, CertError> {
    let key_pair = key_pair(key)?;
    let mut params = certificate_params(spec)?;
    params.serial_number = Some(serial()?);
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, spec)?;
    let cert = params
        .signed_by(&*key_pair, ca.issuer())
        .map_err(issuance_error)?;
    Ok(cert.der().to_vec())
}

/// A PKCS#10 request for `key` (DER) with the spec's subject, SANs, key usage and extended key
/// usage as requested extensions; validity is the CA's to decide.
pub fn build_csr(key: &PrivateKey, spec: &CertificateRequestSpec) -> Result<Vec<u8>, CertError> {
    let key_pair = key_pair(key)?;
    let params = certificate_params(spec)?;
    let csr = params
        .serialize_request(&*key_pair)
        .map_err(issuance_error)?;
    Ok(csr.der().to_vec())
}

/// Our key as rcgen's signer, through its PKCS#8 document; rcgen then signs on aws-lc-rs.
/// The copy rcgen keeps of the PKCS#8 is wiped on drop (rcgen's `zeroize` feature).
fn key_pair(key: &PrivateKey) -> Result<Zeroizing<KeyPair>, CertError> {
    let algorithm: &'static SignatureAlgorithm = match (key.family(), key.curve()) {
        (KeyFamily::Rsa, _) => &rcgen::PKCS_RSA_SHA256,
        (KeyFamily::Ec, Some(Curve::P256)) => &rcgen::PKCS_ECDSA_P256_SHA256,
        (KeyFamily::Ec, Some(Curve::P384)) => &rcgen::PKCS_ECDSA_P384_SHA384,
        (KeyFamily::Ec, Some(Curve::P521)) => &rcgen::PKCS_ECDSA_P521_SHA512,
        // Key Vault itself refuses certificates on secp256k1: no X.509 client verifies them.
        (KeyFamily::Ec, _) => {
            return Err(CertError::Unsupported("certificates for P-256K keys"));
        }
        (KeyFamily::Oct, _) => {
            return Err(CertError::Unsupported("certificates for symmetric keys"));
        }
    };
    let pkcs8 = key.private_bytes();
    KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_slice().into(), algorithm)
        .map(Zeroizing::new)
        .map_err(issuance_error)
}

/// Subject, SANs, key usage and EKUs; serial and validity are set by the caller (a CSR has
/// neither).
fn certificate_params(spec: &CertificateRequestSpec) -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::default();
    let has_sans = !(spec.dns_names.is_empty() && spec.emails.is_empty() && spec.upns.is_empty());
    // Key Vault accepts a policy with SANs and no subject; the certificate's subject is then
    // the empty name and its SAN extension critical (RFC 5280 4.1.2.6; rcgen marks it so).
    params.distinguished_name = if spec.subject.trim().is_empty() && has_sans {
        rcgen::DistinguishedName::new()
    } else {
        parse_subject(&spec.subject)?
    };
    let mut sans = Vec::with_capacity(spec.dns_names.len() + spec.emails.len() + spec.upns.len());
    if [&spec.dns_names, &spec.emails, &spec.upns]
        .iter()
        .any(|names| names.iter().any(String::is_empty))
    {
        return Err(bad_request("a subject alternative name is empty"));
    }
    for name in &spec.dns_names {
        let ia5 = name
            .clone()
            .try_into()
            .map_err(|_| bad_request(format!("{name:?} is not a valid DNS name")))?;
        sans.push(SanType::DnsName(ia5));
    }
    for email in &spec.emails {
        let ia5 = email
            .clone()
            .try_into()
            .map_err(|_| bad_request(format!("{email:?} is not a valid email address")))?;
        sans.push(SanType::Rfc822Name(ia5));
    }
    for upn in &spec.upns {
        sans.push(SanType::OtherName((
            UPN.to_vec(),
            OtherNameValue::Utf8String(upn.clone()),
        )));
    }
    params.subject_alt_names = sans;
    params.key_usages = spec
        .key_usage
        .iter()
        .copied()
        .map(KeyUsage::to_rcgen)
        .collect();
    params.extended_key_usages = spec
        .ekus
        .iter()
        .map(|dotted| {
            parse_oid(dotted)
                .map(ExtendedKeyUsagePurpose::Other)
                .ok_or_else(|| bad_request(format!("{dotted:?} is not a dotted OID")))
        })
        .collect::<Result<_, _>>()?;
    // Key Vault's certificates are end-entity certificates without basicConstraints.
    params.is_ca = IsCa::NoCa;
    Ok(params)
}

fn serial() -> Result<rcgen::SerialNumber, CertError> {
    random_serial().map_err(|_| CertError::Issuance("no randomness for a serial".to_owned()))
}

fn set_validity(
    params: &mut CertificateParams,
    spec: &CertificateRequestSpec,
) -> Result<(), CertError> {
    if spec.validity_months == 0 {
        return Err(bad_request("validity must be at least one month"));
    }
    let out_of_range = || bad_request("the validity period is out of range");
    if !(0..=MAX_CERT_TIME).contains(&spec.not_before.0) {
        return Err(out_of_range());
    }
    let not_before =
        OffsetDateTime::from_unix_timestamp(spec.not_before.0).map_err(|_| out_of_range())?;
    let not_after = add_months(not_before, spec.validity_months).ok_or_else(out_of_range)?;
    if not_after.unix_timestamp() > MAX_CERT_TIME {
        return Err(out_of_range());
    }
    params.not_before = not_before;
    params.not_after = not_after;
    Ok(())
}

/// `start` plus `months` calendar months, the day clamped to the target month's length.
pub(super) fn add_months(start: OffsetDateTime, months: u32) -> Option<OffsetDateTime> {
    let month_index =
        i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1 + i64::from(months);
    let year = i32::try_from(month_index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(month_index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = start.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(start.replace_date(date))
}

fn bad_request(reason: impl Into<String>) -> CertError {
    CertError::BadRequest(reason.into())
}

fn issuance_error(err: rcgen::Error) -> CertError {
    // rcgen's errors name what failed (a key it could not parse, a string it could not
    // encode), never key bytes.
    CertError::Issuance(err.to_string())
}
