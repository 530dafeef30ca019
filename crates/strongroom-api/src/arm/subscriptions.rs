//! The deployment's one subscription and one tenant, as Resource Manager lists them
//! (`GET /subscriptions`, `GET /subscriptions/{id}`, `GET /tenants`): what `az login` and
//! `az account list` read after the token.

use super::arm_error;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// The name `az account show` prints for the deployment's subscription.
const SUBSCRIPTION_NAME: &str = "Strongroom";

fn subscription(state: &AppState) -> Value {
    let config = &state.config;
    json!({
        "id": format!("/subscriptions/{}", config.subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": config.subscription_id,
        "tenantId": config.tenant_id,
        "displayName": SUBSCRIPTION_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// `GET /subscriptions`.
pub(super) fn list(state: &AppState) -> Result<Response, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "value": [subscription(state)],
            "count": {"type": "Total", "value": 1},
        }),
    ))
}

/// `GET /subscriptions` for a principal that holds no role in the deployment's subscription.
pub(super) fn empty_list() -> Result<Response, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &json!({"value": [], "count": {"type": "Total", "value": 0}}),
    ))
}

/// `GET /subscriptions/{id}`: the deployment's, or ARM's 404.
pub(super) fn show(state: &AppState, id: &str, visible: bool) -> Result<Response, ApiError> {
    if !visible || !id.eq_ignore_ascii_case(&state.config.subscription_id) {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{id}' could not be found."),
        ));
    }
    Ok(json_response(StatusCode::OK, &subscription(state)))
}

/// `GET /tenants`.
pub(super) fn tenants(state: &AppState) -> Result<Response, ApiError> {
    let tenant_id = &state.config.tenant_id;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "value": [{
                "id": format!("/tenants/{tenant_id}"),
                "tenantId": tenant_id,
                "tenantCategory": "Home",
                "displayName": "Strongroom",
                "domains": [state.config.domain],
                "defaultDomain": state.config.domain,
                "tenantType": "AAD",
            }],
        }),
    ))
}
