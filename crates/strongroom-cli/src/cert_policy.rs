//! Certificate policies the way az reads and writes them, with no IO.
//!
//! Printing: `get-default-policy` is az's `_default_certificate_profile` (or with `--scaffold`
//! `_scaffold_certificate_profile`) as az prints the SDK model: camelCase keys, the members
//! az deletes left out, `additionalProperties` flattened away.
//!
//! Reading: `--policy` is JSON (inline, `@file` or a file path) whose keys az turns into
//! snake_case (`get_json_object`), so the camelCase that `get-default-policy` prints and the
//! SDK's snake_case both work. az then builds the SDK's `CertificatePolicy`
//! (`build_certificate_policy`) and the SDK writes the wire policy
//! (`_to_certificate_policy_bundle`); [`RequestPolicy::read`] does both steps, keeping their
//! Python truthiness: a part is sent only when one of its members is set and truthy.

use serde_json::{Map, Value, json};

use crate::error::CliError;
use crate::keys::{json_argument, snake_case_keys};

/// The SDK's `NO_SAN_OR_SUBJECT`, raised by `begin_create_certificate` before any request.
pub(crate) const NO_SAN_OR_SUBJECT: &str = "You need to set either subject or one of the subject alternative names parameters in the policy";

/// The six key usages of both az templates, in az's order.
const TEMPLATE_KEY_USAGE: [&str; 6] = [
    "cRLSign",
    "dataEncipherment",
    "digitalSignature",
    "keyEncipherment",
    "keyAgreement",
    "keyCertSign",
];

/// `az keyvault certificate get-default-policy`.
pub(crate) fn default_policy() -> Value {
    json!({
        "issuerParameters": { "certificateTransparency": null, "name": "Self" },
        "keyProperties": {
            "curve": null,
            "exportable": true,
            "keySize": 2048,
            "keyType": "RSA",
            "reuseKey": true
        },
        "lifetimeActions": [
            { "action": { "actionType": "AutoRenew" }, "trigger": { "daysBeforeExpiry": 90 } }
        ],
        "secretProperties": { "contentType": "application/x-pkcs12" },
        "x509CertificateProperties": {
            "keyUsage": TEMPLATE_KEY_USAGE,
            "subject": "CN=CLIGetDefaultPolicy",
            "validityInMonths": 12
        }
    })
}

/// `az keyvault certificate get-default-policy --scaffold`: every member, with hints.
pub(crate) fn scaffold_policy() -> Value {
    json!({
        "issuerParameters": {
            "certificateTransparency": null,
            "certificateType": "(optional) DigiCert, GlobalSign or WoSign",
            "name": "Unknown, Self, or {IssuerName}"
        },
        "keyProperties": {
            "curve": null,
            "exportable": true,
            "keySize": 2048,
            "keyType": "(optional) RSA or RSA-HSM (default RSA)",
            "reuseKey": true
        },
        "lifetimeActions": [
            {
                "action": { "actionType": "AutoRenew" },
                "trigger": { "daysBeforeExpiry": 90, "lifetimePercentage": null }
            }
        ],
        "secretProperties": { "contentType": "application/x-pkcs12 or application/x-pem-file" },
        "x509CertificateProperties": {
            "ekus": ["1.3.6.1.5.5.7.3.1"],
            "keyUsage": TEMPLATE_KEY_USAGE,
            "subject": "C=US, ST=WA, L=Redmond, O=Contoso, OU=Contoso HR, CN=www.contoso.com",
            "subjectAlternativeNames": {
                "dnsNames": ["hr.contoso.com", "m.contoso.com"],
                "emails": ["hello@contoso.com"],
                "upns": []
            },
            "validityInMonths": 24
        }
    })
}

/// A `--policy` argument as az holds it after `get_json_object`: a JSON object with
/// snake_case keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PolicyArgument(Map<String, Value>);

impl PolicyArgument {
    /// Reads `--policy` (inline JSON, `@file` or a file path); az refuses anything but an object.
    pub(crate) fn parse(raw: &str) -> Result<Self, CliError> {
        match snake_case_keys(json_argument("--policy", raw)?) {
            Value::Object(policy) => Ok(Self(policy)),
            _ => Err(CliError::Usage(
                "incorrect usage: policy should be a JSON encoded string or can use @{file} to \
                 load from a file(e.g.@my_policy.json)."
                    .to_owned(),
            )),
        }
    }

    /// `create --validity`: overrides `x509_certificate_properties.validity_in_months`.
    pub(crate) fn set_validity(&mut self, months: i64) {
        // az: `policy.get('x509_certificate_properties') or {}`, then sets the member.
        let x509 = self
            .0
            .entry("x509_certificate_properties")
            .or_insert_with(|| json!({}));
        if !x509.is_object() || !truthy(x509) {
            *x509 = json!({});
        }
        x509["validity_in_months"] = json!(months);
    }

    /// `import`: a policy without a content type gets the file's (az's
    /// `process_certificate_policy`: PEM when the file holds a PEM certificate, else PKCS#12).
    pub(crate) fn default_content_type(&mut self, file_is_pem: bool) {
        let secret = self
            .0
            .entry("secret_properties")
            .or_insert_with(|| json!({}));
        if !secret.is_object() {
            *secret = json!({});
        }
        if !truthy(&secret["content_type"]) {
            secret["content_type"] = json!(if file_is_pem {
                "application/x-pem-file"
            } else {
                "application/x-pkcs12"
            });
        }
    }
}

/// A policy ready to send: the wire `CertificatePolicy`, and the two facts az and the SDK
/// check before sending it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestPolicy {
    /// The wire JSON (`key_props`, `secret_props`, `x509_props`, `lifetime_actions`, `issuer`,
    /// `attributes`); only the parts that are set.
    pub(crate) wire: Value,
    /// `issuer_parameters.name` as given: `create` returns at once for `Unknown`.
    pub(crate) issuer_name: Option<String>,
    /// Whether the policy names a subject or a subject alternative name (`create` needs one).
    pub(crate) names_subject: bool,
}

impl RequestPolicy {
    /// `build_certificate_policy` then `_to_certificate_policy_bundle`.
    pub(crate) fn read(argument: &PolicyArgument) -> Self {
        let policy = &argument.0;
        let part = |name: &str| policy.get(name).and_then(Value::as_object);
        let member = |object: Option<&Map<String, Value>>, name: &str| {
            object
                .and_then(|object| object.get(name))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let mut wire = Map::new();

        let key = part("key_properties");
        let key_members = [
            ("exportable", member(key, "exportable")),
            ("kty", member(key, "key_type")),
            ("key_size", member(key, "key_size")),
            ("reuse_key", member(key, "reuse_key")),
            ("crv", member(key, "curve")),
        ];
        if key_members.iter().any(|(_, value)| truthy(value)) {
            wire.insert("key_props".to_owned(), present(key_members));
        }

        let content_type = member(part("secret_properties"), "content_type");
        if truthy(&content_type) {
            wire.insert(
                "secret_props".to_owned(),
                json!({ "contentType": content_type }),
            );
        }

        let x509 = part("x509_certificate_properties");
        let sans = x509
            .and_then(|x509| x509.get("subject_alternative_names"))
            .filter(|sans| truthy(sans))
            .and_then(Value::as_object);
        // The SDK's constructor keeps a SAN list only when it is non-empty (`or None`).
        let san = |name: &str| {
            Some(member(sans, name))
                .filter(truthy)
                .unwrap_or(Value::Null)
        };
        let (emails, upns, dns_names) = (san("emails"), san("upns"), san("dns_names"));
        let subject = member(x509, "subject");
        let ekus = member(x509, "ekus");
        let key_usage = member(x509, "key_usage");
        let validity = member(x509, "validity_in_months");
        let names_subject = [&emails, &upns, &dns_names, &subject]
            .into_iter()
            .any(truthy);
        if names_subject || [&ekus, &key_usage, &validity].into_iter().any(truthy) {
            let key_usage = if truthy(&key_usage) {
                key_usage
            } else {
                Value::Null
            };
            let mut x509_props = present([
                ("subject", subject),
                ("ekus", ekus),
                ("key_usage", key_usage),
                ("validity_months", validity),
            ]);
            x509_props["sans"] =
                present([("emails", emails), ("upns", upns), ("dns_names", dns_names)]);
            wire.insert("x509_props".to_owned(), x509_props);
        }

        if let Some(Value::Array(actions)) = policy.get("lifetime_actions")
            && !actions.is_empty()
        {
            let actions: Vec<Value> = actions.iter().map(lifetime_action).collect();
            wire.insert("lifetime_actions".to_owned(), Value::Array(actions));
        }

        let issuer = part("issuer_parameters");
        let issuer_name = member(issuer, "name");
        let issuer_members = [
            ("name", issuer_name.clone()),
            ("cty", member(issuer, "certificate_type")),
            (
                "cert_transparency",
                member(issuer, "certificate_transparency"),
            ),
        ];
        if issuer_members.iter().any(|(_, value)| truthy(value)) {
            wire.insert("issuer".to_owned(), present(issuer_members));
        }

        // az builds attributes only from a truthy `attributes`; the SDK sends them only when
        // `enabled` is set.
        let attributes = policy.get("attributes").filter(|a| truthy(a));
        let enabled = member(attributes.and_then(Value::as_object), "enabled");
        if !enabled.is_null() {
            wire.insert("attributes".to_owned(), json!({ "enabled": enabled }));
        }

        Self {
            wire: Value::Object(wire),
            issuer_name: issuer_name.as_str().map(str::to_owned),
            names_subject,
        }
    }

    /// az's check before polling: an `Unknown` issuer leaves the operation pending.
    pub(crate) fn issuer_is_unknown(&self) -> bool {
        self.issuer_name
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case("unknown"))
    }
}

/// One `lifetime_actions` item: az reads `action.action_type` and the trigger's two members;
/// the SDK always sends both objects.
fn lifetime_action(item: &Value) -> Value {
    let nested = |outer: &str, inner: &str| {
        item.get(outer)
            .filter(|value| truthy(value))
            .and_then(|value| value.get(inner))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "trigger": present([
            ("lifetime_percentage", nested("trigger", "lifetime_percentage")),
            ("days_before_expiry", nested("trigger", "days_before_expiry")),
        ]),
        "action": present([("action_type", nested("action", "action_type"))]),
    })
}

/// An object of the members that are not null (the SDK's serializer leaves `None` out).
fn present<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(raw: &str, expect: Expect) {
        let result = match PolicyArgument::parse(raw) {
            Ok(argument) => {
                let policy = RequestPolicy::read(&argument);
                format!(
                    "{} issuer={:?} unknown={} subject={}",
                    policy.wire,
                    policy.issuer_name,
                    policy.issuer_is_unknown(),
                    policy.names_subject
                )
            }
            Err(error) => error.line(),
        };
        expect.assert_eq(&result);
    }

    #[test]
    fn the_default_policy_round_trips_to_the_wire() {
        // What `get-default-policy > p.json` then `create --policy @p.json` sends.
        check(
            &default_policy().to_string(),
            expect![[
                r#"{"issuer":{"name":"Self"},"key_props":{"exportable":true,"key_size":2048,"kty":"RSA","reuse_key":true},"lifetime_actions":[{"action":{"action_type":"AutoRenew"},"trigger":{"days_before_expiry":90}}],"secret_props":{"contentType":"application/x-pkcs12"},"x509_props":{"key_usage":["cRLSign","dataEncipherment","digitalSignature","keyEncipherment","keyAgreement","keyCertSign"],"sans":{},"subject":"CN=CLIGetDefaultPolicy","validity_months":12}} issuer=Some("Self") unknown=false subject=true"#
            ]],
        );
    }

    #[test]
    fn policies_in_either_case_with_python_truthiness() {
        check(
            r#"{"issuer_parameters":{"name":"Unknown"},"x509_certificate_properties":{"subject_alternative_names":{"dns_names":["a.example"],"emails":[]}},"key_properties":{"exportable":false,"key_type":"EC","curve":"P-256"},"attributes":{"enabled":false}}"#,
            expect![[
                r#"{"attributes":{"enabled":false},"issuer":{"name":"Unknown"},"key_props":{"crv":"P-256","exportable":false,"kty":"EC"},"x509_props":{"sans":{"dns_names":["a.example"]}}} issuer=Some("Unknown") unknown=true subject=true"#
            ]],
        );
        check(
            r#"{"keyProperties":{"exportable":false,"reuseKey":false},"issuerParameters":{"certificateType":""},"x509CertificateProperties":{"ekus":[],"keyUsage":[]},"lifetimeActions":[],"secretProperties":{"contentType":""},"attributes":{}}"#,
            expect![[r#"{} issuer=None unknown=false subject=false"#]],
        );
        check(
            r#"{"lifetimeActions":[{"trigger":{"lifetimePercentage":80}},{"action":{"actionType":"EmailContacts"}}]}"#,
            expect![[
                r#"{"lifetime_actions":[{"action":{},"trigger":{"lifetime_percentage":80}},{"action":{"action_type":"EmailContacts"},"trigger":{}}]} issuer=None unknown=false subject=false"#
            ]],
        );
        check(
            "[1, 2]",
            expect![[
                r#"ERROR: incorrect usage: policy should be a JSON encoded string or can use @{file} to load from a file(e.g.@my_policy.json)."#
            ]],
        );
        check(
            "{not json",
            expect![[
                r#"ERROR: --policy is neither a file nor valid JSON: key must be a string at line 1 column 2"#
            ]],
        );
    }

    #[test]
    fn validity_and_content_type_defaults() {
        let mut argument = PolicyArgument::parse(&default_policy().to_string()).unwrap();
        argument.set_validity(3);
        argument.default_content_type(true);
        let wire = RequestPolicy::read(&argument).wire;
        expect![[r#"12 -> 3, application/x-pkcs12 kept"#]].assert_eq(&format!(
            "12 -> {}, {} kept",
            wire["x509_props"]["validity_months"],
            wire["secret_props"]["contentType"].as_str().unwrap()
        ));

        let mut argument = PolicyArgument::parse(r#"{"x509CertificateProperties":"x"}"#).unwrap();
        argument.set_validity(6);
        argument.default_content_type(true);
        expect![[r#"{"secret_props":{"contentType":"application/x-pem-file"},"x509_props":{"sans":{},"validity_months":6}}"#]]
            .assert_eq(&RequestPolicy::read(&argument).wire.to_string());
        let mut argument = PolicyArgument::parse("{}").unwrap();
        argument.default_content_type(false);
        expect![[r#"{"secret_props":{"contentType":"application/x-pkcs12"}}"#]]
            .assert_eq(&RequestPolicy::read(&argument).wire.to_string());
    }

    #[test]
    fn templates_as_az_prints_them() {
        // azure-cli 2.91 with azure-keyvault-certificates 4.7.0, printed with `-o json`.
        expect![[r#"
            {
              "issuerParameters": {
                "certificateTransparency": null,
                "name": "Self"
              },
              "keyProperties": {
                "curve": null,
                "exportable": true,
                "keySize": 2048,
                "keyType": "RSA",
                "reuseKey": true
              },
              "lifetimeActions": [
                {
                  "action": {
                    "actionType": "AutoRenew"
                  },
                  "trigger": {
                    "daysBeforeExpiry": 90
                  }
                }
              ],
              "secretProperties": {
                "contentType": "application/x-pkcs12"
              },
              "x509CertificateProperties": {
                "keyUsage": [
                  "cRLSign",
                  "dataEncipherment",
                  "digitalSignature",
                  "keyEncipherment",
                  "keyAgreement",
                  "keyCertSign"
                ],
                "subject": "CN=CLIGetDefaultPolicy",
                "validityInMonths": 12
              }
            }"#]]
        .assert_eq(&serde_json::to_string_pretty(&default_policy()).unwrap());
        let scaffold = scaffold_policy();
        expect![[r#"{"certificateTransparency":null,"certificateType":"(optional) DigiCert, GlobalSign or WoSign","name":"Unknown, Self, or {IssuerName}"} {"dnsNames":["hr.contoso.com","m.contoso.com"],"emails":["hello@contoso.com"],"upns":[]}"#]]
            .assert_eq(&format!(
                "{} {}",
                scaffold["issuerParameters"],
                scaffold["x509CertificateProperties"]["subjectAlternativeNames"]
            ));
    }
}
