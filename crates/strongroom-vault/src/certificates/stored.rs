//! How a certificate's policy is kept: a JSON document in the store's per-name policy slot
//! (`put_name_policy` under the certificate kind), which follows the name through soft
//! delete and recover and goes with it on purge. Names are the wire's spellings (`RSA`,
//! `P-256`, `digitalSignature`, `AutoRenew`), so a document reads the same to a person
//! debugging a database; decoding re-checks every one, so a damaged document is reported as
//! corrupt rather than issued from.

use super::policy::{
    CertificatePolicy, IssuerSpec, KeySpec, LifetimeAction, LifetimeActionType, SecretContentType,
    Trigger, X509Spec,
};
use crate::VaultError;
use crate::error::corrupt;
use crate::keys::{Curve, KeyType};
use serde::{Deserialize, Serialize};
use strongroom_crypto::certs::KeyUsage;

#[derive(Debug, Serialize, Deserialize)]
struct StoredPolicy {
    kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    exportable: bool,
    reuse_key: bool,
    content_type: String,
    subject: String,
    dns_names: Vec<String>,
    emails: Vec<String>,
    upns: Vec<String>,
    ekus: Vec<String>,
    key_usage: Vec<String>,
    validity_months: u32,
    lifetime_actions: Vec<StoredAction>,
    issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transparency: Option<bool>,
    enabled: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredAction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifetime_percentage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days_before_expiry: Option<u32>,
    action: String,
}

/// The document for `policy`.
pub fn encode(policy: &CertificatePolicy) -> Result<Vec<u8>, VaultError> {
    let stored = StoredPolicy {
        kty: policy.key.key_type.as_str().to_owned(),
        key_size: policy.key.size,
        crv: policy.key.curve.map(|curve| curve.as_str().to_owned()),
        exportable: policy.key.exportable,
        reuse_key: policy.key.reuse_key,
        content_type: policy.content_type.as_str().to_owned(),
        subject: policy.x509.subject.clone(),
        dns_names: policy.x509.dns_names.clone(),
        emails: policy.x509.emails.clone(),
        upns: policy.x509.upns.clone(),
        ekus: policy.x509.ekus.clone(),
        key_usage: policy
            .x509
            .key_usage
            .iter()
            .map(|usage| usage.as_str().to_owned())
            .collect(),
        validity_months: policy.x509.validity_months,
        lifetime_actions: policy
            .lifetime_actions
            .iter()
            .map(|action| {
                let (lifetime_percentage, days_before_expiry) = match action.trigger {
                    Trigger::LifetimePercentage(p) => (Some(p), None),
                    Trigger::DaysBeforeExpiry(d) => (None, Some(d)),
                };
                StoredAction {
                    lifetime_percentage,
                    days_before_expiry,
                    action: action.action.as_str().to_owned(),
                }
            })
            .collect(),
        issuer: policy.issuer.name.clone(),
        certificate_type: policy.issuer.certificate_type.clone(),
        transparency: policy.issuer.transparency,
        enabled: policy.enabled,
    };
    serde_json::to_vec(&stored).map_err(|_| corrupt("a certificate policy could not be encoded"))
}

/// The policy a document holds; `Corrupt` if it is not one `encode` could have written.
pub fn decode(bytes: &[u8]) -> Result<CertificatePolicy, VaultError> {
    let bad = || corrupt("a stored certificate policy is not valid");
    let stored: StoredPolicy = serde_json::from_slice(bytes).map_err(|_| bad())?;
    let key_usage = stored
        .key_usage
        .iter()
        .map(|name| KeyUsage::parse(name).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    let lifetime_actions = stored
        .lifetime_actions
        .iter()
        .map(|action| {
            let trigger = match (action.lifetime_percentage, action.days_before_expiry) {
                (Some(p), None) => Trigger::LifetimePercentage(p),
                (None, Some(d)) => Trigger::DaysBeforeExpiry(d),
                _ => return Err(bad()),
            };
            let action = LifetimeActionType::parse(&action.action).ok_or_else(bad)?;
            Ok(LifetimeAction { trigger, action })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let curve = match &stored.crv {
        Some(name) => Some(Curve::parse(name).ok_or_else(bad)?),
        None => None,
    };
    Ok(CertificatePolicy {
        key: KeySpec {
            key_type: KeyType::parse(&stored.kty).ok_or_else(bad)?,
            size: stored.key_size,
            curve,
            exportable: stored.exportable,
            reuse_key: stored.reuse_key,
        },
        content_type: SecretContentType::parse(&stored.content_type).ok_or_else(bad)?,
        x509: X509Spec {
            subject: stored.subject,
            dns_names: stored.dns_names,
            emails: stored.emails,
            upns: stored.upns,
            ekus: stored.ekus,
            key_usage,
            validity_months: stored.validity_months,
        },
        lifetime_actions,
        issuer: IssuerSpec {
            name: stored.issuer,
            certificate_type: stored.certificate_type,
            transparency: stored.transparency,
        },
        enabled: stored.enabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::policy::{
        IssuerInput, KeyInput, LifetimeActionInput, PolicyInput, SansInput, X509Input,
    };

    fn rich_policy() -> CertificatePolicy {
        CertificatePolicy::for_create(&PolicyInput {
            key: Some(KeyInput {
                key_type: Some("EC-HSM".to_owned()),
                curve: Some("P-384".to_owned()),
                exportable: Some(false),
                reuse_key: Some(true),
                ..KeyInput::default()
            }),
            content_type: Some("application/x-pem-file".to_owned()),
            x509: Some(X509Input {
                subject: Some("CN=a, O=b".to_owned()),
                sans: Some(SansInput {
                    dns_names: vec!["a.example".to_owned()],
                    emails: vec!["ops@a.example".to_owned()],
                    upns: vec!["svc@a.example".to_owned()],
                }),
                ekus: Some(vec!["1.3.6.1.5.5.7.3.1".to_owned()]),
                key_usage: Some(vec!["digitalSignature".to_owned(), "cRLSign".to_owned()]),
                validity_months: Some(24),
            }),
            lifetime_actions: Some(vec![LifetimeActionInput {
                days_before_expiry: Some(30),
                action_type: Some("EmailContacts".to_owned()),
                ..LifetimeActionInput::default()
            }]),
            issuer: Some(IssuerInput {
                name: Some("Strongroom".to_owned()),
                certificate_type: Some("OV-SSL".to_owned()),
                transparency: Some(false),
            }),
            enabled: Some(false),
        })
        .unwrap()
    }

    #[test]
    fn every_member_survives_the_store() {
        let rsa = CertificatePolicy::for_create(&PolicyInput {
            x509: Some(X509Input {
                subject: Some("CN=default".to_owned()),
                ..X509Input::default()
            }),
            issuer: Some(IssuerInput {
                name: Some("Self".to_owned()),
                ..IssuerInput::default()
            }),
            ..PolicyInput::default()
        })
        .unwrap();
        for policy in [rich_policy(), rsa] {
            assert_eq!(decode(&encode(&policy).unwrap()).unwrap(), policy);
        }
    }

    #[test]
    fn damaged_documents_are_corrupt() {
        let good: serde_json::Value =
            serde_json::from_slice(&encode(&rich_policy()).unwrap()).unwrap();
        let damaged = |member: &str, value: serde_json::Value| {
            let mut doc = good.clone();
            doc[member] = value;
            serde_json::to_vec(&doc).unwrap()
        };
        let cases = [
            b"not json".to_vec(),
            damaged("kty", "oct-ish".into()),
            damaged("crv", "P-999".into()),
            damaged("content_type", "text/plain".into()),
            damaged("key_usage", serde_json::json!(["everything"])),
            damaged(
                "lifetime_actions",
                serde_json::json!([{"action": "AutoRenew"}]),
            ),
            damaged(
                "lifetime_actions",
                serde_json::json!([{"lifetime_percentage": 80, "days_before_expiry": 3, "action": "AutoRenew"}]),
            ),
            damaged(
                "lifetime_actions",
                serde_json::json!([{"lifetime_percentage": 80, "action": "Explode"}]),
            ),
        ];
        for bytes in cases {
            assert!(
                matches!(decode(&bytes), Err(VaultError::Store(_))),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}
