//! `GET /subscriptions/{sub}/resources`: the generic resource list, which `az keyvault list`
//! and `az keyvault show` without `--resource-group` read to find a vault's group. Filters:
//! `resourceType eq '…'` and `name eq '…'`, joined by `and` (what the CLI sends).

use super::arm_error;
use super::vaults::placed_vaults;
use crate::error::{ApiError, json_response};
use crate::odata;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// What `$filter` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    resource_type: Option<String>,
    name: Option<String>,
}

fn parse_filter(filter: &str) -> Result<Filter, ApiError> {
    let unsupported = || {
        arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidFilterInQueryString",
            format!(
                "Invalid $filter '{filter}' specified in the query string: only \"resourceType eq '…'\" and \"name eq '…'\", joined by 'and', are supported."
            ),
        )
    };
    let mut parsed = Filter::default();
    for clause in odata::clauses(filter) {
        let (field, value) = odata::equality(clause).ok_or_else(unsupported)?;
        match field {
            f if f.eq_ignore_ascii_case("resourceType") => parsed.resource_type = Some(value),
            f if f.eq_ignore_ascii_case("name") => parsed.name = Some(value),
            _ => return Err(unsupported()),
        }
    }
    Ok(parsed)
}

pub(super) async fn list(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let filter = match odata::filter(query) {
        Some(filter) => parse_filter(&filter)?,
        None => Filter::default(),
    };
    let wants_vaults = filter
        .resource_type
        .as_deref()
        .is_none_or(|kind| kind.eq_ignore_ascii_case(VAULT_TYPE));
    let mut value: Vec<Value> = Vec::new();
    if wants_vaults {
        for (vault, placement) in placed_vaults(state, None).await? {
            if filter
                .name
                .as_deref()
                .is_some_and(|name| !name.eq_ignore_ascii_case(vault.name.as_str()))
            {
                continue;
            }
            value.push(json!({
                "id": format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/{VAULT_TYPE}/{}",
                    state.config.subscription_id, placement.resource_group, vault.name
                ),
                "name": vault.name.as_str(),
                "type": VAULT_TYPE,
                "location": placement.location,
                "tags": placement.tags,
            }));
        }
    }
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_as_the_cli_sends_them() {
        assert_eq!(
            parse_filter("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv1'").ok(),
            Some(Filter {
                resource_type: Some(VAULT_TYPE.to_owned()),
                name: Some("kv1".to_owned()),
            })
        );
        assert!(parse_filter("tagName eq 'x'").is_err());
        assert!(parse_filter("resourceType eq vaults").is_err());
    }
}
