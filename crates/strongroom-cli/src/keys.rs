//! `keyvault key create|import|show|list|list-versions|set-attributes|delete|list-deleted|
//! show-deleted|recover|purge|backup|restore|rotate|rotation-policy`: the keys API (2026-04-01)
//! on the vault's own host, with a token for the vault audience.
//!
//! Requests carry what the Python SDK sends for the same az command (`custom.py`: `create_key`,
//! `import_key`, ...); answers are printed as az prints the SDK's models (`key_output.rs`).
//! The cryptographic operations live in `key_crypto.rs`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use strongroom_model::{SecretValue, VaultName};

use crate::Output;
use crate::endpoints::{Endpoints, Target};
use crate::error::CliError;
use crate::key_command::{
    BackupKeyArgs, CreateKeyArgs, ImportKeyArgs, KeyArgs, KeyCommand, ListDeletedKeysArgs,
    ListKeyVersionsArgs, ListKeysArgs, NewKeyArgs, ReleasePolicyArgs, RestoreKeyArgs,
    RotationPolicyCommand, RotationPolicyUpdateArgs, SetKeyAttributesArgs, ShowKeyArgs,
};
use crate::key_crypto;
use crate::key_import::{self, PrivateJwk};
use crate::key_output;
use crate::secrets::vault_name;
use crate::session::{Audience, Session};

/// The keys API pages at most 25 items (`maxresults` 1-25).
const MAX_PAGE_SIZE: u32 = 25;

/// Runs one `keyvault key …` command.
pub(crate) async fn run(session: &Session, command: KeyCommand) -> Result<Output, CliError> {
    let json = match command {
        KeyCommand::Create(args) => create(session, &args).await?,
        KeyCommand::Import(args) => import(session, &args).await?,
        KeyCommand::Show(args) => show(session, &args).await?,
        KeyCommand::List(args) => list(session, &args).await?,
        KeyCommand::ListVersions(args) => list_versions(session, &args).await?,
        KeyCommand::SetAttributes(args) => set_attributes(session, &args).await?,
        KeyCommand::Delete(args) => bundle(session, &args, Method::DELETE, &["keys"], &[]).await?,
        KeyCommand::ListDeleted(args) => list_deleted(session, &args).await?,
        KeyCommand::ShowDeleted(args) => {
            bundle(session, &args, Method::GET, &["deletedkeys"], &[]).await?
        }
        KeyCommand::Recover(args) => {
            bundle(session, &args, Method::POST, &["deletedkeys"], &["recover"]).await?
        }
        KeyCommand::Purge(args) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["deletedkeys", &args.name], None);
            session.call(Method::DELETE, &target, &vault.token).await?;
            return Ok(Output::Nothing);
        }
        KeyCommand::Backup(args) => {
            backup(session, &args).await?;
            return Ok(Output::Nothing);
        }
        KeyCommand::Restore(args) => restore(session, &args).await?,
        KeyCommand::Rotate(args) => {
            bundle(session, &args, Method::POST, &["keys"], &["rotate"]).await?
        }
        KeyCommand::RotationPolicy(RotationPolicyCommand::Show(args)) => {
            let vault = VaultCall::open(session, &args.vault_name).await?;
            let target = vault.target(&["keys", &args.name, "rotationpolicy"], None);
            let policy = session.call(Method::GET, &target, &vault.token).await?;
            key_output::rotation_policy(&policy)
        }
        KeyCommand::RotationPolicy(RotationPolicyCommand::Update(args)) => {
            update_rotation_policy(session, &args).await?
        }
        KeyCommand::Encrypt(args) => key_crypto::encrypt(session, &args).await?,
        KeyCommand::Decrypt(args) => key_crypto::decrypt(session, &args).await?,
        KeyCommand::Sign(args) => key_crypto::sign(session, &args).await?,
        KeyCommand::Verify(args) => key_crypto::verify(session, &args).await?,
        KeyCommand::Random(args) => key_crypto::random(session, &args).await?,
    };
    Ok(Output::Json(json))
}

/// A vault's data plane and a token for it.
pub(crate) struct VaultCall {
    pub(crate) vault: VaultName,
    pub(crate) token: SecretValue,
    endpoints: Endpoints,
}

impl VaultCall {
    pub(crate) async fn open(session: &Session, vault_name_arg: &str) -> Result<Self, CliError> {
        let vault = vault_name(vault_name_arg)?;
        let token = session.token(Audience::Vault).await?;
        Ok(Self {
            vault,
            token,
            endpoints: session.endpoints.clone(),
        })
    }

    pub(crate) fn target(&self, segments: &[&str], maxresults: Option<u32>) -> Target {
        self.endpoints.keys_api(&self.vault, segments, maxresults)
    }

    /// `https://V.vault.DOMAIN:PORT`, the start of every key id in this vault.
    pub(crate) fn vault_url(&self) -> String {
        self.endpoints.vault_url(&self.vault)
    }
}

/// `{prefix}/{name}/{suffix}` with `method`; prints the (deleted) key bundle.
async fn bundle(
    session: &Session,
    args: &KeyArgs,
    method: Method,
    prefix: &[&str],
    suffix: &[&str],
) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.vault_name).await?;
    let segments: Vec<&str> = prefix
        .iter()
        .copied()
        .chain(std::iter::once(args.name.as_str()))
        .chain(suffix.iter().copied())
        .collect();
    let target = vault.target(&segments, None);
    let answer = session.call(method, &target, &vault.token).await?;
    Ok(key_output::key_bundle(&answer))
}

/// `key create`: POST `/keys/{name}/create` with `KeyCreateParameters`.
async fn create(session: &Session, args: &CreateKeyArgs) -> Result<Value, CliError> {
    let kty = args
        .kty
        .unwrap_or(if args.curve.is_some() { "EC" } else { "RSA" });
    let kty = with_protection(kty, args.attributes.protection)?;
    let mut body = Map::new();
    body.insert("kty".to_owned(), json!(kty));
    if let Some(size) = args.size {
        body.insert("key_size".to_owned(), json!(size));
    }
    if let Some(curve) = args.curve {
        body.insert("crv".to_owned(), json!(curve));
    }
    if let Some(ops) = &args.attributes.ops {
        body.insert("key_ops".to_owned(), json!(ops));
    }
    add_new_key_fields(&mut body, &args.attributes)?;
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let target = vault.target(&["keys", &args.key.name, "create"], None);
    let answer = session
        .call_json(Method::POST, &target, &vault.token, &body)
        .await?;
    Ok(key_output::key_bundle(&answer))
}

/// az's `validate_key_type`: `--protection hsm` makes `RSA` into `RSA-HSM`; `software` refuses
/// an HSM type.
fn with_protection(kty: &'static str, protection: Option<&str>) -> Result<String, CliError> {
    match protection {
        Some("hsm") if !kty.ends_with("-HSM") => Ok(format!("{kty}-HSM")),
        Some("software") if kty.ends_with("-HSM") => Err(CliError::Usage(format!(
            "The key type {kty} is invalid for software protected keys. Omit --protection"
        ))),
        _ => Ok(kty.to_owned()),
    }
}

/// `attributes`, `tags` and `release_policy` of a new key (create and import; `key_ops`
/// belongs to `KeyCreateParameters` but to the JWK of `KeyImportParameters`).
fn add_new_key_fields(body: &mut Map<String, Value>, args: &NewKeyArgs) -> Result<(), CliError> {
    let mut attributes = Map::new();
    attributes.insert("enabled".to_owned(), json!(!args.disabled.unwrap_or(false)));
    if let Some(not_before) = args.not_before {
        attributes.insert("nbf".to_owned(), json!(not_before));
    }
    if let Some(expires) = args.expires {
        attributes.insert("exp".to_owned(), json!(expires));
    }
    if let Some(exportable) = args.exportable {
        attributes.insert("exportable".to_owned(), json!(exportable));
    }
    body.insert("attributes".to_owned(), Value::Object(attributes));
    if let Some(tags) = &args.tags {
        body.insert("tags".to_owned(), tags_json(tags));
    }
    if let Some(policy) = release_policy(&args.policy)? {
        body.insert("release_policy".to_owned(), policy);
    }
    Ok(())
}

pub(crate) fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// `--policy` (JSON or a file of JSON) as the wire's `KeyReleasePolicy`: the policy JSON,
/// base64url, in `data` (the SDK's `encoded_policy`), and `immutable` when given.
fn release_policy(args: &ReleasePolicyArgs) -> Result<Option<Value>, CliError> {
    let Some(raw) = &args.policy else {
        if args.immutable.is_some() {
            return Err(CliError::Usage(
                "Please provide policy when setting `--immutable`".to_owned(),
            ));
        }
        return Ok(None);
    };
    let policy = json_argument("--policy", raw)?;
    let encoded = serde_json::to_vec(&policy)
        .map_err(|error| CliError::Usage(format!("--policy: {error}")))?;
    let mut wire = json!({ "data": URL_SAFE_NO_PAD.encode(encoded) });
    if let Some(immutable) = args.immutable {
        wire["immutable"] = json!(immutable);
    }
    Ok(Some(wire))
}

/// A JSON argument given inline, as `@file`, or as the path of an existing file (az reads a
/// path when `os.path.exists` says so).
pub(crate) fn json_argument(flag: &str, raw: &str) -> Result<Value, CliError> {
    let path = raw.strip_prefix('@').unwrap_or(raw);
    let text = if Path::new(path).is_file() {
        read_text(Path::new(path))?
    } else {
        raw.to_owned()
    };
    serde_json::from_str(&text).map_err(|error| {
        CliError::Usage(format!("{flag} is neither a file nor valid JSON: {error}"))
    })
}

pub(crate) fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// The JWK of `ImportKeyParameters.key`: a converted PEM key, or BYOK material (`key_hsm`).
#[derive(Serialize)]
#[serde(untagged)]
enum ImportedKey<'a> {
    Private {
        #[serde(flatten)]
        jwk: &'a PrivateJwk,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_ops: Option<&'a [&'static str]>,
    },
    Byok(Value),
}

/// `KeyImportParameters`, borrowing the private JWK so it is not copied again.
#[derive(Serialize)]
struct KeyImportParameters<'a> {
    key: ImportedKey<'a>,
    #[serde(rename = "Hsm")]
    hsm: bool,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

/// `key import`: PUT `/keys/{name}` with the JWK made from the PEM (or the BYOK blob).
async fn import(session: &Session, args: &ImportKeyArgs) -> Result<Value, CliError> {
    if args.pem_password.is_some() {
        return Err(CliError::Usage(
            "--pem-password is not supported: decrypt the key first (e.g. `openssl pkey -in \
             key.pem -out plain.pem`) and import the unencrypted PEM"
                .to_owned(),
        ));
    }
    // az's `validate_key_import_type`.
    if (args.kty == "EC") != args.curve.is_some() {
        return Err(CliError::Usage(
            "parameter --curve should be specified when key type --kty is EC.".to_owned(),
        ));
    }
    let byok = match (&args.byok_file, &args.byok_string) {
        (Some(path), _) => Some(std::fs::read(path).map_err(|source| CliError::ReadFile {
            path: path.clone(),
            source,
        })?),
        (None, Some(text)) => Some(text.clone().into_bytes()),
        (None, None) => None,
    };
    if byok.is_some() && args.attributes.protection == Some("software") {
        return Err(CliError::Usage(
            "BYOK keys are hardware protected. Omit --protection".to_owned(),
        ));
    }
    let jwk = match (&byok, &args.pem_file, &args.pem_string) {
        (Some(_), _, _) => None,
        (None, Some(path), _) => {
            let pem = SecretValue::new(read_text(path)?);
            Some(key_import::jwk_from_pem(&pem)?)
        }
        (None, None, Some(pem)) => Some(key_import::jwk_from_pem(pem)?),
        // clap's group makes exactly one source present.
        (None, None, None) => {
            return Err(CliError::Usage(
                "supply exactly one: --byok-file, --byok-string, --pem-file, --pem-string"
                    .to_owned(),
            ));
        }
    };
    let key = match (&jwk, byok) {
        (Some(jwk), _) => ImportedKey::Private {
            jwk,
            key_ops: args.attributes.ops.as_deref(),
        },
        (None, byok) => {
            let mut key = json!({
                "kty": format!("{}-HSM", args.kty),
                "key_hsm": URL_SAFE_NO_PAD.encode(byok.unwrap_or_default()),
            });
            if let Some(curve) = args.curve {
                key["crv"] = json!(curve);
            }
            if let Some(ops) = &args.attributes.ops {
                key["key_ops"] = json!(ops);
            }
            ImportedKey::Byok(key)
        }
    };
    let mut fields = Map::new();
    add_new_key_fields(&mut fields, &args.attributes)?;
    let body = KeyImportParameters {
        key,
        hsm: args.attributes.protection == Some("hsm"),
        fields,
    };
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let target = vault.target(&["keys", &args.key.name], None);
    let answer = session
        .call_json(Method::PUT, &target, &vault.token, &body)
        .await?;
    Ok(key_output::key_bundle(&answer))
}

/// `key show`: GET `/keys/{name}/{version}` (`/keys/{name}/` for the latest, as the SDK asks).
async fn show(session: &Session, args: &ShowKeyArgs) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let version = args.version.as_deref().unwrap_or_default();
    let target = vault.target(&["keys", &args.key.name, version], None);
    let answer = session.call(Method::GET, &target, &vault.token).await?;
    Ok(key_output::key_bundle(&answer))
}

/// `key list`: every page, managed keys dropped unless `--include-managed`, then the first
/// `--maxresults` (az's `keep_max_results`).
async fn list(session: &Session, args: &ListKeysArgs) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.vault_name).await?;
    let target = vault.target(&["keys"], page_size(args.maxresults));
    let mut items = session.list_all(target, &vault.token).await?;
    if !args.include_managed.unwrap_or(false) {
        items.retain(|item| item["managed"] != Value::Bool(true));
    }
    Ok(listed(&items, false, args.maxresults))
}

/// `key list-versions`: GET `/keys/{name}/versions`, every page.
async fn list_versions(session: &Session, args: &ListKeyVersionsArgs) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let target = vault.target(
        &["keys", &args.key.name, "versions"],
        page_size(args.maxresults),
    );
    let items = session.list_all(target, &vault.token).await?;
    Ok(listed(&items, false, args.maxresults))
}

/// `key list-deleted`: GET `/deletedkeys`, every page.
async fn list_deleted(session: &Session, args: &ListDeletedKeysArgs) -> Result<Value, CliError> {
    let vault = VaultCall::open(session, &args.vault_name).await?;
    let target = vault.target(&["deletedkeys"], page_size(args.maxresults));
    let items = session.list_all(target, &vault.token).await?;
    Ok(listed(&items, true, args.maxresults))
}

/// az passes `--maxresults` as the page size; the API allows 1-25.
pub(crate) fn page_size(maxresults: Option<u32>) -> Option<u32> {
    maxresults.map(|count| count.clamp(1, MAX_PAGE_SIZE))
}

fn listed(items: &[Value], deleted: bool, maxresults: Option<u32>) -> Value {
    let mut output = key_output::key_items(items, deleted);
    if let Some(max) = maxresults {
        output.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    Value::Array(output)
}

/// `key set-attributes`: PATCH `/keys/{name}/{version}` with `KeyUpdateParameters`.
async fn set_attributes(session: &Session, args: &SetKeyAttributesArgs) -> Result<Value, CliError> {
    let mut attributes = Map::new();
    if let Some(enabled) = args.enabled {
        attributes.insert("enabled".to_owned(), json!(enabled));
    }
    if let Some(not_before) = args.not_before {
        attributes.insert("nbf".to_owned(), json!(not_before));
    }
    if let Some(expires) = args.expires {
        attributes.insert("exp".to_owned(), json!(expires));
    }
    let mut body = Map::new();
    body.insert("attributes".to_owned(), Value::Object(attributes));
    if let Some(ops) = &args.ops {
        body.insert("key_ops".to_owned(), json!(ops));
    }
    if let Some(tags) = &args.tags {
        body.insert("tags".to_owned(), tags_json(tags));
    }
    if let Some(policy) = release_policy(&args.policy)? {
        body.insert("release_policy".to_owned(), policy);
    }
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let version = args.version.as_deref().unwrap_or_default();
    let target = vault.target(&["keys", &args.key.name, version], None);
    let answer = session
        .call_json(Method::PATCH, &target, &vault.token, &body)
        .await?;
    Ok(key_output::key_bundle(&answer))
}

/// `key backup`: POST `/keys/{name}/backup`; the blob's bytes go to `--file` (az writes the
/// decoded bytes, not the base64url text), nothing is printed.
async fn backup(session: &Session, args: &BackupKeyArgs) -> Result<(), CliError> {
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    save_backup(session, &vault, "keys", &args.key.name, &args.file).await
}

/// POST `/{collection}/{name}/backup`; the blob's bytes go to `file` (key and certificate
/// `backup`).
pub(crate) async fn save_backup(
    session: &Session,
    vault: &VaultCall,
    collection: &str,
    name: &str,
    file: &PathBuf,
) -> Result<(), CliError> {
    let target = vault.target(&[collection, name, "backup"], None);
    let answer = session.call(Method::POST, &target, &vault.token).await?;
    let blob = answer["value"]
        .as_str()
        .and_then(key_output::decode_base64url)
        .ok_or_else(|| CliError::UnexpectedBody {
            method: Method::POST,
            url: target.to_string(),
            detail: "no base64url `value` in the backup".to_owned(),
        })?;
    write_file(file, &blob)
}

/// POST `/{collection}/restore` with `file`'s bytes as `value`; the server's answer as it
/// came (key and certificate `restore`).
pub(crate) async fn restore_backup(
    session: &Session,
    vault_name: &str,
    collection: &str,
    file: &PathBuf,
) -> Result<Value, CliError> {
    let blob = std::fs::read(file).map_err(|source| CliError::ReadFile {
        path: file.clone(),
        source,
    })?;
    let vault = VaultCall::open(session, vault_name).await?;
    let target = vault.target(&[collection, "restore"], None);
    let body = json!({ "value": URL_SAFE_NO_PAD.encode(blob) });
    session
        .call_json(Method::POST, &target, &vault.token, &body)
        .await
}

pub(crate) fn write_file(path: &PathBuf, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|source| CliError::WriteFile {
        path: path.clone(),
        source,
    })
}

/// `key restore`: POST `/keys/restore` with the file's bytes as `value`.
async fn restore(session: &Session, args: &RestoreKeyArgs) -> Result<Value, CliError> {
    let answer = restore_backup(session, &args.vault_name, "keys", &args.file).await?;
    Ok(key_output::key_bundle(&answer))
}

/// `key rotation-policy update`: PUT `/keys/{name}/rotationpolicy`.
async fn update_rotation_policy(
    session: &Session,
    args: &RotationPolicyUpdateArgs,
) -> Result<Value, CliError> {
    let body = rotation_policy_body(&args.value)?;
    let vault = VaultCall::open(session, &args.key.vault_name).await?;
    let target = vault.target(&["keys", &args.key.name, "rotationpolicy"], None);
    let answer = session
        .call_json(Method::PUT, &target, &vault.token, &body)
        .await?;
    Ok(key_output::rotation_policy(&answer))
}

/// az's `update_key_rotation_policy`: keys in either case (`lifetimeActions` or
/// `lifetime_actions`), an action as `{"type": …}` or a bare string, a trigger nested or
/// inline, the expiry as `expires_in`/`expiry_time` at the top or under `attributes`.
pub(crate) fn rotation_policy_body(raw: &str) -> Result<Value, CliError> {
    let policy = snake_case_keys(json_argument("--value", raw)?);
    let invalid = || CliError::Usage("Please specify a valid policy".to_owned());
    let Some(policy) = policy.as_object().filter(|policy| !policy.is_empty()) else {
        return Err(invalid());
    };
    let mut actions = Vec::new();
    for action in policy
        .get("lifetime_actions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let action_type = match action.get("action") {
            Some(Value::Object(action)) => action.get("type").cloned().unwrap_or(Value::Null),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        // The service's spelling, whatever case was given (the SDK's enum does the same).
        let action_type = match action_type.as_str() {
            Some(name) if name.eq_ignore_ascii_case("rotate") => json!("Rotate"),
            Some(name) if name.eq_ignore_ascii_case("notify") => json!("Notify"),
            _ => action_type,
        };
        let trigger = action
            .get("trigger")
            .filter(|t| t.is_object())
            .unwrap_or(action);
        let mut wire_trigger = Map::new();
        for (snake, camel) in [
            ("time_after_create", "timeAfterCreate"),
            ("time_before_expiry", "timeBeforeExpiry"),
        ] {
            if let Some(value) = trigger.get(snake).filter(|value| !value.is_null()) {
                wire_trigger.insert(camel.to_owned(), value.clone());
            }
        }
        actions.push(json!({ "trigger": wire_trigger, "action": { "type": action_type } }));
    }
    let expiry = |scope: &Map<String, Value>| {
        ["expires_in", "expiry_time"]
            .iter()
            .find_map(|field| scope.get(*field).filter(|value| !value.is_null()).cloned())
    };
    let mut expires_in = expiry(policy);
    if let Some(attributes) = policy.get("attributes").and_then(Value::as_object) {
        expires_in = expiry(attributes);
    }
    let mut attributes = Map::new();
    if let Some(expires_in) = expires_in {
        attributes.insert("expiryTime".to_owned(), expires_in);
    }
    Ok(json!({ "lifetimeActions": actions, "attributes": attributes }))
}

/// Every object key in snake_case, as az's `get_json_object` does (`timeAfterCreate` →
/// `time_after_create`).
pub(crate) fn snake_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (snake_case(&key), snake_case_keys(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_case_keys).collect()),
        other => other,
    }
}

fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut previous: Option<char> = None;
    for c in key.chars() {
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn protection_maps_key_types_like_az() {
        let results = [
            ("RSA", Some("hsm")),
            ("EC-HSM", Some("hsm")),
            ("oct", None),
            ("RSA-HSM", Some("software")),
            ("EC", Some("software")),
        ]
        .map(|(kty, protection)| match with_protection(kty, protection) {
            Ok(kty) => kty,
            Err(error) => error.line(),
        })
        .join("\n");
        expect![[r#"
            RSA-HSM
            EC-HSM
            oct
            ERROR: The key type RSA-HSM is invalid for software protected keys. Omit --protection
            EC"#]]
        .assert_eq(&results);
    }

    #[test]
    fn rotation_policies_in_az_shapes() {
        let inputs = [
            r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P18M"},"action":{"type":"rotate"}},{"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Notify"}}],"attributes":{"expiryTime":"P2Y"}}"#,
            r#"{"lifetime_actions":[{"action":"Rotate","time_after_create":"P90D"}],"expires_in":"P1Y"}"#,
            r#"{}"#,
            r#"not json"#,
        ];
        let results = inputs
            .map(|raw| match rotation_policy_body(raw) {
                Ok(body) => body.to_string(),
                Err(error) => error.line(),
            })
            .join("\n");
        expect![[r#"
            {"attributes":{"expiryTime":"P2Y"},"lifetimeActions":[{"action":{"type":"Rotate"},"trigger":{"timeAfterCreate":"P18M"}},{"action":{"type":"Notify"},"trigger":{"timeBeforeExpiry":"P30D"}}]}
            {"attributes":{"expiryTime":"P1Y"},"lifetimeActions":[{"action":{"type":"Rotate"},"trigger":{"timeAfterCreate":"P90D"}}]}
            ERROR: Please specify a valid policy
            ERROR: --value is neither a file nor valid JSON: expected ident at line 1 column 2"#]]
        .assert_eq(&results);
    }
}
