//! The clap command tree for every subcommand except `serve`, spelled the way `az` spells it.
//!
//! Only the shape of the arguments lives here; `run` in `lib.rs` sends each variant to the
//! module that executes it. Secret values are parsed straight into `SecretValue`, so a
//! `{:?}` of a command never prints one.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use strongroom_model::{CertificatePermission, KeyPermission, SecretPermission, SecretValue};

use crate::cert_command::CertificateCommand;
use crate::key_command::KeyCommand;
use crate::users::UserCommand;

/// Resource group used when `--resource-group` is not given. Vault names are unique in the
/// whole deployment, so the group only shows up in resource ids.
pub const DEFAULT_RESOURCE_GROUP: &str = "strongroom";

/// Everything `strongroom` does besides `serve`: the `az`-shaped verbs and `env`.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Manage vaults, their access policies and their secrets (like `az keyvault`)
    #[command(subcommand)]
    Keyvault(KeyvaultCommand),
    /// Manage service principals (like `az ad`)
    #[command(subcommand)]
    Ad(AdCommand),
    /// Manage user accounts: people who sign in with a password (like `az ad user`)
    #[command(subcommand)]
    User(UserCommand),
    /// Manage user-assigned managed identities (like `az identity`)
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Manage the system-assigned identities of hosts (like `az vm identity`)
    #[command(subcommand)]
    Vm(VmCommand),
    /// Print `export` lines that point Azure SDKs at this Strongroom server
    Env(EnvArgs),
    /// The deployment administrator's own credential
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The master key that seals every vault's data key
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
}

/// `strongroom master-key …`
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Re-seal every vault's data key and the deployment's own keys under a new master key,
    /// inside the running server (no downtime); the old key opens nothing afterwards
    Rotate(MasterKeyRotateArgs),
}

#[derive(Debug, clap::Args)]
pub struct MasterKeyRotateArgs {
    /// For a deployment whose key is derived from a passphrase: the new passphrase, read from
    /// this file as `serve --master-passphrase-file` will read it
    #[arg(long, conflicts_with = "new_passphrase_stdin")]
    pub new_passphrase_file: Option<std::path::PathBuf>,
    /// As --new-passphrase-file, reading the first line of stdin
    #[arg(long)]
    pub new_passphrase_stdin: bool,
}

/// `strongroom admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Replace the administrator's client secret: a new one goes into admin.json, then every
    /// older credential is deleted, so tokens obtained with them stop working at once
    Rotate,
}

/// `strongroom identity …`
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create a user-assigned identity (or show it when it exists)
    Create(IdentityArgs),
    /// Show a user-assigned identity
    Show(IdentityArgs),
    /// List the user-assigned identities
    List(ListIdentitiesArgs),
    /// Delete an identity and every credential it has
    Delete(IdentityArgs),
    /// Issue an identity's credential into a file for a workload host
    #[command(subcommand)]
    Credential(IdentityCredentialCommand),
}

/// `strongroom identity credential …`
#[derive(Debug, Subcommand)]
pub enum IdentityCredentialCommand {
    /// Make a new client secret of the identity and write it, with the server's address and
    /// CA, to a file (0600) that `agent --credential-file` and `env --credential-file` take,
    /// so the workload host needs no administrator credential
    Create(IdentityCredentialCreateArgs),
}

/// `identity credential create --name N --out FILE`
#[derive(Debug, Args)]
pub struct IdentityCredentialCreateArgs {
    /// Name of the identity (a user-assigned identity, or a host after `vm identity assign`)
    #[arg(long, short = 'n')]
    pub name: String,
    /// The credential file to write; `ca.pem` is written beside it
    #[arg(long)]
    pub out: PathBuf,
}

/// `--name N [--resource-group G]`: one identity.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// Name of the identity
    #[arg(long, short = 'n')]
    pub name: String,
    /// Resource group (any name; identity names are unique deployment-wide)
    #[arg(long, short = 'g', default_value = DEFAULT_RESOURCE_GROUP)]
    pub resource_group: String,
}

/// `identity list`
#[derive(Debug, Args)]
pub struct ListIdentitiesArgs {
    /// Resource group (accepted for `az` compatibility; every identity is listed)
    #[arg(long, short = 'g')]
    pub resource_group: Option<String>,
}

/// `strongroom vm …`
#[derive(Debug, Subcommand)]
pub enum VmCommand {
    /// Register a workload host (what `az vm identity assign --name HOST` then finds)
    Create(VmCreateArgs),
    /// Manage a host's system-assigned identity
    #[command(subcommand)]
    Identity(VmIdentityCommand),
}

/// `vm create --name HOST [--resource-group G] [--location L]`
#[derive(Debug, Args)]
pub struct VmCreateArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// Location of the host (any name)
    #[arg(long, short = 'l', default_value = "local")]
    pub location: String,
}

/// `strongroom vm identity …`
#[derive(Debug, Subcommand)]
pub enum VmIdentityCommand {
    /// Give a host its system-assigned identity (the same one when it has one)
    Assign(HostArgs),
}

/// `--name HOST [--resource-group G]`
#[derive(Debug, Args)]
pub struct HostArgs {
    /// Name of the host
    #[arg(long, short = 'n')]
    pub name: String,
    /// Resource group (any name)
    #[arg(long, short = 'g', default_value = DEFAULT_RESOURCE_GROUP)]
    pub resource_group: String,
}

/// `strongroom keyvault …`
#[derive(Debug, Subcommand)]
pub enum KeyvaultCommand {
    /// Create a vault (or update an existing one); the caller gets every permission on it
    Create(CreateVaultArgs),
    /// List the vaults of the deployment (or of one resource group)
    List(ListVaultsArgs),
    /// Show a vault
    Show(VaultArgs),
    /// Delete a vault and everything in it
    Delete(VaultArgs),
    /// Grant a principal secret and key permissions on a vault
    SetPolicy(SetPolicyArgs),
    /// Remove a principal's access policy from a vault
    DeletePolicy(DeletePolicyArgs),
    /// Manage the secrets in a vault
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Manage the keys in a vault and use them
    // Boxed: its arguments dwarf every other command's.
    #[command(subcommand)]
    Key(Box<KeyCommand>),
    /// Manage the certificates in a vault, their contacts and issuers
    // Boxed like `Key`.
    #[command(subcommand)]
    Certificate(Box<CertificateCommand>),
}

/// `--name V [--resource-group G]`: one vault through the management API.
#[derive(Debug, Args)]
pub struct VaultArgs {
    /// Name of the vault
    #[arg(long, short = 'n')]
    pub name: String,
    /// Resource group (any name; vault names are unique deployment-wide)
    #[arg(long, short = 'g', default_value = DEFAULT_RESOURCE_GROUP)]
    pub resource_group: String,
}

/// `keyvault create`
#[derive(Debug, Args)]
pub struct CreateVaultArgs {
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Days a deleted secret stays recoverable (7-90); the server's default when left out
    #[arg(long)]
    pub retention_days: Option<u32>,
    /// Location of the vault (Strongroom has one: `local`)
    #[arg(long, short = 'l', default_value = "local")]
    pub location: String,
    /// Pricing tier of the vault (`premium` allows HSM-protected keys)
    #[arg(long, value_enum, ignore_case = true, default_value = "standard")]
    pub sku: SkuArg,
}

/// A value of `keyvault create --sku` (ARM `properties.sku.name`, family `A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SkuArg {
    Standard,
    Premium,
}

impl SkuArg {
    /// The ARM name: `standard` or `premium`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
        }
    }
}

/// `keyvault list`
#[derive(Debug, Args)]
pub struct ListVaultsArgs {
    /// List only the vaults of this resource group
    #[arg(long, short = 'g')]
    pub resource_group: Option<String>,
}

/// Who an access policy is about: `--spn APPID` or `--object-id OID`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PrincipalArgs {
    /// Application (client) id of a service principal
    #[arg(long)]
    pub spn: Option<String>,
    /// Object id of a principal
    #[arg(long)]
    pub object_id: Option<String>,
}

/// `keyvault set-policy`: at least one of `--secret-permissions`, `--key-permissions`,
/// `--certificate-permissions` (as az).
#[derive(Debug, Args)]
#[group(id = "permissions", required = true, multiple = true, args = ["secret_permissions", "key_permissions", "certificate_permissions"])]
pub struct SetPolicyArgs {
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub principal: PrincipalArgs,
    /// Secret permissions to add to the principal's policy
    #[arg(long, num_args = 1.., ignore_case = true)]
    pub secret_permissions: Vec<SecretPermissionArg>,
    /// Key permissions to add to the principal's policy
    #[arg(long, num_args = 1.., ignore_case = true)]
    pub key_permissions: Vec<KeyPermissionArg>,
    /// Certificate permissions to add to the principal's policy
    #[arg(long, num_args = 1.., ignore_case = true)]
    pub certificate_permissions: Vec<CertificatePermissionArg>,
}

/// `keyvault delete-policy`
#[derive(Debug, Args)]
pub struct DeletePolicyArgs {
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub principal: PrincipalArgs,
}

/// A value of `--secret-permissions`, as `az` accepts them (`all` means every permission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretPermissionArg {
    All,
    Backup,
    Delete,
    Get,
    List,
    Purge,
    Recover,
    Restore,
    Set,
}

impl SecretPermissionArg {
    /// The model's permissions this value stands for.
    #[must_use]
    pub fn permissions(self) -> Vec<SecretPermission> {
        match self {
            Self::All => SecretPermission::ALL.to_vec(),
            Self::Backup => vec![SecretPermission::Backup],
            Self::Delete => vec![SecretPermission::Delete],
            Self::Get => vec![SecretPermission::Get],
            Self::List => vec![SecretPermission::List],
            Self::Purge => vec![SecretPermission::Purge],
            Self::Recover => vec![SecretPermission::Recover],
            Self::Restore => vec![SecretPermission::Restore],
            Self::Set => vec![SecretPermission::Set],
        }
    }
}

/// A value of `--key-permissions`, as az accepts them (any case; `all` means every permission).
/// Names are ARM's: `unwrapKey`, `wrapKey`, `getrotationpolicy`, `setrotationpolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyPermissionArg {
    All,
    Get,
    List,
    Update,
    Create,
    Import,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
    Decrypt,
    Encrypt,
    #[value(name = "unwrapKey")]
    UnwrapKey,
    #[value(name = "wrapKey")]
    WrapKey,
    Verify,
    Sign,
    Release,
    Rotate,
    #[value(name = "getrotationpolicy")]
    GetRotationPolicy,
    #[value(name = "setrotationpolicy")]
    SetRotationPolicy,
}

impl KeyPermissionArg {
    /// The model's permissions this value stands for (`all` is every one, in Azure's order).
    #[must_use]
    pub fn permissions(self) -> Vec<KeyPermission> {
        use KeyPermission as K;
        match self {
            Self::All => KeyPermission::ALL.to_vec(),
            Self::Get => vec![K::Get],
            Self::List => vec![K::List],
            Self::Update => vec![K::Update],
            Self::Create => vec![K::Create],
            Self::Import => vec![K::Import],
            Self::Delete => vec![K::Delete],
            Self::Recover => vec![K::Recover],
            Self::Backup => vec![K::Backup],
            Self::Restore => vec![K::Restore],
            Self::Purge => vec![K::Purge],
            Self::Decrypt => vec![K::Decrypt],
            Self::Encrypt => vec![K::Encrypt],
            Self::UnwrapKey => vec![K::UnwrapKey],
            Self::WrapKey => vec![K::WrapKey],
            Self::Verify => vec![K::Verify],
            Self::Sign => vec![K::Sign],
            Self::Release => vec![K::Release],
            Self::Rotate => vec![K::Rotate],
            Self::GetRotationPolicy => vec![K::GetRotationPolicy],
            Self::SetRotationPolicy => vec![K::SetRotationPolicy],
        }
    }

    /// The ARM names this value stands for.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.permissions()
            .into_iter()
            .map(KeyPermission::as_str)
            .collect()
    }
}

/// A value of `--certificate-permissions`, as az accepts them (any case; `all` means every
/// permission). ARM spells them all in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CertificatePermissionArg {
    All,
    Get,
    List,
    Update,
    Create,
    Import,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
    #[value(name = "managecontacts")]
    ManageContacts,
    #[value(name = "manageissuers")]
    ManageIssuers,
    #[value(name = "getissuers")]
    GetIssuers,
    #[value(name = "listissuers")]
    ListIssuers,
    #[value(name = "setissuers")]
    SetIssuers,
    #[value(name = "deleteissuers")]
    DeleteIssuers,
}

impl CertificatePermissionArg {
    /// The ARM names this value stands for (`all` is every one).
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        use CertificatePermission as C;
        let permissions = match self {
            Self::All => C::ALL.to_vec(),
            Self::Get => vec![C::Get],
            Self::List => vec![C::List],
            Self::Update => vec![C::Update],
            Self::Create => vec![C::Create],
            Self::Import => vec![C::Import],
            Self::Delete => vec![C::Delete],
            Self::Recover => vec![C::Recover],
            Self::Backup => vec![C::Backup],
            Self::Restore => vec![C::Restore],
            Self::Purge => vec![C::Purge],
            Self::ManageContacts => vec![C::ManageContacts],
            Self::ManageIssuers => vec![C::ManageIssuers],
            Self::GetIssuers => vec![C::GetIssuers],
            Self::ListIssuers => vec![C::ListIssuers],
            Self::SetIssuers => vec![C::SetIssuers],
            Self::DeleteIssuers => vec![C::DeleteIssuers],
        };
        permissions.into_iter().map(C::as_str).collect()
    }
}

/// `strongroom keyvault secret …` (Key Vault data plane)
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret, or a new version of it
    Set(SetSecretArgs),
    /// Show a secret (its latest version unless `--version` is given), value included
    Show(ShowSecretArgs),
    /// List the secrets of a vault (without values)
    List(ListSecretsArgs),
    /// Delete a secret (it stays recoverable for the vault's retention period)
    Delete(SecretArgs),
}

/// `--vault-name V --name N`: one secret.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
    /// Name of the secret
    #[arg(long, short = 'n')]
    pub name: String,
}

/// `keyvault secret set`
#[derive(Debug, Args)]
#[group(id = "secret_value_source", required = true, multiple = false, args = ["value", "file"])]
pub struct SetSecretArgs {
    #[command(flatten)]
    pub secret: SecretArgs,
    /// The secret's value
    #[arg(long, value_parser = parse_secret_value)]
    pub value: Option<SecretValue>,
    /// Read the secret's value from this file (UTF-8) instead of the command line
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
    /// Content type of the value (e.g. `text/plain`)
    #[arg(long)]
    pub content_type: Option<String>,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `keyvault secret show`
#[derive(Debug, Args)]
pub struct ShowSecretArgs {
    #[command(flatten)]
    pub secret: SecretArgs,
    /// A version of the secret; the latest when left out
    #[arg(long, short = 'v')]
    pub version: Option<String>,
}

/// `keyvault secret list`
#[derive(Debug, Args)]
pub struct ListSecretsArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
}

/// `strongroom ad …`
#[derive(Debug, Subcommand)]
pub enum AdCommand {
    /// Manage service principals
    #[command(subcommand)]
    Sp(SpCommand),
    /// Manage user accounts (the same as `strongroom user`)
    #[command(subcommand)]
    User(UserCommand),
}

/// `strongroom ad sp …`
#[derive(Debug, Subcommand)]
pub enum SpCommand {
    /// Create a service principal with a client secret and print its credentials
    CreateForRbac(CreateForRbacArgs),
    /// Manage a service principal's credentials
    #[command(subcommand)]
    Credential(SpCredentialCommand),
}

/// `strongroom ad sp credential …`
#[derive(Debug, Subcommand)]
pub enum SpCredentialCommand {
    /// Replace a principal's credentials with a new client secret (or certificate) and print
    /// it; with --append the older ones stay valid
    Reset(CredentialResetArgs),
    /// List a principal's client secrets (with --cert, its certificates)
    List(CredentialListArgs),
    /// Delete one credential; tokens obtained with it stop working
    Delete(CredentialDeleteArgs),
}

/// `ad sp credential reset`
#[derive(Debug, Args)]
pub struct CredentialResetArgs {
    /// Application (client) id of the principal (a managed identity's clientId works too)
    #[arg(long)]
    pub id: String,
    /// Keep the existing credentials (default: they are deleted once the new one exists)
    #[arg(long)]
    pub append: bool,
    #[command(flatten)]
    pub cert: CreateCertArgs,
}

/// `ad sp credential list`
#[derive(Debug, Args)]
pub struct CredentialListArgs {
    /// Application (client) id of the principal
    #[arg(long)]
    pub id: String,
    /// List certificate credentials instead of client secrets
    #[arg(long)]
    pub cert: bool,
}

/// `ad sp credential delete`
#[derive(Debug, Args)]
pub struct CredentialDeleteArgs {
    /// Application (client) id of the principal
    #[arg(long)]
    pub id: String,
    /// The credential's keyId (from `credential list`)
    #[arg(long)]
    pub key_id: String,
    /// The credential is a certificate
    #[arg(long)]
    pub cert: bool,
}

/// `--create-cert [--cert-dir D]`: a certificate credential instead of a client secret.
#[derive(Debug, Args)]
pub struct CreateCertArgs {
    /// Create a self-signed certificate (RSA-2048, one year) and register it instead of a
    /// client secret; the private key is written only to a local PEM file (0600)
    #[arg(long)]
    pub create_cert: bool,
    /// Directory for the PEM file with the certificate and its private key (default: the
    /// current directory)
    #[arg(long, requires = "create_cert")]
    pub cert_dir: Option<std::path::PathBuf>,
}

/// `ad sp create-for-rbac`
#[derive(Debug, Args)]
pub struct CreateForRbacArgs {
    /// Display name of the new service principal
    #[arg(long, short = 'n')]
    pub name: String,
    #[command(flatten)]
    pub cert: CreateCertArgs,
}

/// `strongroom env`
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Export `AZURE_KEYVAULT_URL` for this vault; alone, also the credential of the vault's
    /// own application principal (made on first use, with access to this vault only)
    #[arg(long)]
    pub vault: Option<String>,
    /// The deployment administrator's credential, for the operator's own shell (never give
    /// it to an application: use --vault)
    #[arg(long, conflicts_with_all = ["agent", "proxy", "credential_file"])]
    pub admin: bool,
    /// Managed identity through `strongroom agent` (App Service protocol) instead of the
    /// administrator's client secret
    #[arg(long, conflicts_with = "proxy")]
    pub agent: bool,
    /// With --agent: the Azure Arc protocol (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`)
    #[arg(long, requires = "agent")]
    pub arc: bool,
    /// With --agent: the agent's directory (default: DATA_DIR/agent)
    #[arg(long, requires = "agent")]
    pub agent_dir: Option<PathBuf>,
    /// With --agent: the agent's port (default: the port in the agent's agent.json)
    #[arg(long, requires = "agent")]
    pub port: Option<u16>,
    /// Transparent mode: `HTTPS_PROXY`/`HTTP_PROXY` with proxy credentials
    #[arg(long)]
    pub proxy: bool,
    /// With --proxy: the managed identity the proxy credentials prove (a new client secret)
    #[arg(long, requires = "proxy", conflicts_with = "credential_file")]
    pub identity: Option<String>,
    /// The identity's credential file (`identity credential create --out`): its secret as
    /// `AZURE_CLIENT_SECRET`, or with --proxy as proxy credentials. Needs no data directory.
    #[arg(long, conflicts_with = "agent")]
    pub credential_file: Option<PathBuf>,
}

fn parse_secret_value(raw: &str) -> Result<SecretValue, std::convert::Infallible> {
    Ok(SecretValue::new(raw.to_owned()))
}

/// `key=value` or `key` (empty value), as `az --tags` reads them.
pub(crate) fn parse_tag(raw: &str) -> Result<(String, String), String> {
    let (key, value) = raw.split_once('=').unwrap_or((raw, ""));
    if key.is_empty() {
        return Err(format!("tag {raw:?} has no key (expected key=value)"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Parses `strongroom <args>` the way the binary does, for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn parse_for_test(args: &[&str]) -> CliCommand {
    use clap::Parser;
    tests::TestCli::parse_from(std::iter::once(&"strongroom").chain(args)).command
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use expect_test::{Expect, expect};

    use super::CliCommand;

    /// Stands in for the binary's parser: `strongroom [--data-dir D] <CliCommand>`, with the
    /// same global flag and `--version` so `debug_assert` sees the same conflicts.
    #[derive(Debug, Parser)]
    #[command(name = "strongroom", version)]
    pub(super) struct TestCli {
        #[arg(long, default_value = "strongroom-data", global = true)]
        data_dir: std::path::PathBuf,
        #[command(subcommand)]
        pub(super) command: CliCommand,
    }

    #[track_caller]
    fn check(args: &str, expect: Expect) {
        let argv = std::iter::once("strongroom").chain(args.split_whitespace());
        let actual = match TestCli::try_parse_from(argv) {
            Ok(cli) => format!("{:?}", cli.command),
            Err(error) => format!("error: {:?}", error.kind()),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn vault_management_commands() {
        check(
            "keyvault create --name v1",
            expect![[
                r#"Keyvault(Create(CreateVaultArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, retention_days: None, location: "local", sku: Standard }))"#
            ]],
        );
        check(
            "keyvault create -n v1 -g rg1 --retention-days 7",
            expect![[
                r#"Keyvault(Create(CreateVaultArgs { vault: VaultArgs { name: "v1", resource_group: "rg1" }, retention_days: Some(7), location: "local", sku: Standard }))"#
            ]],
        );
        check(
            "keyvault create",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "keyvault create --name v1 --retention-days x",
            expect![[r#"error: ValueValidation"#]],
        );
        check(
            "keyvault list",
            expect![[r#"Keyvault(List(ListVaultsArgs { resource_group: None }))"#]],
        );
        check(
            "keyvault show --name v1",
            expect![[r#"Keyvault(Show(VaultArgs { name: "v1", resource_group: "strongroom" }))"#]],
        );
        check(
            "keyvault delete --name v1",
            expect![[
                r#"Keyvault(Delete(VaultArgs { name: "v1", resource_group: "strongroom" }))"#
            ]],
        );
    }

    #[test]
    fn policy_commands() {
        check(
            "keyvault set-policy --name v1 --spn app-1 --secret-permissions get list",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: Some("app-1"), object_id: None }, secret_permissions: [Get, List], key_permissions: [], certificate_permissions: [] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --object-id oid-1 --secret-permissions ALL",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: None, object_id: Some("oid-1") }, secret_permissions: [All], key_permissions: [], certificate_permissions: [] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --object-id b --secret-permissions get",
            expect![[r#"error: ArgumentConflict"#]],
        );
        check(
            "keyvault set-policy --name v1 --secret-permissions get",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "keyvault set-policy --name v1 --spn a",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --secret-permissions fly",
            expect![[r#"error: InvalidValue"#]],
        );
        check(
            "keyvault delete-policy --name v1 --object-id oid-1",
            expect![[
                r#"Keyvault(DeletePolicy(DeletePolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: None, object_id: Some("oid-1") } }))"#
            ]],
        );
    }

    #[test]
    fn secret_commands_never_print_the_value() {
        check(
            "keyvault secret set --vault-name v1 --name s1 --value hunter2",
            expect![[
                r#"Keyvault(Secret(Set(SetSecretArgs { secret: SecretArgs { vault_name: "v1", name: "s1" }, value: Some(SecretValue(<redacted>)), file: None, content_type: None, tags: None })))"#
            ]],
        );
        check(
            "keyvault secret set --vault-name v1 --name s1 --value x --content-type text/plain --tags a=1 b c=d=e",
            expect![[
                r#"Keyvault(Secret(Set(SetSecretArgs { secret: SecretArgs { vault_name: "v1", name: "s1" }, value: Some(SecretValue(<redacted>)), file: None, content_type: Some("text/plain"), tags: Some([("a", "1"), ("b", ""), ("c", "d=e")]) })))"#
            ]],
        );
        check(
            "keyvault secret set --vault-name v1 --name s1 --file /tmp/v",
            expect![[
                r#"Keyvault(Secret(Set(SetSecretArgs { secret: SecretArgs { vault_name: "v1", name: "s1" }, value: None, file: Some("/tmp/v"), content_type: None, tags: None })))"#
            ]],
        );
        check(
            "keyvault secret set --vault-name v1 --name s1",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "keyvault secret set --vault-name v1 --name s1 --value x --file /tmp/v",
            expect![[r#"error: ArgumentConflict"#]],
        );
        check(
            "keyvault secret set --vault-name v1 --name s1 --value x --tags =1",
            expect![[r#"error: ValueValidation"#]],
        );
        check(
            "keyvault secret show --vault-name v1 --name s1",
            expect![[
                r#"Keyvault(Secret(Show(ShowSecretArgs { secret: SecretArgs { vault_name: "v1", name: "s1" }, version: None })))"#
            ]],
        );
        check(
            "keyvault secret show --vault-name v1 --name s1 --version 0123",
            expect![[
                r#"Keyvault(Secret(Show(ShowSecretArgs { secret: SecretArgs { vault_name: "v1", name: "s1" }, version: Some("0123") })))"#
            ]],
        );
        check(
            "keyvault secret list --vault-name v1",
            expect![[r#"Keyvault(Secret(List(ListSecretsArgs { vault_name: "v1" })))"#]],
        );
        check(
            "keyvault secret delete --vault-name v1 --name s1",
            expect![[r#"Keyvault(Secret(Delete(SecretArgs { vault_name: "v1", name: "s1" })))"#]],
        );
    }

    #[test]
    fn principal_and_env_commands() {
        check(
            "ad sp create-for-rbac --name app1",
            expect![[
                r#"Ad(Sp(CreateForRbac(CreateForRbacArgs { name: "app1", cert: CreateCertArgs { create_cert: false, cert_dir: None } })))"#
            ]],
        );
        check(
            "ad sp create-for-rbac",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "env",
            expect![
                "Env(EnvArgs { vault: None, admin: false, agent: false, arc: false, agent_dir: None, port: None, proxy: false, identity: None, credential_file: None })"
            ],
        );
        check(
            "env --vault v1",
            expect![[
                r#"Env(EnvArgs { vault: Some("v1"), admin: false, agent: false, arc: false, agent_dir: None, port: None, proxy: false, identity: None, credential_file: None })"#
            ]],
        );
        check(
            "env --agent --port 7 --agent-dir /a --arc",
            expect![[
                r#"Env(EnvArgs { vault: None, admin: false, agent: true, arc: true, agent_dir: Some("/a"), port: Some(7), proxy: false, identity: None, credential_file: None })"#
            ]],
        );
        check(
            "env --proxy --identity web",
            expect![[
                r#"Env(EnvArgs { vault: None, admin: false, agent: false, arc: false, agent_dir: None, port: None, proxy: true, identity: Some("web"), credential_file: None })"#
            ]],
        );
        check(
            "env --port 7",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "env --identity web",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check(
            "env --agent --proxy",
            expect![[r#"error: ArgumentConflict"#]],
        );
        check(
            "identity create --name web -g rg",
            expect![[r#"Identity(Create(IdentityArgs { name: "web", resource_group: "rg" }))"#]],
        );
        check(
            "identity list",
            expect![[r#"Identity(List(ListIdentitiesArgs { resource_group: None }))"#]],
        );
        check(
            "vm identity assign --name host1",
            expect![[
                r#"Vm(Identity(Assign(HostArgs { name: "host1", resource_group: "strongroom" })))"#
            ]],
        );
        check(
            "ad sp credential reset --id app-1 --append",
            expect![[
                r#"Ad(Sp(Credential(Reset(CredentialResetArgs { id: "app-1", append: true, cert: CreateCertArgs { create_cert: false, cert_dir: None } }))))"#
            ]],
        );
        check(
            "ad sp credential list --id app-1 --cert",
            expect![[
                r#"Ad(Sp(Credential(List(CredentialListArgs { id: "app-1", cert: true }))))"#
            ]],
        );
        check(
            "ad sp credential delete --id app-1 --key-id k-1",
            expect![[
                r#"Ad(Sp(Credential(Delete(CredentialDeleteArgs { id: "app-1", key_id: "k-1", cert: false }))))"#
            ]],
        );
        check(
            "ad sp credential reset --id app-1",
            expect![[
                r#"Ad(Sp(Credential(Reset(CredentialResetArgs { id: "app-1", append: false, cert: CreateCertArgs { create_cert: false, cert_dir: None } }))))"#
            ]],
        );
        check(
            "ad sp credential reset --id app-1 --create-cert --cert-dir /certs",
            expect![[
                r#"Ad(Sp(Credential(Reset(CredentialResetArgs { id: "app-1", append: false, cert: CreateCertArgs { create_cert: true, cert_dir: Some("/certs") } }))))"#
            ]],
        );
        check(
            "ad sp create-for-rbac --name app1 --cert-dir /certs",
            expect![[r#"error: MissingRequiredArgument"#]],
        );
        check("serve", expect![[r#"error: InvalidSubcommand"#]]);
        check(
            "keyvault show --name v1 --data-dir /d",
            expect![[r#"Keyvault(Show(VaultArgs { name: "v1", resource_group: "strongroom" }))"#]],
        );
    }

    #[test]
    fn certificate_permissions_with_the_quickstarts_flags() {
        // The Python certificates quickstart's own set-up line, with `strongroom` for `az`.
        check(
            "keyvault set-policy --name kv1 --spn app-1 --resource-group KeyVault-PythonQS-rg --certificate-permissions delete get list create",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "kv1", resource_group: "KeyVault-PythonQS-rg" }, principal: PrincipalArgs { spn: Some("app-1"), object_id: None }, secret_permissions: [], key_permissions: [], certificate_permissions: [Delete, Get, List, Create] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --certificate-permissions ManageIssuers GETISSUERS all",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: Some("a"), object_id: None }, secret_permissions: [], key_permissions: [], certificate_permissions: [ManageIssuers, GetIssuers, All] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --certificate-permissions sign",
            expect!["error: InvalidValue"],
        );
    }

    #[test]
    fn vault_sku_and_key_permissions() {
        check(
            "keyvault create --name v1 --sku PREMIUM",
            expect![[
                r#"Keyvault(Create(CreateVaultArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, retention_days: None, location: "local", sku: Premium }))"#
            ]],
        );
        check(
            "keyvault create --name v1 --sku free",
            expect!["error: InvalidValue"],
        );
        check(
            "keyvault set-policy --name v1 --spn a --key-permissions get UNWRAPKEY wrapkey GetRotationPolicy",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: Some("a"), object_id: None }, secret_permissions: [], key_permissions: [Get, UnwrapKey, WrapKey, GetRotationPolicy], certificate_permissions: [] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --key-permissions all --secret-permissions get",
            expect![[
                r#"Keyvault(SetPolicy(SetPolicyArgs { vault: VaultArgs { name: "v1", resource_group: "strongroom" }, principal: PrincipalArgs { spn: Some("a"), object_id: None }, secret_permissions: [Get], key_permissions: [All], certificate_permissions: [] }))"#
            ]],
        );
        check(
            "keyvault set-policy --name v1 --spn a --key-permissions export",
            expect!["error: InvalidValue"],
        );
    }

    #[test]
    fn key_commands() {
        check(
            "keyvault key create --vault-name v1 -n k1",
            expect![[
                r#"Keyvault(Key(Create(CreateKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, kty: None, size: None, curve: None, attributes: NewKeyArgs { ops: None, protection: None, disabled: None, expires: None, not_before: None, exportable: None, policy: ReleasePolicyArgs { policy: None, immutable: None }, tags: None } })))"#
            ]],
        );
        check(
            "keyvault key create --vault-name v1 -n k1 --kty rsa-hsm --size 3072 --ops ENCRYPT wrapkey --disabled --expires 2030-01-01 --not-before 2025-01-01T10:00Z --exportable false --policy {} --immutable --tags a=1 -p hsm",
            expect![[
                r#"Keyvault(Key(Create(CreateKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, kty: Some("RSA-HSM"), size: Some(3072), curve: None, attributes: NewKeyArgs { ops: Some(["encrypt", "wrapKey"]), protection: Some("hsm"), disabled: Some(true), expires: Some(1893456000), not_before: Some(1735725600), exportable: Some(false), policy: ReleasePolicyArgs { policy: Some("{}"), immutable: Some(true) }, tags: Some([("a", "1")]) } })))"#
            ]],
        );
        check(
            "keyvault key create --vault-name v1 -n k1 --curve p-256k",
            expect![[
                r#"Keyvault(Key(Create(CreateKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, kty: None, size: None, curve: Some("P-256K"), attributes: NewKeyArgs { ops: None, protection: None, disabled: None, expires: None, not_before: None, exportable: None, policy: ReleasePolicyArgs { policy: None, immutable: None }, tags: None } })))"#
            ]],
        );
        check(
            "keyvault key create --vault-name v1 -n k1 --kty DSA",
            expect!["error: InvalidValue"],
        );
        check(
            "keyvault key create --vault-name v1 -n k1 --expires tomorrow",
            expect!["error: ValueValidation"],
        );
        check(
            "keyvault key create --vault-name v1 -n k1 --ops fly",
            expect!["error: InvalidValue"],
        );
        check(
            "keyvault key import --vault-name v1 -n k1 --pem-file /k.pem --pem-password pw",
            expect![[
                r#"Keyvault(Key(Import(ImportKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, pem_file: Some("/k.pem"), pem_string: None, pem_password: Some(SecretValue(<redacted>)), byok_file: None, byok_string: None, kty: "RSA", curve: None, attributes: NewKeyArgs { ops: None, protection: None, disabled: None, expires: None, not_before: None, exportable: None, policy: ReleasePolicyArgs { policy: None, immutable: None }, tags: None } })))"#
            ]],
        );
        check(
            "keyvault key import --vault-name v1 -n k1 --pem-file /k.pem --byok-file /b",
            expect!["error: ArgumentConflict"],
        );
        check(
            "keyvault key import --vault-name v1 -n k1",
            expect!["error: MissingRequiredArgument"],
        );
        check(
            "keyvault key show --vault-name v1 -n k1 -v 0123",
            expect![[
                r#"Keyvault(Key(Show(ShowKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: Some("0123") })))"#
            ]],
        );
        check(
            "keyvault key list --vault-name v1 --maxresults 3 --include-managed",
            expect![[
                r#"Keyvault(Key(List(ListKeysArgs { vault_name: "v1", maxresults: Some(3), include_managed: Some(true) })))"#
            ]],
        );
        check(
            "keyvault key set-attributes --vault-name v1 -n k1 --enabled false --ops sign --tags",
            expect![[
                r#"Keyvault(Key(SetAttributes(SetKeyAttributesArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: None, enabled: Some(false), expires: None, not_before: None, ops: Some(["sign"]), policy: ReleasePolicyArgs { policy: None, immutable: None }, tags: Some([]) })))"#
            ]],
        );
        check(
            "keyvault key backup --vault-name v1 -n k1 -f /tmp/k.bak",
            expect![[
                r#"Keyvault(Key(Backup(BackupKeyArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, file: "/tmp/k.bak" })))"#
            ]],
        );
        check(
            "keyvault key rotation-policy update --vault-name v1 -n k1 --value {}",
            expect![[
                r#"Keyvault(Key(RotationPolicy(Update(RotationPolicyUpdateArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, value: "{}" }))))"#
            ]],
        );
        check(
            "keyvault key encrypt --vault-name v1 -n k1 -a rsa-oaep-256 --value aGk= --data-type PLAINTEXT --iv 00ff",
            expect![[
                r#"Keyvault(Key(Encrypt(EncryptArgs { target: KeyOperationArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: None }, algorithm: "RSA-OAEP-256", value: SecretValue(<redacted>), data_type: "plaintext", iv: Some("00ff"), aad: None })))"#
            ]],
        );
        check(
            "keyvault key decrypt --vault-name v1 -n k1 -a A256GCM --value AAEC --tag 00 --aad 01",
            expect![[
                r#"Keyvault(Key(Decrypt(DecryptArgs { target: KeyOperationArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: None }, algorithm: "A256GCM", value: "AAEC", data_type: "base64", iv: None, tag: Some("00"), aad: Some("01") })))"#
            ]],
        );
        check(
            "keyvault key sign --vault-name v1 -n k1 -a es256k --digest AAEC",
            expect![[
                r#"Keyvault(Key(Sign(SignArgs { target: KeyOperationArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: None }, algorithm: "ES256K", digest: "AAEC" })))"#
            ]],
        );
        check(
            "keyvault key verify --vault-name v1 -n k1 -a RS256 --digest AAEC --signature AAEC -v 1",
            expect![[
                r#"Keyvault(Key(Verify(VerifyArgs { target: KeyOperationArgs { key: KeyArgs { vault_name: "v1", name: "k1" }, version: Some("1") }, algorithm: "RS256", digest: "AAEC", signature: "AAEC" })))"#
            ]],
        );
        check(
            "keyvault key random --vault-name v1 --count 16",
            expect![[r#"Keyvault(Key(Random(RandomArgs { vault_name: "v1", count: 16 })))"#]],
        );
    }

    #[test]
    fn certificate_commands() {
        check(
            "keyvault certificate create --vault-name v1 -n c1 --policy @p.json",
            expect![[
                r#"Keyvault(Certificate(Create(CreateCertificateArgs { certificate: NewCertificateArgs { vault_name: "v1", name: "c1" }, policy: "@p.json", disabled: None, validity: None, tags: None })))"#
            ]],
        );
        check(
            "keyvault certificate create --vault-name v1 -n c1 -p {} --disabled --validity 3 --tags a=1 b",
            expect![[
                r#"Keyvault(Certificate(Create(CreateCertificateArgs { certificate: NewCertificateArgs { vault_name: "v1", name: "c1" }, policy: "{}", disabled: Some(true), validity: Some(3), tags: Some([("a", "1"), ("b", "")]) })))"#
            ]],
        );
        check(
            "keyvault certificate create --vault-name v1 -n c1",
            expect!["error: MissingRequiredArgument"],
        );
        check(
            "keyvault certificate import --vault-name v1 -n c1 -f /c.pfx --password pw --disabled false",
            expect![[
                r#"Keyvault(Certificate(Import(ImportCertificateArgs { certificate: NewCertificateArgs { vault_name: "v1", name: "c1" }, file: "/c.pfx", password: Some(SecretValue(<redacted>)), disabled: Some(false), policy: None, tags: None })))"#
            ]],
        );
        check(
            "keyvault certificate show --vault-name v1 -n c1 -v 0123",
            expect![[
                r#"Keyvault(Certificate(Show(ShowCertificateArgs { certificate: CertificateIdArgs { vault_name: Some("v1"), name: Some("c1"), id: None }, version: Some("0123") })))"#
            ]],
        );
        check(
            "keyvault certificate show --id https://v1.vault.localhost:4443/certificates/c1/0123",
            expect![[
                r#"Keyvault(Certificate(Show(ShowCertificateArgs { certificate: CertificateIdArgs { vault_name: None, name: None, id: Some("https://v1.vault.localhost:4443/certificates/c1/0123") }, version: None })))"#
            ]],
        );
        check(
            "keyvault certificate show --vault-name v1",
            expect!["error: MissingRequiredArgument"],
        );
        check(
            "keyvault certificate show --id https://v1.vault.localhost/certificates/c1 --vault-name v1",
            expect!["error: ArgumentConflict"],
        );
        check(
            "keyvault certificate list --vault-name v1 --include-pending --maxresults 3",
            expect![[
                r#"Keyvault(Certificate(List(ListCertificatesArgs { vault: VaultIdArgs { vault_name: Some("v1"), id: None }, maxresults: Some(3), include_pending: Some(true) })))"#
            ]],
        );
        check(
            "keyvault certificate list-deleted --id https://v1.vault.localhost:4443",
            expect![[
                r#"Keyvault(Certificate(ListDeleted(ListCertificatesArgs { vault: VaultIdArgs { vault_name: None, id: Some("https://v1.vault.localhost:4443") }, maxresults: None, include_pending: None })))"#
            ]],
        );
        check(
            "keyvault certificate list-versions --vault-name v1 -n c1",
            expect![[
                r#"Keyvault(Certificate(ListVersions(ListCertificateVersionsArgs { certificate: CertificateIdArgs { vault_name: Some("v1"), name: Some("c1"), id: None }, maxresults: None })))"#
            ]],
        );
        check(
            "keyvault certificate purge --id https://v1.vault.localhost/deletedcertificates/c1",
            expect![[
                r#"Keyvault(Certificate(Purge(CertificateIdArgs { vault_name: None, name: None, id: Some("https://v1.vault.localhost/deletedcertificates/c1") })))"#
            ]],
        );
        check(
            "keyvault certificate set-attributes --vault-name v1 -n c1 --enabled false --tags",
            expect![[
                r#"Keyvault(Certificate(SetAttributes(SetCertificateAttributesArgs { certificate: CertificateIdArgs { vault_name: Some("v1"), name: Some("c1"), id: None }, version: None, enabled: Some(false), policy: None, tags: Some([]) })))"#
            ]],
        );
        check(
            "keyvault certificate download --vault-name v1 -n c1 -f /c.der -e der",
            expect![[
                r#"Keyvault(Certificate(Download(DownloadCertificateArgs { certificate: CertificateIdArgs { vault_name: Some("v1"), name: Some("c1"), id: None }, version: None, file: "/c.der", encoding: "DER" })))"#
            ]],
        );
        check(
            "keyvault certificate download --vault-name v1 -n c1 -f /c.pem --encoding pkcs7",
            expect!["error: InvalidValue"],
        );
        check(
            "keyvault certificate backup --vault-name v1 -n c1 --file /c.bak",
            expect![[
                r#"Keyvault(Certificate(Backup(BackupCertificateArgs { certificate: CertificateIdArgs { vault_name: Some("v1"), name: Some("c1"), id: None }, file: "/c.bak" })))"#
            ]],
        );
        check(
            "keyvault certificate restore --vault-name v2 -f /c.bak",
            expect![[
                r#"Keyvault(Certificate(Restore(RestoreCertificateArgs { vault_name: "v2", file: "/c.bak" })))"#
            ]],
        );
        check(
            "keyvault certificate get-default-policy --scaffold",
            expect![
                "Keyvault(Certificate(GetDefaultPolicy(DefaultPolicyArgs { scaffold: true })))"
            ],
        );
        check(
            "keyvault certificate pending merge --vault-name v1 -n c1 -f /chain.pem --tags t=1",
            expect![[
                r#"Keyvault(Certificate(Pending(Merge(MergeCertificateArgs { pending: PendingArgs { vault_name: "v1", name: "c1" }, file: "/chain.pem", disabled: None, tags: Some([("t", "1")]) }))))"#
            ]],
        );
        check(
            "keyvault certificate pending cancel --vault-name v1 -n c1",
            expect![[
                r#"Keyvault(Certificate(Pending(Cancel(PendingArgs { vault_name: "v1", name: "c1" }))))"#
            ]],
        );
        check(
            "keyvault certificate contact add --vault-name v1 --email a@b.c --name Ann --phone 1",
            expect![[
                r#"Keyvault(Certificate(Contact(Add(AddContactArgs { vault_name: "v1", email: "a@b.c", name: Some("Ann"), phone: Some("1") }))))"#
            ]],
        );
        check(
            "keyvault certificate contact delete --vault-name v1 --email a@b.c",
            expect![[
                r#"Keyvault(Certificate(Contact(Delete(DeleteContactArgs { vault_name: "v1", email: "a@b.c" }))))"#
            ]],
        );
        check(
            "keyvault certificate issuer create --vault-name v1 --issuer-name i1 --provider-name Test --account-id acct --password s3cret --organization-id org --disabled",
            expect![[
                r#"Keyvault(Certificate(Issuer(Create(CreateIssuerArgs { issuer: IssuerArgs { vault_name: "v1", issuer_name: "i1" }, provider_name: "Test", details: IssuerDetailsArgs { account_id: Some("acct"), password: Some(SecretValue(<redacted>)), organization_id: Some("org") }, disabled: Some(true) }))))"#
            ]],
        );
        check(
            "keyvault certificate issuer update --vault-name v1 --issuer-name i1 --enabled",
            expect![[
                r#"Keyvault(Certificate(Issuer(Update(UpdateIssuerArgs { issuer: IssuerArgs { vault_name: "v1", issuer_name: "i1" }, provider_name: None, details: IssuerDetailsArgs { account_id: None, password: None, organization_id: None }, enabled: Some(true) }))))"#
            ]],
        );
        check(
            "keyvault certificate issuer create --vault-name v1 --issuer-name i1",
            expect!["error: MissingRequiredArgument"],
        );
        check(
            "keyvault certificate issuer admin add --vault-name v1 --issuer-name i1 --email a@b.c --first-name Ann --last-name Lee --phone 1",
            expect![[
                r#"Keyvault(Certificate(Issuer(Admin(Add(AddIssuerAdminArgs { issuer: IssuerArgs { vault_name: "v1", issuer_name: "i1" }, email: "a@b.c", first_name: Some("Ann"), last_name: Some("Lee"), phone: Some("1") })))))"#
            ]],
        );
        check(
            "keyvault certificate issuer admin delete --vault-name v1 --issuer-name i1 --email a@b.c",
            expect![[
                r#"Keyvault(Certificate(Issuer(Admin(Delete(DeleteIssuerAdminArgs { issuer: IssuerArgs { vault_name: "v1", issuer_name: "i1" }, email: "a@b.c" })))))"#
            ]],
        );
        check(
            "keyvault certificate event list --vault-name v1 -g rg",
            expect![[
                r#"Keyvault(Certificate(Event(List(EventListArgs { vault_name: "v1", resource_group: Some("rg") }))))"#
            ]],
        );
    }

    #[test]
    fn all_expands_to_every_key_permission() {
        expect![[r#"["get", "list", "update", "create", "import", "delete", "recover", "backup", "restore", "purge", "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "release", "rotate", "getrotationpolicy", "setrotationpolicy"]"#]].assert_eq(&format!("{:?}", super::KeyPermissionArg::All.names()));
    }

    #[test]
    fn the_tree_is_consistent() {
        use clap::CommandFactory;
        TestCli::command().debug_assert();
    }

    #[test]
    fn all_expands_to_every_secret_permission() {
        let all: Vec<&str> = super::SecretPermissionArg::All
            .permissions()
            .into_iter()
            .map(strongroom_model::SecretPermission::as_str)
            .collect();
        expect![[r#"["get", "list", "set", "delete", "backup", "restore", "recover", "purge"]"#]]
            .assert_eq(&format!("{all:?}"));
    }
}
