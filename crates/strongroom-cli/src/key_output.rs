//! The JSON `az keyvault key …` prints, made from the server's wire JSON.
//!
//! az does not print the wire: the Python SDK parses it into `KeyVaultKey`, `DeletedKey`,
//! `KeyProperties` or `KeyRotationPolicy`, and az's transformers (`_transformers.py`:
//! `transform_key_output`, `transform_key_list_output`) turn those into dicts. So here:
//! Unix times become `isoformat()` strings, binary JWK fields (base64url on the wire, bytes in
//! the SDK) become standard base64, every `JsonWebKey` field is present (null when absent), and
//! names are the SDK's camelCase (`keyOps`, `releasePolicy`, `recoverableDays`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::az_time;

/// The binary JWK fields, by wire name, with the SDK's (and so az's) output name.
const BINARY_JWK_FIELDS: [(&str, &str); 12] = [
    ("n", "n"),
    ("e", "e"),
    ("d", "d"),
    ("dp", "dp"),
    ("dq", "dq"),
    ("qi", "qi"),
    ("p", "p"),
    ("q", "q"),
    ("k", "k"),
    ("key_hsm", "t"),
    ("x", "x"),
    ("y", "y"),
];

/// `transform_key_output` of a `KeyBundle` (create, import, show, set-attributes, recover,
/// restore, rotate) or a `DeletedKeyBundle` (delete, show-deleted).
pub(crate) fn key_bundle(bundle: &Value) -> Value {
    let mut output = json!({
        "attributes": attributes(&bundle["attributes"]),
        "key": json_web_key(&bundle["key"]),
        "managed": bundle["managed"],
        "tags": bundle["tags"],
        "releasePolicy": release_policy(&bundle["release_policy"]),
    });
    if is_deleted(bundle) {
        add_deleted(&mut output, bundle);
    }
    output
}

/// `transform_key_list_output` of `KeyItem`s (`deleted`: `DeletedKeyItem`s).
pub(crate) fn key_items(items: &[Value], deleted: bool) -> Vec<Value> {
    items
        .iter()
        .map(|item| {
            let kid = item["kid"].as_str().unwrap_or_default();
            let mut output = json!({
                "attributes": attributes(&item["attributes"]),
                "kid": item["kid"],
                "name": name_from_id(kid),
                "managed": item["managed"],
                "tags": item["tags"],
                "releasePolicy": Value::Null,
            });
            if deleted {
                add_deleted(&mut output, item);
            }
            output
        })
        .collect()
}

/// The SDK's `KeyRotationPolicy` as az prints it.
pub(crate) fn rotation_policy(policy: &Value) -> Value {
    let actions: Vec<Value> = policy["lifetimeActions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|action| {
            json!({
                "action": action["action"]["type"],
                "timeAfterCreate": action["trigger"]["timeAfterCreate"],
                "timeBeforeExpiry": action["trigger"]["timeBeforeExpiry"],
            })
        })
        .collect();
    json!({
        "createdOn": iso(&policy["attributes"]["created"]),
        "expiresIn": policy["attributes"]["expiryTime"],
        "id": policy["id"],
        "lifetimeActions": actions,
        "updatedOn": iso(&policy["attributes"]["updated"]),
    })
}

fn is_deleted(bundle: &Value) -> bool {
    ["recoveryId", "deletedDate", "scheduledPurgeDate"]
        .iter()
        .any(|field| bundle.get(field).is_some())
}

fn add_deleted(output: &mut Value, wire: &Value) {
    output["deletedDate"] = iso(&wire["deletedDate"]);
    output["scheduledPurgeDate"] = iso(&wire["scheduledPurgeDate"]);
    output["recoveryId"] = wire["recoveryId"].clone();
}

/// `KeyProperties`' attributes as `transform_key_output` lists them.
fn attributes(wire: &Value) -> Value {
    json!({
        "created": iso(&wire["created"]),
        "enabled": wire["enabled"],
        "expires": iso(&wire["exp"]),
        "exportable": wire["exportable"],
        "hsmPlatform": wire["hsmPlatform"],
        "notBefore": iso(&wire["nbf"]),
        "recoverableDays": wire["recoverableDays"],
        "recoveryLevel": wire["recoveryLevel"],
        "updated": iso(&wire["updated"]),
    })
}

/// The SDK's `JsonWebKey`: all sixteen fields, binary ones in standard base64.
fn json_web_key(wire: &Value) -> Value {
    let mut key = Map::new();
    for (wire_name, name) in BINARY_JWK_FIELDS {
        key.insert(name.to_owned(), standard_base64(&wire[wire_name]));
    }
    key.insert("crv".to_owned(), wire["crv"].clone());
    key.insert("keyOps".to_owned(), wire["key_ops"].clone());
    key.insert("kid".to_owned(), wire["kid"].clone());
    key.insert("kty".to_owned(), wire["kty"].clone());
    Value::Object(key)
}

/// The SDK's `KeyReleasePolicy`: az prints `encodedPolicy`'s bytes as text (the policy JSON).
fn release_policy(wire: &Value) -> Value {
    if !wire.is_object() {
        return Value::Null;
    }
    let encoded = match wire["data"].as_str().map(decode_base64url) {
        Some(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(text) => Value::String(text),
            Err(error) => Value::String(STANDARD.encode(error.into_bytes())),
        },
        _ => Value::Null,
    };
    json!({
        "contentType": wire["contentType"],
        "encodedPolicy": encoded,
        "immutable": wire["immutable"],
    })
}

/// A base64url wire value as standard base64 (az base64-encodes the SDK's bytes); a value
/// that is not base64url passes through unchanged.
pub(crate) fn standard_base64(wire: &Value) -> Value {
    match wire.as_str().map(|text| (text, decode_base64url(text))) {
        Some((_, Some(bytes))) => Value::String(STANDARD.encode(bytes)),
        Some((text, None)) => Value::String(text.to_owned()),
        None => Value::Null,
    }
}

/// A base64url wire value as lower-case hex (az's `binascii.hexlify` of `iv`, `tag`, `aad`).
pub(crate) fn hex(wire: &Value) -> Value {
    match wire.as_str().and_then(decode_base64url) {
        Some(bytes) => Value::String(bytes.iter().map(|byte| format!("{byte:02x}")).collect()),
        None => Value::Null,
    }
}

/// Key Vault sends base64url without padding; accept padding too.
pub(crate) fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// A Unix-seconds wire value as `isoformat()`; null stays null.
fn iso(wire: &Value) -> Value {
    match wire.as_i64() {
        Some(seconds) => Value::String(az_time::iso(seconds)),
        None => Value::Null,
    }
}

/// `https://v.vault.azure.net/keys/NAME[/VERSION]` → `NAME` (az: `id.split('/')[4]`).
pub(crate) fn name_from_id(id: &str) -> Value {
    match id.split('/').nth(4) {
        Some(name) => Value::String(name.to_owned()),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    /// `CreateKey-example.json`'s response (modulus shortened), plus a release policy.
    fn bundle() -> Value {
        json!({
            "key": {
                "kid": "https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71",
                "kty": "RSA",
                "key_ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
                "n": "2HJAE5fU3Cw2Rt9hEuq-F6XjINKGa-zskfISVqopqUy60GOs2eyhxbWbJBeUXNor_gf-tXtNeuqeBgitLeVa640UDvnEjYTKWjCniTxZRaU7ew",
                "e": "AQAB"
            },
            "attributes": {
                "enabled": true,
                "created": 1493942451,
                "updated": 1493942451,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
                "exportable": true
            },
            "tags": {"purpose": "unit test"},
            "release_policy": {
                "contentType": "application/json; charset=utf-8",
                "data": "eyJ2ZXJzaW9uIjoiMS4wLjAifQ",
                "immutable": false
            }
        })
    }

    #[test]
    fn a_key_bundle_as_az_prints_it() {
        let output = serde_json::to_string_pretty(&key_bundle(&bundle())).unwrap();
        expect![[r#"
            {
              "attributes": {
                "created": "2017-05-05T00:00:51+00:00",
                "enabled": true,
                "expires": null,
                "exportable": true,
                "hsmPlatform": null,
                "notBefore": null,
                "recoverableDays": 90,
                "recoveryLevel": "Recoverable+Purgeable",
                "updated": "2017-05-05T00:00:51+00:00"
              },
              "key": {
                "crv": null,
                "d": null,
                "dp": null,
                "dq": null,
                "e": "AQAB",
                "k": null,
                "keyOps": [
                  "encrypt",
                  "decrypt",
                  "sign",
                  "verify",
                  "wrapKey",
                  "unwrapKey"
                ],
                "kid": "https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71",
                "kty": "RSA",
                "n": "2HJAE5fU3Cw2Rt9hEuq+F6XjINKGa+zskfISVqopqUy60GOs2eyhxbWbJBeUXNor/gf+tXtNeuqeBgitLeVa640UDvnEjYTKWjCniTxZRaU7ew==",
                "p": null,
                "q": null,
                "qi": null,
                "t": null,
                "x": null,
                "y": null
              },
              "managed": null,
              "releasePolicy": {
                "contentType": "application/json; charset=utf-8",
                "encodedPolicy": "{\"version\":\"1.0.0\"}",
                "immutable": false
              },
              "tags": {
                "purpose": "unit test"
              }
            }"#]]
        .assert_eq(&output);
    }

    #[test]
    fn deleted_keys_and_lists() {
        let mut deleted = bundle();
        deleted["recoveryId"] =
            json!("https://myvault.vault.azure.net/deletedkeys/CreateSoftKeyTest");
        deleted["deletedDate"] = json!(1493942452);
        deleted["scheduledPurgeDate"] = json!(1501718452);
        let output = key_bundle(&deleted);
        expect![[r#""2017-05-05T00:00:52+00:00" "2017-08-03T00:00:52+00:00" "https://myvault.vault.azure.net/deletedkeys/CreateSoftKeyTest""#]]
        .assert_eq(&format!(
            "{} {} {}",
            output["deletedDate"], output["scheduledPurgeDate"], output["recoveryId"]
        ));

        let items = [
            json!({"kid": "https://myvault.vault.azure.net/keys/sdktestkey", "attributes": {"enabled": true, "created": 1493937656}, "managed": true}),
        ];
        let listed = serde_json::to_string(&key_items(&items, true)).unwrap();
        expect![[r#"[{"attributes":{"created":"2017-05-04T22:40:56+00:00","enabled":true,"expires":null,"exportable":null,"hsmPlatform":null,"notBefore":null,"recoverableDays":null,"recoveryLevel":null,"updated":null},"deletedDate":null,"kid":"https://myvault.vault.azure.net/keys/sdktestkey","managed":true,"name":"sdktestkey","recoveryId":null,"releasePolicy":null,"scheduledPurgeDate":null,"tags":null}]"#]]
        .assert_eq(&listed);
    }

    #[test]
    fn rotation_policy_as_the_sdk_model() {
        let wire = json!({
            "id": "https://myvault.vault.azure.net/keys/key01/rotationpolicy",
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}
            ],
            "attributes": {"expiryTime": "P2Y", "created": 1482188947, "updated": 1482188948}
        });
        expect![[r#"{"createdOn":"2016-12-19T23:09:07+00:00","expiresIn":"P2Y","id":"https://myvault.vault.azure.net/keys/key01/rotationpolicy","lifetimeActions":[{"action":"Rotate","timeAfterCreate":"P90D","timeBeforeExpiry":null},{"action":"Notify","timeAfterCreate":null,"timeBeforeExpiry":"P30D"}],"updatedOn":"2016-12-19T23:09:08+00:00"}"#]]
        .assert_eq(&rotation_policy(&wire).to_string());
    }

    #[test]
    fn byte_fields() {
        let values = [
            standard_base64(&json!("_-8")),
            standard_base64(&json!("not base64!")),
            hex(&json!("AAEC_w")),
            hex(&Value::Null),
            name_from_id("https://v/keys/k1/abc"),
            name_from_id("https://v"),
        ];
        expect![[r#"["/+8=","not base64!","000102ff",null,"k1",null]"#]]
            .assert_eq(&serde_json::to_string(&values).unwrap());
    }
}
