//! `Microsoft.Resources/resourceGroups`: create or update (`PUT`), show, exists (`HEAD`), list,
//! and delete, which deletes the group's vaults as Azure does.
//!
//! On Azure's Resource Manager host (what `az` reaches) a vault can be created only in a group
//! that exists (`ResourceGroupNotFound` otherwise); Strongroom's own CLI, on the deployment's
//! host, creates the group it names on first use, so its commands need no `group create`.
//! The default group, `strongroom`, always exists.

use super::{DEFAULT_RESOURCE_GROUP, arm_error, documents, segment_is};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The store's kind for resource groups (deployment documents).
const KIND: &str = "resourceGroups";
/// Where a group without a location is (Strongroom has one place).
const DEFAULT_LOCATION: &str = "local";

/// What is stored of a group; its name is the document's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResourceGroup {
    pub(crate) location: String,
    #[serde(default)]
    pub(crate) tags: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct PutBody {
    location: Option<String>,
    #[serde(default)]
    tags: Option<Map<String, Value>>,
}

/// Answers `subscriptions/{sub}/resourcegroups[/{name}]`; `None` for any other path.
pub(super) async fn route(
    state: &AppState,
    method: &Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Result<Response, ApiError>> {
    let [subscriptions, _sub, groups, rest @ ..] = segments else {
        return None;
    };
    if !segment_is(subscriptions, "subscriptions") || !segment_is(groups, "resourceGroups") {
        return None;
    }
    Some(match rest {
        [] => match *method {
            Method::GET => list(state).await,
            _ => Err(ApiError::MethodNotAllowed(method.to_string())),
        },
        [name] => {
            match *method {
                Method::PUT => put(state, name, body).await,
                Method::GET => match find(state, name).await {
                    Ok(Some((name, group))) => Ok(json_response(
                        StatusCode::OK,
                        &resource(state, &name, &group),
                    )),
                    Ok(None) => Err(not_found(name)),
                    Err(err) => Err(err),
                },
                // `az group exists`: 204 or 404, no body.
                Method::HEAD => match find(state, name).await {
                    Ok(Some(_)) => Ok(StatusCode::NO_CONTENT.into_response()),
                    Ok(None) => Ok(StatusCode::NOT_FOUND.into_response()),
                    Err(err) => Err(err),
                },
                Method::DELETE => delete(state, name).await,
                _ => Err(ApiError::MethodNotAllowed(method.to_string())),
            }
        }
        _ => return None,
    })
}

/// ARM's 404 for a group that does not exist.
pub(crate) fn not_found(name: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// The group and its name as first written; the default group always exists.
pub(crate) async fn find(
    state: &AppState,
    name: &str,
) -> Result<Option<(String, ResourceGroup)>, ApiError> {
    if let Some(stored) = documents::get(state, KIND, name).await? {
        return Ok(Some(stored));
    }
    Ok(name
        .eq_ignore_ascii_case(DEFAULT_RESOURCE_GROUP)
        .then(default_group))
}

/// The default group as it is until someone stores it (with tags, say).
fn default_group() -> (String, ResourceGroup) {
    (
        DEFAULT_RESOURCE_GROUP.to_owned(),
        ResourceGroup {
            location: DEFAULT_LOCATION.to_owned(),
            tags: Map::new(),
        },
    )
}

/// The group named `name`, created (in the default location) when it does not exist: for
/// Strongroom's own CLI, whose commands name a group without creating it first.
pub(crate) async fn ensure(state: &AppState, name: &str) -> Result<String, ApiError> {
    if let Some((name, _)) = find(state, name).await? {
        return Ok(name);
    }
    validate_name(name)?;
    store(
        state,
        name,
        &ResourceGroup {
            location: DEFAULT_LOCATION.to_owned(),
            tags: Map::new(),
        },
    )
    .await?;
    Ok(name.to_owned())
}

fn resource(state: &AppState, name: &str, group: &ResourceGroup) -> Value {
    json!({
        "id": format!("/subscriptions/{}/resourceGroups/{name}", state.config.subscription_id),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": group.location,
        "tags": group.tags,
        "managedBy": null,
        "properties": {"provisioningState": "Succeeded"},
    })
}

/// Azure's rule: 1 to 90 letters, digits, `_`, `-`, `.`, `(` or `)`, not ending in `.`.
fn validate_name(name: &str) -> Result<(), ApiError> {
    let valid = (1..=90).contains(&name.chars().count())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if valid {
        return Ok(());
    }
    Err(arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidResourceGroup",
        format!(
            "The provided resource group name '{name}' has these invalid characters: the name can only be 1 to 90 characters long, contain letters, digits, underscores, hyphens, periods and parentheses, and not end in a period."
        ),
    ))
}

async fn store(state: &AppState, name: &str, group: &ResourceGroup) -> Result<(), ApiError> {
    documents::put(state, KIND, name, group).await
}

/// `PUT`: 201 when created, 200 when updated (location cannot change, as in Azure).
async fn put(state: &AppState, name: &str, body: &[u8]) -> Result<Response, ApiError> {
    validate_name(name)?;
    let put: PutBody = parse_json(body)?;
    let existing = find(state, name).await?;
    let location = put
        .location
        .map(|location| location.to_ascii_lowercase())
        .ok_or_else(|| {
            arm_error(
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.".to_owned(),
            )
        })?;
    let (name, status, tags) = match existing {
        Some((stored_name, group)) => {
            if group.location != location {
                return Err(arm_error(
                    StatusCode::CONFLICT,
                    "InvalidResourceGroupLocation",
                    format!(
                        "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                        group.location
                    ),
                ));
            }
            (stored_name, StatusCode::OK, put.tags.unwrap_or(group.tags))
        }
        None => (
            name.to_owned(),
            StatusCode::CREATED,
            put.tags.unwrap_or_default(),
        ),
    };
    let group = ResourceGroup { location, tags };
    store(state, &name, &group).await?;
    Ok(json_response(status, &resource(state, &name, &group)))
}

async fn list(state: &AppState) -> Result<Response, ApiError> {
    let mut stored: Vec<(String, ResourceGroup)> = documents::list(state, KIND).await?;
    if !stored
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(DEFAULT_RESOURCE_GROUP))
    {
        stored.insert(0, default_group());
    }
    let value: Vec<Value> = stored
        .iter()
        .map(|(name, group)| resource(state, name, group))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

/// `DELETE`: what the group holds goes first (its vaults, soft-deleted as Azure does; its
/// registered hosts and managed identities, deleted), then the group; 200, or 404 when there
/// is no such group.
async fn delete(state: &AppState, name: &str) -> Result<Response, ApiError> {
    let Some((name, _)) = find(state, name).await? else {
        return Err(not_found(name));
    };
    super::vaults::delete_in_group(state, &name).await?;
    super::virtual_machines::delete_in_group(state, &name).await?;
    super::identities::delete_in_group(state, &name).await?;
    documents::delete(state, KIND, &name).await?;
    Ok(StatusCode::OK.into_response())
}
