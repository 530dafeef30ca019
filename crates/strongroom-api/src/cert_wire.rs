//! Conversions between the certificates API's JSON (`wire::certificates`) and the
//! certificate service's domain values, written out by hand like the keys' ones.
//!
//! Encodings (certificates.json): `cer`, `csr` and `x5c` are standard base64 (`format:
//! byte`), `x5t` is base64url without padding.

use crate::error::ApiError;
use crate::objects::object_id;
use crate::wire as w;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::borrow::Cow;
use std::collections::BTreeMap;
use strongroom_model::UnixTime;
use strongroom_vault::Vault;
use strongroom_vault::certificates::contacts::Contact;
use strongroom_vault::certificates::issuers::{Administrator, Issuer, IssuerParams};
use strongroom_vault::certificates::{
    Certificate, CertificateOperation, CertificatePolicy, CertificateProperties,
    DeletedCertificate, IssuerInput, KeyInput, LifetimeActionInput, OperationStatus, PolicyInput,
    SansInput, Trigger, X509Input,
};

// ---- wire -> domain ----

/// A request's policy, every member as sent (the service resolves and checks it).
pub(crate) fn policy_input(policy: &w::CertificatePolicy) -> PolicyInput {
    PolicyInput {
        key: policy.key_props.as_ref().map(|key| KeyInput {
            key_type: key.kty.clone(),
            size: key.key_size,
            curve: key.crv.clone(),
            exportable: key.exportable,
            reuse_key: key.reuse_key,
        }),
        content_type: policy
            .secret_props
            .as_ref()
            .and_then(|secret| secret.content_type.clone()),
        x509: policy.x509_props.as_ref().map(|x509| X509Input {
            subject: x509.subject.clone(),
            sans: x509.sans.as_ref().map(|sans| SansInput {
                dns_names: sans.dns_names.clone().unwrap_or_default(),
                emails: sans.emails.clone().unwrap_or_default(),
                upns: sans.upns.clone().unwrap_or_default(),
            }),
            ekus: x509.ekus.clone(),
            key_usage: x509.key_usage.clone(),
            validity_months: x509.validity_months,
        }),
        lifetime_actions: policy.lifetime_actions.as_ref().map(|actions| {
            actions
                .iter()
                .map(|action| LifetimeActionInput {
                    lifetime_percentage: action
                        .trigger
                        .as_ref()
                        .and_then(|t| t.lifetime_percentage),
                    days_before_expiry: action.trigger.as_ref().and_then(|t| t.days_before_expiry),
                    action_type: action.action.as_ref().and_then(|a| a.action_type.clone()),
                })
                .collect()
        }),
        issuer: policy.issuer.as_ref().map(|issuer| IssuerInput {
            name: issuer.name.clone(),
            certificate_type: issuer.cty.clone(),
            transparency: issuer.cert_transparency,
        }),
        enabled: policy.attributes.as_ref().and_then(|a| a.enabled),
    }
}

/// `x5c` of a merge: standard base64 DER each (base64url tolerated).
pub(crate) fn decode_x5c(x5c: &[String]) -> Result<Vec<Vec<u8>>, ApiError> {
    x5c.iter()
        .map(|text| {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            STANDARD
                .decode(&compact)
                .or_else(|_| URL_SAFE_NO_PAD.decode(compact.trim_end_matches('=')))
                .map_err(|_| {
                    ApiError::BadParameter("Property x5c has invalid value\r\n".to_owned())
                })
        })
        .collect()
}

pub(crate) fn contacts_input(contacts: w::Contacts) -> Vec<Contact> {
    contacts
        .contacts
        .unwrap_or_default()
        .into_iter()
        .map(|c| Contact {
            email: c.email,
            name: c.name,
            phone: c.phone,
        })
        .collect()
}

/// A set or update request's members (`CertificateIssuerSetParameters` and
/// `CertificateIssuerUpdateParameters` have the same ones).
pub(crate) fn issuer_params(
    provider: Option<String>,
    credentials: Option<w::IssuerCredentials>,
    org_details: Option<w::OrganizationDetails>,
    attributes: Option<w::IssuerAttributes>,
) -> IssuerParams {
    let (account_id, password) = credentials.map_or((None, None), |c| (c.account_id, c.pwd));
    let (organization_id, administrators) = org_details.map_or((None, None), |o| {
        (
            o.id,
            o.admin_details.map(|admins| {
                admins
                    .into_iter()
                    .map(|a| Administrator {
                        first_name: a.first_name,
                        last_name: a.last_name,
                        email: a.email,
                        phone: a.phone,
                    })
                    .collect()
            }),
        )
    });
    IssuerParams {
        provider,
        account_id,
        password,
        organization_id,
        administrators,
        enabled: attributes.and_then(|a| a.enabled),
    }
}

// ---- domain -> wire ----

pub(crate) fn contacts(origin: &str, contacts: &[Contact]) -> w::Contacts {
    w::Contacts {
        id: Some(format!("{origin}/certificates/contacts")),
        contacts: Some(
            contacts
                .iter()
                .map(|c| w::Contact {
                    email: c.email.clone(),
                    name: c.name.clone(),
                    phone: c.phone.clone(),
                })
                .collect(),
        ),
    }
}

fn issuer_id(origin: &str, issuer: &Issuer) -> String {
    format!("{origin}/certificates/issuers/{}", issuer.name)
}

/// An issuer as Key Vault shows it: never its password.
pub(crate) fn issuer(origin: &str, issuer: &Issuer) -> w::IssuerBundle {
    let has_org = issuer.organization_id.is_some() || !issuer.administrators.is_empty();
    w::IssuerBundle {
        id: Some(issuer_id(origin, issuer)),
        provider: Some(issuer.provider.clone()),
        credentials: issuer
            .account_id
            .as_ref()
            .map(|account_id| w::IssuerCredentials {
                account_id: Some(account_id.clone()),
                pwd: None,
            }),
        org_details: has_org.then(|| w::OrganizationDetails {
            id: issuer.organization_id.clone(),
            admin_details: Some(
                issuer
                    .administrators
                    .iter()
                    .map(|a| w::AdministratorDetails {
                        first_name: a.first_name.clone(),
                        last_name: a.last_name.clone(),
                        email: a.email.clone(),
                        phone: a.phone.clone(),
                    })
                    .collect(),
            ),
        }),
        attributes: Some(w::IssuerAttributes {
            enabled: Some(issuer.enabled),
            created: Some(issuer.created.seconds()),
            updated: Some(issuer.updated.seconds()),
        }),
    }
}

pub(crate) fn issuer_item(origin: &str, issuer: &Issuer) -> w::CertificateIssuerItem {
    w::CertificateIssuerItem {
        id: Some(issuer_id(origin, issuer)),
        provider: Some(issuer.provider.clone()),
    }
}

fn attributes(vault: &Vault, props: &CertificateProperties) -> w::CertificateAttributes {
    let a = &props.attributes;
    w::CertificateAttributes {
        enabled: Some(a.enabled),
        nbf: a.not_before.map(UnixTime::seconds),
        exp: a.expires.map(UnixTime::seconds),
        created: Some(a.created.seconds()),
        updated: Some(a.updated.seconds()),
        recoverable_days: Some(vault.retention_days),
        recovery_level: Some(Cow::Borrowed(vault.recovery_level())),
    }
}

fn tags(props: &CertificateProperties) -> Option<BTreeMap<String, String>> {
    (!props.tags.is_empty()).then(|| props.tags.clone())
}

fn x5t(props: &CertificateProperties) -> Option<String> {
    props.x5t.as_deref().map(|x5t| URL_SAFE_NO_PAD.encode(x5t))
}

/// `{origin}/certificates/{name}/policy`.
fn policy_id(origin: &str, name: &str) -> String {
    format!("{origin}/certificates/{name}/policy")
}

pub(crate) fn policy(origin: &str, name: &str, policy: &CertificatePolicy) -> w::CertificatePolicy {
    let x509 = &policy.x509;
    let non_empty = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
    let has_sans = !(x509.dns_names.is_empty() && x509.emails.is_empty() && x509.upns.is_empty());
    w::CertificatePolicy {
        id: Some(policy_id(origin, name)),
        key_props: Some(w::KeyProperties {
            exportable: Some(policy.key.exportable),
            kty: Some(policy.key.key_type.as_str().to_owned()),
            key_size: policy.key.size.and_then(|size| i64::try_from(size).ok()),
            reuse_key: Some(policy.key.reuse_key),
            crv: policy.key.curve.map(|curve| curve.as_str().to_owned()),
        }),
        secret_props: Some(w::SecretProperties {
            content_type: Some(policy.content_type.as_str().to_owned()),
        }),
        x509_props: Some(w::X509CertificateProperties {
            subject: Some(x509.subject.clone()),
            ekus: non_empty(&x509.ekus),
            sans: has_sans.then(|| w::SubjectAlternativeNames {
                emails: non_empty(&x509.emails),
                dns_names: non_empty(&x509.dns_names),
                upns: non_empty(&x509.upns),
                uris: None,
                ip_addresses: None,
            }),
            key_usage: Some(
                x509.key_usage
                    .iter()
                    .map(|usage| usage.as_str().to_owned())
                    .collect(),
            ),
            validity_months: Some(i64::from(x509.validity_months)),
        }),
        lifetime_actions: Some(
            policy
                .lifetime_actions
                .iter()
                .map(|action| w::LifetimeAction {
                    trigger: Some(match action.trigger {
                        Trigger::LifetimePercentage(percentage) => w::Trigger {
                            lifetime_percentage: Some(i64::from(percentage)),
                            days_before_expiry: None,
                        },
                        Trigger::DaysBeforeExpiry(days) => w::Trigger {
                            lifetime_percentage: None,
                            days_before_expiry: Some(i64::from(days)),
                        },
                    }),
                    action: Some(w::Action {
                        action_type: Some(action.action.as_str().to_owned()),
                    }),
                })
                .collect(),
        ),
        issuer: Some(w::IssuerParameters {
            name: Some(policy.issuer.name.clone()),
            cty: policy.issuer.certificate_type.clone(),
            cert_transparency: policy.issuer.transparency,
        }),
        attributes: Some(w::CertificateAttributes {
            enabled: Some(policy.enabled),
            ..w::CertificateAttributes::default()
        }),
        platform_managed: None,
    }
}

/// The bundle of a certificate version: its id, the ids of its key and (once it has one)
/// secret, the certificate and thumbprint, and the name's policy.
pub(crate) fn bundle(
    origin: &str,
    vault: &Vault,
    certificate: &Certificate,
) -> w::CertificateBundle {
    let props = &certificate.properties;
    let name = props.name.as_str();
    let version = Some(props.version.as_str());
    w::CertificateBundle {
        id: Some(object_id(origin, "certificates", name, version)),
        kid: Some(object_id(origin, "keys", name, version)),
        sid: (!props.is_pending()).then(|| object_id(origin, "secrets", name, version)),
        x5t: x5t(props),
        policy: certificate.policy.as_ref().map(|p| policy(origin, name, p)),
        cer: props.cer.as_deref().map(|der| STANDARD.encode(der)),
        content_type: Some(props.content_type.as_str().to_owned()),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        ..w::CertificateBundle::default()
    }
}

fn recovery_id(origin: &str, props: &CertificateProperties) -> String {
    format!("{origin}/deletedcertificates/{}", props.name)
}

pub(crate) fn deleted_bundle(
    origin: &str,
    vault: &Vault,
    deleted: &DeletedCertificate,
) -> w::CertificateBundle {
    w::CertificateBundle {
        recovery_id: Some(recovery_id(origin, &deleted.certificate.properties)),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..bundle(origin, vault, &deleted.certificate)
    }
}

pub(crate) fn item(
    origin: &str,
    vault: &Vault,
    props: &CertificateProperties,
    with_version: bool,
) -> w::CertificateItem {
    let version = with_version.then_some(props.version.as_str());
    w::CertificateItem {
        id: Some(object_id(
            origin,
            "certificates",
            props.name.as_str(),
            version,
        )),
        attributes: Some(attributes(vault, props)),
        tags: tags(props),
        x5t: x5t(props),
        ..w::CertificateItem::default()
    }
}

pub(crate) fn deleted_item(
    origin: &str,
    vault: &Vault,
    deleted: &DeletedCertificate,
) -> w::CertificateItem {
    let props = &deleted.certificate.properties;
    w::CertificateItem {
        recovery_id: Some(recovery_id(origin, props)),
        deleted_date: Some(deleted.deleted_date.seconds()),
        scheduled_purge_date: Some(deleted.scheduled_purge_date.seconds()),
        ..item(origin, vault, props, false)
    }
}

/// `status` overrides the stored one (a create's first answer always says `inProgress`).
pub(crate) fn operation(
    origin: &str,
    operation: &CertificateOperation,
    status: Option<(OperationStatus, &str)>,
) -> w::CertificateOperation {
    let name = operation.name.as_str();
    let (status, details) = match status {
        Some((status, details)) => (status, Some(details.to_owned())),
        None => (operation.status, operation.status_details.clone()),
    };
    w::CertificateOperation {
        id: Some(format!("{origin}/certificates/{name}/pending")),
        issuer: Some(w::IssuerParameters {
            name: Some(operation.issuer.name.clone()),
            cty: operation.issuer.certificate_type.clone(),
            cert_transparency: operation.issuer.transparency,
        }),
        csr: operation.csr.as_deref().map(|csr| STANDARD.encode(csr)),
        cancellation_requested: Some(operation.cancellation_requested),
        status: Some(status.as_str().to_owned()),
        status_details: details,
        error: operation.error.as_ref().map(|error| w::ErrorBody {
            code: error.code.clone(),
            message: error.message.clone(),
            innererror: None,
        }),
        target: (status == OperationStatus::Completed)
            .then(|| format!("{origin}/certificates/{name}")),
        preserve_cert_order: None,
        request_id: Some(operation.request_id.clone()),
    }
}
