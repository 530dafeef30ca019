//! `ad sp create-for-rbac`: a service principal and its first credential (a client secret, or
//! with `--create-cert` a certificate), through the server's Graph-shaped endpoints.

use http::Method;
use serde_json::{Value, json};

use crate::command::{CreateCertArgs, CreateForRbacArgs};
use crate::endpoints::Target;
use crate::error::CliError;
use crate::session::{Audience, Session};
use strongroom_model::SecretValue;

/// Creates the principal, adds a password, and prints what `az` prints:
/// `{"appId","displayName","password","tenant"}`; with `--create-cert`, a certificate instead:
/// `{"appId","displayName","fileWithCertAndPrivateKey","password":null,"tenant"}`.
pub(crate) async fn create_for_rbac(
    session: &Session,
    args: &CreateForRbacArgs,
) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let principals = session.endpoints.service_principals();
    let principal = session
        .call_json(
            Method::POST,
            &principals,
            &token,
            &json!({ "displayName": args.name }),
        )
        .await?;
    let object_id = string_field(&principal, "id", &principals)?;
    let app_id = string_field(&principal, "appId", &principals)?;
    let display_name = string_field(&principal, "displayName", &principals)?;

    let mut output = json!({ "appId": app_id, "displayName": display_name });
    add_credential(
        session,
        &token,
        &object_id,
        &app_id,
        &display_name,
        &args.cert,
        &mut output,
    )
    .await?;
    Ok(output)
}

/// Adds the principal's new credential and writes what `az` prints for it into `output`:
/// with `--create-cert` a certificate made locally (`fileWithCertAndPrivateKey`, `password`
/// null), otherwise a client secret (`password`); and the `tenant`.
pub(crate) async fn add_credential(
    session: &Session,
    token: &SecretValue,
    object_id: &str,
    app_id: &str,
    display_name: &str,
    cert: &CreateCertArgs,
    output: &mut Value,
) -> Result<(), CliError> {
    if cert.create_cert {
        let file = crate::certificates::add_certificate(
            session,
            token,
            object_id,
            app_id,
            display_name,
            cert.cert_dir.as_deref(),
        )
        .await?;
        output["fileWithCertAndPrivateKey"] = json!(file);
        output["password"] = Value::Null;
    } else {
        let add_password = session.endpoints.add_password(object_id);
        let password = session
            .call_json(Method::POST, &add_password, token, &json!({}))
            .await?;
        output["password"] = json!(string_field(&password, "secretText", &add_password)?);
    }
    output["tenant"] = json!(session.data.admin.tenant_id);
    Ok(())
}

/// A string field of the answer to a POST (creating the principal, adding a password).
fn string_field(body: &Value, field: &str, target: &Target) -> Result<String, CliError> {
    crate::identities::string_in_answer(Method::POST, body, &[field], target)
}
