//! Azure Resource Manager, as far as Strongroom serves it. One router table ([`route`]) maps
//! a resource provider and type to the module that serves it, one resource type per module:
//! `Microsoft.KeyVault/vaults` (and their access policies),
//! `Microsoft.ManagedIdentity/userAssignedIdentities`, and the system-assigned identities of
//! `Microsoft.Compute/virtualMachines`; and the deployment's subscription and tenant. Errors are ARM-shaped: `{"error":{"code","message"}}`.

mod access_policies;
mod authorization;
mod deleted_vaults;
mod documents;
mod identities;
mod resource_groups;
mod resources;
mod subscriptions;
mod vaults;
mod virtual_machines;

use crate::error::ApiError;
use crate::host::AzureCloud;
use crate::management::Incoming;
use crate::state::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use strongroom_model::Caller;

pub(crate) use authorization::{role_assignments, role_definitions};
pub(crate) use vaults::vault_location;

/// The resource group of resources addressed without one.
pub(crate) const DEFAULT_RESOURCE_GROUP: &str = "strongroom";

/// One ARM request, its path taken apart.
pub(crate) struct ArmRequest<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) caller: &'a Caller,
    pub(crate) method: &'a Method,
    /// The whole path, for messages.
    pub(crate) path: &'a str,
    /// The resource group the path names, or [`DEFAULT_RESOURCE_GROUP`].
    pub(crate) resource_group: &'a str,
    /// Whether the path names a resource group (lists are then of that group only).
    pub(crate) group_named: bool,
    /// The cloud whose Resource Manager host the request came to (transparent mode): answers
    /// use its names (`https://{vault}.vault.azure.net/`). `None` on the deployment's host.
    pub(crate) cloud: Option<&'static AzureCloud>,
    /// What follows the resource type: the resource name, then any child segments.
    pub(crate) tail: &'a [&'a str],
    pub(crate) query: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

impl ArmRequest<'_> {
    /// The request's `api-version` (ARM requires one; Strongroom reads it where the answer
    /// depends on it).
    pub(crate) fn api_version(&self) -> Option<&str> {
        self.query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("api-version="))
    }

    /// 405 for a path this resource type serves with another method.
    pub(crate) fn method_not_allowed(&self) -> ApiError {
        ApiError::MethodNotAllowed(self.method.to_string())
    }

    pub(crate) fn not_served(&self) -> ApiError {
        not_served(self.path)
    }
}

/// Answers `segments` if they are an ARM resource path
/// (`/subscriptions/{sub}[/resourceGroups/{rg}]/providers/{provider}/{type}/…`); `None` when
/// they are not one.
pub(crate) async fn route(
    incoming: &Incoming<'_>,
    cloud: Option<&'static AzureCloud>,
) -> Option<Result<Response, ApiError>> {
    let Incoming {
        state,
        caller,
        method,
        path,
        segments,
        query,
        body,
    } = *incoming;
    // The deployment has one subscription; a path under any other names nothing.
    if let [subscriptions, subscription, _, ..] = segments
        && segment_is(subscriptions, "subscriptions")
        && !subscription.eq_ignore_ascii_case(&state.config.subscription_id)
    {
        return Some(Err(arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{subscription}' could not be found."),
        )));
    }
    if let Some(path) = authorization::parse(segments) {
        return Some(authorization::route(state, caller, method, &path, query, body).await);
    }
    if let Some(answer) = resource_groups::route(state, method, segments, body).await {
        return Some(answer);
    }
    if let [subscriptions, _sub, resources] = segments
        && segment_is(subscriptions, "subscriptions")
        && segment_is(resources, "resources")
    {
        return Some(match *method {
            Method::GET => resources::list(state, query).await,
            _ => Err(ApiError::MethodNotAllowed(method.to_string())),
        });
    }
    // Their GETs are `open_reads`, answered before the administrator check.
    if let ["subscriptions"] | ["subscriptions", _] | ["tenants"] = segments {
        return Some(Err(ApiError::MethodNotAllowed(method.to_string())));
    }
    let (resource_group, provider, kind, tail) = resource_path(segments)?;
    let request = ArmRequest {
        state,
        caller,
        method,
        path,
        resource_group: resource_group.unwrap_or(DEFAULT_RESOURCE_GROUP),
        group_named: resource_group.is_some(),
        cloud,
        tail,
        query,
        body,
    };
    let provider = provider.to_ascii_lowercase();
    let kind = kind.to_ascii_lowercase();
    Some(match (provider.as_str(), kind.as_str()) {
        ("microsoft.keyvault", "vaults") => vaults::route(&request).await,
        ("microsoft.keyvault", _) if !request.group_named => {
            deleted_vaults::route(&request, &kind).await
        }
        ("microsoft.managedidentity", "userassignedidentities") => {
            identities::route(&request).await
        }
        ("microsoft.compute", "virtualmachines") => virtual_machines::route(&request).await,
        _ => Err(request.not_served()),
    })
}

/// The reads Azure answers for any signed-in principal: `GET /subscriptions[/{id}]` (the
/// deployment's subscription for an administrator or a caller that holds a role assignment
/// anywhere in it, as Azure lists only subscriptions a principal has access to) and
/// `GET /tenants`. `None` for any other path (the caller then needs to be an administrator).
pub(crate) async fn open_reads(
    state: &AppState,
    caller: &Caller,
    segments: &[&str],
) -> Option<Result<Response, ApiError>> {
    // From the per-node snapshot: these reads are open to every principal, so they must not
    // cost a store read each.
    let has_access = || async {
        if caller.is_admin {
            return Ok(true);
        }
        state.rbac.snapshot(state).await.map(|snapshot| {
            snapshot
                .assignments
                .iter()
                .any(|a| a.principal.0.eq_ignore_ascii_case(&caller.object_id.0))
        })
    };
    Some(match segments {
        ["subscriptions"] => match has_access().await {
            Ok(true) => subscriptions::list(state),
            Ok(false) => subscriptions::empty_list(),
            Err(err) => Err(err),
        },
        ["subscriptions", id] => match has_access().await {
            Ok(visible) => subscriptions::show(state, id, visible),
            Err(err) => Err(err),
        },
        ["tenants"] => subscriptions::tenants(state),
        _ => return None,
    })
}

/// Splits `subscriptions/{sub}[/resourceGroups/{rg}]/providers/{provider}/{type}/…` into the
/// resource group (if named), the provider, the type and what follows the type.
fn resource_path<'a>(
    segments: &'a [&'a str],
) -> Option<(Option<&'a str>, &'a str, &'a str, &'a [&'a str])> {
    let (resource_group, rest) = match segments {
        [subscriptions, _sub, groups, rg, rest @ ..]
            if segment_is(subscriptions, "subscriptions")
                && segment_is(groups, "resourceGroups") =>
        {
            (Some(*rg), rest)
        }
        [subscriptions, _sub, rest @ ..] if segment_is(subscriptions, "subscriptions") => {
            (None, rest)
        }
        _ => return None,
    };
    match rest {
        [providers, provider, kind, tail @ ..] if segment_is(providers, "providers") => {
            Some((resource_group, provider, kind, tail))
        }
        _ => None,
    }
}

/// Whether a path segment is the fixed word `word`: ARM matches them in any case (`az group
/// create` sends `resourcegroups`).
pub(super) fn segment_is(segment: &str, word: &str) -> bool {
    segment.eq_ignore_ascii_case(word)
}

/// 404 for a path Strongroom does not serve.
/// ARM's answer to a DELETE: 200 when something was deleted, 204 when there was nothing.
pub(crate) fn deleted_status(deleted: bool) -> Response {
    if deleted {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response()
}

pub(crate) fn not_served(path: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The resource path '{path}' is not served by Strongroom."),
    )
}

pub(crate) fn arm_error(status: StatusCode, code: &'static str, message: String) -> ApiError {
    ApiError::Custom {
        status,
        code,
        message,
    }
}

/// ARM's 404 for a resource that does not exist: `Microsoft.X/type/{name}` under `{rg}`.
pub(crate) fn resource_not_found(resource_type: &str, rg: &str, name: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{resource_type}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_match_fixed_segments_in_any_case() {
        let path = [
            "subscriptions",
            "s",
            "resourcegroups",
            "rg1",
            "Providers",
            "Microsoft.KeyVault",
            "vaults",
            "v",
        ];
        assert_eq!(
            resource_path(&path),
            Some((Some("rg1"), "Microsoft.KeyVault", "vaults", &["v"][..]))
        );
        let path = [
            "subscriptions",
            "s",
            "providers",
            "Microsoft.KeyVault",
            "vaults",
        ];
        assert_eq!(
            resource_path(&path),
            Some((None, "Microsoft.KeyVault", "vaults", &[][..]))
        );
        assert_eq!(
            resource_path(&["subscriptions", "s", "resourcegroups", "rg1"]),
            None
        );
        assert_eq!(resource_path(&["v1.0", "servicePrincipals"]), None);
    }
}
