//! Graph's `directoryObjects/getByIds`: the objects behind a list of ids, which is how `az role
//! assignment list` names each assignment's principal (`principalName`). Ids that name nothing
//! are left out, as Graph leaves them out.

use super::applications::application_json;
use super::service_principals::principal_json;
use crate::body::parse_json;
use crate::error::ApiError;
use crate::state::AppState;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use strongroom_identity::{MANAGED_IDENTITY_KIND, application_object_id};

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
    for principal in &principals {
        if wants("servicePrincipal") && ids.contains(&principal.object_id) {
            value.push(typed(principal_json(principal), "servicePrincipal"));
        }
        if wants("application")
            && principal.kind != MANAGED_IDENTITY_KIND
            && ids.contains(&application_object_id(&principal.app_id))
        {
            value.push(typed(application_json(principal), "application"));
        }
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
