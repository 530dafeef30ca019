//! Microsoft Graph, as far as Strongroom serves it (`/v1.0/…`). One router table ([`route`]);
//! one resource type per module.

mod filter;
mod service_principals;

use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_principals::{
    add_certificate, add_password, create_service_principal, find_principal, principal_json,
    remove_credential,
};

/// Answers `segments` if they are a Graph path (`v1.0/…`); `None` when they are not one.
pub(crate) async fn route(
    state: &AppState,
    method: &Method,
    segments: &[&str],
    query: Option<&str>,
    body: &[u8],
) -> Option<Result<Response, ApiError>> {
    let ["v1.0", rest @ ..] = segments else {
        return None;
    };
    let m = method;
    Some(match rest {
        ["servicePrincipals"] => match *m {
            Method::POST => create_service_principal(state, body).await,
            Method::GET => list_service_principals(state, query).await,
            _ => Err(ApiError::MethodNotAllowed(m.to_string())),
        },
        [selector] if selector.starts_with("servicePrincipals(") && *m == Method::GET => {
            find_principal(state, selector)
                .await
                .map(|principal| json_response(StatusCode::OK, &principal_json(&principal)))
        }
        ["servicePrincipals", id] => match *m {
            Method::GET => find_principal(state, id)
                .await
                .map(|principal| json_response(StatusCode::OK, &principal_json(&principal))),
            Method::DELETE => delete_service_principal(state, id).await,
            _ => Err(ApiError::MethodNotAllowed(m.to_string())),
        },
        ["servicePrincipals", id, "addCertificate"] if *m == Method::POST => {
            add_certificate(state, id, body).await
        }
        ["servicePrincipals", id, "addPassword"] if *m == Method::POST => {
            add_password(state, id).await
        }
        ["servicePrincipals", id, "removePassword" | "removeKey"] if *m == Method::POST => {
            remove_credential(state, id, body).await
        }
        _ => return None,
    })
}

async fn list_service_principals(
    state: &AppState,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let filter = crate::odata::filter(query)
        .map(|filter| filter::PrincipalFilter::parse(&filter))
        .transpose()?;
    let principals = state
        .store
        .list_principals()
        .await
        .map_err(ApiError::internal)?;
    let value: Vec<Value> = principals
        .iter()
        .filter(|principal| filter.as_ref().is_none_or(|f| f.matches(principal)))
        .map(principal_json)
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

async fn delete_service_principal(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let principal = find_principal(state, id).await?;
    state
        .store
        .delete_principal(&principal.object_id)
        .await
        .map_err(ApiError::internal)?;
    // Its tokens stop working now, not when they expire.
    state.principals.forget(&principal.object_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
