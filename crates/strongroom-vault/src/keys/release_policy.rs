//! A key release policy in Azure's SKR grammar (https://aka.ms/policygrammarkeys), versions
//! "1.0.0" and "1.0.2": parsed (and so validated) when a policy is set, evaluated against an
//! attestation token's claims at release.
//!
//! ```text
//! policy    = { "version": "1.0.0" | "1.0.2", ("anyOf" | "allOf"): [authority, ...] }
//! authority = { "authority": URL, ("anyOf" | "allOf"): [condition, ...] }
//! condition = { "claim": NAME, "equals": string | bool | number }
//!           | { ("anyOf" | "allOf"): [condition, ...] }
//! ```
//!
//! A claim name is looked up as a top-level claim first, then as a dotted path into nested
//! objects (`x-ms-isolation-tee.x-ms-attestation-type`). `equals` compares JSON values; a
//! string also matches a boolean or number claim with that JSON text ("false" matches
//! `false`), because Microsoft's own policy tooling writes every value as a string. Only
//! `equals` exists: an unknown member anywhere is refused rather than ignored, so a policy
//! never means less than its author wrote.

use serde_json::{Map, Value};

/// The policy versions Azure documents.
const VERSIONS: [&str; 2] = ["1.0.0", "1.0.2"];

/// Why a policy document is not a valid release policy (a sentence fragment).
pub(crate) type PolicyError = String;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReleasePolicyDoc {
    pub(crate) combine: Combine,
    pub(crate) authorities: Vec<AuthorityRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    AnyOf,
    AllOf,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AuthorityRule {
    pub(crate) authority: String,
    pub(crate) condition: Condition,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    Claim { claim: String, equals: Value },
    Group(Combine, Vec<Condition>),
}

impl ReleasePolicyDoc {
    pub(crate) fn parse(data: &[u8]) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_slice(data)
            .map_err(|_| "the policy is not a JSON document".to_owned())?;
        let object = value
            .as_object()
            .ok_or_else(|| "the policy is not a JSON object".to_owned())?;
        match object.get("version").and_then(Value::as_str) {
            Some(version) if VERSIONS.contains(&version) => {}
            Some(version) => return Err(format!("version '{version}' is not supported")),
            None => return Err("the policy has no version".to_owned()),
        }
        let (combine, members) = group(object, "policy", &["version"])?;
        let authorities = members
            .iter()
            .map(authority_rule)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            combine,
            authorities,
        })
    }

    /// The authorities the policy names.
    pub(crate) fn authorities(&self) -> impl Iterator<Item = &str> {
        self.authorities.iter().map(|rule| rule.authority.as_str())
    }

    /// Whether `claims`, attested by `issuer`, satisfy the policy. A rule of another
    /// authority is not satisfied by this token.
    pub(crate) fn is_satisfied(&self, issuer: &str, claims: &Value) -> bool {
        let satisfied = |rule: &AuthorityRule| {
            same_authority(&rule.authority, issuer) && rule.condition.holds(claims)
        };
        match self.combine {
            Combine::AnyOf => self.authorities.iter().any(satisfied),
            Combine::AllOf => self.authorities.iter().all(satisfied),
        }
    }
}

impl Condition {
    fn holds(&self, claims: &Value) -> bool {
        match self {
            Self::Claim { claim, equals } => {
                lookup(claims, claim).is_some_and(|actual| json_equals(actual, equals))
            }
            Self::Group(Combine::AnyOf, conditions) => conditions.iter().any(|c| c.holds(claims)),
            Self::Group(Combine::AllOf, conditions) => conditions.iter().all(|c| c.holds(claims)),
        }
    }
}

/// Authority URLs compare exactly, except for a trailing slash.
pub(crate) fn same_authority(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// A claim by its full name, or by a dotted path into nested objects.
pub(crate) fn lookup<'a>(claims: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    name.split('.')
        .try_fold(claims, |value, segment| value.get(segment))
}

fn json_equals(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        },
        (Value::Bool(_) | Value::Number(_), Value::String(text)) => {
            let rendered = actual.to_string();
            rendered == *text
        }
        _ => actual == expected,
    }
}

/// The one `anyOf` or `allOf` of an object, whose other members must be in `allowed`.
fn group<'a>(
    object: &'a Map<String, Value>,
    what: &str,
    allowed: &[&str],
) -> Result<(Combine, &'a Vec<Value>), PolicyError> {
    if let Some(unknown) = object
        .keys()
        .find(|key| !allowed.contains(&key.as_str()) && !["anyOf", "allOf"].contains(&key.as_str()))
    {
        return Err(format!("'{unknown}' is not allowed in a {what}"));
    }
    let (combine, members) = match (object.get("anyOf"), object.get("allOf")) {
        (Some(members), None) => (Combine::AnyOf, members),
        (None, Some(members)) => (Combine::AllOf, members),
        _ => return Err(format!("the {what} needs exactly one of anyOf and allOf")),
    };
    match members.as_array() {
        Some(members) if !members.is_empty() => Ok((combine, members)),
        _ => Err(format!(
            "the {what}'s anyOf/allOf must be a non-empty array"
        )),
    }
}

fn authority_rule(value: &Value) -> Result<AuthorityRule, PolicyError> {
    let object = value
        .as_object()
        .ok_or_else(|| "an authority rule is not an object".to_owned())?;
    let authority = match object.get("authority").and_then(Value::as_str) {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => url.to_owned(),
        _ => return Err("an authority rule needs an authority URL".to_owned()),
    };
    let (combine, members) = group(object, "authority rule", &["authority"])?;
    Ok(AuthorityRule {
        authority,
        condition: Condition::Group(combine, conditions(members)?),
    })
}

fn conditions(members: &[Value]) -> Result<Vec<Condition>, PolicyError> {
    members.iter().map(condition).collect()
}

fn condition(value: &Value) -> Result<Condition, PolicyError> {
    let object = value
        .as_object()
        .ok_or_else(|| "a condition is not an object".to_owned())?;
    if !object.contains_key("claim") {
        let (combine, members) = group(object, "condition", &[])?;
        return Ok(Condition::Group(combine, conditions(members)?));
    }
    if let Some(unknown) = object
        .keys()
        .find(|key| !["claim", "equals"].contains(&key.as_str()))
    {
        return Err(format!("'{unknown}' is not allowed in a claim condition"));
    }
    let claim = match object.get("claim").and_then(Value::as_str) {
        Some(claim) if !claim.is_empty() => claim.to_owned(),
        _ => return Err("a condition's claim must be a non-empty string".to_owned()),
    };
    match object.get("equals") {
        Some(equals @ (Value::String(_) | Value::Bool(_) | Value::Number(_))) => {
            Ok(Condition::Claim {
                claim,
                equals: equals.clone(),
            })
        }
        _ => Err(format!(
            "the condition on '{claim}' needs equals: a string, boolean or number"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use serde_json::json;

    const MAA: &str = "https://sharedeus.eus.attest.azure.net";

    fn claims() -> Value {
        json!({
            "iss": MAA,
            "x-ms-attestation-type": "sevsnpvm",
            "x-ms-sevsnpvm-is-debuggable": false,
            "x-ms-sevsnpvm-guestsvn": 7,
            "x-ms-isolation-tee": {
                "x-ms-attestation-type": "sevsnpvm",
                "x-ms-compliance-status": "azure-compliant-cvm"
            },
            "x-ms-dotted.name": "literal"
        })
    }

    fn policy(rules: Value) -> Value {
        json!({"version": "1.0.0", "anyOf": [{"authority": MAA, "allOf": rules}]})
    }

    /// Parses `policy` and evaluates it on `claims()` from `MAA`.
    #[track_caller]
    fn check(policy: Value, expect: Expect) {
        let outcome = match ReleasePolicyDoc::parse(policy.to_string().as_bytes()) {
            Ok(doc) => format!("satisfied={}", doc.is_satisfied(MAA, &claims())),
            Err(err) => format!("invalid: {err}"),
        };
        expect.assert_eq(&outcome);
    }

    #[test]
    fn evaluation() {
        let eq = |claim: &str, equals: Value| json!({"claim": claim, "equals": equals});
        check(
            policy(json!([eq("x-ms-attestation-type", json!("sevsnpvm"))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-attestation-type", json!("sgx"))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-is-debuggable", json!(false))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-is-debuggable", json!("false"))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-is-debuggable", json!(true))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-guestsvn", json!(7.0))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-guestsvn", json!("7"))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-sevsnpvm-guestsvn", json!(8))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([eq("x-ms-attestation-type", json!(1))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([eq(
                "x-ms-isolation-tee.x-ms-compliance-status",
                json!("azure-compliant-cvm")
            )])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("x-ms-isolation-tee.x-ms-missing", json!("x"))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([eq("x-ms-dotted.name", json!("literal"))])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([eq("absent", json!("x"))])),
            expect!["satisfied=false"],
        );
        check(
            policy(json!([
                eq("x-ms-attestation-type", json!("sevsnpvm")),
                {"anyOf": [eq("x-ms-sevsnpvm-guestsvn", json!(1)), eq("x-ms-sevsnpvm-guestsvn", json!(7))]}
            ])),
            expect!["satisfied=true"],
        );
        check(
            policy(json!([
                eq("x-ms-attestation-type", json!("sevsnpvm")),
                {"allOf": [eq("x-ms-sevsnpvm-guestsvn", json!(7)), {"anyOf": [eq("absent", json!(1))]}]}
            ])),
            expect!["satisfied=false"],
        );
        // Another authority's rule is never satisfied by this token; anyOf finds the MAA rule.
        check(
            json!({"version": "1.0.2", "anyOf": [
                {"authority": "https://other.attest.azure.net", "allOf": [eq("x-ms-attestation-type", json!("sevsnpvm"))]},
                {"authority": format!("{MAA}/"), "allOf": [eq("x-ms-attestation-type", json!("sevsnpvm"))]}
            ]}),
            expect!["satisfied=true"],
        );
        check(
            json!({"version": "1.0.0", "allOf": [
                {"authority": "https://other.attest.azure.net", "allOf": [eq("x-ms-attestation-type", json!("sevsnpvm"))]},
                {"authority": MAA, "allOf": [eq("x-ms-attestation-type", json!("sevsnpvm"))]}
            ]}),
            expect!["satisfied=false"],
        );
    }

    #[test]
    fn validation() {
        let rule = json!({"claim": "x-ms-attestation-type", "equals": "sevsnpvm"});
        check(
            json!({"anyOf": [{"authority": MAA, "allOf": [rule]}]}),
            expect!["invalid: the policy has no version"],
        );
        check(
            json!({"version": "2.0", "anyOf": []}),
            expect!["invalid: version '2.0' is not supported"],
        );
        check(
            json!({"version": "1.0.0"}),
            expect!["invalid: the policy needs exactly one of anyOf and allOf"],
        );
        check(
            json!({"version": "1.0.0", "anyOf": []}),
            expect!["invalid: the policy's anyOf/allOf must be a non-empty array"],
        );
        check(
            json!({"version": "1.0.0", "anyOf": [{"authority": MAA, "allOf": [rule]}], "allOf": []}),
            expect!["invalid: the policy needs exactly one of anyOf and allOf"],
        );
        check(
            json!({"version": "1.0.0", "anyOf": [{"allOf": [rule]}]}),
            expect!["invalid: an authority rule needs an authority URL"],
        );
        check(
            json!({"version": "1.0.0", "anyOf": [{"authority": "maa", "allOf": [rule]}]}),
            expect!["invalid: an authority rule needs an authority URL"],
        );
        check(
            json!({"version": "1.0.0", "anyOf": [{"authority": MAA}]}),
            expect!["invalid: the authority rule needs exactly one of anyOf and allOf"],
        );
        check(
            policy(json!([{"claim": "x", "contains": "y"}])),
            expect!["invalid: 'contains' is not allowed in a claim condition"],
        );
        check(
            policy(json!([{"claim": "x"}])),
            expect!["invalid: the condition on 'x' needs equals: a string, boolean or number"],
        );
        check(
            policy(json!([{"claim": "x", "equals": {"a": 1}}])),
            expect!["invalid: the condition on 'x' needs equals: a string, boolean or number"],
        );
        check(
            policy(json!([{"claim": "", "equals": "y"}])),
            expect!["invalid: a condition's claim must be a non-empty string"],
        );
        check(
            policy(json!([{"anyOf": []}])),
            expect!["invalid: the condition's anyOf/allOf must be a non-empty array"],
        );
        check(
            policy(json!([{"equals": "y"}])),
            expect!["invalid: 'equals' is not allowed in a condition"],
        );
        check(
            policy(json!(["x"])),
            expect!["invalid: a condition is not an object"],
        );
        check(
            json!([1]),
            expect!["invalid: the policy is not a JSON object"],
        );
        expect!["invalid: the policy is not a JSON document"].assert_eq(
            &match ReleasePolicyDoc::parse(b"{") {
                Ok(_) => "parsed".to_owned(),
                Err(err) => format!("invalid: {err}"),
            },
        );
    }
}
