//! Microsoft Graph's `users` (v1.0): create, list (`$filter`), show, update, delete, and `/me`,
//! in Graph's shapes, so `az ad user …` and `az ad signed-in-user show` work unchanged.
//!
//! A user is a principal of kind [`USER_KIND`] (`strongroom_identity::users`); this module only
//! reads requests, checks what Graph checks, hashes passwords off the async threads, and writes
//! Graph's JSON and errors. Strongroom's one addition: `strongroomAdministrator: true` in the
//! body of `POST /users` makes the user a deployment administrator (Graph has no such property;
//! only administrators reach this API at all).

use super::credentials::bad_request;
use crate::arm::arm_error;
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use strongroom_identity::{
    IdentityError, NewUser, UserAccount, UserChanges, check_password_complexity,
    check_user_principal_name,
};
use strongroom_model::Caller;

/// Graph's longest display name, given name and surname.
const MAX_NAME_CHARS: usize = 256;
/// Graph's longest `mailNickname`.
const MAX_MAIL_NICKNAME_CHARS: usize = 64;
/// Every property a user has here, as Graph names it, and whether Graph returns it without
/// `$select` (its default set).
const PROPERTIES: &[(&str, bool)] = &[
    ("accountEnabled", false),
    ("businessPhones", true),
    ("createdDateTime", false),
    ("displayName", true),
    ("givenName", true),
    ("id", true),
    ("jobTitle", true),
    ("mail", true),
    ("mailNickname", false),
    ("mobilePhone", true),
    ("officeLocation", true),
    ("preferredLanguage", true),
    ("surname", true),
    ("userPrincipalName", true),
    ("userType", false),
];

/// The alias of the user principal name, which is what `az ad user create` sends as the
/// `mailNickname` when none is given (Strongroom keeps no other).
pub(super) fn mail_nickname(user: &UserAccount) -> &str {
    user.user_principal_name
        .split_once('@')
        .map_or(user.user_principal_name.as_str(), |(alias, _)| alias)
}

/// Every property of `user`.
fn all_properties(user: &UserAccount) -> Map<String, Value> {
    let value = json!({
        "accountEnabled": user.account_enabled,
        "businessPhones": [],
        "createdDateTime": user.principal.created.rfc3339(),
        "displayName": user.display_name(),
        "givenName": user.given_name,
        "id": user.object_id(),
        "jobTitle": null,
        "mail": null,
        "mailNickname": mail_nickname(user),
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "userType": "Member",
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The user as Graph returns it without `$select`.
pub(super) fn user_json(user: &UserAccount) -> Value {
    select(user, &Selection::Default)
}

/// Which properties a response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    Default,
    /// `$select=a,b`: these, in Graph's spelling.
    Only(Vec<&'static str>),
}

impl Selection {
    /// `$select` of the query; an unknown property is Graph's 400.
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let Some((_, wanted)) = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(key, _)| key == "$select")
        else {
            return Ok(Self::Default);
        };
        let mut names = Vec::new();
        for name in wanted.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some((known, _)) = PROPERTIES
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
            else {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.user'."
                    ),
                ));
            };
            if !names.contains(known) {
                names.push(*known);
            }
        }
        Ok(if names.is_empty() {
            Self::Default
        } else {
            Self::Only(names)
        })
    }

    /// The entity set in `@odata.context`: `users` or `users(a,b)`.
    fn context(&self, set: &str) -> String {
        match self {
            Self::Default => set.to_owned(),
            Self::Only(names) => format!("{set}({})", names.join(",")),
        }
    }
}

fn select(user: &UserAccount, selection: &Selection) -> Value {
    let all = all_properties(user);
    let keep = |name: &str| match selection {
        Selection::Default => PROPERTIES
            .iter()
            .any(|(known, default)| *known == name && *default),
        Selection::Only(names) => names.contains(&name),
    };
    Value::Object(all.into_iter().filter(|(name, _)| keep(name)).collect())
}

/// Graph's answers for the identity layer's refusals about users.
fn user_error(err: IdentityError, selector: &str) -> ApiError {
    match err {
        IdentityError::WeakPassword => bad_request(
            "The specified password does not comply with password complexity requirements. \
             Please provide a different password."
                .to_owned(),
        ),
        IdentityError::UserExists { .. } => bad_request(
            "Another object with the same value for property userPrincipalName already exists."
                .to_owned(),
        ),
        IdentityError::InvalidUserPrincipalName { .. } => {
            bad_request("Property userPrincipalName is invalid.".to_owned())
        }
        IdentityError::PrincipalNotFound { .. } => not_found(selector),
        other => ApiError::internal(other),
    }
}

fn not_found(selector: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{selector}' does not exist or one of its queried reference-property \
             objects are not present."
        ),
    )
}

fn invalid_property(name: &str) -> ApiError {
    bad_request(format!(
        "Invalid value specified for property '{name}' of resource 'User'."
    ))
}

fn required_property(name: &str) -> ApiError {
    bad_request(format!(
        "A value is required for property '{name}' of resource 'User'."
    ))
}

/// A display name, given name or surname Graph would take: 1 to 256 characters, not blank.
fn check_name(name: &str, property: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid_property(property));
    }
    Ok(())
}

/// Graph's `mailNickname` rule: 1 to 64 ASCII characters, none of `@ ( ) \ [ ] " ; : < > ,`
/// or spaces. Strongroom keeps none, but refuses what Graph refuses.
fn check_mail_nickname(nickname: &str) -> Result<(), ApiError> {
    let ok = !nickname.is_empty()
        && nickname.chars().count() <= MAX_MAIL_NICKNAME_CHARS
        && nickname
            .chars()
            .all(|c| c.is_ascii_graphic() && !"@()\\[]\";:<>,".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid_property("mailNickname"))
    }
}

/// Hashes a new password on a blocking thread (Argon2id is slow on purpose), holding one of
/// the deployment's Argon2id slots (`AppState::password_checks`, which sign-in shares), so
/// hashing and checking together never take more than those slots' cores.
async fn hash(state: &AppState, password: String) -> Result<String, ApiError> {
    let _permit = state
        .password_checks
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || strongroom_identity::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordProfile {
    #[serde(default)]
    password: Option<String>,
    /// Accepted; Strongroom's sign-in never forces a change.
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for Graph's shape")]
    force_change_password_next_sign_in: Option<bool>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for Graph's shape")]
    force_change_password_next_sign_in_with_mfa: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUserBody {
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    mail_nickname: Option<String>,
    #[serde(default)]
    password_profile: Option<PasswordProfile>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    /// Strongroom's own: the user is a deployment administrator (may use the management API).
    #[serde(default)]
    strongroom_administrator: Option<bool>,
}

/// `POST /v1.0/users` → 201 with the user.
pub(super) async fn create(state: &AppState, body: &[u8]) -> Result<Response, ApiError> {
    let create: CreateUserBody = parse_json(body)?;
    let account_enabled = create
        .account_enabled
        .ok_or_else(|| required_property("accountEnabled"))?;
    let display_name = create
        .display_name
        .ok_or_else(|| required_property("displayName"))?;
    check_name(&display_name, "displayName")?;
    let upn = create
        .user_principal_name
        .ok_or_else(|| required_property("userPrincipalName"))?;
    let password = create
        .password_profile
        .and_then(|profile| profile.password)
        .ok_or_else(|| required_property("passwordProfile"))?;
    if let Some(nickname) = &create.mail_nickname {
        check_mail_nickname(nickname)?;
    }
    for (name, property) in [
        (&create.given_name, "givenName"),
        (&create.surname, "surname"),
    ] {
        if let Some(name) = name {
            check_name(name, property)?;
        }
    }
    check_user_principal_name(&upn).map_err(|err| user_error(err, &upn))?;
    check_password_complexity(&password).map_err(|err| user_error(err, &upn))?;
    // A taken name is refused before the hash's cost is paid (create_user checks again).
    if strongroom_identity::find_user(state.store.as_ref(), &upn)
        .await
        .map_err(|err| user_error(err, &upn))?
        .is_some()
    {
        return Err(user_error(IdentityError::UserExists { upn }, ""));
    }
    let password_hash = hash(state, password).await?;
    let new = NewUser {
        user_principal_name: upn.clone(),
        display_name,
        password_hash,
        account_enabled,
        is_admin: create.strongroom_administrator.unwrap_or(false),
        given_name: create.given_name,
        surname: create.surname,
    };
    let user = strongroom_identity::create_user(
        state.store.as_ref(),
        &state.config.tenant_id,
        new,
        state.vaults.now(),
    )
    .await
    .map_err(|err| user_error(err, &upn))?;
    Ok(json_response(
        StatusCode::CREATED,
        &super::with_context("users/$entity", user_json(&user)),
    ))
}

/// `GET /v1.0/users[?$filter=…][&$select=…]`, by user principal name.
pub(super) async fn list(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let filter = crate::odata::filter(query)
        .map(|filter| super::filter::UserFilter::parse(&filter))
        .transpose()?;
    let selection = Selection::parse(query)?;
    let users = strongroom_identity::list_users(state.store.as_ref())
        .await
        .map_err(ApiError::internal)?;
    let value: Vec<Value> = users
        .iter()
        .filter(|user| filter.as_ref().is_none_or(|f| f.matches(user)))
        .map(|user| select(user, &selection))
        .collect();
    Ok(super::collection(&selection.context("users"), value))
}

/// The user a path names: `{id}`, `{userPrincipalName}` or `users('{either}')`, decoded.
pub(super) fn selector(segment: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned();
    match decoded
        .strip_prefix("users(")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(crate::odata::string_literal)
    {
        Some(inner) => inner,
        None => decoded,
    }
}

async fn find(state: &AppState, selector: &str) -> Result<UserAccount, ApiError> {
    strongroom_identity::find_user(state.store.as_ref(), selector)
        .await
        .map_err(|err| user_error(err, selector))?
        .ok_or_else(|| not_found(selector))
}

/// `GET /v1.0/users/{id-or-upn}[?$select=…]`.
pub(super) async fn show(
    state: &AppState,
    selector: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let selection = Selection::parse(query)?;
    let user = find(state, selector).await?;
    Ok(entity(&user, &selection))
}

fn entity(user: &UserAccount, selection: &Selection) -> Response {
    json_response(
        StatusCode::OK,
        &super::with_context(
            &format!("{}/$entity", selection.context("users")),
            select(user, selection),
        ),
    )
}

/// `GET /v1.0/me`: the signed-in user. Any signed-in user may ask (management.rs lets this one
/// path through for non-administrators); an application's token is Graph's 400.
pub(crate) async fn me(
    state: &AppState,
    caller: &Caller,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let selection = Selection::parse(query)?;
    let user = strongroom_identity::find_user(state.store.as_ref(), &caller.object_id.0)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.".to_owned(),
            )
        })?;
    Ok(entity(&user, &selection))
}

/// What `PATCH /users/{id}` may change. Properties Strongroom does not keep are refused
/// rather than accepted and forgotten.
#[derive(Debug, Default)]
struct Update {
    changes: UserChanges,
    password: Option<String>,
}

fn parse_update(body: &[u8]) -> Result<Update, ApiError> {
    let fields: Map<String, Value> = parse_json(body)?;
    let mut update = Update::default();
    let text = |name: &str, value: &Value| -> Result<String, ApiError> {
        let text = value.as_str().ok_or_else(|| invalid_property(name))?;
        check_name(text, name)?;
        Ok(text.to_owned())
    };
    // `givenName` and `surname` may be cleared with null.
    let optional_text = |name: &str, value: &Value| -> Result<Option<String>, ApiError> {
        match value {
            Value::Null => Ok(None),
            other => text(name, other).map(Some),
        }
    };
    for (name, value) in &fields {
        match name.as_str() {
            "displayName" => update.changes.display_name = Some(text(name, value)?),
            "givenName" => update.changes.given_name = Some(optional_text(name, value)?),
            "surname" => update.changes.surname = Some(optional_text(name, value)?),
            "accountEnabled" => {
                update.changes.account_enabled =
                    Some(value.as_bool().ok_or_else(|| invalid_property(name))?);
            }
            "mailNickname" => {
                check_mail_nickname(value.as_str().ok_or_else(|| invalid_property(name))?)?;
            }
            "passwordProfile" => {
                let profile: PasswordProfile = serde_json::from_value(value.clone())
                    .map_err(|_| invalid_property("passwordProfile"))?;
                update.password = profile.password;
            }
            other => {
                return Err(bad_request(format!(
                    "Strongroom does not support updating property '{other}' of resource 'User'."
                )));
            }
        }
    }
    Ok(update)
}

/// `PATCH /v1.0/users/{id-or-upn}` → 204. A new password replaces the old one, which revokes
/// every token bought with it.
pub(super) async fn update(
    state: &AppState,
    selector: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let user = find(state, selector).await?;
    let update = parse_update(body)?;
    if let Some(password) = &update.password {
        check_password_complexity(password).map_err(|err| user_error(err, selector))?;
    }
    // Hashed before anything is written, so a failure leaves the user as it was.
    let password_hash = match update.password {
        Some(password) => Some(hash(state, password).await?),
        None => None,
    };
    let store = state.store.as_ref();
    let object_id = user.object_id();
    strongroom_identity::update_user(store, object_id, update.changes)
        .await
        .map_err(|err| user_error(err, selector))?;
    if let Some(password_hash) = password_hash {
        strongroom_identity::set_password(store, object_id, password_hash, state.vaults.now())
            .await
            .map_err(|err| user_error(err, selector))?;
    }
    state.principals.forget(object_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v1.0/users/{id-or-upn}` → 204; the user's tokens are refused from now on.
pub(super) async fn delete(state: &AppState, selector: &str) -> Result<Response, ApiError> {
    let user = find(state, selector).await?;
    strongroom_identity::delete_user(state.store.as_ref(), user.object_id())
        .await
        .map_err(|err| user_error(err, selector))?;
    state.principals.forget(user.object_id());
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_parses_known_properties_and_refuses_others() {
        assert_eq!(Selection::parse(None).ok(), Some(Selection::Default));
        assert_eq!(
            Selection::parse(Some("%24select=displayName,ACCOUNTENABLED,displayName")).ok(),
            Some(Selection::Only(vec!["displayName", "accountEnabled"]))
        );
        assert_eq!(
            Selection::parse(Some("$select=id"))
                .map(|s| s.context("users"))
                .ok()
                .as_deref(),
            Some("users(id)")
        );
        assert!(Selection::parse(Some("$select=salary")).is_err());
    }

    #[test]
    fn patch_bodies_take_what_strongroom_keeps() {
        let update = parse_update(
            br#"{"displayName":"Ann","surname":null,"accountEnabled":false,
                "passwordProfile":{"password":"Passw0rd!","forceChangePasswordNextSignIn":false}}"#,
        )
        .ok()
        .unwrap_or_default();
        assert_eq!(update.changes.display_name.as_deref(), Some("Ann"));
        assert_eq!(update.changes.surname, Some(None));
        assert_eq!(update.changes.given_name, None);
        assert_eq!(update.changes.account_enabled, Some(false));
        assert_eq!(update.password.as_deref(), Some("Passw0rd!"));
        for refused in [
            r#"{"jobTitle":"x"}"#,
            r#"{"displayName":""}"#,
            r#"{"accountEnabled":"yes"}"#,
            r#"{"mailNickname":"a b"}"#,
        ] {
            assert!(parse_update(refused.as_bytes()).is_err(), "{refused}");
        }
    }

    #[test]
    fn selectors_decode_and_unwrap_the_key_form() {
        assert_eq!(selector("alice%40contoso.com"), "alice@contoso.com");
        assert_eq!(
            selector("users('%24al''x@contoso.com')"),
            "$al'x@contoso.com"
        );
        assert_eq!(selector("0c1d"), "0c1d");
    }

    #[test]
    fn mail_nicknames_follow_graph() {
        assert!(check_mail_nickname("ann.lee-1'+x").is_ok());
        for bad in ["", "a b", "a@b", "a,b", &"a".repeat(65)] {
            assert!(check_mail_nickname(bad).is_err(), "{bad:?}");
        }
    }
}
