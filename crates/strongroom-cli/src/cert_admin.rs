//! `keyvault certificate pending …`, `contact …`, `issuer …` and Strongroom's `event list`:
//! everything about certificates that is not one certificate's life.
//!
//! Requests are what the Python SDK sends for az's commands (`merge_certificate`,
//! `set_contacts`, `create_issuer`, ...); az's read-modify-write commands (`contact add`,
//! `contact delete`) are done the same way here. An issuer's password is a `SecretValue` read
//! only into the request body (`SecretJson`); the server never sends it back.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::Output;
use crate::cert_command::{
    ContactCommand, EventCommand, IssuerAdminCommand, IssuerArgs, IssuerCommand, IssuerDetailsArgs,
    MergeCertificateArgs, PendingArgs, PendingCommand,
};
use crate::cert_output;
use crate::error::CliError;
use crate::keys::{VaultCall, tags_json};
use crate::session::{Audience, SecretJson, Session};

/// `pending show|merge|delete|cancel`.
pub(crate) async fn pending(session: &Session, command: PendingCommand) -> Result<Value, CliError> {
    match command {
        PendingCommand::Show(args) => {
            let answer = pending_call(session, &args, Method::GET, None).await?;
            Ok(cert_output::operation(&answer))
        }
        PendingCommand::Delete(args) => {
            let answer = pending_call(session, &args, Method::DELETE, None).await?;
            Ok(cert_output::operation(&answer))
        }
        PendingCommand::Cancel(args) => {
            let body = json!({ "cancellation_requested": true });
            let answer = pending_call(session, &args, Method::PATCH, Some(&body)).await?;
            Ok(cert_output::operation(&answer))
        }
        PendingCommand::Merge(args) => merge(session, &args).await,
    }
}

/// `/certificates/{name}/pending` with `method`.
async fn pending_call(
    session: &Session,
    args: &PendingArgs,
    method: Method,
    body: Option<&Value>,
) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.vault_name).await?;
    let target = vault.target(&["certificates", &args.name, "pending"], None);
    match body {
        Some(body) => session.call_json(method, &target, &vault.token, body).await,
        None => session.call(method, &target, &vault.token).await,
    }
}

/// `pending merge`: POST `/certificates/{name}/pending/merge` with the file's certificates
/// (`x5c`, standard base64 DER).
async fn merge(session: &Session, args: &MergeCertificateArgs) -> Result<Value, CliError> {
    let chain = read_chain(&args.file)?;
    let mut body = Map::new();
    body.insert(
        "x5c".to_owned(),
        chain
            .iter()
            .map(|der| Value::String(STANDARD.encode(der)))
            .collect(),
    );
    if let Some(disabled) = args.disabled {
        body.insert("attributes".to_owned(), json!({ "enabled": !disabled }));
    }
    if let Some(tags) = &args.tags {
        body.insert("tags".to_owned(), tags_json(tags));
    }
    let vault = VaultCall::open(session, &args.pending.vault_name).await?;
    let target = vault.target(
        &["certificates", &args.pending.name, "pending", "merge"],
        None,
    );
    let answer = session
        .call_json(Method::POST, &target, &vault.token, &body)
        .await?;
    Ok(cert_output::certificate(&answer))
}

fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    pem_certificates(&bytes).map_err(|detail| {
        CliError::Usage(format!(
            "{} holds no certificate to merge: {detail}",
            path.display()
        ))
    })
}

/// The certificates of a merge file: az's `validate_x509_certificate_chain` takes every
/// `BEGIN`/`END CERTIFICATE` block; a file without one is taken as a single DER certificate.
pub(crate) fn pem_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(bytes);
    if !text.contains(BEGIN) {
        if bytes.first() == Some(&0x30) {
            return Ok(vec![bytes.to_vec()]);
        }
        return Err("neither PEM certificates nor a DER certificate".to_owned());
    }
    let mut certificates = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else {
            return Err("a certificate block has no END line".to_owned());
        };
        let body: String = after[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|error| format!("a certificate block is not base64: {error}"))?;
        certificates.push(der);
        rest = &after[end + END.len()..];
    }
    Ok(certificates)
}

/// `contact add|list|delete`; each prints the contacts as az does.
pub(crate) async fn contact(session: &Session, command: ContactCommand) -> Result<Value, CliError> {
    match command {
        ContactCommand::List(args) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["certificates", "contacts"], None);
            let answer = session.call(Method::GET, &target, &vault.token).await?;
            Ok(cert_output::contacts(
                &contact_list(&answer),
                &vault.vault_url(),
            ))
        }
        ContactCommand::Add(args) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["certificates", "contacts"], None);
            // az's `add_certificate_contact`: no contacts yet is an empty list.
            let mut contacts = match session.call(Method::GET, &target, &vault.token).await {
                Ok(answer) => contact_list(&answer),
                Err(CliError::Azure { code, .. }) if is_not_found(&code) => Vec::new(),
                Err(error) => return Err(error),
            };
            if contacts
                .iter()
                .any(|contact| contact["email"] == json!(args.email))
            {
                return Err(CliError::Usage(format!(
                    "contact '{}' already exists",
                    args.email
                )));
            }
            let mut added = Map::new();
            added.insert("email".to_owned(), json!(args.email));
            if let Some(name) = &args.name {
                added.insert("name".to_owned(), json!(name));
            }
            if let Some(phone) = &args.phone {
                added.insert("phone".to_owned(), json!(phone));
            }
            contacts.push(Value::Object(added));
            let body = json!({ "contacts": contacts });
            let answer = session
                .call_json(Method::PUT, &target, &vault.token, &body)
                .await?;
            Ok(cert_output::contacts(
                &contact_list(&answer),
                &vault.vault_url(),
            ))
        }
        ContactCommand::Delete(args) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["certificates", "contacts"], None);
            let contacts = contact_list(&session.call(Method::GET, &target, &vault.token).await?);
            let remaining: Vec<Value> = contacts
                .iter()
                .filter(|contact| contact["email"] != json!(args.email))
                .cloned()
                .collect();
            if remaining.len() == contacts.len() {
                return Err(CliError::Usage(format!(
                    "contact '{}' not found in vault",
                    args.email
                )));
            }
            // az's `delete_certificate_contact`: the last one deletes the contacts.
            if remaining.is_empty() {
                session.call(Method::DELETE, &target, &vault.token).await?;
                return Ok(cert_output::contacts(&[], &vault.vault_url()));
            }
            let body = json!({ "contacts": remaining });
            let answer = session
                .call_json(Method::PUT, &target, &vault.token, &body)
                .await?;
            Ok(cert_output::contacts(
                &contact_list(&answer),
                &vault.vault_url(),
            ))
        }
    }
}

fn contact_list(answer: &Value) -> Vec<Value> {
    answer["contacts"].as_array().cloned().unwrap_or_default()
}

/// The SDK raises `ResourceNotFoundError` for any 404; these are its Key Vault codes.
fn is_not_found(code: &str) -> bool {
    matches!(code, "ContactsNotFound" | "NotFound")
}

/// `CertificateIssuerSetParameters` / `CertificateIssuerUpdateParameters` as the SDK's
/// `create_issuer` / `update_issuer` fill them: a part only when one of its members is set.
#[derive(Serialize)]
struct IssuerParameters<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<IssuerCredentials<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<Value>,
}

#[derive(Serialize)]
struct IssuerCredentials<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pwd: Option<SecretJson<'a>>,
}

impl<'a> IssuerParameters<'a> {
    fn new(
        provider: Option<&'a str>,
        details: &'a IssuerDetailsArgs,
        enabled: Option<bool>,
    ) -> Self {
        let account_id = details.account_id.as_deref().filter(|id| !id.is_empty());
        let password = details
            .password
            .as_ref()
            .filter(|password| !password.is_empty());
        let credentials = (account_id.is_some() || password.is_some()).then(|| IssuerCredentials {
            account_id,
            pwd: password.map(SecretJson),
        });
        let org_details = details
            .organization_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .map(|id| json!({ "id": id }));
        Self {
            provider,
            credentials,
            org_details,
            attributes: enabled.map(|enabled| json!({ "enabled": enabled })),
        }
    }
}

/// `issuer create|update|list|show|delete` and `issuer admin …`.
pub(crate) async fn issuer(session: &Session, command: IssuerCommand) -> Result<Output, CliError> {
    let (vault_name, issuer_name, method, body) = match &command {
        IssuerCommand::List(args) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["certificates", "issuers"], None);
            let items = session.list_all(target, &vault.token).await?;
            return Ok(Output::Json(Value::Array(cert_output::issuer_items(
                &items,
            ))));
        }
        IssuerCommand::Admin(command) => return issuer_admin(session, command).await,
        IssuerCommand::Create(args) => (
            &args.issuer.vault_name,
            &args.issuer.issuer_name,
            Method::PUT,
            // az's `create_certificate_issuer`: `enabled=not disabled`, so always sent.
            Some(IssuerParameters::new(
                Some(&args.provider_name),
                &args.details,
                Some(!args.disabled.unwrap_or(false)),
            )),
        ),
        IssuerCommand::Update(args) => (
            &args.issuer.vault_name,
            &args.issuer.issuer_name,
            Method::PATCH,
            Some(IssuerParameters::new(
                args.provider_name.as_deref(),
                &args.details,
                args.enabled,
            )),
        ),
        IssuerCommand::Show(args) => (&args.vault_name, &args.issuer_name, Method::GET, None),
        IssuerCommand::Delete(args) => (&args.vault_name, &args.issuer_name, Method::DELETE, None),
    };
    let vault = VaultCall::open(session, vault_name).await?;
    let target = vault.target(&["certificates", "issuers", issuer_name], None);
    let answer = match body {
        Some(body) => {
            session
                .call_json(method, &target, &vault.token, &body)
                .await?
        }
        None => session.call(method, &target, &vault.token).await?,
    };
    Ok(Output::Json(cert_output::issuer(&answer)))
}

/// `issuer admin add|list|delete`: az reads the issuer and writes its whole administrator
/// list back (`update_issuer(admin_contacts=…)`).
async fn issuer_admin(session: &Session, command: &IssuerAdminCommand) -> Result<Output, CliError> {
    let issuer_args: &IssuerArgs = match command {
        IssuerAdminCommand::Add(args) => &args.issuer,
        IssuerAdminCommand::List(args) => args,
        IssuerAdminCommand::Delete(args) => &args.issuer,
    };
    let vault = VaultCall::open(session, &issuer_args.vault_name).await?;
    let target = vault.target(&["certificates", "issuers", &issuer_args.issuer_name], None);
    let issuer = session.call(Method::GET, &target, &vault.token).await?;
    let mut admins = issuer["org_details"]["admin_details"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let org_details = match command {
        IssuerAdminCommand::List(_) => {
            return Ok(Output::Json(Value::Array(cert_output::issuer_admins(
                &issuer,
            ))));
        }
        IssuerAdminCommand::Add(args) => {
            if admins
                .iter()
                .any(|admin| admin["email"] == json!(args.email))
            {
                return Err(CliError::Usage(format!(
                    "admin '{}' already exists",
                    args.email
                )));
            }
            admins.push(json!({
                "first_name": args.first_name,
                "last_name": args.last_name,
                "email": args.email,
                "phone": args.phone,
            }));
            json!({ "admin_details": admins })
        }
        IssuerAdminCommand::Delete(args) => {
            let before = admins.len();
            admins.retain(|admin| admin["email"] != json!(args.email));
            if admins.len() == before {
                return Err(CliError::Usage(format!(
                    "admin '{}' not found for issuer '{}'",
                    args.email, args.issuer.issuer_name
                )));
            }
            // az writes the organization id alone to drop the last administrator; the list
            // is sent empty so that the service keeps no one.
            json!({ "id": issuer["org_details"]["id"], "admin_details": admins })
        }
    };
    let body = json!({ "org_details": org_details });
    session
        .call_json(Method::PATCH, &target, &vault.token, &body)
        .await?;
    match command {
        IssuerAdminCommand::Add(args) => Ok(Output::Json(json!({
            "emailAddress": args.email,
            "firstName": args.first_name,
            "lastName": args.last_name,
            "phone": args.phone,
        }))),
        _ => Ok(Output::Nothing),
    }
}

/// `event list` (Strongroom only): the management API's `certificateEvents`, oldest first.
pub(crate) async fn event(session: &Session, command: EventCommand) -> Result<Value, CliError> {
    let EventCommand::List(args) = command;
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .certificate_events(args.resource_group.as_deref(), &args.vault_name);
    let answer = session.call(Method::GET, &target, &token).await?;
    let events = answer["value"]
        .as_array()
        .ok_or_else(|| CliError::UnexpectedBody {
            method: Method::GET,
            url: target.to_string(),
            detail: "no `value` list of events".to_owned(),
        })?;
    Ok(Value::Array(cert_output::events(events)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use strongroom_model::SecretValue;

    use super::*;

    #[test]
    fn merge_files() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nMAEC\r\nAw==\n-----END CERTIFICATE-----\n\
                   -----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let results = [
            pem.as_bytes(),
            &[0x30, 0x03, 0x02, 0x01, 0x05],
            b"hello",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n",
            b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
        ]
        .map(|bytes| format!("{:?}", pem_certificates(bytes)))
        .join("\n");
        expect![[r#"
            Ok([[48, 1, 2, 3], [48, 0]])
            Ok([[48, 3, 2, 1, 5]])
            Err("neither PEM certificates nor a DER certificate")
            Err("a certificate block has no END line")
            Err("a certificate block is not base64: Invalid symbol 33, offset 0.")"#]]
        .assert_eq(&results);
    }

    #[test]
    fn issuer_bodies_like_the_sdk() {
        let details = IssuerDetailsArgs {
            account_id: Some("acct".to_owned()),
            password: Some(SecretValue::new("pa55".to_owned())),
            organization_id: Some("org-1".to_owned()),
        };
        let empty = IssuerDetailsArgs {
            account_id: None,
            password: Some(SecretValue::new(String::new())),
            organization_id: Some(String::new()),
        };
        let bodies = [
            IssuerParameters::new(Some("Test"), &details, Some(true)),
            IssuerParameters::new(None, &empty, None),
        ]
        .map(|body| serde_json::to_string(&body).unwrap())
        .join("\n");
        expect![[r#"
            {"provider":"Test","credentials":{"account_id":"acct","pwd":"pa55"},"org_details":{"id":"org-1"},"attributes":{"enabled":true}}
            {}"#]]
        .assert_eq(&bodies);
    }
}
