//! `keyvault certificate create|import|show|list|list-versions|list-deleted|show-deleted|
//! delete|recover|purge|set-attributes|backup|restore|download|get-default-policy`: the
//! certificates API on the vault's own host, with a token for the vault audience.
//!
//! Requests carry what the Python SDK sends for the same az command (azure-cli 2.91
//! `custom.py`: `create_certificate`, `download_certificate`, ...; the SDK's
//! `CertificateClient`); answers are printed as az prints the SDK's models
//! (`cert_output.rs`). Pending operations, contacts, issuers and events live in
//! `cert_admin.rs`; policies in `cert_policy.rs`.
//!
//! The PFX or PEM of `import` and its password stay in zeroizing buffers and leave only in
//! the `ImportCertificate` request body (`SecretJson`).

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use strongroom_model::SecretValue;
use zeroize::Zeroizing;

use crate::Output;
use crate::cert_admin;
use crate::cert_command::{
    BackupCertificateArgs, CertificateCommand, CertificateIdArgs, CreateCertificateArgs,
    DownloadCertificateArgs, ImportCertificateArgs, ListCertificateVersionsArgs,
    ListCertificatesArgs, RestoreCertificateArgs, SetCertificateAttributesArgs, VaultIdArgs,
};
use crate::cert_output;
use crate::cert_policy::{self, NO_SAN_OR_SUBJECT, PolicyArgument, RequestPolicy};
use crate::endpoints::Target;
use crate::error::CliError;
use crate::keys::{VaultCall, page_size, restore_backup, save_backup, tags_json, write_file};
use crate::session::{SecretJson, Session};

/// How long `create` waits for a certificate operation (az waits without limit).
const CREATE_TIMEOUT: Duration = Duration::from_secs(600);
/// The first pause between two polls of `/pending`; it doubles up to [`MAX_POLL_INTERVAL`].
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(100);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Runs one `keyvault certificate …` command.
pub(crate) async fn run(
    session: &Session,
    command: CertificateCommand,
) -> Result<Output, CliError> {
    let json = match command {
        CertificateCommand::Create(args) => create(session, &args).await?,
        CertificateCommand::Import(args) => import(session, &args).await?,
        CertificateCommand::Show(args) => {
            let certificate = CertificateRef::new(&args.certificate, args.version.as_deref())?;
            let vault = certificate.open(session).await?;
            let target = vault.target(&certificate.versioned("certificates"), None);
            cert_output::certificate(&session.call(Method::GET, &target, &vault.token).await?)
        }
        CertificateCommand::List(args) => list(session, &args, false).await?,
        CertificateCommand::ListDeleted(args) => list(session, &args, true).await?,
        CertificateCommand::ListVersions(args) => list_versions(session, &args).await?,
        CertificateCommand::ShowDeleted(args) => {
            let answer = call(session, &args, Method::GET, "deletedcertificates", &[]).await?;
            cert_output::deleted_certificate(&answer)
        }
        CertificateCommand::Delete(args) => {
            let answer = call(session, &args, Method::DELETE, "certificates", &[]).await?;
            cert_output::deleted_certificate(&answer)
        }
        CertificateCommand::Recover(args) => {
            let answer = call(
                session,
                &args,
                Method::POST,
                "deletedcertificates",
                &["recover"],
            )
            .await?;
            cert_output::certificate(&answer)
        }
        CertificateCommand::Purge(args) => {
            call(session, &args, Method::DELETE, "deletedcertificates", &[]).await?;
            return Ok(Output::Nothing);
        }
        CertificateCommand::SetAttributes(args) => set_attributes(session, &args).await?,
        CertificateCommand::Backup(args) => {
            backup(session, &args).await?;
            return Ok(Output::Nothing);
        }
        CertificateCommand::Restore(args) => restore(session, &args).await?,
        CertificateCommand::Download(args) => {
            download(session, &args).await?;
            return Ok(Output::Nothing);
        }
        CertificateCommand::GetDefaultPolicy(args) => {
            if args.scaffold {
                cert_policy::scaffold_policy()
            } else {
                cert_policy::default_policy()
            }
        }
        CertificateCommand::Pending(command) => cert_admin::pending(session, command).await?,
        CertificateCommand::Contact(command) => cert_admin::contact(session, command).await?,
        CertificateCommand::Issuer(command) => return cert_admin::issuer(session, command).await,
        CertificateCommand::Event(command) => cert_admin::event(session, command).await?,
    };
    Ok(Output::Json(json))
}

/// A certificate named by `--id` or by `--vault-name` and `--name` (az's "Id" group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateRef {
    pub(crate) vault_name: String,
    pub(crate) name: String,
    /// Empty for the latest version (`/certificates/{name}/`, as the SDK asks).
    pub(crate) version: String,
}

impl CertificateRef {
    /// From the arguments; a version in `--id` wins over `--version` (az's validator sets it
    /// last).
    pub(crate) fn new(args: &CertificateIdArgs, version: Option<&str>) -> Result<Self, CliError> {
        let version = version.unwrap_or_default().to_owned();
        match (&args.id, &args.vault_name, &args.name) {
            (Some(id), _, _) => {
                let parsed = ObjectId::parse(id)?;
                let name = parsed.name.ok_or_else(|| invalid_id(id))?;
                Ok(Self {
                    vault_name: parsed.vault_name,
                    name,
                    version: parsed.version.unwrap_or(version),
                })
            }
            (None, Some(vault_name), Some(name)) => Ok(Self {
                vault_name: vault_name.clone(),
                name: name.clone(),
                version,
            }),
            // clap makes `--id` or both of the others present.
            _ => Err(CliError::Usage(
                "incorrect usage: --id ID | --vault-name/--hsm-name VAULT/HSM --name/-n NAME \
                 [--version VERSION]"
                    .to_owned(),
            )),
        }
    }

    pub(crate) async fn open(&self, session: &Session) -> Result<VaultCall, CliError> {
        VaultCall::open(session, &self.vault_name).await
    }

    /// `[collection, name, version]`.
    fn versioned<'a>(&'a self, collection: &'a str) -> [&'a str; 3] {
        [collection, &self.name, &self.version]
    }
}

/// A Key Vault object URL as az's `parse_key_vault_id` reads it: the vault is the host's first
/// label, then `/{collection}/{name}[/{version}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectId {
    pub(crate) vault_name: String,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
}

impl ObjectId {
    pub(crate) fn parse(id: &str) -> Result<Self, CliError> {
        let target = Target::parse_absolute(id).map_err(|_| invalid_id(id))?;
        let (vault_name, domain) = target.host.split_once('.').ok_or_else(|| invalid_id(id))?;
        if vault_name.is_empty() || domain.is_empty() {
            return Err(invalid_id(id));
        }
        let path = target
            .path_and_query
            .split(['?', '#'])
            .next()
            .unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        Ok(Self {
            vault_name: vault_name.to_owned(),
            name: segments.get(1).map(|name| (*name).to_owned()),
            version: segments.get(2).map(|version| (*version).to_owned()),
        })
    }
}

fn invalid_id(id: &str) -> CliError {
    CliError::Usage(format!(
        "invalid --id {id:?}: expected https://VAULT.vault.DOMAIN/certificates/NAME[/VERSION]"
    ))
}

/// The vault of `list` and `list-deleted`: `--vault-name` or the host of `--id`.
fn vault_of(args: &VaultIdArgs) -> Result<String, CliError> {
    match (&args.id, &args.vault_name) {
        (Some(id), _) => Ok(ObjectId::parse(id)?.vault_name),
        (None, Some(vault_name)) => Ok(vault_name.clone()),
        (None, None) => Err(CliError::Usage(
            "Please specify --vault-name or --hsm-name.".to_owned(),
        )),
    }
}

/// `{collection}/{name}/{suffix}` with `method`, without a body.
async fn call(
    session: &Session,
    args: &CertificateIdArgs,
    method: Method,
    collection: &str,
    suffix: &[&str],
) -> Result<Value, CliError> {
    let certificate = CertificateRef::new(args, None)?;
    let vault = certificate.open(session).await?;
    let segments: Vec<&str> = [collection, certificate.name.as_str()]
        .into_iter()
        .chain(suffix.iter().copied())
        .collect();
    let target = vault.target(&segments, None);
    session.call(method, &target, &vault.token).await
}

/// `certificate create`: az's `create_certificate`. POST `/certificates/{name}/create`, then
/// `/pending` until the operation is no longer in progress (at once for an `Unknown` issuer);
/// prints the operation, as az does.
async fn create(session: &Session, args: &CreateCertificateArgs) -> Result<Value, CliError> {
    let mut argument = PolicyArgument::parse(&args.policy)?;
    if let Some(months) = args.validity.filter(|months| *months != 0) {
        argument.set_validity(months);
    }
    let policy = RequestPolicy::read(&argument);
    if !policy.names_subject {
        return Err(CliError::Usage(NO_SAN_OR_SUBJECT.to_owned()));
    }
    let mut body = Map::new();
    body.insert("policy".to_owned(), policy.wire.clone());
    body.insert(
        "attributes".to_owned(),
        json!({ "enabled": !args.disabled.unwrap_or(false) }),
    );
    if let Some(tags) = &args.tags {
        body.insert("tags".to_owned(), tags_json(tags));
    }
    let name = args.certificate.name.as_str();
    let vault = VaultCall::open(session, &args.certificate.vault_name).await?;
    let target = vault.target(&["certificates", name, "create"], None);
    session
        .call_json(Method::POST, &target, &vault.token, &body)
        .await?;
    let pending = vault.target(&["certificates", name, "pending"], None);
    let mut operation = session.call(Method::GET, &pending, &vault.token).await?;
    if !policy.issuer_is_unknown() {
        let deadline = tokio::time::Instant::now() + CREATE_TIMEOUT;
        let mut interval = FIRST_POLL_INTERVAL;
        while in_progress(&operation) {
            if tokio::time::Instant::now() >= deadline {
                return Err(CliError::Usage(format!(
                    "the certificate operation of {name} is still in progress after {} s; \
                     see `keyvault certificate pending show`",
                    CREATE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(MAX_POLL_INTERVAL);
            operation = session.call(Method::GET, &pending, &vault.token).await?;
        }
    }
    Ok(cert_output::operation(&operation))
}

fn in_progress(operation: &Value) -> bool {
    operation["status"]
        .as_str()
        .is_some_and(|status| status.eq_ignore_ascii_case("inProgress"))
}

/// `CertificateImportParameters`: the file's bytes base64-encoded (the SDK does so for PFX and
/// PEM alike) and the password, both read only here.
#[derive(Serialize)]
struct CertificateImportParameters<'a> {
    value: SecretJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pwd: Option<SecretJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Value>,
}

/// `certificate import`: POST `/certificates/{name}/import`.
async fn import(session: &Session, args: &ImportCertificateArgs) -> Result<Value, CliError> {
    let bytes = Zeroizing::new(std::fs::read(&args.file).map_err(|error| {
        CliError::Usage(format!(
            "Unable to load certificate file '{}': {error}.",
            args.file.display()
        ))
    })?);
    let policy = match &args.policy {
        Some(raw) => {
            let mut argument = PolicyArgument::parse(raw)?;
            argument.default_content_type(holds_pem_certificate(&bytes));
            Some(RequestPolicy::read(&argument).wire)
        }
        None => None,
    };
    let value = SecretValue::new(STANDARD.encode(bytes.as_slice()));
    let body = CertificateImportParameters {
        value: SecretJson(&value),
        pwd: args.password.as_ref().map(SecretJson),
        policy,
        attributes: args
            .disabled
            .map(|disabled| json!({ "enabled": !disabled })),
        tags: args.tags.as_deref().map(tags_json),
    };
    let name = args.certificate.name.as_str();
    let vault = VaultCall::open(session, &args.certificate.vault_name).await?;
    let target = vault.target(&["certificates", name, "import"], None);
    let answer = session
        .call_json(Method::POST, &target, &vault.token, &body)
        .await?;
    Ok(cert_output::certificate(&answer))
}

/// Whether a file holds a PEM certificate (where az's OpenSSL `load_certificate(FILETYPE_PEM)`
/// succeeds); anything else is sent as PKCS#12.
pub(crate) fn holds_pem_certificate(bytes: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    bytes.windows(BEGIN.len()).any(|window| window == BEGIN)
}

/// `list` / `list-deleted`: every page, then the first `--maxresults` (az's
/// `keep_max_results`); `includePending` only when given, as the SDK sends it.
async fn list(
    session: &Session,
    args: &ListCertificatesArgs,
    deleted: bool,
) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &vault_of(&args.vault)?).await?;
    let collection = if deleted {
        "deletedcertificates"
    } else {
        "certificates"
    };
    let mut target = vault.target(&[collection], page_size(args.maxresults));
    if let Some(include_pending) = args.include_pending {
        target
            .path_and_query
            .push_str(&format!("&includePending={include_pending}"));
    }
    let items = session.list_all(target, &vault.token).await?;
    Ok(listed(
        cert_output::certificate_items(&items, deleted),
        args.maxresults,
    ))
}

/// `list-versions`: GET `/certificates/{name}/versions`, every page.
async fn list_versions(
    session: &Session,
    args: &ListCertificateVersionsArgs,
) -> Result<Value, CliError> {
    let certificate = CertificateRef::new(&args.certificate, None)?;
    let vault = certificate.open(session).await?;
    let target = vault.target(
        &["certificates", &certificate.name, "versions"],
        page_size(args.maxresults),
    );
    let items = session.list_all(target, &vault.token).await?;
    Ok(listed(
        cert_output::certificate_items(&items, false),
        args.maxresults,
    ))
}

fn listed(mut items: Vec<Value>, maxresults: Option<u32>) -> Value {
    if let Some(max) = maxresults.filter(|max| *max > 0) {
        items.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    Value::Array(items)
}

/// `set-attributes`: az's `set_attributes_certificate`. The policy first (PATCH
/// `/certificates/{name}/policy`), then PATCH the version when `--enabled` or `--tags` is
/// given; otherwise az prints the latest version (whatever `--version` said).
async fn set_attributes(
    session: &Session,
    args: &SetCertificateAttributesArgs,
) -> Result<Value, CliError> {
    let certificate = CertificateRef::new(&args.certificate, args.version.as_deref())?;
    let policy = args
        .policy
        .as_deref()
        .map(|raw| PolicyArgument::parse(raw).map(|argument| RequestPolicy::read(&argument)))
        .transpose()?;
    let vault = certificate.open(session).await?;
    let name = certificate.name.as_str();
    if let Some(policy) = policy {
        let target = vault.target(&["certificates", name, "policy"], None);
        session
            .call_json(Method::PATCH, &target, &vault.token, &policy.wire)
            .await?;
    }
    if args.enabled.is_none() && args.tags.is_none() {
        let target = vault.target(&["certificates", name, ""], None);
        let answer = session.call(Method::GET, &target, &vault.token).await?;
        return Ok(cert_output::certificate(&answer));
    }
    let mut body = Map::new();
    if let Some(enabled) = args.enabled {
        body.insert("attributes".to_owned(), json!({ "enabled": enabled }));
    }
    if let Some(tags) = &args.tags {
        body.insert("tags".to_owned(), tags_json(tags));
    }
    let target = vault.target(&certificate.versioned("certificates"), None);
    let answer = session
        .call_json(Method::PATCH, &target, &vault.token, &body)
        .await?;
    Ok(cert_output::certificate(&answer))
}

/// `backup`: POST `/certificates/{name}/backup`; the blob's bytes go to `--file`.
async fn backup(session: &Session, args: &BackupCertificateArgs) -> Result<(), CliError> {
    let certificate = CertificateRef::new(&args.certificate, None)?;
    let vault = certificate.open(session).await?;
    save_backup(
        session,
        &vault,
        "certificates",
        &certificate.name,
        &args.file,
    )
    .await
}

/// `restore`: POST `/certificates/restore` with the file's bytes as `value`.
async fn restore(session: &Session, args: &RestoreCertificateArgs) -> Result<Value, CliError> {
    let answer = restore_backup(session, &args.vault_name, "certificates", &args.file).await?;
    Ok(cert_output::certificate(&answer))
}

/// `download`: the version's `cer` to a new file, DER as it is or PEM (az's
/// `download_certificate`: refuses an existing path, removes a half-written file).
async fn download(session: &Session, args: &DownloadCertificateArgs) -> Result<(), CliError> {
    if args.file.exists() {
        return Err(CliError::Usage(format!(
            "File or directory named '{}' already exists.",
            args.file.display()
        )));
    }
    let certificate = CertificateRef::new(&args.certificate, args.version.as_deref())?;
    let vault = certificate.open(session).await?;
    let target = vault.target(&certificate.versioned("certificates"), None);
    let answer = session.call(Method::GET, &target, &vault.token).await?;
    let der = answer["cer"]
        .as_str()
        .and_then(|cer| STANDARD.decode(cer).ok())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "certificate {} has no X.509 certificate yet (its creation is pending)",
                certificate.name
            ))
        })?;
    let bytes = match args.encoding {
        "DER" => der,
        _ => pem_certificate(&der).into_bytes(),
    };
    write_new_file(&args.file, &bytes)
}

/// Python's `base64.encodebytes` (76-character lines, each ending in `\n`) between az's
/// `BEGIN`/`END CERTIFICATE` lines.
pub(crate) fn pem_certificate(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(76) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let result = write_file(&path.to_path_buf(), bytes);
    if result.is_err() {
        // As az: no half-written certificate is left behind.
        let _ = std::fs::remove_file(path);
    }
    result
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check_ref(id: Option<&str>, vault: Option<&str>, name: Option<&str>, expect: Expect) {
        let args = CertificateIdArgs {
            vault_name: vault.map(str::to_owned),
            name: name.map(str::to_owned),
            id: id.map(str::to_owned),
        };
        let result = match CertificateRef::new(&args, Some("v0")) {
            Ok(certificate) => format!("{certificate:?}"),
            Err(error) => error.line(),
        };
        expect.assert_eq(&result);
    }

    #[test]
    fn certificate_ids() {
        check_ref(
            Some("https://kv1.vault.localhost:4443/certificates/c1/0123abcd"),
            None,
            None,
            expect![[r#"CertificateRef { vault_name: "kv1", name: "c1", version: "0123abcd" }"#]],
        );
        check_ref(
            Some("https://kv1.vault.azure.net/deletedcertificates/c1"),
            None,
            None,
            expect![[r#"CertificateRef { vault_name: "kv1", name: "c1", version: "v0" }"#]],
        );
        check_ref(
            None,
            Some("kv1"),
            Some("c1"),
            expect![[r#"CertificateRef { vault_name: "kv1", name: "c1", version: "v0" }"#]],
        );
        check_ref(
            Some("https://kv1.vault.azure.net/certificates"),
            None,
            None,
            expect![[
                r#"ERROR: invalid --id "https://kv1.vault.azure.net/certificates": expected https://VAULT.vault.DOMAIN/certificates/NAME[/VERSION]"#
            ]],
        );
        check_ref(
            Some("localhost/certificates/c1"),
            None,
            None,
            expect![[
                r#"ERROR: invalid --id "localhost/certificates/c1": expected https://VAULT.vault.DOMAIN/certificates/NAME[/VERSION]"#
            ]],
        );
        let vault = VaultIdArgs {
            vault_name: None,
            id: Some("https://kv2.vault.localhost:4443/".to_owned()),
        };
        assert_eq!(vault_of(&vault).unwrap(), "kv2");
    }

    #[test]
    fn pem_like_python_encodebytes() {
        let der: Vec<u8> = (0..=120).collect();
        expect![[r#"
            -----BEGIN CERTIFICATE-----
            AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4
            OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx
            cnN0dXZ3eA==
            -----END CERTIFICATE-----
        "#]]
        .assert_eq(&pem_certificate(&der));
        assert!(holds_pem_certificate(pem_certificate(&der).as_bytes()));
        assert!(!holds_pem_certificate(&der));
    }
}
