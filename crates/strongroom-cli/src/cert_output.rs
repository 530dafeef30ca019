//! The JSON `az keyvault certificate …` prints, made from the server's wire JSON.
//!
//! az prints the Python SDK's models through its transformers (azure-cli 2.91
//! `_transformers.py`): `transform_certificate_show` for a `KeyVaultCertificate`,
//! `transform_certificate_list` / `_list_deleted` for properties, `transform_certificate_create`
//! for a `CertificateOperation`, and the contact and issuer transformers. So: Unix times become
//! `isoformat()` strings, `x5t` becomes `x509Thumbprint` (standard base64) and
//! `x509ThumbprintHex` (upper-case hex), bytes (`cer`, `csr`) are standard base64, the policy's
//! snake_case wire members become the SDK's camelCase ones, and every member az lists is
//! present (null when absent).
//!
//! Where az prints nothing useful we print the value instead, keeping az's key: `contentType`
//! (az reads a `content_type` the SDK's `KeyVaultCertificate` lacks, so always null), an
//! operation's `error` and an issuer's `adminDetails` (SDK objects with only private members,
//! which az prints as `{}`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::az_time;
use crate::key_output::{decode_base64url, name_from_id};

/// `transform_certificate_show` of a `CertificateBundle` (import, show, set-attributes,
/// recover, restore, merge).
pub(crate) fn certificate(bundle: &Value) -> Value {
    let mut output = properties(bundle);
    let id = bundle["id"].as_str().unwrap_or_default();
    output.remove("subject");
    output.insert("cer".to_owned(), standard_base64(&bundle["cer"]));
    output.insert("contentType".to_owned(), bundle["contentType"].clone());
    output.insert("kid".to_owned(), bundle["kid"].clone());
    output.insert(
        "policy".to_owned(),
        policy(&bundle["policy"], &policy_id(id)),
    );
    output.insert("sid".to_owned(), bundle["sid"].clone());
    Value::Object(output)
}

/// `transform_certificate_show_deleted` of a `DeletedCertificateBundle` (delete, show-deleted).
pub(crate) fn deleted_certificate(bundle: &Value) -> Value {
    let mut output = certificate(bundle);
    add_deleted(&mut output, bundle);
    output
}

/// `transform_certificate_list` (`CertificateItem`s, with az's empty `subject`) or, for
/// `deleted`, `transform_certificate_list_deleted` (`DeletedCertificateItem`s).
pub(crate) fn certificate_items(items: &[Value], deleted: bool) -> Vec<Value> {
    items
        .iter()
        .map(|item| {
            let mut output = properties(item);
            if !deleted {
                return Value::Object(output);
            }
            output.remove("subject");
            let mut output = Value::Object(output);
            add_deleted(&mut output, item);
            output
        })
        .collect()
}

/// `transform_certificate_create` of a `CertificateOperation` (create, pending show|delete).
pub(crate) fn operation(wire: &Value) -> Value {
    let id = wire["id"].as_str().unwrap_or_default();
    json!({
        "cancellationRequested": wire["cancellation_requested"],
        "csr": standard_base64(&wire["csr"]),
        "error": operation_error(&wire["error"]),
        "id": wire["id"],
        "issuerParameters": issuer_parameters(&wire["issuer"]),
        "name": name_from_id(id),
        "requestId": wire["request_id"],
        "status": wire["status"],
        "statusDetails": wire["status_details"],
        "target": wire["target"],
    })
}

/// `transform_certificate_contact_list_result`: the contacts (in the order set) and az's id,
/// the vault URL plus `/certificates/contacts`.
pub(crate) fn contacts(wire_contacts: &[Value], vault_url: &str) -> Value {
    let list: Vec<Value> = wire_contacts
        .iter()
        .map(|contact| {
            json!({
                "emailAddress": contact["email"],
                "name": contact["name"],
                "phone": contact["phone"],
            })
        })
        .collect();
    json!({ "contactList": list, "id": format!("{vault_url}/certificates/contacts") })
}

/// `transform_certificate_issuer_create` of an `IssuerBundle` (issuer create, update, show,
/// delete). The password is write-only: the server never returns it.
pub(crate) fn issuer(wire: &Value) -> Value {
    let admins = issuer_admins(wire);
    json!({
        "attributes": {
            "created": iso(&wire["attributes"]["created"]),
            "enabled": wire["attributes"]["enabled"],
            "updated": iso(&wire["attributes"]["updated"]),
        },
        "credentials": {
            "accountId": wire["credentials"]["account_id"],
            "password": Value::Null,
        },
        "id": wire["id"],
        "organizationDetails": {
            "adminDetails": admins,
            "id": wire["org_details"]["id"],
            "zip": 0,
        },
        "provider": wire["provider"],
    })
}

/// `transform_certificate_issuer_admin_list` of an `IssuerBundle`: its administrators.
pub(crate) fn issuer_admins(wire: &Value) -> Vec<Value> {
    wire["org_details"]["admin_details"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|admin| {
            json!({
                "emailAddress": admin["email"],
                "firstName": admin["first_name"],
                "lastName": admin["last_name"],
                "phone": admin["phone"],
            })
        })
        .collect()
}

/// `transform_certificate_issuer_list` of `CertificateIssuerItem`s.
pub(crate) fn issuer_items(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|item| json!({ "id": item["id"], "provider": item["provider"] }))
        .collect()
}

/// Strongroom's certificate events, with their Unix times as `isoformat()` like every other
/// time the CLI prints.
pub(crate) fn events(wire_events: &[Value]) -> Vec<Value> {
    wire_events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            for field in ["time", "expires"] {
                if let Some(seconds) = event[field].as_i64() {
                    event[field] = Value::String(az_time::iso(seconds));
                }
            }
            event
        })
        .collect()
}

/// `transform_certificate_properties` of `CertificateProperties`. The SDK's properties have
/// no `subject`, so az prints `""`.
fn properties(wire: &Value) -> Map<String, Value> {
    let thumbprint = wire["x5t"].as_str().and_then(decode_base64url);
    let id = wire["id"].as_str().unwrap_or_default();
    let output = json!({
        "attributes": {
            "created": iso(&wire["attributes"]["created"]),
            "enabled": wire["attributes"]["enabled"],
            "expires": iso(&wire["attributes"]["exp"]),
            "notBefore": iso(&wire["attributes"]["nbf"]),
            "recoveryLevel": wire["attributes"]["recoveryLevel"],
            "updated": iso(&wire["attributes"]["updated"]),
        },
        "id": wire["id"],
        "name": name_from_id(id),
        "subject": "",
        "tags": wire["tags"],
        "x509Thumbprint": thumbprint.as_ref().map(|bytes| STANDARD.encode(bytes)),
        "x509ThumbprintHex": thumbprint.as_ref().map(|bytes| upper_hex(bytes)),
    });
    match output {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn add_deleted(output: &mut Value, wire: &Value) {
    output["deletedDate"] = iso(&wire["deletedDate"]);
    output["recoveryId"] = wire["recoveryId"].clone();
    output["scheduledPurgeDate"] = iso(&wire["scheduledPurgeDate"]);
}

/// `transform_certificate_policy`: the SDK's `CertificatePolicy`, whose attributes have only
/// `enabled`, `created` and `updated` (az asks for three more and gets null).
fn policy(wire: &Value, policy_id: &str) -> Value {
    if !wire.is_object() {
        return Value::Null;
    }
    let x509 = &wire["x509_props"];
    let sans = &x509["sans"];
    let actions: Vec<Value> = wire["lifetime_actions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|action| {
            json!({
                "action": { "actionType": action["action"]["action_type"] },
                "trigger": {
                    "daysBeforeExpiry": action["trigger"]["days_before_expiry"],
                    "lifetimePercentage": action["trigger"]["lifetime_percentage"],
                },
            })
        })
        .collect();
    json!({
        "attributes": {
            "created": iso(&wire["attributes"]["created"]),
            "enabled": wire["attributes"]["enabled"],
            "expires": Value::Null,
            "notBefore": Value::Null,
            "recoveryLevel": Value::Null,
            "updated": iso(&wire["attributes"]["updated"]),
        },
        "id": policy_id,
        "issuerParameters": issuer_parameters(&wire["issuer"]),
        "keyProperties": {
            "curve": wire["key_props"]["crv"],
            "exportable": wire["key_props"]["exportable"],
            "keySize": wire["key_props"]["key_size"],
            "keyType": wire["key_props"]["kty"],
            "reuseKey": wire["key_props"]["reuse_key"],
        },
        "lifetimeActions": actions,
        "secretProperties": { "contentType": wire["secret_props"]["contentType"] },
        "x509CertificateProperties": {
            "ekus": x509["ekus"],
            "keyUsage": x509["key_usage"],
            "subject": x509["subject"],
            "subjectAlternativeNames": {
                "dnsNames": sans["dns_names"],
                "emails": sans["emails"],
                "upns": sans["upns"],
            },
            "validityInMonths": x509["validity_months"],
        },
    })
}

fn issuer_parameters(wire: &Value) -> Value {
    json!({
        "certificateTransparency": wire["cert_transparency"],
        "certificateType": wire["cty"],
        "name": wire["name"],
    })
}

fn operation_error(wire: &Value) -> Value {
    if !wire.is_object() {
        return Value::Null;
    }
    json!({
        "code": wire["code"],
        "innerError": operation_error(&wire["innererror"]),
        "message": wire["message"],
    })
}

/// az: the certificate id without its last segment, plus `/policy`.
fn policy_id(certificate_id: &str) -> String {
    match certificate_id.rsplit_once('/') {
        Some((base, _)) => format!("{base}/policy"),
        None => "policy".to_owned(),
    }
}

/// A standard-base64 wire value (`cer`, `csr`) as az prints the SDK's bytes; base64url is
/// accepted too, anything else passes through.
fn standard_base64(wire: &Value) -> Value {
    let Some(text) = wire.as_str() else {
        return Value::Null;
    };
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    match STANDARD
        .decode(&compact)
        .ok()
        .or_else(|| decode_base64url(&compact))
    {
        Some(bytes) => Value::String(STANDARD.encode(bytes)),
        None => Value::String(text.to_owned()),
    }
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// A Unix-seconds wire value as `isoformat()`; null stays null.
fn iso(wire: &Value) -> Value {
    match wire.as_i64() {
        Some(seconds) => Value::String(az_time::iso(seconds)),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    /// `GetCertificate-example.json`'s response (`cer` shortened), with tags.
    fn bundle() -> Value {
        json!({
            "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
            "kid": "https://myvault.vault.azure.net/keys/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
            "sid": "https://myvault.vault.azure.net/secrets/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
            "x5t": "fLi3U52HunIVNXubkEnf8tP6Wbo",
            "cer": "MIICODCCAeagAwIBAgIQqHmpBAv+CY9IJFoUhlbziTAJBgUrDgMCHQUAMBYxFDASBgNVBAMTC1Jvb3QgQWdlbmN5",
            "contentType": "application/x-pkcs12",
            "attributes": {
                "enabled": true,
                "nbf": 1430344421,
                "exp": 2208988799_i64,
                "created": 1482188947,
                "updated": 1482188947,
                "recoveryLevel": "Recoverable+Purgeable"
            },
            "tags": {"env": "test"},
            "policy": {
                "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/policy",
                "key_props": {"exportable": true, "kty": "RSA", "key_size": 2048, "reuse_key": false},
                "secret_props": {"contentType": "application/x-pkcs12"},
                "x509_props": {
                    "subject": "CN=KeyVaultTest",
                    "ekus": [],
                    "key_usage": [],
                    "validity_months": 297
                },
                "lifetime_actions": [
                    {"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "EmailContacts"}}
                ],
                "issuer": {"name": "Unknown"},
                "attributes": {"enabled": true, "created": 1482188947, "updated": 1482188947}
            }
        })
    }

    #[test]
    fn a_certificate_as_az_prints_it() {
        let output = serde_json::to_string_pretty(&certificate(&bundle())).unwrap();
        expect![[r#"
            {
              "attributes": {
                "created": "2016-12-19T23:09:07+00:00",
                "enabled": true,
                "expires": "2039-12-31T23:59:59+00:00",
                "notBefore": "2015-04-29T21:53:41+00:00",
                "recoveryLevel": "Recoverable+Purgeable",
                "updated": "2016-12-19T23:09:07+00:00"
              },
              "cer": "MIICODCCAeagAwIBAgIQqHmpBAv+CY9IJFoUhlbziTAJBgUrDgMCHQUAMBYxFDASBgNVBAMTC1Jvb3QgQWdlbmN5",
              "contentType": "application/x-pkcs12",
              "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
              "kid": "https://myvault.vault.azure.net/keys/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
              "name": "selfSignedCert01",
              "policy": {
                "attributes": {
                  "created": "2016-12-19T23:09:07+00:00",
                  "enabled": true,
                  "expires": null,
                  "notBefore": null,
                  "recoveryLevel": null,
                  "updated": "2016-12-19T23:09:07+00:00"
                },
                "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/policy",
                "issuerParameters": {
                  "certificateTransparency": null,
                  "certificateType": null,
                  "name": "Unknown"
                },
                "keyProperties": {
                  "curve": null,
                  "exportable": true,
                  "keySize": 2048,
                  "keyType": "RSA",
                  "reuseKey": false
                },
                "lifetimeActions": [
                  {
                    "action": {
                      "actionType": "EmailContacts"
                    },
                    "trigger": {
                      "daysBeforeExpiry": null,
                      "lifetimePercentage": 80
                    }
                  }
                ],
                "secretProperties": {
                  "contentType": "application/x-pkcs12"
                },
                "x509CertificateProperties": {
                  "ekus": [],
                  "keyUsage": [],
                  "subject": "CN=KeyVaultTest",
                  "subjectAlternativeNames": {
                    "dnsNames": null,
                    "emails": null,
                    "upns": null
                  },
                  "validityInMonths": 297
                }
              },
              "sid": "https://myvault.vault.azure.net/secrets/selfSignedCert01/f60f2a4f8ae442cfb41ca2090bd4b769",
              "tags": {
                "env": "test"
              },
              "x509Thumbprint": "fLi3U52HunIVNXubkEnf8tP6Wbo=",
              "x509ThumbprintHex": "7CB8B7539D87BA7215357B9B9049DFF2D3FA59BA"
            }"#]]
        .assert_eq(&output);
    }

    #[test]
    fn deleted_certificates_and_lists() {
        let mut deleted = bundle();
        deleted["recoveryId"] =
            json!("https://myvault.vault.azure.net/deletedcertificates/selfSignedCert01");
        deleted["deletedDate"] = json!(1493938433);
        deleted["scheduledPurgeDate"] = json!(1501714433);
        let output = deleted_certificate(&deleted);
        expect![[r#""2017-05-04T22:53:53+00:00" "https://myvault.vault.azure.net/deletedcertificates/selfSignedCert01" "2017-08-02T22:53:53+00:00" subject=false"#]]
        .assert_eq(&format!(
            "{} {} {} subject={}",
            output["deletedDate"],
            output["recoveryId"],
            output["scheduledPurgeDate"],
            output.get("subject").is_some()
        ));

        let items = [json!({
            "id": "https://myvault.vault.azure.net/certificates/listCert01",
            "x5t": "fLi3U52HunIVNXubkEnf8tP6Wbo",
            "attributes": {"enabled": true, "created": 1482188947, "updated": 1482188947}
        })];
        expect![[r#"[{"attributes":{"created":"2016-12-19T23:09:07+00:00","enabled":true,"expires":null,"notBefore":null,"recoveryLevel":null,"updated":"2016-12-19T23:09:07+00:00"},"id":"https://myvault.vault.azure.net/certificates/listCert01","name":"listCert01","subject":"","tags":null,"x509Thumbprint":"fLi3U52HunIVNXubkEnf8tP6Wbo=","x509ThumbprintHex":"7CB8B7539D87BA7215357B9B9049DFF2D3FA59BA"}]"#]]
        .assert_eq(&serde_json::to_string(&certificate_items(&items, false)).unwrap());
        let mut deleted_item = items[0].clone();
        deleted_item["recoveryId"] =
            json!("https://myvault.vault.azure.net/deletedcertificates/listCert01");
        expect![[r#"{"attributes":{"created":"2016-12-19T23:09:07+00:00","enabled":true,"expires":null,"notBefore":null,"recoveryLevel":null,"updated":"2016-12-19T23:09:07+00:00"},"deletedDate":null,"id":"https://myvault.vault.azure.net/certificates/listCert01","name":"listCert01","recoveryId":"https://myvault.vault.azure.net/deletedcertificates/listCert01","scheduledPurgeDate":null,"tags":null,"x509Thumbprint":"fLi3U52HunIVNXubkEnf8tP6Wbo=","x509ThumbprintHex":"7CB8B7539D87BA7215357B9B9049DFF2D3FA59BA"}"#]]
        .assert_eq(&certificate_items(&[deleted_item], true)[0].to_string());
    }

    #[test]
    fn a_pending_operation() {
        // `CreateCertificate-example.json`'s 202 (CSR shortened), with an error.
        let wire = json!({
            "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/pending",
            "issuer": {"name": "Unknown"},
            "csr": "MIICyzCCAbMCAQAwFzEVMBMGA1UEAxMMS2V5VmF1bHRUZXN0",
            "cancellation_requested": false,
            "status": "inProgress",
            "status_details": "Pending certificate created. Please Perform Merge to complete the request.",
            "request_id": "a76827a18b63421c917da80f28e9913d",
            "error": {"code": "Oops", "message": "it failed"}
        });
        expect![[r#"
            {
              "cancellationRequested": false,
              "csr": "MIICyzCCAbMCAQAwFzEVMBMGA1UEAxMMS2V5VmF1bHRUZXN0",
              "error": {
                "code": "Oops",
                "innerError": null,
                "message": "it failed"
              },
              "id": "https://myvault.vault.azure.net/certificates/selfSignedCert01/pending",
              "issuerParameters": {
                "certificateTransparency": null,
                "certificateType": null,
                "name": "Unknown"
              },
              "name": "selfSignedCert01",
              "requestId": "a76827a18b63421c917da80f28e9913d",
              "status": "inProgress",
              "statusDetails": "Pending certificate created. Please Perform Merge to complete the request.",
              "target": null
            }"#]]
        .assert_eq(&serde_json::to_string_pretty(&operation(&wire)).unwrap());
    }

    #[test]
    fn contacts_issuers_and_events() {
        let wire =
            [json!({"email": "admin@contoso.com", "name": "John Doe", "phone": "1111111111"})];
        expect![[r#"{"contactList":[{"emailAddress":"admin@contoso.com","name":"John Doe","phone":"1111111111"}],"id":"https://v.vault.localhost:4443/certificates/contacts"}"#]]
            .assert_eq(&contacts(&wire, "https://v.vault.localhost:4443").to_string());

        let issuer_wire = json!({
            "id": "https://myvault.vault.azure.net/certificates/issuers/issuer01",
            "provider": "test",
            "credentials": {"account_id": "keyvaultuser"},
            "org_details": {"admin_details": [{"first_name": "John", "last_name": "Doe", "email": "admin@microsoft.com", "phone": "4255555555"}]},
            "attributes": {"enabled": true, "created": 1493947557, "updated": 1493947557}
        });
        expect![[r#"{"attributes":{"created":"2017-05-05T01:25:57+00:00","enabled":true,"updated":"2017-05-05T01:25:57+00:00"},"credentials":{"accountId":"keyvaultuser","password":null},"id":"https://myvault.vault.azure.net/certificates/issuers/issuer01","organizationDetails":{"adminDetails":[{"emailAddress":"admin@microsoft.com","firstName":"John","lastName":"Doe","phone":"4255555555"}],"id":null,"zip":0},"provider":"test"}"#]]
            .assert_eq(&issuer(&issuer_wire).to_string());
        expect![[r#"{"attributes":{"created":null,"enabled":null,"updated":null},"credentials":{"accountId":null,"password":null},"id":null,"organizationDetails":{"adminDetails":[],"id":null,"zip":0},"provider":null}"#]]
            .assert_eq(&issuer(&json!({})).to_string());
        expect![[r#"[{"id":"https://myvault.vault.azure.net/certificates/issuers/issuer01","provider":"test"}]"#]]
            .assert_eq(&serde_json::to_string(&issuer_items(&[issuer_wire])).unwrap());

        let events_wire = [
            json!({"time": 1493947557, "action": "EmailContacts", "certificate": "c1", "version": "0a", "expires": 1501714433, "contacts": ["a@b"]}),
        ];
        expect![[r#"[{"action":"EmailContacts","certificate":"c1","contacts":["a@b"],"expires":"2017-08-02T22:53:53+00:00","time":"2017-05-05T01:25:57+00:00","version":"0a"}]"#]]
            .assert_eq(&serde_json::to_string(&events(&events_wire)).unwrap());
    }
}
