//! Microsoft Graph, as far as Strongroom serves it (`/v1.0/…`). One router table ([`route`]);
//! one resource type per module. Users (`users.rs`) are principals too, but never appear as
//! service principals or applications, and those views never answer for a user.

mod applications;
mod credentials;
mod directory_objects;
mod filter;
mod service_principals;
mod users;

use crate::error::{ApiError, json_response};
use crate::state::AppState;
use applications::{application_json, create_application, find_application, list_applications};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use credentials::{add_certificate, add_password, remove_credential};
use serde_json::{Value, json};
use service_principals::{
    create_service_principal, delete_service_principal, find_principal, principal_json,
    update_directory_object,
};
use strongroom_identity::USER_KIND;
pub(crate) use users::me;

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
    let not_allowed = || Err(ApiError::MethodNotAllowed(m.to_string()));
    Some(match rest {
        ["servicePrincipals"] => match *m {
            Method::POST => create_service_principal(state, body).await,
            Method::GET => list_service_principals(state, query).await,
            _ => not_allowed(),
        },
        ["applications"] => match *m {
            Method::POST => create_application(state, body).await,
            Method::GET => list_applications(state, query).await,
            _ => not_allowed(),
        },
        ["users"] => match *m {
            Method::POST => users::create(state, body).await,
            Method::GET => users::list(state, query).await,
            _ => not_allowed(),
        },
        // GET is answered before the administrator check (management.rs), for every user.
        ["me"] => not_allowed(),
        ["users", id] => user(state, m, &users::selector(id), query, body).await,
        [id] if id.starts_with("users(") => user(state, m, &users::selector(id), query, body).await,
        // Users have no navigation properties or actions here (groups, manager, …).
        ["users", _, action, ..] => Err(unknown_segment(&[action])),
        [id, action, ..] if id.starts_with("users(") => Err(unknown_segment(&[action])),
        ["directoryObjects", "getByIds"] => match *m {
            Method::POST => directory_objects::get_by_ids(state, body).await,
            _ => not_allowed(),
        },
        [id, action @ ..] if id.starts_with("servicePrincipals(") => {
            match find_principal(state, id).await {
                Ok(p) => {
                    directory_object(state, m, &p, id, action, body, View::ServicePrincipal).await
                }
                Err(err) => Err(err),
            }
        }
        [id, action @ ..] if id.starts_with("applications(") => {
            match find_application(state, id).await {
                Ok(p) => directory_object(state, m, &p, id, action, body, View::Application).await,
                Err(err) => Err(err),
            }
        }
        ["servicePrincipals", id, action @ ..] => match find_principal(state, id).await {
            Ok(p) => directory_object(state, m, &p, id, action, body, View::ServicePrincipal).await,
            Err(err) => Err(err),
        },
        ["applications", id, action @ ..] => match find_application(state, id).await {
            Ok(p) => directory_object(state, m, &p, id, action, body, View::Application).await,
            Err(err) => Err(err),
        },
        _ => return None,
    })
}

/// One user: GET, PATCH (204), DELETE (204).
async fn user(
    state: &AppState,
    m: &Method,
    selector: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    match *m {
        Method::GET => users::show(state, selector, query).await,
        Method::PATCH => users::update(state, selector, body).await,
        Method::DELETE => users::delete(state, selector).await,
        _ => Err(ApiError::MethodNotAllowed(m.to_string())),
    }
}

/// Which of Graph's two objects over one Strongroom principal a path addresses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    ServicePrincipal,
    Application,
}

/// One directory object (`action` empty) or an action on it. Deleting either view deletes the
/// principal (an application's service principal goes with it in Azure too).
async fn directory_object(
    state: &AppState,
    m: &Method,
    principal: &strongroom_store::PrincipalRow,
    id: &str,
    action: &[&str],
    body: &[u8],
    view: View,
) -> Result<Response, ApiError> {
    let service_principal = view == View::ServicePrincipal;
    match (action, m) {
        ([], &Method::GET) if service_principal => {
            Ok(entity("servicePrincipals", principal_json(principal)))
        }
        ([], &Method::GET) => Ok(entity("applications", application_json(principal))),
        ([], &Method::PATCH) => update_directory_object(state, principal, body).await,
        ([], &Method::DELETE) => delete_service_principal(state, principal).await,
        (["addPassword"], &Method::POST) => add_password(state, principal, body).await,
        // Strongroom's own (Graph adds certificates by a keyCredentials update).
        (["addCertificate"], &Method::POST) if service_principal => {
            add_certificate(state, principal, body).await
        }
        (["removePassword" | "removeKey"], &Method::POST) => {
            remove_credential(state, principal, id, body).await
        }
        ([] | ["addPassword" | "removePassword" | "removeKey"], _) => {
            Err(ApiError::MethodNotAllowed(m.to_string()))
        }
        (["addCertificate"], _) if service_principal => {
            Err(ApiError::MethodNotAllowed(m.to_string()))
        }
        _ => Err(unknown_segment(action)),
    }
}

/// One object as Graph returns it alone: with the `@odata.context` of its entity set.
fn entity(set: &str, object: Value) -> Response {
    json_response(
        StatusCode::OK,
        &with_context(&format!("{set}/$entity"), object),
    )
}

/// A collection as Graph returns it: `{"@odata.context": …, "value": […]}`.
pub(super) fn collection(set: &str, value: Vec<Value>) -> Response {
    json_response(
        StatusCode::OK,
        &with_context(set, json!({ "value": value })),
    )
}

pub(super) fn with_context(context: &str, mut object: Value) -> Value {
    if let Value::Object(map) = &mut object {
        map.insert(
            "@odata.context".to_owned(),
            Value::String(format!(
                "https://graph.microsoft.com/v1.0/$metadata#{context}"
            )),
        );
    }
    object
}

/// Graph's 400 for a path segment it has no property or action for.
fn unknown_segment(action: &[&str]) -> ApiError {
    crate::arm::arm_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!(
            "Resource not found for the segment '{}'.",
            action.first().copied().unwrap_or_default()
        ),
    )
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
        .filter(|principal| principal.kind != USER_KIND)
        .filter(|principal| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(principal, &principal.object_id))
        })
        .map(principal_json)
        .collect();
    Ok(collection("servicePrincipals", value))
}
