//! Routing of the keys paths (`/keys/...`, `/deletedkeys/...`) to `Operation` variants.
//! Crypto operations address `/keys/{name}/{version}/{op}`; clients send an empty version
//! (`/keys/{name}//sign`) for the current one, and `/keys/{name}/sign` is taken the same way.

use crate::error::ApiError;
use crate::operation::{
    DeletedRoutes, Operation, VersionRef, not_allowed, parse_deleted, parse_name, parse_version,
    unknown_path,
};
use axum::http::Method;
use strongroom_model::ObjectName;

/// `POST /keys//create`: AZURE-ERRORS.md 6.4 records 400 "Operation not specified" (69 bytes)
/// for an empty key name.
fn key_name(raw: &str) -> Result<ObjectName, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::BadParameter("Operation not specified".to_owned()));
    }
    parse_name(raw)
}

/// A crypto or attestation operation on a version, or `None` if `action` names none.
fn versioned_action(
    method: &Method,
    action: &str,
    name: ObjectName,
    version: Option<VersionRef>,
) -> Option<Result<Operation, ApiError>> {
    let op = match action.to_ascii_lowercase().as_str() {
        "encrypt" => Operation::Encrypt { name, version },
        "decrypt" => Operation::Decrypt { name, version },
        "sign" => Operation::Sign { name, version },
        "verify" => Operation::Verify { name, version },
        "wrapkey" => Operation::WrapKey { name, version },
        "unwrapkey" => Operation::UnwrapKey { name, version },
        "release" => Operation::Release { name, version },
        "securewrapkey" => Operation::SecureWrapKey { name, version },
        "secureunwrapkey" => Operation::SecureUnwrapKey { name, version },
        "attestation" => {
            return Some(match *method {
                Method::GET => Ok(Operation::GetKeyAttestation { name, version }),
                _ => Err(not_allowed(method)),
            });
        }
        _ => return None,
    };
    Some(match *method {
        Method::POST => Ok(op),
        _ => Err(not_allowed(method)),
    })
}

pub(crate) fn parse_keys(method: &Method, rest: &[&str]) -> Result<Operation, ApiError> {
    match rest {
        [] | [""] => match *method {
            Method::GET => Ok(Operation::GetKeys),
            _ => Err(not_allowed(method)),
        },
        [single] => {
            if single.eq_ignore_ascii_case("restore") && *method == Method::POST {
                return Ok(Operation::RestoreKey);
            }
            let name = key_name(single)?;
            match *method {
                Method::PUT => Ok(Operation::ImportKey { name }),
                Method::GET => Ok(Operation::GetKey {
                    name,
                    version: None,
                }),
                Method::PATCH => Ok(Operation::UpdateKey {
                    name,
                    version: None,
                }),
                Method::DELETE => Ok(Operation::DeleteKey { name }),
                _ => Err(not_allowed(method)),
            }
        }
        [first, second] => {
            let name = key_name(first)?;
            let action = second.to_ascii_lowercase();
            match (action.as_str(), method.clone()) {
                ("versions", Method::GET) => return Ok(Operation::GetKeyVersions { name }),
                ("backup", Method::POST) => return Ok(Operation::BackupKey { name }),
                ("create", Method::POST) => return Ok(Operation::CreateKey { name }),
                ("rotate", Method::POST) => return Ok(Operation::RotateKey { name }),
                ("rotationpolicy", Method::GET) => {
                    return Ok(Operation::GetKeyRotationPolicy { name });
                }
                ("rotationpolicy", Method::PUT) => {
                    return Ok(Operation::UpdateKeyRotationPolicy { name });
                }
                ("versions" | "backup" | "create" | "rotate" | "rotationpolicy", _) => {
                    return Err(not_allowed(method));
                }
                _ => {}
            }
            if *method == Method::POST
                && let Some(op) = versioned_action(method, second, name.clone(), None)
            {
                return op;
            }
            match (action.as_str(), method.clone()) {
                (_, Method::GET) => Ok(Operation::GetKey {
                    name,
                    version: parse_version(second),
                }),
                (_, Method::PATCH) => Ok(Operation::UpdateKey {
                    name,
                    version: parse_version(second),
                }),
                ("", Method::PUT) => Ok(Operation::ImportKey { name }),
                ("", Method::DELETE) => Ok(Operation::DeleteKey { name }),
                _ => Err(not_allowed(method)),
            }
        }
        [first, version, ""] => parse_keys(method, &[first, version]),
        [first, version, action] => {
            let name = key_name(first)?;
            versioned_action(method, action, name, parse_version(version))
                .unwrap_or_else(|| Err(unknown_path()))
        }
        _ => Err(unknown_path()),
    }
}

pub(crate) fn parse_deleted_keys(method: &Method, rest: &[&str]) -> Result<Operation, ApiError> {
    parse_deleted(
        method,
        rest,
        &DeletedRoutes {
            list: Operation::GetDeletedKeys,
            get: |name| Operation::GetDeletedKey { name },
            purge: |name| Operation::PurgeDeletedKey { name },
            recover: |name| Operation::RecoverDeletedKey { name },
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::operation::Operation;
    use axum::http::Method;
    use expect_test::{Expect, expect};

    #[track_caller]
    fn check(method: &str, path: &str, expect: Expect) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let got = match Operation::parse(&method, path) {
            Ok(op) => format!("{op:?}"),
            Err(err) => format!("{} {err}", err.status().as_u16()),
        };
        expect.assert_eq(&got);
    }

    const V: &str = "4387e9f3d6e14c459867679a90fd0f79";

    #[test]
    fn routes() {
        check("GET", "/keys", expect!["GetKeys"]);
        check("POST", "/keys", expect!["405 method POST not allowed"]);
        check(
            "POST",
            "/keys/k1/create",
            expect![[r#"CreateKey { name: "k1" }"#]],
        );
        check(
            "GET",
            "/keys/k1/create",
            expect!["405 method GET not allowed"],
        );
        check(
            "POST",
            "/keys//create",
            expect!["400 bad parameter: Operation not specified"],
        );
        check("PUT", "/keys/k1", expect![[r#"ImportKey { name: "k1" }"#]]);
        check(
            "GET",
            "/keys/k1",
            expect![[r#"GetKey { name: "k1", version: None }"#]],
        );
        check(
            "GET",
            "/keys/k1/",
            expect![[r#"GetKey { name: "k1", version: None }"#]],
        );
        check(
            "GET",
            &format!("/keys/k1/{V}"),
            expect![[
                r#"GetKey { name: "k1", version: Some(Valid("4387e9f3d6e14c459867679a90fd0f79")) }"#
            ]],
        );
        check(
            "PATCH",
            &format!("/keys/k1/{V}"),
            expect![[
                r#"UpdateKey { name: "k1", version: Some(Valid("4387e9f3d6e14c459867679a90fd0f79")) }"#
            ]],
        );
        check(
            "DELETE",
            "/keys/k1",
            expect![[r#"DeleteKey { name: "k1" }"#]],
        );
        check(
            "GET",
            "/keys/k1/versions",
            expect![[r#"GetKeyVersions { name: "k1" }"#]],
        );
        check(
            "POST",
            "/keys/k1/backup",
            expect![[r#"BackupKey { name: "k1" }"#]],
        );
        check("POST", "/keys/restore", expect!["RestoreKey"]);
        check(
            "POST",
            "/keys/k1/rotate",
            expect![[r#"RotateKey { name: "k1" }"#]],
        );
        check(
            "GET",
            "/keys/k1/rotationpolicy",
            expect![[r#"GetKeyRotationPolicy { name: "k1" }"#]],
        );
        check(
            "PUT",
            "/keys/k1/rotationpolicy",
            expect![[r#"UpdateKeyRotationPolicy { name: "k1" }"#]],
        );
        check(
            "POST",
            &format!("/keys/k1/{V}/sign"),
            expect![[
                r#"Sign { name: "k1", version: Some(Valid("4387e9f3d6e14c459867679a90fd0f79")) }"#
            ]],
        );
        check(
            "POST",
            "/keys/k1//sign",
            expect![[r#"Sign { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1/sign",
            expect![[r#"Sign { name: "k1", version: None }"#]],
        );
        check(
            "GET",
            "/keys/k1//sign",
            expect!["405 method GET not allowed"],
        );
        check(
            "POST",
            "/keys/k1//unwrapkey",
            expect![[r#"UnwrapKey { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//wrapKey",
            expect![[r#"WrapKey { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//encrypt",
            expect![[r#"Encrypt { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//decrypt",
            expect![[r#"Decrypt { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//verify",
            expect![[r#"Verify { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//release",
            expect![[r#"Release { name: "k1", version: None }"#]],
        );
        check(
            "POST",
            "/keys/k1//securewrapkey",
            expect![[r#"SecureWrapKey { name: "k1", version: None }"#]],
        );
        check(
            "GET",
            &format!("/keys/k1/{V}/attestation"),
            expect![[
                r#"GetKeyAttestation { name: "k1", version: Some(Valid("4387e9f3d6e14c459867679a90fd0f79")) }"#
            ]],
        );
        check("POST", "/keys/k1//fly", expect!["404 not found"]);
        check("GET", "/deletedkeys", expect!["GetDeletedKeys"]);
        check(
            "GET",
            "/deletedkeys/k1",
            expect![[r#"GetDeletedKey { name: "k1" }"#]],
        );
        check(
            "DELETE",
            "/deletedkeys/k1",
            expect![[r#"PurgeDeletedKey { name: "k1" }"#]],
        );
        check(
            "POST",
            "/deletedkeys/k1/recover",
            expect![[r#"RecoverDeletedKey { name: "k1" }"#]],
        );
        check("POST", "/rng", expect!["GetRandomBytes"]);
        check("GET", "/rng", expect!["405 method GET not allowed"]);
        check(
            "GET",
            "/keys/a_b",
            expect!["400 bad parameter: The request URI contains an invalid name: a_b"],
        );
    }
}
