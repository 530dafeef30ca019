//! The clap tree of `strongroom keyvault key …`, with `az keyvault key`'s flag names.
//!
//! Enumerated values (`--kty`, `--curve`, `--ops`, `--algorithm`) are matched case-insensitively,
//! as az's `get_enum_type` does, and stored in Key Vault's own spelling (`RSA-HSM`, `wrapKey`).
//! Plaintext for `encrypt` is parsed straight into a `SecretValue`, so a `{:?}` of a command
//! never prints it. `keys.rs` and `key_crypto.rs` execute these.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Arg, Args, Command, Subcommand};
use strongroom_model::SecretValue;

/// `--kty` of `key create` (`JsonWebKeyType`).
pub(crate) const KEY_TYPES: &[&str] = &["EC", "EC-HSM", "RSA", "RSA-HSM", "oct", "oct-HSM"];
/// `--kty` of `key import` (only used for BYOK, as in az).
pub(crate) const IMPORT_KEY_TYPES: &[&str] = &["EC", "RSA", "oct"];
/// `--curve` (`JsonWebKeyCurveName`).
pub(crate) const CURVES: &[&str] = &["P-256", "P-384", "P-521", "P-256K"];
/// `--ops` (`JsonWebKeyOperation`).
pub(crate) const KEY_OPERATIONS: &[&str] = &[
    "encrypt",
    "decrypt",
    "import",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
    "export",
];
/// `--algorithm` of `encrypt` / `decrypt` (the SDK's `EncryptionAlgorithm`).
pub(crate) const ENCRYPTION_ALGORITHMS: &[&str] = &[
    "RSA-OAEP",
    "RSA-OAEP-256",
    "RSA1_5",
    "A128GCM",
    "A192GCM",
    "A256GCM",
    "A128CBC",
    "A192CBC",
    "A256CBC",
    "A128CBCPAD",
    "A192CBCPAD",
    "A256CBCPAD",
];
/// `--algorithm` of `sign` / `verify` (the SDK's `SignatureAlgorithm`).
pub(crate) const SIGNATURE_ALGORITHMS: &[&str] = &[
    "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES256K", "ES384", "ES512",
    "HS256", "HS384", "HS512",
];
/// `--protection`
pub(crate) const PROTECTIONS: &[&str] = &["software", "hsm"];
/// `--data-type` of `encrypt` / `decrypt`.
pub(crate) const DATA_TYPES: &[&str] = &["base64", "plaintext"];

/// One of a fixed list, matched ASCII case-insensitively, returned in the list's spelling.
#[derive(Clone, Copy)]
pub(crate) struct OneOf(pub(crate) &'static [&'static str]);

impl TypedValueParser for OneOf {
    type Value = &'static str;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        // Reuse clap's checks and messages (`ignore_case` is set on every such argument).
        let typed = PossibleValuesParser::new(self.0.iter().copied()).parse_ref(cmd, arg, value)?;
        self.0
            .iter()
            .copied()
            .find(|choice| choice.eq_ignore_ascii_case(&typed))
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|value| PossibleValue::new(*value)),
        ))
    }
}

/// `strongroom keyvault key …` (Key Vault data plane, keys API)
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a new key (or a new version of it) and print the key
    Create(CreateKeyArgs),
    /// Import a private key from a PEM file or string (converted to a JWK locally)
    Import(ImportKeyArgs),
    /// Show a key's public part and attributes
    Show(ShowKeyArgs),
    /// List the keys of a vault
    List(ListKeysArgs),
    /// List the versions of a key
    ListVersions(ListKeyVersionsArgs),
    /// Change a key version's attributes, operations, tags or release policy
    SetAttributes(SetKeyAttributesArgs),
    /// Delete a key (recoverable for the vault's retention period)
    Delete(KeyArgs),
    /// List the deleted keys of a vault
    ListDeleted(ListDeletedKeysArgs),
    /// Show a deleted key
    ShowDeleted(KeyArgs),
    /// Recover a deleted key
    Recover(KeyArgs),
    /// Delete a deleted key for good
    Purge(KeyArgs),
    /// Write a protected backup of a key (all versions) to a file
    Backup(BackupKeyArgs),
    /// Restore a key from a backup file
    Restore(RestoreKeyArgs),
    /// Create a new version of a key, as its rotation policy would
    Rotate(KeyArgs),
    /// Show or change a key's rotation policy
    #[command(subcommand)]
    RotationPolicy(RotationPolicyCommand),
    /// Encrypt a value with a key
    Encrypt(EncryptArgs),
    /// Decrypt a value with a key
    Decrypt(DecryptArgs),
    /// Sign a digest with a key
    Sign(SignArgs),
    /// Verify a signature with a key
    Verify(VerifyArgs),
    /// Get random bytes from the vault
    Random(RandomArgs),
}

/// `--vault-name V --name N`: one key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
    /// Name of the key
    #[arg(long, short = 'n')]
    pub name: String,
}

/// Attributes shared by `create` and `import`.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// Space-separated list of permitted JSON web key operations
    #[arg(long = "ops", num_args = 0.., ignore_case = true, value_parser = OneOf(KEY_OPERATIONS))]
    pub ops: Option<Vec<&'static str>>,
    /// Type of key protection (`hsm` turns `--kty RSA` into `RSA-HSM`)
    #[arg(long, short = 'p', ignore_case = true, value_parser = OneOf(PROTECTIONS))]
    pub protection: Option<&'static str>,
    /// Create the key in disabled state
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub disabled: Option<bool>,
    /// Expiration UTC datetime (Y-m-d'T'H:M:S'Z')
    #[arg(long, value_parser = crate::az_time::parse)]
    pub expires: Option<i64>,
    /// Key not usable before the provided UTC datetime (Y-m-d'T'H:M:S'Z')
    #[arg(long, value_parser = crate::az_time::parse)]
    pub not_before: Option<i64>,
    /// Whether the private key can be exported
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub exportable: Option<bool>,
    #[command(flatten)]
    pub policy: ReleasePolicyArgs,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = crate::command::parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `--policy P [--immutable]`: a key release policy.
#[derive(Debug, Args)]
pub struct ReleasePolicyArgs {
    /// Release policy as JSON, or a path to a file containing it
    #[arg(long = "policy")]
    pub policy: Option<String>,
    /// Mark the release policy as immutable
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub immutable: Option<bool>,
}

/// `key create`
#[derive(Debug, Args)]
pub struct CreateKeyArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Type of key to create (default `RSA`, or `EC` when --curve is given)
    #[arg(long, ignore_case = true, value_parser = OneOf(KEY_TYPES))]
    pub kty: Option<&'static str>,
    /// Key size in bits (2048, 3072 or 4096 for RSA; 128, 192 or 256 for oct)
    #[arg(long)]
    pub size: Option<u32>,
    /// Elliptic curve name
    #[arg(long, ignore_case = true, value_parser = OneOf(CURVES))]
    pub curve: Option<&'static str>,
    #[command(flatten)]
    pub attributes: NewKeyArgs,
}

/// `key import`
#[derive(Debug, Args)]
#[group(id = "key_source", required = true, multiple = false, args = ["pem_file", "pem_string", "byok_file", "byok_string"])]
pub struct ImportKeyArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// PEM file containing the private key to import
    #[arg(long)]
    pub pem_file: Option<PathBuf>,
    /// PEM string containing the private key to import (it may start with `-----BEGIN`)
    #[arg(long, allow_hyphen_values = true, value_parser = parse_secret)]
    pub pem_string: Option<SecretValue>,
    /// Password of the PEM file (not supported: decrypt the key first)
    #[arg(long, value_parser = parse_secret)]
    pub pem_password: Option<SecretValue>,
    /// BYOK file containing the key to import
    #[arg(long)]
    pub byok_file: Option<PathBuf>,
    /// BYOK string containing the key to import
    #[arg(long)]
    pub byok_string: Option<String>,
    /// Type of key to import (only for BYOK)
    #[arg(long, ignore_case = true, default_value = "RSA", value_parser = OneOf(IMPORT_KEY_TYPES))]
    pub kty: &'static str,
    /// Curve of the key to import (only for BYOK, with --kty EC)
    #[arg(long, ignore_case = true, value_parser = OneOf(CURVES))]
    pub curve: Option<&'static str>,
    #[command(flatten)]
    pub attributes: NewKeyArgs,
}

/// `key show`
#[derive(Debug, Args)]
pub struct ShowKeyArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// A version of the key; the latest when left out
    #[arg(long, short = 'v')]
    pub version: Option<String>,
}

/// `key list`
#[derive(Debug, Args)]
pub struct ListKeysArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
    /// Maximum number of results to return
    #[arg(long)]
    pub maxresults: Option<u32>,
    /// Include managed keys (those backing certificates)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub include_managed: Option<bool>,
}

/// `key list-versions`
#[derive(Debug, Args)]
pub struct ListKeyVersionsArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Maximum number of results to return
    #[arg(long)]
    pub maxresults: Option<u32>,
}

/// `key list-deleted`
#[derive(Debug, Args)]
pub struct ListDeletedKeysArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
    /// Maximum number of results to return
    #[arg(long)]
    pub maxresults: Option<u32>,
}

/// `key set-attributes`
#[derive(Debug, Args)]
pub struct SetKeyAttributesArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// A version of the key; the latest when left out
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// Enable or disable the key
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub enabled: Option<bool>,
    /// Expiration UTC datetime (Y-m-d'T'H:M:S'Z')
    #[arg(long, value_parser = crate::az_time::parse)]
    pub expires: Option<i64>,
    /// Key not usable before the provided UTC datetime (Y-m-d'T'H:M:S'Z')
    #[arg(long, value_parser = crate::az_time::parse)]
    pub not_before: Option<i64>,
    /// Space-separated list of permitted JSON web key operations
    #[arg(long = "ops", num_args = 0.., ignore_case = true, value_parser = OneOf(KEY_OPERATIONS))]
    pub ops: Option<Vec<&'static str>>,
    #[command(flatten)]
    pub policy: ReleasePolicyArgs,
    /// Tags as `key=value` (or `key` for an empty value), space-separated
    #[arg(long, num_args = 0.., value_parser = crate::command::parse_tag)]
    pub tags: Option<Vec<(String, String)>>,
}

/// `key backup`
#[derive(Debug, Args)]
pub struct BackupKeyArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Local file path in which to store the key backup
    #[arg(long, short = 'f')]
    pub file: PathBuf,
}

/// `key restore`
#[derive(Debug, Args)]
pub struct RestoreKeyArgs {
    /// Name of the vault
    #[arg(long)]
    pub vault_name: String,
    /// Local key backup from which to restore the key
    #[arg(long, short = 'f')]
    pub file: PathBuf,
}

/// `strongroom keyvault key rotation-policy …`
#[derive(Debug, Subcommand)]
pub enum RotationPolicyCommand {
    /// Show a key's rotation policy
    Show(KeyArgs),
    /// Replace a key's rotation policy
    Update(RotationPolicyUpdateArgs),
}

/// `key rotation-policy update`
#[derive(Debug, Args)]
pub struct RotationPolicyUpdateArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// The rotation policy as JSON, or a path to a file containing it
    #[arg(long)]
    pub value: String,
}

/// `--vault-name V --name N [--version X] --algorithm A`: one cryptographic operation.
#[derive(Debug, Args)]
pub struct KeyOperationArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// A version of the key; the latest when left out
    #[arg(long, short = 'v')]
    pub version: Option<String>,
}

/// `key encrypt`
#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub target: KeyOperationArgs,
    /// Algorithm identifier
    #[arg(long, short = 'a', ignore_case = true, value_parser = OneOf(ENCRYPTION_ALGORITHMS))]
    pub algorithm: &'static str,
    /// The value to encrypt (base64 unless --data-type plaintext)
    #[arg(long, value_parser = parse_secret)]
    pub value: SecretValue,
    /// The type of the original data
    #[arg(long, ignore_case = true, default_value = "base64", value_parser = OneOf(DATA_TYPES))]
    pub data_type: &'static str,
    /// Initialization vector, hex (AES-CBC)
    #[arg(long)]
    pub iv: Option<String>,
    /// Additional authenticated data, hex (AES-GCM)
    #[arg(long)]
    pub aad: Option<String>,
}

/// `key decrypt`
#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub target: KeyOperationArgs,
    /// Algorithm identifier
    #[arg(long, short = 'a', ignore_case = true, value_parser = OneOf(ENCRYPTION_ALGORITHMS))]
    pub algorithm: &'static str,
    /// The value to decrypt, base64 (the `result` of `key encrypt`)
    #[arg(long)]
    pub value: String,
    /// The type of the original data: how to print the result
    #[arg(long, ignore_case = true, default_value = "base64", value_parser = OneOf(DATA_TYPES))]
    pub data_type: &'static str,
    /// Initialization vector used during encryption, hex (AES)
    #[arg(long)]
    pub iv: Option<String>,
    /// Authentication tag from encryption, hex (AES-GCM)
    #[arg(long)]
    pub tag: Option<String>,
    /// Additional authenticated data, hex (AES-GCM)
    #[arg(long)]
    pub aad: Option<String>,
}

/// `key sign`
#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub target: KeyOperationArgs,
    /// Algorithm identifier
    #[arg(long, short = 'a', ignore_case = true, value_parser = OneOf(SIGNATURE_ALGORITHMS))]
    pub algorithm: &'static str,
    /// The digest to sign, base64
    #[arg(long)]
    pub digest: String,
}

/// `key verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub target: KeyOperationArgs,
    /// Algorithm identifier
    #[arg(long, short = 'a', ignore_case = true, value_parser = OneOf(SIGNATURE_ALGORITHMS))]
    pub algorithm: &'static str,
    /// The digest that was signed, base64
    #[arg(long)]
    pub digest: String,
    /// The signature to verify, base64
    #[arg(long)]
    pub signature: String,
}

/// `key random`
#[derive(Debug, Args)]
pub struct RandomArgs {
    /// Name of the vault (az asks for --hsm-name; Strongroom serves `/rng` on vaults)
    #[arg(long)]
    pub vault_name: String,
    /// The requested number of random bytes
    #[arg(long)]
    pub count: u32,
}

fn parse_secret(raw: &str) -> Result<SecretValue, std::convert::Infallible> {
    Ok(SecretValue::new(raw.to_owned()))
}
