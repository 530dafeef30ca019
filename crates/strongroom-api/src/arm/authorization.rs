//! `Microsoft.Authorization`: role definitions (Azure's built-in roles and custom ones) and role
//! assignments, at any scope ARM knows: the subscription, a resource group, a vault, or one
//! object of a vault (`…/vaults/V/secrets/NAME`). Paths are
//! `{scope}/providers/Microsoft.Authorization/{roleDefinitions|roleAssignments}[/{guid}]`.
//!
//! Both are deployment documents; built-in roles are code (`strongroom_authz::builtin_roles`)
//! and cannot be changed or deleted. The decision itself is `strongroom_authz::rbac`.

use super::{arm_error, documents, segment_is};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_authz::builtin_roles::BUILTIN_ROLES;
use strongroom_authz::rbac::{RoleAssignment, RoleDefinition, scope_covers};
use strongroom_model::{Caller, ObjectId};

const ASSIGNMENTS: &str = "roleAssignments";
const DEFINITIONS: &str = "roleDefinitions";
const PROVIDER: &str = "Microsoft.Authorization";

/// A request under `{scope}/providers/Microsoft.Authorization/…`.
pub(super) struct AuthorizationPath<'a> {
    /// `/subscriptions/…` up to (not including) `/providers/Microsoft.Authorization`; `/` for
    /// the root.
    scope: String,
    kind: &'a str,
    name: Option<&'a str>,
}

/// Splits `segments` at their last `providers/Microsoft.Authorization/{kind}`; `None` when the
/// path is not an authorization path.
pub(super) fn parse<'a>(segments: &[&'a str]) -> Option<AuthorizationPath<'a>> {
    let at = segments
        .windows(2)
        .rposition(|pair| segment_is(pair[0], "providers") && segment_is(pair[1], PROVIDER))?;
    let (kind, name) = match &segments[at + 2..] {
        [kind] => (*kind, None),
        [kind, name] => (*kind, Some(*name)),
        _ => return None,
    };
    let scope = format!("/{}", segments[..at].join("/"));
    Some(AuthorizationPath { scope, kind, name })
}

/// What is stored of an assignment; its GUID is the document's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAssignment {
    principal_id: String,
    principal_type: String,
    /// The role definition's GUID.
    role: String,
    scope: String,
    created_on: String,
    created_by: String,
}

/// What is stored of a custom role; its GUID is the document's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRole {
    role_name: String,
    #[serde(default)]
    description: String,
    permissions: Vec<PermissionsBody>,
    assignable_scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionsBody {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
    #[serde(default)]
    data_actions: Vec<String>,
    #[serde(default)]
    not_data_actions: Vec<String>,
}

pub(super) async fn route(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    path: &AuthorizationPath<'_>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let kind = path.kind;
    match (kind, path.name, method) {
        (k, None, &Method::GET) if k.eq_ignore_ascii_case(ASSIGNMENTS) => {
            list_assignments(state, &path.scope, query).await
        }
        (k, Some(name), &Method::PUT) if k.eq_ignore_ascii_case(ASSIGNMENTS) => {
            put_assignment(state, caller, &path.scope, name, body).await
        }
        (k, Some(name), &Method::GET) if k.eq_ignore_ascii_case(ASSIGNMENTS) => {
            let (name, stored) = find_assignment_at(state, &path.scope, name)
                .await?
                .ok_or_else(|| assignment_not_found(name))?;
            Ok(json_response(
                StatusCode::OK,
                &assignment_json(state, &name, &stored),
            ))
        }
        (k, Some(name), &Method::DELETE) if k.eq_ignore_ascii_case(ASSIGNMENTS) => {
            delete_assignment(state, &path.scope, name).await
        }
        (k, None, &Method::GET) if k.eq_ignore_ascii_case(DEFINITIONS) => {
            list_definitions(state, &path.scope, query).await
        }
        (k, Some(name), &Method::GET) if k.eq_ignore_ascii_case(DEFINITIONS) => {
            let role = find_role(state, name)
                .await?
                .ok_or_else(|| role_not_found(name))?;
            Ok(json_response(StatusCode::OK, &role_json(state, &role)))
        }
        (k, Some(name), &Method::PUT) if k.eq_ignore_ascii_case(DEFINITIONS) => {
            put_definition(state, name, body).await
        }
        (k, Some(name), &Method::DELETE) if k.eq_ignore_ascii_case(DEFINITIONS) => {
            delete_definition(state, name).await
        }
        (k, _, _) if k.eq_ignore_ascii_case(ASSIGNMENTS) || k.eq_ignore_ascii_case(DEFINITIONS) => {
            Err(ApiError::MethodNotAllowed(method.to_string()))
        }
        _ => Err(super::not_served(&format!(
            "{}/providers/{PROVIDER}/{kind}",
            path.scope
        ))),
    }
}

fn assignment_not_found(name: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

fn role_not_found(name: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{name}' does not exist."),
    )
}

/// The GUID at the end of a role definition id (or the GUID itself).
fn role_guid(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn role_id(state: &AppState, guid: &str) -> String {
    format!(
        "/subscriptions/{}/providers/{PROVIDER}/roleDefinitions/{guid}",
        state.config.subscription_id
    )
}

/// Every role definition, for the data plane's decision.
pub(crate) async fn role_definitions(state: &AppState) -> Result<Vec<RoleDefinition>, ApiError> {
    all_roles(state).await
}

/// Every role assignment, for the data plane's decision.
pub(crate) async fn role_assignments(state: &AppState) -> Result<Vec<RoleAssignment>, ApiError> {
    Ok(list_stored_assignments(state)
        .await?
        .into_iter()
        .map(|(_, stored)| RoleAssignment {
            principal: ObjectId(stored.principal_id),
            role: stored.role,
            scope: stored.scope,
        })
        .collect())
}

/// Every role: the built-in ones, then the custom ones.
pub(crate) async fn all_roles(state: &AppState) -> Result<Vec<RoleDefinition>, ApiError> {
    let mut roles: Vec<RoleDefinition> = BUILTIN_ROLES.iter().map(|r| r.definition()).collect();
    for (name, stored) in documents::list::<StoredRole>(state, DEFINITIONS).await? {
        roles.push(custom_definition(&name, &stored));
    }
    Ok(roles)
}

fn custom_definition(name: &str, stored: &StoredRole) -> RoleDefinition {
    let mut role = RoleDefinition {
        id: format!("/providers/{PROVIDER}/roleDefinitions/{name}"),
        name: name.to_owned(),
        role_name: stored.role_name.clone(),
        description: stored.description.clone(),
        builtin: false,
        assignable_scopes: stored.assignable_scopes.clone(),
        actions: Vec::new(),
        not_actions: Vec::new(),
        data_actions: Vec::new(),
        not_data_actions: Vec::new(),
    };
    for permissions in &stored.permissions {
        role.actions.extend(permissions.actions.iter().cloned());
        role.not_actions
            .extend(permissions.not_actions.iter().cloned());
        role.data_actions
            .extend(permissions.data_actions.iter().cloned());
        role.not_data_actions
            .extend(permissions.not_data_actions.iter().cloned());
    }
    role
}

async fn find_role(state: &AppState, guid: &str) -> Result<Option<RoleDefinition>, ApiError> {
    let guid = role_guid(guid);
    if let Some(builtin) = BUILTIN_ROLES
        .iter()
        .find(|role| role.id.eq_ignore_ascii_case(guid))
    {
        return Ok(Some(builtin.definition()));
    }
    Ok(documents::get::<StoredRole>(state, DEFINITIONS, guid)
        .await?
        .map(|(name, stored)| custom_definition(&name, &stored)))
}

fn role_json(state: &AppState, role: &RoleDefinition) -> Value {
    json!({
        "id": role_id(state, &role.name),
        "name": role.name,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.role_name,
            "type": if role.builtin { "BuiltInRole" } else { "CustomRole" },
            "description": role.description,
            "assignableScopes": role.assignable_scopes,
            "permissions": [{
                "actions": role.actions,
                "notActions": role.not_actions,
                "dataActions": role.data_actions,
                "notDataActions": role.not_data_actions,
            }],
            "createdOn": null,
            "updatedOn": null,
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

/// What a role-definition list's `$filter` asks for: `roleName eq '…'`, `type eq '…'`.
#[derive(Debug, Default, PartialEq, Eq)]
struct DefinitionFilter {
    role_name: Option<String>,
    custom_only: bool,
}

/// What a role-assignment list's `$filter` asks for: `atScope()`, `principalId eq '…'`, and
/// `assignedTo('…')` (the same here: Strongroom has no groups to expand).
#[derive(Debug, Default, PartialEq, Eq)]
struct AssignmentFilter {
    at_scope: bool,
    principal: Option<String>,
}

/// Parses the clauses of `query`'s `$filter` with `clause`, which returns `false` for one it
/// does not know: such a filter is refused, never ignored (an ignored filter answers with every
/// assignment, and `az role assignment delete --assignee` acts on what it gets).
fn parse_filter<F: Default>(
    query: Option<&str>,
    mut clause: impl FnMut(&mut F, &str) -> bool,
) -> Result<F, ApiError> {
    let mut parsed = F::default();
    let Some(filter) = crate::odata::filter(query) else {
        return Ok(parsed);
    };
    for text in crate::odata::clauses(&filter) {
        if !clause(&mut parsed, text) {
            return Err(bad_request(
                "InvalidFilterInQueryString",
                format!("Invalid $filter '{filter}' specified in the query string."),
            ));
        }
    }
    Ok(parsed)
}

fn definition_filter(query: Option<&str>) -> Result<DefinitionFilter, ApiError> {
    parse_filter(
        query,
        |parsed: &mut DefinitionFilter, clause| match crate::odata::equality(clause) {
            Some((field, value)) if segment_is(field, "roleName") => {
                parsed.role_name = Some(value);
                true
            }
            Some((field, value)) if segment_is(field, "type") => {
                parsed.custom_only = value.eq_ignore_ascii_case("CustomRole");
                true
            }
            _ => false,
        },
    )
}

fn assignment_filter(query: Option<&str>) -> Result<AssignmentFilter, ApiError> {
    parse_filter(query, |parsed: &mut AssignmentFilter, clause| {
        if clause.eq_ignore_ascii_case("atScope()") {
            parsed.at_scope = true;
            return true;
        }
        if let Some(argument) = clause
            .strip_prefix("assignedTo(")
            .and_then(|rest| rest.strip_suffix(')'))
            && let Some(principal) = crate::odata::string_literal(argument)
        {
            parsed.principal = Some(principal);
            return true;
        }
        match crate::odata::equality(clause) {
            Some((field, value)) if segment_is(field, "principalId") => {
                parsed.principal = Some(value);
                true
            }
            _ => false,
        }
    })
}

async fn list_definitions(
    state: &AppState,
    scope: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let DefinitionFilter {
        role_name: wanted_name,
        custom_only,
    } = definition_filter(query)?;
    let value: Vec<Value> = all_roles(state)
        .await?
        .iter()
        .filter(|role| {
            wanted_name
                .as_deref()
                .is_none_or(|name| role.role_name.eq_ignore_ascii_case(name))
        })
        .filter(|role| !custom_only || !role.builtin)
        // A role is visible where it can be assigned: a scope at or below one of its
        // assignable scopes.
        .filter(|role| {
            role.assignable_scopes.iter().any(|assignable| {
                scope_covers(assignable, scope) || scope_covers(scope, assignable)
            })
        })
        .map(|role| role_json(state, role))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[derive(Debug, Deserialize)]
struct DefinitionBody {
    properties: DefinitionProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionProperties {
    role_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    permissions: Vec<PermissionsBody>,
    #[serde(default)]
    assignable_scopes: Vec<String>,
}

fn bad_request(code: &'static str, message: String) -> ApiError {
    arm_error(StatusCode::BAD_REQUEST, code, message)
}

/// `PUT …/roleDefinitions/{guid}`: a custom role, created or replaced; built-in roles and a
/// second role of the same name are refused. Both answer 201: `RoleDefinitions_CreateOrUpdate`
/// has no other success status in Azure's spec (2022-05-01-preview: "201 OK - Returns
/// information about the created or updated role definition"), and azure-mgmt-authorization
/// 5.0.0b2 (what `az role definition update` runs) raises on a 200.
async fn put_definition(state: &AppState, name: &str, body: &[u8]) -> Result<Response, ApiError> {
    let guid = parse_guid(name)?;
    if BUILTIN_ROLES
        .iter()
        .any(|r| r.id.eq_ignore_ascii_case(&guid))
    {
        return Err(arm_error(
            StatusCode::FORBIDDEN,
            "RoleDefinitionUpdateNotAllowed",
            "Built-in role definitions cannot be changed.".to_owned(),
        ));
    }
    let put: DefinitionBody = parse_json(body)?;
    let properties = put.properties;
    if properties.role_name.trim().is_empty() {
        return Err(bad_request(
            "InvalidRoleDefinition",
            "The role name must not be empty.".to_owned(),
        ));
    }
    if properties.assignable_scopes.is_empty() {
        return Err(bad_request(
            "InvalidRoleDefinition",
            "The role definition must have at least one assignable scope.".to_owned(),
        ));
    }
    let clash = all_roles(state).await?.into_iter().any(|role| {
        role.role_name.eq_ignore_ascii_case(&properties.role_name)
            && !role.name.eq_ignore_ascii_case(&guid)
    });
    if clash {
        return Err(arm_error(
            StatusCode::CONFLICT,
            "RoleDefinitionWithSameNameExists",
            format!(
                "A custom role with the same name '{}' already exists in this directory.",
                properties.role_name
            ),
        ));
    }
    let stored = StoredRole {
        role_name: properties.role_name,
        description: properties.description,
        permissions: properties.permissions,
        assignable_scopes: properties.assignable_scopes,
    };
    put_rbac_document(state, DEFINITIONS, &guid, &stored).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &role_json(state, &custom_definition(&guid, &stored)),
    ))
}

async fn delete_definition(state: &AppState, name: &str) -> Result<Response, ApiError> {
    let guid = role_guid(name);
    let Some(role) = find_role(state, guid).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if role.builtin {
        return Err(arm_error(
            StatusCode::FORBIDDEN,
            "RoleDefinitionUpdateNotAllowed",
            "Built-in role definitions cannot be deleted.".to_owned(),
        ));
    }
    let in_use = list_stored_assignments(state)
        .await?
        .iter()
        .any(|(_, assignment)| assignment.role.eq_ignore_ascii_case(&role.name));
    if in_use {
        return Err(arm_error(
            StatusCode::CONFLICT,
            "RoleDefinitionHasAssignments",
            "There are existing role assignments referencing this role.".to_owned(),
        ));
    }
    delete_rbac_document(state, DEFINITIONS, &role.name).await?;
    Ok(json_response(StatusCode::OK, &role_json(state, &role)))
}

fn parse_guid(text: &str) -> Result<String, ApiError> {
    let valid = text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if valid {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(bad_request(
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{text}' is not valid. The role assignment ID must be a GUID."
            ),
        ))
    }
}

async fn list_stored_assignments(
    state: &AppState,
) -> Result<Vec<(String, StoredAssignment)>, ApiError> {
    documents::list(state, ASSIGNMENTS).await
}

async fn find_assignment(
    state: &AppState,
    name: &str,
) -> Result<Option<(String, StoredAssignment)>, ApiError> {
    documents::get(state, ASSIGNMENTS, name).await
}

/// The assignment `name` if it is at `scope`: ARM addresses an assignment by its scope and
/// GUID, so the same GUID under another scope is not there.
async fn find_assignment_at(
    state: &AppState,
    scope: &str,
    name: &str,
) -> Result<Option<(String, StoredAssignment)>, ApiError> {
    let same = |a: &str, b: &str| {
        a.trim_end_matches('/')
            .eq_ignore_ascii_case(b.trim_end_matches('/'))
    };
    Ok(find_assignment(state, name)
        .await?
        .filter(|(_, stored)| same(&stored.scope, scope)))
}

/// Writes a role definition or assignment; decisions on this node see it at once (other
/// nodes within the RBAC cache's lifetime).
async fn put_rbac_document<T: Serialize>(
    state: &AppState,
    kind: &str,
    name: &str,
    value: &T,
) -> Result<(), ApiError> {
    documents::put(state, kind, name, value).await?;
    state.rbac.invalidate();
    Ok(())
}

/// As [`put_rbac_document`], removing it.
async fn delete_rbac_document(state: &AppState, kind: &str, name: &str) -> Result<(), ApiError> {
    documents::delete(state, kind, name).await?;
    state.rbac.invalidate();
    Ok(())
}

fn assignment_json(state: &AppState, name: &str, stored: &StoredAssignment) -> Value {
    json!({
        "id": format!("{}/providers/{PROVIDER}/roleAssignments/{name}", stored.scope.trim_end_matches('/')),
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": role_id(state, &stored.role),
            "principalId": stored.principal_id,
            "principalType": stored.principal_type,
            "scope": stored.scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": stored.created_on,
            "updatedOn": stored.created_on,
            "createdBy": stored.created_by,
            "updatedBy": stored.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": null,
        },
    })
}

#[derive(Debug, Deserialize)]
struct AssignmentBody {
    properties: AssignmentProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignmentProperties {
    role_definition_id: String,
    principal_id: String,
    principal_type: Option<String>,
}

/// `PUT {scope}/…/roleAssignments/{guid}`: 201; the same principal, role and scope under
/// another name is 409 `RoleAssignmentExists`, as in Azure.
async fn put_assignment(
    state: &AppState,
    caller: &Caller,
    scope: &str,
    name: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let guid = parse_guid(name)?;
    let put: AssignmentBody = parse_json(body)?;
    let properties = put.properties;
    let role = find_role(state, &properties.role_definition_id)
        .await?
        .ok_or_else(|| role_not_found(&properties.role_definition_id))?;
    let principal_id = properties.principal_id.to_ascii_lowercase();
    let principal = state
        .store
        .get_principal_by_object_id(&principal_id)
        .await
        .map_err(ApiError::internal)?;
    let Some(principal) = principal else {
        return Err(bad_request(
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {}.",
                principal_id.replace('-', ""),
                state.config.tenant_id
            ),
        ));
    };
    let scope = scope.trim_end_matches('/').to_owned();
    let existing = list_stored_assignments(state).await?;
    if let Some((same_name, _)) = existing.iter().find(|(_, a)| {
        a.principal_id.eq_ignore_ascii_case(&principal_id)
            && a.role.eq_ignore_ascii_case(&role.name)
            && a.scope.eq_ignore_ascii_case(&scope)
    }) && !same_name.eq_ignore_ascii_case(&guid)
    {
        return Err(arm_error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            format!(
                "The role assignment already exists. The ID of the existing role assignment is {same_name}."
            ),
        ));
    }
    // Managed identities are service principals to Graph and to role assignments alike;
    // users are users. A stated type must be the principal's, as Azure checks.
    let actual_type = if principal.kind == strongroom_identity::USER_KIND {
        "User"
    } else {
        "ServicePrincipal"
    };
    if let Some(stated) = &properties.principal_type
        && !stated.eq_ignore_ascii_case(actual_type)
    {
        return Err(bad_request(
            "UnmatchedPrincipalType",
            // Azure's message, its spacing and its "PrinciaplType" included.
            format!(
                "The PrincipalId '{}' has type '{actual_type}' , which is different from \
                 specified PrinciaplType '{stated}'.",
                principal_id.replace('-', "")
            ),
        ));
    }
    let principal_type = actual_type.to_owned();
    let stored = StoredAssignment {
        principal_id,
        principal_type,
        role: role.name.clone(),
        scope,
        created_on: state.vaults.now().rfc3339(),
        created_by: caller.object_id.0.clone(),
    };
    put_rbac_document(state, ASSIGNMENTS, &guid, &stored).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &assignment_json(state, &guid, &stored),
    ))
}

/// `DELETE …/roleAssignments/{guid}`: 200 with the assignment; 204 when there was none.
async fn delete_assignment(
    state: &AppState,
    scope: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let Some((name, stored)) = find_assignment_at(state, scope, name).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    delete_rbac_document(state, ASSIGNMENTS, &name).await?;
    Ok(json_response(
        StatusCode::OK,
        &assignment_json(state, &name, &stored),
    ))
}

/// `GET {scope}/…/roleAssignments`: the assignments at, above and below the scope;
/// `$filter=atScope()` keeps those at or above; `principalId eq '…'` one principal's.
async fn list_assignments(
    state: &AppState,
    scope: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let AssignmentFilter {
        at_scope,
        principal,
    } = assignment_filter(query)?;
    let value: Vec<Value> = list_stored_assignments(state)
        .await?
        .iter()
        .filter(|(_, a)| {
            scope_covers(&a.scope, scope) || (!at_scope && scope_covers(scope, &a.scope))
        })
        .filter(|(_, a)| {
            principal
                .as_deref()
                .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
        })
        .map(|(name, stored)| assignment_json(state, name, stored))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ApiConfig;
    use std::sync::Arc;
    use strongroom_crypto::MasterKey;
    use strongroom_identity::{IdentityConfig, TokenIssuer};
    use strongroom_model::{Clock, SystemClock};
    use strongroom_store::{SqliteStore, Store};
    use strongroom_vault::VaultCtx;

    /// The state `serve` builds, over a fresh SQLite store in `dir`.
    async fn state(dir: &std::path::Path) -> AppState {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("authz.db")).unwrap());
        let master = Arc::new(MasterKey::generate().unwrap());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let identity = IdentityConfig {
            domain: "localhost".to_owned(),
            public_origin: "https://localhost:8443".to_owned(),
        };
        let issuer = TokenIssuer::load_or_create(store.as_ref(), &master, identity)
            .await
            .unwrap();
        let verifier = issuer.verifier();
        let config = ApiConfig {
            domain: "localhost".to_owned(),
            port: 8443,
            tenant_id: "00000000-0000-0000-0000-0000000000aa".to_owned(),
            subscription_id: "00000000-0000-0000-0000-0000000000bb".to_owned(),
            dev_clock: None,
        };
        let vaults = VaultCtx::new(store.clone(), clock, master);
        AppState::new(config, vaults, issuer, verifier, store)
    }

    #[tokio::test]
    async fn a_role_definition_put_answers_201_when_it_creates_and_when_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path()).await;
        let guid = "6c1d0a0e-7b1c-4f3e-9a51-00000000000a";
        let body = |description: &str| {
            serde_json::to_vec(&json!({"properties": {
                "roleName": "Secrets without values",
                "description": description,
                "assignableScopes": ["/subscriptions/00000000-0000-0000-0000-0000000000bb"],
                "permissions": [{
                    "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                    "notDataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"],
                }],
            }}))
            .unwrap()
        };
        let created = put_definition(&state, guid, &body("first")).await.unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let replaced = put_definition(&state, guid, &body("second")).await.unwrap();
        assert_eq!(replaced.status(), StatusCode::CREATED);
        let role = find_role(&state, guid).await.unwrap().unwrap();
        assert_eq!(role.description, "second");
        assert_eq!(
            role.not_data_actions,
            ["Microsoft.KeyVault/vaults/secrets/getSecret/action"]
        );
    }

    fn query(filter: &str) -> String {
        format!(
            "api-version=2022-04-01&$filter={}",
            filter.replace(' ', "%20").replace('\'', "%27")
        )
    }

    #[test]
    fn the_filters_az_sends_are_understood_and_others_refused() {
        let q = query("atScope() and principalId eq 'ABC'");
        assert_eq!(
            assignment_filter(Some(&q)).ok(),
            Some(AssignmentFilter {
                at_scope: true,
                principal: Some("ABC".to_owned())
            })
        );
        let q = query("assignedTo('abc')");
        assert_eq!(
            assignment_filter(Some(&q)).ok().and_then(|f| f.principal),
            Some("abc".to_owned())
        );
        assert_eq!(
            assignment_filter(None).ok(),
            Some(AssignmentFilter::default())
        );
        let q = query("roleName eq 'Key Vault Reader' and type eq 'CustomRole'");
        assert_eq!(
            definition_filter(Some(&q)).ok(),
            Some(DefinitionFilter {
                role_name: Some("Key Vault Reader".to_owned()),
                custom_only: true
            })
        );
        for refused in [
            "principalId ne 'x'",
            "principalName eq 'x'",
            "principalId eq 'x' or principalId eq 'y'",
            "atScope",
        ] {
            assert!(
                assignment_filter(Some(&query(refused))).is_err(),
                "{refused}"
            );
        }
        assert!(definition_filter(Some(&query("roleName ne 'x'"))).is_err());
    }
}
