//! A certificate's policy: how its key is made, what its secret holds, what goes into the
//! X.509 certificate, who issues it, and what happens as it ages.
//!
//! A request carries a `PolicyInput` in which every member is optional (the Python SDK's
//! `CertificatePolicy.get_default()` sends only a subject, empty SANs and the issuer). Create
//! resolves it against Key Vault's defaults; an update resolves it against the stored policy,
//! member by member. Either way the result is a complete `CertificatePolicy` that has passed
//! every check, so issuance never meets a half-specified policy.
//!
//! The defaults are those Key Vault reports for such a policy (keys.json examples and the
//! SDKs' recordings): an exportable RSA-2048 key that is not reused, a PKCS#12 secret, 12
//! months' validity, the server-authentication and client-authentication EKUs, the
//! `digitalSignature` and `keyEncipherment` usages, and one lifetime action at 80 % of the
//! lifetime: `AutoRenew` for an issuer that can renew by itself, `EmailContacts` for
//! `Unknown` (whose certificates come back through a manual merge).

use crate::VaultError;
use crate::keys::{Curve, KeyFamily, KeyType};
use strongroom_crypto::certs::KeyUsage;

/// The issuer name for self-signed certificates.
pub const SELF_ISSUER: &str = "Self";
/// The issuer name for certificates the caller gets signed elsewhere (CSR out, merge in).
pub const UNKNOWN_ISSUER: &str = "Unknown";

/// RSA sizes a certificate key can have.
pub const RSA_SIZES: [usize; 3] = [2048, 3072, 4096];
/// The longest validity accepted, in months (100 years).
pub const MAX_VALIDITY_MONTHS: u32 = 1200;

const DEFAULT_EKUS: [&str; 2] = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"];
const DEFAULT_USAGES: [KeyUsage; 2] = [KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment];
const DEFAULT_VALIDITY_MONTHS: u32 = 12;
const DEFAULT_LIFETIME_PERCENTAGE: u32 = 80;

/// What the backing secret holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretContentType {
    /// A password-less PFX, base64.
    Pkcs12,
    /// The PKCS#8 key then the certificate chain, PEM.
    Pem,
}

impl SecretContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pkcs12 => "application/x-pkcs12",
            Self::Pem => "application/x-pem-file",
        }
    }

    /// Exactly the two media types Key Vault knows (compared case-insensitively, as media
    /// types are).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pkcs12, Self::Pem]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
    }
}

/// When a lifetime action fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// At this percentage (1-99) of the certificate's lifetime.
    LifetimePercentage(u32),
    /// This many days before the certificate expires.
    DaysBeforeExpiry(u32),
}

/// What a lifetime action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeActionType {
    AutoRenew,
    EmailContacts,
}

impl LifetimeActionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoRenew => "AutoRenew",
            Self::EmailContacts => "EmailContacts",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::AutoRenew, Self::EmailContacts]
            .into_iter()
            .find(|action| action.as_str().eq_ignore_ascii_case(text))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeAction {
    pub trigger: Trigger,
    pub action: LifetimeActionType,
}

/// How the certificate's key is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub key_type: KeyType,
    /// RSA modulus bits; `None` for EC keys.
    pub size: Option<usize>,
    /// EC curve; `None` for RSA keys.
    pub curve: Option<Curve>,
    pub exportable: bool,
    /// Whether a renewal keeps the current key instead of making a new one.
    pub reuse_key: bool,
}

/// What goes into the X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Spec {
    /// Azure's form, `CN=name, O=org`; may be empty when there are SANs.
    pub subject: String,
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    pub upns: Vec<String>,
    /// Dotted OIDs.
    pub ekus: Vec<String>,
    pub key_usage: Vec<KeyUsage>,
    pub validity_months: u32,
}

/// Who issues the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerSpec {
    /// `Self`, `Unknown`, or the name of an issuer configured in the vault.
    pub name: String,
    pub certificate_type: Option<String>,
    pub transparency: Option<bool>,
}

impl IssuerSpec {
    pub fn is_self(&self) -> bool {
        self.name.eq_ignore_ascii_case(SELF_ISSUER)
    }

    pub fn is_unknown(&self) -> bool {
        self.name.eq_ignore_ascii_case(UNKNOWN_ISSUER)
    }
}

/// A complete, checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePolicy {
    pub key: KeySpec,
    pub content_type: SecretContentType,
    pub x509: X509Spec,
    pub lifetime_actions: Vec<LifetimeAction>,
    pub issuer: IssuerSpec,
    pub enabled: bool,
}

/// The key members of a request's policy (`key_props`), as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyInput {
    pub key_type: Option<String>,
    pub size: Option<i64>,
    pub curve: Option<String>,
    pub exportable: Option<bool>,
    pub reuse_key: Option<bool>,
}

/// The X.509 members of a request's policy (`x509_props`), as sent. `None` leaves a member
/// as it was (or at its default); SAN lists replace the stored ones when `sans` is present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct X509Input {
    pub subject: Option<String>,
    pub sans: Option<SansInput>,
    pub ekus: Option<Vec<String>>,
    pub key_usage: Option<Vec<String>>,
    pub validity_months: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SansInput {
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    pub upns: Vec<String>,
}

/// One lifetime action as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifetimeActionInput {
    pub lifetime_percentage: Option<i64>,
    pub days_before_expiry: Option<i64>,
    pub action_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerInput {
    pub name: Option<String>,
    pub certificate_type: Option<String>,
    pub transparency: Option<bool>,
}

/// A request's policy: every member optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInput {
    pub key: Option<KeyInput>,
    pub content_type: Option<String>,
    pub x509: Option<X509Input>,
    pub lifetime_actions: Option<Vec<LifetimeActionInput>>,
    pub issuer: Option<IssuerInput>,
    pub enabled: Option<bool>,
}

fn invalid(message: impl Into<String>) -> VaultError {
    VaultError::InvalidParameter(message.into())
}

impl CertificatePolicy {
    /// The policy of a new certificate: `input` over Key Vault's defaults.
    pub fn for_create(input: &PolicyInput) -> Result<Self, VaultError> {
        Self::resolve(input, None)
    }

    /// An update of the stored policy: members present in `input` replace the stored ones.
    pub fn updated(&self, input: &PolicyInput) -> Result<Self, VaultError> {
        Self::resolve(input, Some(self))
    }

    fn resolve(input: &PolicyInput, base: Option<&Self>) -> Result<Self, VaultError> {
        let issuer = resolve_issuer(input.issuer.as_ref(), base.map(|b| &b.issuer))?;
        let key = resolve_key(input.key.as_ref(), base.map(|b| &b.key))?;
        let content_type = match &input.content_type {
            Some(text) => SecretContentType::parse(text).ok_or_else(|| {
                invalid(format!(
                    "The secret content type '{text}' is not supported. Supported content types are application/x-pkcs12 and application/x-pem-file."
                ))
            })?,
            None => base.map_or(SecretContentType::Pkcs12, |b| b.content_type),
        };
        let x509 = resolve_x509(input.x509.as_ref(), base.map(|b| &b.x509), key.key_type)?;
        let lifetime_actions = match &input.lifetime_actions {
            Some(actions) => actions
                .iter()
                .map(|action| resolve_action(action, x509.validity_months))
                .collect::<Result<Vec<_>, _>>()?,
            None => match base {
                Some(base) => base.lifetime_actions.clone(),
                None => vec![LifetimeAction {
                    trigger: Trigger::LifetimePercentage(DEFAULT_LIFETIME_PERCENTAGE),
                    action: if issuer.is_unknown() {
                        LifetimeActionType::EmailContacts
                    } else {
                        LifetimeActionType::AutoRenew
                    },
                }],
            },
        };
        if lifetime_actions.len() > 1 {
            return Err(invalid(
                "A certificate policy can have at most one lifetime action.",
            ));
        }
        if issuer.is_unknown()
            && lifetime_actions
                .iter()
                .any(|action| action.action == LifetimeActionType::AutoRenew)
        {
            return Err(invalid(
                "AutoRenew is not supported for certificates issued by the Unknown issuer; use EmailContacts.",
            ));
        }
        Ok(Self {
            key,
            content_type,
            x509,
            lifetime_actions,
            issuer,
            enabled: input.enabled.or(base.map(|b| b.enabled)).unwrap_or(true),
        })
    }
}

fn resolve_issuer(
    input: Option<&IssuerInput>,
    base: Option<&IssuerSpec>,
) -> Result<IssuerSpec, VaultError> {
    let name = input
        .and_then(|i| i.name.clone())
        .or_else(|| base.map(|b| b.name.clone()))
        .ok_or_else(|| invalid("The certificate policy must name an issuer (issuer.name)."))?;
    if name.trim().is_empty() {
        return Err(invalid(
            "The certificate policy must name an issuer (issuer.name).",
        ));
    }
    Ok(IssuerSpec {
        name,
        certificate_type: input
            .and_then(|i| i.certificate_type.clone())
            .or_else(|| base.and_then(|b| b.certificate_type.clone())),
        transparency: input
            .and_then(|i| i.transparency)
            .or_else(|| base.and_then(|b| b.transparency)),
    })
}

fn resolve_key(input: Option<&KeyInput>, base: Option<&KeySpec>) -> Result<KeySpec, VaultError> {
    let input = input.cloned().unwrap_or_default();
    let key_type = match &input.key_type {
        Some(text) => KeyType::parse(text)
            .filter(|t| t.family() != KeyFamily::Oct)
            .ok_or_else(|| {
                invalid(format!(
                    "The key type '{text}' is not supported for certificates. Supported key types are RSA, RSA-HSM, EC and EC-HSM."
                ))
            })?,
        None => base.map_or(KeyType::Rsa, |b| b.key_type),
    };
    // A key type change drops the old size or curve; otherwise they carry over.
    let same_family = base.is_some_and(|b| b.key_type.family() == key_type.family());
    let (size, curve) = match key_type.family() {
        KeyFamily::Ec => {
            if let Some(size) = input.size {
                return Err(invalid(format!(
                    "Unsupported key size ({size}). Supported sizes are [256, 384, 521]"
                )));
            }
            let curve = match &input.curve {
                Some(text) => Curve::parse(text)
                    .ok_or_else(|| invalid(format!("The curve '{text}' is not supported.")))?,
                None => base
                    .filter(|_| same_family)
                    .and_then(|b| b.curve)
                    .unwrap_or(Curve::P256),
            };
            if curve == Curve::P256K {
                return Err(invalid(
                    "The curve 'P-256K' is not supported for certificates.",
                ));
            }
            (None, Some(curve))
        }
        _ => {
            if let Some(curve) = &input.curve {
                return Err(invalid(format!(
                    "The curve '{curve}' cannot be used with key type {}.",
                    key_type.as_str()
                )));
            }
            let size = match input.size {
                Some(size) => usize::try_from(size)
                    .ok()
                    .filter(|s| RSA_SIZES.contains(s))
                    .ok_or_else(|| {
                        invalid(format!(
                            "Unsupported key size ({size}). Supported sizes are [2048, 3072, 4096]"
                        ))
                    })?,
                None => base
                    .filter(|_| same_family)
                    .and_then(|b| b.size)
                    .unwrap_or(2048),
            };
            (Some(size), None)
        }
    };
    Ok(KeySpec {
        key_type,
        size,
        curve,
        exportable: input
            .exportable
            .or(base.map(|b| b.exportable))
            .unwrap_or(true),
        reuse_key: input
            .reuse_key
            .or(base.map(|b| b.reuse_key))
            .unwrap_or(false),
    })
}

fn resolve_x509(
    input: Option<&X509Input>,
    base: Option<&X509Spec>,
    key_type: KeyType,
) -> Result<X509Spec, VaultError> {
    let input = input.cloned().unwrap_or_default();
    let subject = input
        .subject
        .or_else(|| base.map(|b| b.subject.clone()))
        .unwrap_or_default();
    let (dns_names, emails, upns) = match input.sans {
        Some(sans) => (sans.dns_names, sans.emails, sans.upns),
        None => base.map_or_else(Default::default, |b| {
            (b.dns_names.clone(), b.emails.clone(), b.upns.clone())
        }),
    };
    if subject.trim().is_empty() && dns_names.is_empty() && emails.is_empty() && upns.is_empty() {
        return Err(invalid(
            "The certificate policy must have a subject or at least one subject alternative name.",
        ));
    }
    let ekus = match input.ekus {
        Some(ekus) => {
            if let Some(bad) = ekus.iter().find(|eku| !is_dotted_oid(eku)) {
                return Err(invalid(format!(
                    "The extended key usage '{bad}' is not an object identifier."
                )));
            }
            ekus
        }
        None => base.map_or_else(
            || DEFAULT_EKUS.iter().map(|&eku| eku.to_owned()).collect(),
            |b| b.ekus.clone(),
        ),
    };
    let key_usage = match input.key_usage {
        Some(names) => {
            let mut usages = Vec::with_capacity(names.len());
            for name in &names {
                let usage = KeyUsage::parse(name)
                    .ok_or_else(|| invalid(format!("The key usage '{name}' is not supported.")))?;
                if !usages.contains(&usage) {
                    usages.push(usage);
                }
            }
            usages
        }
        None => base.map_or_else(|| default_usages(key_type), |b| b.key_usage.clone()),
    };
    let validity_months = match input.validity_months {
        Some(months) => u32::try_from(months)
            .ok()
            .filter(|m| (1..=MAX_VALIDITY_MONTHS).contains(m))
            .ok_or_else(|| {
                invalid(format!(
                    "The validity period ({months} months) must be between 1 and {MAX_VALIDITY_MONTHS} months."
                ))
            })?,
        None => base.map_or(DEFAULT_VALIDITY_MONTHS, |b| b.validity_months),
    };
    Ok(X509Spec {
        subject,
        dns_names,
        emails,
        upns,
        ekus,
        key_usage,
        validity_months,
    })
}

/// RSA keys sign and encipher; EC keys sign (an EC key cannot encipher a key).
fn default_usages(key_type: KeyType) -> Vec<KeyUsage> {
    match key_type.family() {
        KeyFamily::Ec => vec![KeyUsage::DigitalSignature],
        _ => DEFAULT_USAGES.to_vec(),
    }
}

fn resolve_action(
    input: &LifetimeActionInput,
    validity_months: u32,
) -> Result<LifetimeAction, VaultError> {
    let trigger = match (input.lifetime_percentage, input.days_before_expiry) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "A lifetime action's trigger has either lifetime_percentage or days_before_expiry, not both.",
            ));
        }
        (Some(percentage), None) => Trigger::LifetimePercentage(
            u32::try_from(percentage)
                .ok()
                .filter(|p| (1..=99).contains(p))
                .ok_or_else(|| {
                    invalid(format!(
                        "The lifetime percentage ({percentage}) must be between 1 and 99."
                    ))
                })?,
        ),
        (None, Some(days)) => {
            // The trigger must fall inside the certificate's life (a month counts 28 days
            // here, the shortest, so no valid validity is refused by rounding).
            let lifetime_days = i64::from(validity_months) * 28;
            let days = u32::try_from(days)
                .ok()
                .filter(|d| *d >= 1 && i64::from(*d) < lifetime_days)
                .ok_or_else(|| {
                    invalid(format!(
                        "The days before expiry ({days}) must be at least 1 and less than the certificate's validity."
                    ))
                })?;
            Trigger::DaysBeforeExpiry(days)
        }
        (None, None) => {
            return Err(invalid(
                "A lifetime action needs a trigger: lifetime_percentage or days_before_expiry.",
            ));
        }
    };
    let action = input
        .action_type
        .as_deref()
        .and_then(LifetimeActionType::parse)
        .ok_or_else(|| {
            invalid(format!(
                "The lifetime action type '{}' is not supported. Supported types are AutoRenew and EmailContacts.",
                input.action_type.as_deref().unwrap_or_default()
            ))
        })?;
    Ok(LifetimeAction { trigger, action })
}

/// `1.3.6.1.5.5.7.3.1`: at least two arcs, digits only, no leading zeros.
fn is_dotted_oid(text: &str) -> bool {
    let arcs: Vec<&str> = text.split('.').collect();
    arcs.len() >= 2
        && arcs.iter().all(|arc| {
            !arc.is_empty()
                && arc.len() <= 20
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc.len() == 1 || !arc.starts_with('0'))
        })
}

#[cfg(test)]
mod tests;
