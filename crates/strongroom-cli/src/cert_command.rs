//! The clap tree of `strongroom keyvault certificate …`, with `az keyvault certificate`'s
//! subcommands and flag names (azure-cli 2.91 `_params.py`, the track-2 certificate commands).
//!
//! az's "Id" argument group is [`CertificateIdArgs`]: `--id URL`, or `--vault-name` and
//! `--name/-n`. Passwords (`import --password`, `issuer create|update --password`) are parsed
//! straight into `SecretValue`s, so a `{:?}` of a command never prints one. `cert_ops.rs` and
//! `cert_admin.rs` execute these. `event list` is Strongroom's own: it reads the events that
//! certificates' `EmailContacts` lifetime actions recorded (Azure sends e-mail instead).

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Subcommand};
use strongroom_model::SecretValue;

use crate::command::parse_tag;
use crate::key_command::OneOf;

/// `--encoding` of `certificate download`.
pub(crate) const CERTIFICATE_ENCODINGS: &[&str] = &["PEM", "DER"];

/// `strongroom keyvault certificate …` (Key Vault data plane, certificates API)
#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Create a certificate (or a new version of it) from a policy and wait for it
    Create(CreateCertificateArgs),
    /// Import a certificate and its private key from a PFX or PEM file
    Import(ImportCertificateArgs),
    /// Show a certificate version (the latest unless --version is given)
    Show(ShowCertificateArgs),
    /// List the certificates of a vault
    List(ListCertificatesArgs),
    /// List the versions of a certificate
    ListVersions(ListCertificateVersionsArgs),
    /// List the deleted certificates of a vault
    ListDeleted(ListCertificatesArgs),
    /// Show a deleted certificate
    ShowDeleted(CertificateIdArgs),
    /// Delete a certificate (recoverable for the vault's retention period)
    Delete(CertificateIdArgs),
    /// Recover a deleted certificate
    Recover(CertificateIdArgs),
    /// Delete a deleted certificate for good
    Purge(CertificateIdArgs),
    /// Change a certificate's enabled state, tags or policy
    SetAttributes(SetCertificateAttributesArgs),
    /// Write a protected backup of a certificate (all versions) to a file
    Backup(BackupCertificateArgs),
    /// Restore a certificate from a backup file
    Restore(RestoreCertificateArgs),
    /// Write the public certificate (`cer`) to a file, PEM or DER
    Download(DownloadCertificateArgs),
    /// Print az's default certificate policy (self-signed, RSA 2048, 12 months)
    GetDefaultPolicy(DefaultPolicyArgs),
    /// Show, merge, delete or cancel a certificate's pending operation
    #[command(subcommand)]
    Pending(PendingCommand),
    /// Manage the vault's certificate contacts
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Manage the vault's certificate issuers
    #[command(subcommand)]
    Issuer(IssuerCommand),
    /// Read the events of certificates' lifetime actions (Strongroom only)
    #[command(subcommand)]
    Event(EventCommand),
}

/// az's "Id" group: `--id URL` or `--vault-name V --name N` (a version in the URL counts as
/// `--version`). For `show-deleted`, `recover` and `purge` the id is the recovery id.
#[derive(Debug, Args)]
pub struct CertificateIdArgs {
    /// Name of the Key Vault. Required if --id is not specified
    #[arg(long, required_unless_present = "id", conflicts_with = "id")]
    pub vault_name: Option<String>,
    /// Name of the certificate. Required if --id is not specified
    #[arg(
        long,
        short = 'n',
        required_unless_present = "id",
        conflicts_with = "id"
    )]
    pub name: Option<String>,
    /// Id of the certificate (or its recovery id). If specified all other 'Id' arguments
    /// should be omitted
    #[arg(long)]
    pub id: Option<String>,
}

/// `--id VAULT_URL` or `--vault-name V`: the vault of a list command.
#[derive(Debug, Args)]
pub struct VaultIdArgs {
    /// Name of the Key Vault. Required if --id is not specified
    #[arg(long, required_unless_present = "id", conflicts_with = "id")]
    pub vault_name: Option<String>,
    /// Full URI of the Vault. If specified all other 'Id' arguments should be omitted
    #[arg(long)]
    pub id: Option<String>,
}

/// `--vault-name V --name N`: a new certificate (no `--id`, as in az).
#[derive(Debug, Args)]
pub struct NewCertificateArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Name of the certificate
    #[arg(long, short = 'n')]
    pub name: String,
}

/// `certificate create`
#[derive(Debug, Args)]
pub struct CreateCertificateArgs {
    #[command(flatten)]
    pub certificate: NewCertificateArgs,
    /// JSON encoded policy definition. Use @{file} to load from a file (e.g. @my_policy.json)
    #[arg(long, short = 'p')]
    pub policy: String,
    /// Create certificate in disabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub disabled: Option<bool>,
    /// Number of months the certificate is valid for. Overrides the value specified with
    /// --policy/-p
    #[arg(long)]
    pub validity: Option<i64>,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `certificate import`
#[derive(Debug, Args)]
pub struct ImportCertificateArgs {
    #[command(flatten)]
    pub certificate: NewCertificateArgs,
    /// PKCS12 file or PEM file containing the certificate and private key
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    /// If the private key in certificate is encrypted, the password used for encryption
    #[arg(long, value_parser = parse_secret)]
    pub password: Option<SecretValue>,
    /// Import the certificate in disabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub disabled: Option<bool>,
    /// JSON encoded policy definition. Use @{file} to load from a file (e.g. @my_policy.json)
    #[arg(long, short = 'p')]
    pub policy: Option<String>,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `certificate show`
#[derive(Debug, Args)]
pub struct ShowCertificateArgs {
    #[command(flatten)]
    pub certificate: CertificateIdArgs,
    /// The certificate version. If omitted, uses the latest version
    #[arg(long, short = 'v')]
    pub version: Option<String>,
}

/// `certificate list` and `certificate list-deleted`
#[derive(Debug, Args)]
pub struct ListCertificatesArgs {
    #[command(flatten)]
    pub vault: VaultIdArgs,
    /// Maximum number of results to return in a page. If not specified, the service will
    /// return up to 25 results
    #[arg(long)]
    pub maxresults: Option<u32>,
    /// Specifies whether to include certificates which are not completely provisioned
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub include_pending: Option<bool>,
}

/// `certificate list-versions`
#[derive(Debug, Args)]
pub struct ListCertificateVersionsArgs {
    #[command(flatten)]
    pub certificate: CertificateIdArgs,
    /// Maximum number of results to return in a page. If not specified, the service will
    /// return up to 25 results
    #[arg(long)]
    pub maxresults: Option<u32>,
}

/// `certificate set-attributes`
#[derive(Debug, Args)]
pub struct SetCertificateAttributesArgs {
    #[command(flatten)]
    pub certificate: CertificateIdArgs,
    /// The certificate version. If omitted, uses the latest version
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// Enable the certificate
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub enabled: Option<bool>,
    /// JSON encoded policy definition. Use @{file} to load from a file (e.g. @my_policy.json)
    #[arg(long, short = 'p')]
    pub policy: Option<String>,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `certificate backup`
#[derive(Debug, Args)]
pub struct BackupCertificateArgs {
    #[command(flatten)]
    pub certificate: CertificateIdArgs,
    /// Local file path in which to store certificate backup
    #[arg(long, short = 'f')]
    pub file: PathBuf,
}

/// `certificate restore`
#[derive(Debug, Args)]
pub struct RestoreCertificateArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Local certificate backup from which to restore certificate
    #[arg(long, short = 'f')]
    pub file: PathBuf,
}

/// `certificate download`
#[derive(Debug, Args)]
pub struct DownloadCertificateArgs {
    #[command(flatten)]
    pub certificate: CertificateIdArgs,
    /// The certificate version. If omitted, uses the latest version
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// File to receive the binary certificate contents
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    /// Encoding of the certificate. DER will create a binary DER formatted x509 certificate,
    /// and PEM will create a base64 PEM x509 certificate
    #[arg(long, short = 'e', ignore_case = true, default_value = "PEM", value_parser = OneOf(CERTIFICATE_ENCODINGS))]
    pub encoding: &'static str,
}

/// `certificate get-default-policy`
#[derive(Debug, Args)]
pub struct DefaultPolicyArgs {
    /// Create a fully formed policy structure with default values
    #[arg(long)]
    pub scaffold: bool,
}

/// `strongroom keyvault certificate pending …`
#[derive(Debug, Subcommand)]
pub enum PendingCommand {
    /// Show the certificate's pending operation
    Show(PendingArgs),
    /// Merge a certificate or a chain signed outside the vault with its pending request
    Merge(MergeCertificateArgs),
    /// Delete the certificate's creation operation
    Delete(PendingArgs),
    /// Ask for the certificate's pending operation to be cancelled (Strongroom: as the SDK's
    /// `cancel_certificate_operation`; az 2.91 has no such command)
    Cancel(PendingArgs),
}

/// `--vault-name V --name N`: a pending certificate.
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Name of the pending certificate
    #[arg(long, short = 'n')]
    pub name: String,
}

/// `certificate pending merge`
#[derive(Debug, Args)]
pub struct MergeCertificateArgs {
    #[command(flatten)]
    pub pending: PendingArgs,
    /// File containing the certificate or certificate chain to merge (PEM; a DER file holds
    /// one certificate)
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    /// Create certificate in disabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub disabled: Option<bool>,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `strongroom keyvault certificate contact …`
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a contact to the vault's certificate contacts
    Add(AddContactArgs),
    /// List the vault's certificate contacts
    List(VaultNameArgs),
    /// Remove a contact from the vault's certificate contacts
    Delete(DeleteContactArgs),
}

/// `--vault-name V`
#[derive(Debug, Args)]
pub struct VaultNameArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
}

/// `certificate contact add`
#[derive(Debug, Args)]
pub struct AddContactArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Contact e-mail address. Must be unique
    #[arg(long)]
    pub email: String,
    /// Full contact name
    #[arg(long)]
    pub name: Option<String>,
    /// Contact phone number
    #[arg(long)]
    pub phone: Option<String>,
}

/// `certificate contact delete`
#[derive(Debug, Args)]
pub struct DeleteContactArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Contact e-mail address. Must be unique
    #[arg(long)]
    pub email: String,
}

/// `strongroom keyvault certificate issuer …`
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create (or replace) a certificate issuer record
    Create(CreateIssuerArgs),
    /// Update a certificate issuer record
    Update(UpdateIssuerArgs),
    /// List the vault's certificate issuers
    List(VaultNameArgs),
    /// Show a certificate issuer
    Show(IssuerArgs),
    /// Delete a certificate issuer
    Delete(IssuerArgs),
    /// Manage a certificate issuer's administrators
    #[command(subcommand)]
    Admin(IssuerAdminCommand),
}

/// `strongroom keyvault certificate issuer admin …`
#[derive(Debug, Subcommand)]
pub enum IssuerAdminCommand {
    /// Add an administrator to a certificate issuer
    Add(AddIssuerAdminArgs),
    /// List a certificate issuer's administrators
    List(IssuerArgs),
    /// Remove an administrator from a certificate issuer
    Delete(DeleteIssuerAdminArgs),
}

/// `certificate issuer admin add`
#[derive(Debug, Args)]
pub struct AddIssuerAdminArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Admin e-mail address. Must be unique within the vault
    #[arg(long)]
    pub email: String,
    /// Admin first name
    #[arg(long)]
    pub first_name: Option<String>,
    /// Admin last name
    #[arg(long)]
    pub last_name: Option<String>,
    /// Admin phone number
    #[arg(long)]
    pub phone: Option<String>,
}

/// `certificate issuer admin delete`
#[derive(Debug, Args)]
pub struct DeleteIssuerAdminArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Admin e-mail address. Must be unique within the vault
    #[arg(long)]
    pub email: String,
}

/// `--vault-name V --issuer-name I`
#[derive(Debug, Args)]
pub struct IssuerArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Certificate issuer name
    #[arg(long)]
    pub issuer_name: String,
}

/// The issuer's credentials and organization, as `create` and `update` take them.
#[derive(Debug, Args)]
pub struct IssuerDetailsArgs {
    /// The issuer account id/username/etc
    #[arg(long)]
    pub account_id: Option<String>,
    /// The issuer account password/secret/etc
    #[arg(long, value_parser = parse_secret)]
    pub password: Option<SecretValue>,
    /// The organization id
    #[arg(long)]
    pub organization_id: Option<String>,
}

/// `certificate issuer create`
#[derive(Debug, Args)]
pub struct CreateIssuerArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// The certificate provider name. Must be registered with your tenant ID and in your region
    #[arg(long)]
    pub provider_name: String,
    #[command(flatten)]
    pub details: IssuerDetailsArgs,
    /// Set issuer to disabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub disabled: Option<bool>,
}

/// `certificate issuer update`
#[derive(Debug, Args)]
pub struct UpdateIssuerArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// The certificate provider name. Must be registered with your tenant ID and in your region
    #[arg(long)]
    pub provider_name: Option<String>,
    #[command(flatten)]
    pub details: IssuerDetailsArgs,
    /// Set issuer enabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub enabled: Option<bool>,
}

/// `strongroom keyvault certificate event …` (Strongroom only)
#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// List the events certificates' lifetime actions recorded (`EmailContacts` notices)
    List(EventListArgs),
}

/// `certificate event list`
#[derive(Debug, Args)]
pub struct EventListArgs {
    /// Name of the Key Vault
    #[arg(long)]
    pub vault_name: String,
    /// Resource group (any name; vault names are unique deployment-wide)
    #[arg(long, short = 'g')]
    pub resource_group: Option<String>,
}

fn parse_secret(raw: &str) -> Result<SecretValue, std::convert::Infallible> {
    Ok(SecretValue::new(raw.to_owned()))
}
