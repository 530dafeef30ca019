//! `ad sp credential list|delete`: a principal's credentials as Graph lists them
//! (`passwordCredentials`, `keyCredentials`), and their removal through Graph's
//! `removePassword` / `removeKey`, which also revokes every token obtained with them.

use http::Method;
use serde_json::{Value, json};
use strongroom_model::SecretValue;

use crate::command::{CredentialDeleteArgs, CredentialListArgs};
use crate::error::CliError;
use crate::identities::string_at;
use crate::session::{Audience, Session};

const SECRETS: &str = "passwordCredentials";
const CERTIFICATES: &str = "keyCredentials";

/// `ad sp credential list --id APPID [--cert]`: the principal's client secrets (or
/// certificates), as `az` prints them.
pub(crate) async fn list(session: &Session, args: &CredentialListArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let lookup = session.endpoints.service_principal_by_app_id(&args.id);
    let principal = session.call(Method::GET, &lookup, &token).await?;
    let field = if args.cert { CERTIFICATES } else { SECRETS };
    let listed = principal
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(Value::Array(listed))
}

/// `ad sp credential delete --id APPID --key-id K [--cert]`: prints nothing.
pub(crate) async fn delete(session: &Session, args: &CredentialDeleteArgs) -> Result<(), CliError> {
    let token = session.token(Audience::Management).await?;
    let lookup = session.endpoints.service_principal_by_app_id(&args.id);
    let principal = session.call(Method::GET, &lookup, &token).await?;
    let object_id = string_at(&principal, &["id"], &lookup)?;
    remove(session, &token, &object_id, &args.key_id, args.cert).await
}

/// Every credential of a principal as Graph shows it: `(keyId, is a certificate)`.
pub(crate) fn key_ids(principal: &Value) -> Vec<(String, bool)> {
    [(SECRETS, false), (CERTIFICATES, true)]
        .into_iter()
        .flat_map(|(field, certificate)| {
            principal
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(move |credential| {
                    let key_id = credential.get("keyId")?.as_str()?;
                    Some((key_id.to_owned(), certificate))
                })
        })
        .collect()
}

/// Removes one credential of the principal `object_id`.
pub(crate) async fn remove(
    session: &Session,
    token: &SecretValue,
    object_id: &str,
    key_id: &str,
    certificate: bool,
) -> Result<(), CliError> {
    let target = session.endpoints.remove_credential(object_id, certificate);
    session
        .call_json(Method::POST, &target, token, &json!({ "keyId": key_id }))
        .await
        .map(|_| ())
}
