//! The az-shaped command line: `strongroom keyvault …`, `strongroom ad sp …`, `strongroom user …`,
//! `strongroom env`.
//!
//! Owns: the clap tree for every subcommand except `serve` ([`CliCommand`]), running one
//! command ([`run`]), `az`-like output (2-space indented JSON on stdout) and exit codes, and a
//! small HTTPS client (`https.rs`).
//!
//! Must not touch: anything but the server's public HTTPS API (the identity token endpoint,
//! the management/Graph API, the Key Vault data plane). From the data directory it reads only
//! `admin.json`, `server.json` and `ca.pem`; it never opens the store or the keys.
//!
//! Invariants:
//! - TLS trusts exactly `DATA_DIR/ca.pem`; requests go to `server.json`'s `listen` address with
//!   SNI and `Host` set to the logical host, so `*.vault.localhost` need not resolve.
//! - Every failure is one `ERROR: <message>` line on stderr and exit code 1, never a panic.
//! - The client secret, tokens and secret values are `SecretValue`s; they reach stdout only
//!   when showing them is the command's purpose (`secret show`, `create-for-rbac`, `env`).
//! - `key import` turns a PEM private key into a JWK here (`key_import.rs`); the private key
//!   stays in zeroizing buffers and leaves only inside the `ImportKey` request body.
//! - `certificate import` reads the PFX or PEM into zeroizing buffers; it and its password leave
//!   only inside the `ImportCertificate` request body.
//!
//! Start reading at [`run`], then `command.rs` (the tree; `key_command.rs` for `keyvault key`,
//! `cert_command.rs` for `keyvault certificate`), `session.rs` (tokens and calls),
//! `endpoints.rs` (every URL) and `https.rs` (the wire).

mod admin;
mod audit;
mod az_time;
mod cert_admin;
mod cert_command;
mod cert_ops;
mod cert_output;
mod cert_policy;
mod certificates;
mod command;
mod credential_file;
mod datadir;
mod endpoints;
mod env;
mod error;
mod https;
mod identities;
mod key_command;
mod key_crypto;
mod key_import;
mod key_output;
mod keys;
mod keyvault;
mod principals;
mod secrets;
mod session;
mod sp_credentials;
#[cfg(test)]
mod test_peer;
mod users;
mod vault_app;
mod workload;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

pub use admin::read_passphrase;
pub use audit::{AuditListArgs, AuditResultArg, audit_list};
pub use cert_command::{
    AddContactArgs, AddIssuerAdminArgs, BackupCertificateArgs, CertificateCommand,
    CertificateIdArgs, ContactCommand, CreateCertificateArgs, CreateIssuerArgs, DefaultPolicyArgs,
    DeleteContactArgs, DeleteIssuerAdminArgs, DownloadCertificateArgs, EventCommand, EventListArgs,
    ImportCertificateArgs, IssuerAdminCommand, IssuerArgs, IssuerCommand, IssuerDetailsArgs,
    ListCertificateVersionsArgs, ListCertificatesArgs, MergeCertificateArgs, NewCertificateArgs,
    PendingArgs, PendingCommand, RestoreCertificateArgs, SetCertificateAttributesArgs,
    ShowCertificateArgs, UpdateIssuerArgs, VaultIdArgs, VaultNameArgs,
};
pub use command::{
    AdCommand, AdminCommand, CliCommand, CreateForRbacArgs, CreateVaultArgs, CredentialResetArgs,
    DEFAULT_RESOURCE_GROUP, DeletePolicyArgs, EnvArgs, HostArgs, IdentityArgs, IdentityCommand,
    IdentityCredentialCommand, IdentityCredentialCreateArgs, KeyPermissionArg, KeyvaultCommand,
    ListIdentitiesArgs, ListSecretsArgs, ListVaultsArgs, MasterKeyCommand, PrincipalArgs,
    SecretArgs, SecretCommand, SecretPermissionArg, SetPolicyArgs, SetSecretArgs, ShowSecretArgs,
    SkuArg, SpCommand, SpCredentialCommand, VaultArgs, VmCommand, VmIdentityCommand,
};
pub use env::{APP_SERVICE_PATH, ARC_PATH};
pub use key_command::{
    BackupKeyArgs, CreateKeyArgs, DecryptArgs, EncryptArgs, ImportKeyArgs, KeyArgs, KeyCommand,
    KeyOperationArgs, ListDeletedKeysArgs, ListKeyVersionsArgs, ListKeysArgs, NewKeyArgs,
    RandomArgs, ReleasePolicyArgs, RestoreKeyArgs, RotationPolicyCommand, RotationPolicyUpdateArgs,
    SetKeyAttributesArgs, ShowKeyArgs, SignArgs, VerifyArgs,
};
pub use users::{
    CreateUserArgs, ListUsersArgs, PASSWORD_ENV, PasswordArgs, SetPasswordArgs, UpdateUserArgs,
    UserCommand, UserIdArgs,
};
pub use workload::{
    AGENT_FILE, AgentInfo, FetchedToken, MINTED_SECRET_LIFETIME, TokenClient, WorkloadCredential,
    WorkloadError, create_agent_dir, new_workload_credential, read_credential_file,
    remove_workload_credential, write_private_file,
};

/// The agent's directory when `--agent-dir` is not given: `DATA_DIR/agent`.
pub fn default_agent_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("agent")
}

use crate::datadir::DataDir;
use crate::error::CliError;
use crate::session::Session;

/// Runs one command against the server described by `data_dir`.
///
/// Prints the result to stdout as `az` would (JSON via `serde_json::to_string_pretty`, or
/// `export` lines for `env`) and returns success; on failure prints one `ERROR: <message>`
/// line to stderr and returns exit code 1.
pub async fn run(data_dir: &Path, command: CliCommand) -> ExitCode {
    let result = match execute(data_dir, command).await {
        Ok(output) => write_output(&output),
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // If stderr is gone too there is no one left to tell.
            let _ = writeln!(std::io::stderr().lock(), "{}", error.line());
            ExitCode::FAILURE
        }
    }
}

/// `env --credential-file FILE [--proxy] [--vault V]`: the identity in the file, as the SDK's
/// client secret or (with --proxy) as proxy credentials, for the server the file names.
fn credential_file_env(file: &Path, args: &EnvArgs) -> Result<Output, CliError> {
    let vault = args.vault.as_deref().map(secrets::vault_name).transpose()?;
    let (credential, server) = credential_file::read(file)?;
    let client = (credential.client_id.as_str(), credential.secret.expose());
    let lines = if args.proxy {
        env::proxy_lines(&server, &credential.ca_file, Some(client), vault.as_ref())
    } else {
        env::client_lines(&server, &credential.ca_file, client, vault.as_ref())
    };
    Ok(Output::Text(lines))
}

/// What a command prints on success.
pub(crate) enum Output {
    Json(Value),
    Text(String),
    Nothing,
}

async fn execute(data_dir: &Path, command: CliCommand) -> Result<Output, CliError> {
    // A workload host has a credential file and no data directory.
    if let CliCommand::Env(args) = &command
        && let Some(file) = &args.credential_file
    {
        return credential_file_env(file, args);
    }
    let data = DataDir::load(data_dir)?;
    match command {
        CliCommand::Env(args) => {
            let vault = args.vault.as_deref().map(secrets::vault_name).transpose()?;
            if args.agent {
                let agent_dir = args
                    .agent_dir
                    .clone()
                    .unwrap_or_else(|| default_agent_dir(data_dir));
                let agent = workload::AgentInfo::read(&agent_dir)?;
                return Ok(Output::Text(env::agent_lines(
                    &data,
                    &agent,
                    args.port,
                    args.arc,
                    vault.as_ref(),
                )));
            }
            if args.proxy {
                let Some(identity) = &args.identity else {
                    return Ok(Output::Text(env::proxy_lines(
                        &data.server,
                        &data.ca_file,
                        None,
                        vault.as_ref(),
                    )));
                };
                let session = Session::open(data)?;
                let credential = workload::issue(
                    &session,
                    identity,
                    Some(("strongroom env --proxy", workload::MINTED_SECRET_LIFETIME)),
                )
                .await?;
                return Ok(Output::Text(env::proxy_lines(
                    &session.data.server,
                    &session.data.ca_file,
                    Some((&credential.client_id, credential.secret.expose())),
                    vault.as_ref(),
                )));
            }
            if args.admin {
                return Ok(Output::Text(env::export_lines(&data, vault.as_ref())));
            }
            let Some(vault) = vault else {
                return Err(CliError::Usage(
                    "`env` needs --vault V (that vault's own application principal), \
                     --credential-file, --agent or --proxy; --admin prints the administrator's \
                     credential for your own shell"
                        .to_owned(),
                ));
            };
            let session = Session::open(data)?;
            let app = vault_app::for_vault(&session, data_dir, &vault).await?;
            Ok(Output::Text(env::client_lines(
                &session.data.server,
                &session.data.ca_file,
                (&app.client_id, &app.client_secret),
                Some(&vault),
            )))
        }
        CliCommand::Identity(command) => {
            let session = Session::open(data)?;
            let json = match command {
                IdentityCommand::Create(args) => identities::create(&session, &args).await?,
                IdentityCommand::Show(args) => identities::show(&session, &args).await?,
                IdentityCommand::List(args) => identities::list(&session, &args).await?,
                IdentityCommand::Delete(args) => {
                    identities::delete(&session, &args).await?;
                    return Ok(Output::Nothing);
                }
                IdentityCommand::Credential(IdentityCredentialCommand::Create(args)) => {
                    credential_file::create(&session, &args.name, &args.out).await?
                }
            };
            Ok(Output::Json(json))
        }
        CliCommand::Vm(VmCommand::Create(args)) => {
            let session = Session::open(data)?;
            Ok(Output::Json(
                identities::create_host(&session, &args).await?,
            ))
        }
        CliCommand::Vm(VmCommand::Identity(VmIdentityCommand::Assign(args))) => {
            let session = Session::open(data)?;
            Ok(Output::Json(
                identities::assign_host(&session, &args).await?,
            ))
        }
        CliCommand::Ad(AdCommand::Sp(SpCommand::Credential(SpCredentialCommand::Reset(args)))) => {
            let session = Session::open(data)?;
            Ok(Output::Json(
                identities::reset_credential(&session, &args).await?,
            ))
        }
        CliCommand::Admin(AdminCommand::Rotate) => {
            let session = Session::open(data)?;
            Ok(Output::Json(admin::rotate(&session, data_dir).await?))
        }
        CliCommand::MasterKey(MasterKeyCommand::Rotate(args)) => {
            let session = Session::open(data)?;
            Ok(Output::Json(
                admin::rotate_master_key(&session, &args).await?,
            ))
        }
        CliCommand::Ad(AdCommand::Sp(SpCommand::Credential(SpCredentialCommand::List(args)))) => {
            let session = Session::open(data)?;
            Ok(Output::Json(sp_credentials::list(&session, &args).await?))
        }
        CliCommand::Ad(AdCommand::Sp(SpCommand::Credential(SpCredentialCommand::Delete(args)))) => {
            let session = Session::open(data)?;
            sp_credentials::delete(&session, &args).await?;
            Ok(Output::Nothing)
        }
        CliCommand::User(command) | CliCommand::Ad(AdCommand::User(command)) => {
            users::run(&Session::open(data)?, command).await
        }
        CliCommand::Keyvault(command) => keyvault_command(&Session::open(data)?, command).await,
        CliCommand::Ad(AdCommand::Sp(SpCommand::CreateForRbac(args))) => {
            let session = Session::open(data)?;
            Ok(Output::Json(
                principals::create_for_rbac(&session, &args).await?,
            ))
        }
    }
}

async fn keyvault_command(session: &Session, command: KeyvaultCommand) -> Result<Output, CliError> {
    let json = match command {
        KeyvaultCommand::Create(args) => keyvault::create(session, &args).await?,
        KeyvaultCommand::List(args) => keyvault::list(session, &args).await?,
        KeyvaultCommand::Show(args) => keyvault::show(session, &args).await?,
        KeyvaultCommand::Delete(args) => {
            keyvault::delete(session, &args).await?;
            return Ok(Output::Nothing);
        }
        KeyvaultCommand::SetPolicy(args) => keyvault::set_policy(session, &args).await?,
        KeyvaultCommand::DeletePolicy(args) => keyvault::delete_policy(session, &args).await?,
        KeyvaultCommand::Secret(command) => match command {
            SecretCommand::Set(args) => secrets::set(session, &args).await?,
            SecretCommand::Show(args) => secrets::show(session, &args).await?,
            SecretCommand::List(args) => secrets::list(session, &args).await?,
            SecretCommand::Delete(args) => secrets::delete(session, &args).await?,
        },
        KeyvaultCommand::Key(command) => return keys::run(session, *command).await,
        KeyvaultCommand::Certificate(command) => return cert_ops::run(session, *command).await,
    };
    Ok(Output::Json(json))
}

fn write_output(output: &Output) -> Result<(), CliError> {
    let text = render(output)?;
    if text.is_empty() {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(CliError::Output)
}

/// What goes to stdout: JSON as `az` prints it (2-space indent, final newline) or the text.
fn render(output: &Output) -> Result<String, CliError> {
    match output {
        Output::Json(json) => {
            let mut text = serde_json::to_string_pretty(json)
                .map_err(|error| CliError::Output(std::io::Error::other(error)))?;
            text.push('\n');
            Ok(text)
        }
        Output::Text(text) => Ok(text.clone()),
        Output::Nothing => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests;
