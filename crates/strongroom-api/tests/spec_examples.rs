//! Microsoft's secrets examples from the vendored OpenAPI spec, round-tripped: each example's
//! request routes to the `Operation` variant named by its operationId, and every request and
//! response body survives deserialising into our DTOs and serialising again.

use axum::http::Method;
use serde_json::Value;
use std::path::PathBuf;
use strongroom_api::Operation;
use strongroom_api::wire::{
    BackupBlob, SecretBundle, SecretListResult, SecretSetParameters, SecretUpdateParameters,
};

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/keyvault/2026-04-01")
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// operationId -> (method, path template) for every operation of secrets.json.
fn secret_operations() -> Vec<(String, Method, String)> {
    let spec = read_json(&spec_dir().join("secrets.json"));
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                out.push((id.to_owned(), method, path.clone()));
            }
        }
    }
    out
}

fn fill_path(template: &str, parameters: &Value) -> String {
    let mut path = template.to_owned();
    for (name, value) in parameters.as_object().unwrap() {
        if let Some(text) = value.as_str() {
            path = path.replace(&format!("{{{name}}}"), text);
        }
    }
    path
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(what: &str, body: &Value) {
    let parsed: T = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let again = serde_json::to_value(&parsed).unwrap();
    assert_eq!(&again, body, "{what} did not round-trip");
}

#[test]
fn every_secrets_example_routes_and_round_trips() {
    let operations = secret_operations();
    assert_eq!(operations.len(), 12, "secrets.json has 12 operations");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(spec_dir().join("examples")).unwrap() {
        let example = read_json(&entry.unwrap().path());
        let id = example["operationId"].as_str().unwrap().to_owned();
        let Some((_, method, template)) = operations.iter().find(|(op, _, _)| *op == id) else {
            continue; // keys, certificates, administration: later issues
        };
        let parameters = &example["parameters"];
        let path = fill_path(template, parameters);
        let operation = Operation::parse(method, &path)
            .unwrap_or_else(|e| panic!("{id}: {method} {path} did not route: {e}"));
        assert_eq!(operation.operation_id(), id, "{method} {path}");

        if let Some(body) = parameters.get("parameters") {
            match id.as_str() {
                "SetSecret" => round_trip::<SecretSetParameters>(&id, body),
                "UpdateSecret" => round_trip::<SecretUpdateParameters>(&id, body),
                "RestoreSecret" => round_trip::<BackupBlob>(&id, body),
                other => panic!("{other} has an unexpected request body"),
            }
        }
        for (status, response) in example["responses"].as_object().unwrap() {
            let Some(body) = response.get("body") else {
                assert_eq!(status, "204", "{id}: only 204 has no body");
                continue;
            };
            match id.as_str() {
                "GetSecrets" | "GetSecretVersions" | "GetDeletedSecrets" => {
                    round_trip::<SecretListResult>(&id, body);
                }
                "BackupSecret" => round_trip::<BackupBlob>(&id, body),
                _ => round_trip::<SecretBundle>(&id, body),
            }
        }
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    let mut expected: Vec<String> = operations.into_iter().map(|(id, _, _)| id).collect();
    expected.sort();
    assert_eq!(
        seen, expected,
        "every secrets operation has an example that routes"
    );
}

/// The permission table: every operation requires exactly the access-policy permission Azure's
/// REST reference names for it ("This operation requires the secrets/<perm> permission").
#[test]
fn permission_table() {
    let table = [
        ("PUT", "/secrets/s", "secrets set"),
        ("GET", "/secrets/s/", "secrets get"),
        (
            "GET",
            "/secrets/s/4387e9f3d6e14c459867679a90fd0f79",
            "secrets get",
        ),
        (
            "PATCH",
            "/secrets/s/4387e9f3d6e14c459867679a90fd0f79",
            "secrets set",
        ),
        ("GET", "/secrets", "secrets list"),
        ("GET", "/secrets/s/versions", "secrets list"),
        ("DELETE", "/secrets/s", "secrets delete"),
        ("GET", "/deletedsecrets", "secrets list"),
        ("GET", "/deletedsecrets/s", "secrets list"),
        ("DELETE", "/deletedsecrets/s", "secrets purge"),
        ("POST", "/deletedsecrets/s/recover", "secrets recover"),
        ("POST", "/secrets/s/backup", "secrets backup"),
        ("POST", "/secrets/restore", "secrets restore"),
    ];
    for (method, path, permission) in table {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let op = Operation::parse(&method, path).unwrap();
        assert_eq!(op.required().to_string(), permission, "{method} {path}");
    }
}
