//! Graph's `directoryObjects/getByIds`: the objects behind a list of ids, which is how `az role
//! assignment list` names each assignment's principal (`principalName`). Ids that name nothing
//! are left out, as Graph leaves them out. A user is a `#microsoft.graph.user` (never a
//! service principal or an application), which is how `az role assignment create
//! --assignee-object-id` learns that the principal type is `User`.

use super::applications::{application_json, is_application};
use super::service_principals::principal_json;
use super::users::user_json;
use crate::body::parse_json;
use crate::error::ApiError;
use crate::state::AppState;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use strongroom_identity::{USER_KIND, application_object_id};

/// Graph takes at most this many ids in one request.
const MAX_IDS: usize = 1000;

#[derive(Debug, Deserialize)]
struct GetByIdsBody {
    ids: Vec<String>,
    /// `servicePrincipal`, `application`, `user`, `group`, …; absent: every type.
    #[serde(default)]
    types: Option<Vec<String>>,
}

pub(super) async fn get_by_ids(state: &AppState, body: &[u8]) -> Result<Response, ApiError> {
    let request: GetByIdsBody = parse_json(body)?;
    if request.ids.len() > MAX_IDS {
        return Err(super::credentials::bad_request(format!(
            "Too many ids: at most {MAX_IDS} may be asked for at once."
        )));
    }
    let wants = |kind: &str| {
        request.types.as_ref().is_none_or(|types| {
            types.iter().any(|t| {
                t.trim_start_matches("#microsoft.graph.")
                    .eq_ignore_ascii_case(kind)
            })
        })
    };
    let ids: HashSet<String> = request
        .ids
        .iter()
        .map(|id| id.to_ascii_lowercase())
        .collect();
    let principals = state
        .store
        .list_principals()
        .await
        .map_err(ApiError::internal)?;
    let mut value = Vec::new();
    let mut asked_users = false;
    for principal in &principals {
        if principal.kind == USER_KIND {
            asked_users |= ids.contains(&principal.object_id);
            continue;
        }
        if wants("servicePrincipal") && ids.contains(&principal.object_id) {
            value.push(typed(principal_json(principal), "servicePrincipal"));
        }
        if wants("application")
            && is_application(principal)
            && ids.contains(&application_object_id(&principal.app_id))
        {
            value.push(typed(application_json(principal), "application"));
        }
    }
    // Users carry a profile document: read them only when one was asked for.
    if asked_users && wants("user") {
        let users = strongroom_identity::list_users(state.store.as_ref())
            .await
            .map_err(ApiError::internal)?;
        value.extend(
            users
                .iter()
                .filter(|user| ids.contains(user.object_id()))
                .map(|user| typed(user_json(user), "user")),
        );
    }
    Ok(super::collection("directoryObjects", value))
}

/// An object as a member of a `directoryObject` collection: its `@odata.type` says what it is.
fn typed(mut object: Value, kind: &str) -> Value {
    if let Value::Object(map) = &mut object {
        map.insert(
            "@odata.type".to_owned(),
            Value::String(format!("#microsoft.graph.{kind}")),
        );
    }
    object
}
