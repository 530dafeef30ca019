//! A vault's certificate issuers: named configurations of a provider that a policy's
//! `issuer.name` refers to. The `Strongroom` provider is the deployment CA under a name of
//! the vault's choosing; other providers are stored (the API is Azure's) but cannot issue
//! here (see `issuance::issue`). An issuer's password is sealed with the vault's data key
//! and never returned.

use crate::error::corrupt;
use crate::{Vault, VaultCtx, VaultError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use strongroom_authz::{Grant, perm};
use strongroom_crypto::Aad;
use strongroom_model::{ObjectName, SecretValue, UnixTime};

const DOCUMENT: &str = "issuer";
const MAX_FIELD_CHARS: usize = 256;
const MAX_ADMINS: usize = 16;

/// An administrator of the issuer account (`AdministratorDetails`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A set or update request; `None` leaves a member as it is (update) or empty (set).
#[derive(Debug, Clone, Default)]
pub struct IssuerParams {
    pub provider: Option<String>,
    pub account_id: Option<String>,
    pub password: Option<SecretValue>,
    pub organization_id: Option<String>,
    pub administrators: Option<Vec<Administrator>>,
    pub enabled: Option<bool>,
}

/// A configured issuer, without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub name: String,
    pub provider: String,
    pub account_id: Option<String>,
    pub organization_id: Option<String>,
    pub administrators: Vec<Administrator>,
    pub enabled: bool,
    pub created: UnixTime,
    pub updated: UnixTime,
}

#[derive(Serialize, Deserialize)]
struct StoredIssuer {
    name: String,
    provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    /// base64 of the password sealed with the vault's data key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization_id: Option<String>,
    #[serde(default)]
    administrators: Vec<Administrator>,
    enabled: bool,
    created: i64,
    updated: i64,
}

impl StoredIssuer {
    fn issuer(&self) -> Issuer {
        Issuer {
            name: self.name.clone(),
            provider: self.provider.clone(),
            account_id: self.account_id.clone(),
            organization_id: self.organization_id.clone(),
            administrators: self.administrators.clone(),
            enabled: self.enabled,
            created: UnixTime(self.created),
            updated: UnixTime(self.updated),
        }
    }
}

/// Creates or replaces an issuer (`provider` is required).
pub async fn set_issuer(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateSetIssuers>,
    name: &ObjectName,
    params: IssuerParams,
) -> Result<Issuer, VaultError> {
    let provider = params.provider.clone().ok_or_else(|| {
        VaultError::InvalidParameter("Property provider has invalid value\r\n".to_owned())
    })?;
    let now = ctx.now();
    let created = stored(ctx, vault, name)
        .await?
        .map_or(now.seconds(), |existing| existing.created);
    let issuer = StoredIssuer {
        name: name.as_str().to_owned(),
        provider,
        account_id: None,
        sealed_password: None,
        organization_id: None,
        administrators: Vec::new(),
        enabled: true,
        created,
        updated: now.seconds(),
    };
    write(ctx, vault, name, issuer, params).await
}

/// Changes the members given of an existing issuer.
pub async fn update_issuer(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateSetIssuers>,
    name: &ObjectName,
    params: IssuerParams,
) -> Result<Issuer, VaultError> {
    let mut issuer = stored(ctx, vault, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    if let Some(provider) = &params.provider {
        issuer.provider.clone_from(provider);
    }
    issuer.updated = ctx.now().seconds();
    write(ctx, vault, name, issuer, params).await
}

pub async fn get_issuer(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateGetIssuers>,
    name: &ObjectName,
) -> Result<Issuer, VaultError> {
    Ok(stored(ctx, vault, name)
        .await?
        .ok_or_else(|| not_found(name))?
        .issuer())
}

/// Every issuer of the vault, by name.
pub async fn list_issuers(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateListIssuers>,
) -> Result<Vec<Issuer>, VaultError> {
    ctx.store()
        .list_vault_documents(vault.id, DOCUMENT)
        .await?
        .into_iter()
        .map(|(_, bytes)| decode(&bytes).map(|stored| stored.issuer()))
        .collect()
}

/// Removes an issuer and returns it.
pub async fn delete_issuer(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateDeleteIssuers>,
    name: &ObjectName,
) -> Result<Issuer, VaultError> {
    let issuer = stored(ctx, vault, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    ctx.store()
        .delete_vault_document(vault.id, DOCUMENT, &name.folded())
        .await?;
    Ok(issuer.issuer())
}

/// The provider of the vault's enabled issuer `name`, for issuance; `None` if the vault has
/// no such issuer. A disabled issuer is refused.
pub(crate) async fn provider_of(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &str,
) -> Result<Option<String>, VaultError> {
    let Ok(name) = ObjectName::parse(name) else {
        return Ok(None);
    };
    match stored(ctx, vault, &name).await? {
        Some(issuer) if !issuer.enabled => Err(VaultError::InvalidParameter(format!(
            "The issuer '{}' is disabled.",
            issuer.name
        ))),
        Some(issuer) => Ok(Some(issuer.provider)),
        None => Ok(None),
    }
}

async fn write(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    mut issuer: StoredIssuer,
    params: IssuerParams,
) -> Result<Issuer, VaultError> {
    let too_long = |text: &Option<String>| {
        text.as_ref()
            .is_some_and(|text| text.chars().count() > MAX_FIELD_CHARS)
    };
    if too_long(&params.provider)
        || too_long(&params.account_id)
        || too_long(&params.organization_id)
    {
        return Err(VaultError::InvalidParameter(format!(
            "An issuer's provider, account id and organization id may be at most {MAX_FIELD_CHARS} characters long."
        )));
    }
    if let Some(account_id) = params.account_id {
        issuer.account_id = Some(account_id);
    }
    if let Some(organization_id) = params.organization_id {
        issuer.organization_id = Some(organization_id);
    }
    if let Some(administrators) = params.administrators {
        if administrators.len() > MAX_ADMINS {
            return Err(VaultError::InvalidParameter(format!(
                "An issuer can have at most {MAX_ADMINS} administrators."
            )));
        }
        issuer.administrators = administrators;
    }
    if let Some(enabled) = params.enabled {
        issuer.enabled = enabled;
    }
    if let Some(password) = &params.password {
        let data_key = ctx.data_key(vault).await?;
        let sealed = data_key.seal(&password_aad(vault, name), password.expose().as_bytes())?;
        issuer.sealed_password = Some(STANDARD.encode(sealed.as_bytes()));
    }
    let document =
        serde_json::to_vec(&issuer).map_err(|_| corrupt("issuer could not be encoded"))?;
    ctx.store()
        .put_vault_document(vault.id, DOCUMENT, &name.folded(), document)
        .await?;
    Ok(issuer.issuer())
}

fn password_aad(vault: &Vault, name: &ObjectName) -> Aad {
    Aad::vault_document(vault.name.as_str(), DOCUMENT, &name.folded())
}

async fn stored(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<Option<StoredIssuer>, VaultError> {
    ctx.store()
        .get_vault_document(vault.id, DOCUMENT, &name.folded())
        .await?
        .map(|bytes| decode(&bytes))
        .transpose()
}

fn decode(bytes: &[u8]) -> Result<StoredIssuer, VaultError> {
    serde_json::from_slice(bytes).map_err(|_| corrupt("stored issuer is not valid"))
}

fn not_found(name: &ObjectName) -> VaultError {
    VaultError::IssuerNotFound { name: name.clone() }
}
