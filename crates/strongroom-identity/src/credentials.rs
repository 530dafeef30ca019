//! Tenants, service principals and their credentials (client secrets and certificates):
//! creating them for the management API, and checking a client-credentials request with a
//! secret at the token endpoint (assertions signed with a certificate: `assertion.rs`).
//!
//! Client secrets are 256-bit random strings shown once and stored only as salted hashes;
//! a presented secret is compared in constant time against *every* stored credential, so
//! the time taken does not say which one (if any) matched.

use crate::{AuthenticatedClient, IdentityError};
use strongroom_crypto::{
    CertificateInfo, SecretHash, certificate_der_from_text, hash_secret, parse_client_certificate,
    random_token, verify_secret,
};
use strongroom_model::{SecretValue, UnixTime};
use strongroom_store::{CredentialRow, PrincipalRow, Store, TenantRow};

/// Tenant path segments that mean "the default tenant" (CONTRACTS.md, identity endpoints).
pub const DEFAULT_TENANT_ALIASES: [&str; 3] = ["adfs", "organizations", "common"];
/// The display name Entra gives a tenant nobody has renamed.
pub const DEFAULT_TENANT_NAME: &str = "Default Directory";
/// Lifetime of a new client secret.
pub const CLIENT_SECRET_LIFETIME_DAYS: i64 = 365;
/// Random bytes in a client secret (43 base64url characters).
const CLIENT_SECRET_BYTES: usize = 32;
/// Characters of a secret kept as its `hint`, as Entra shows them.
const HINT_CHARS: usize = 3;

/// The default tenant, created on first start with a random id.
pub async fn ensure_default_tenant(store: &dyn Store) -> Result<TenantRow, IdentityError> {
    let tenants = store.list_tenants().await?;
    if let Some(default) = tenants.into_iter().find(|tenant| tenant.is_default) {
        return Ok(default);
    }
    let tenant = TenantRow {
        tenant_id: uuid::Uuid::new_v4().to_string(),
        display_name: DEFAULT_TENANT_NAME.to_owned(),
        is_default: true,
    };
    store.put_tenant(tenant.clone()).await?;
    Ok(tenant)
}

/// The tenant a path segment names: a tenant id (any case) or an alias of the default tenant.
pub async fn resolve_tenant(
    store: &dyn Store,
    tenant_path: &str,
) -> Result<TenantRow, IdentityError> {
    let unknown = || IdentityError::UnknownTenant {
        tenant: tenant_path.to_owned(),
    };
    let wanted = tenant_path.to_ascii_lowercase();
    if DEFAULT_TENANT_ALIASES.contains(&wanted.as_str()) {
        let tenants = store.list_tenants().await?;
        return tenants
            .into_iter()
            .find(|tenant| tenant.is_default)
            .ok_or_else(unknown);
    }
    store.get_tenant(&wanted).await?.ok_or_else(unknown)
}

/// Checks a client-credentials request: the tenant exists, the application is registered
/// in it, and the secret matches one of its credentials that has not expired.
pub async fn authenticate_client(
    store: &dyn Store,
    tenant_id: &str,
    client_id: &str,
    client_secret: &str,
    now: UnixTime,
) -> Result<AuthenticatedClient, IdentityError> {
    let principal = find_client(store, tenant_id, client_id).await?;
    if client_secret.is_empty() {
        return Err(IdentityError::MissingParameter {
            name: "client_secret".to_owned(),
        });
    }

    let mut matched_live: Option<&str> = None;
    let mut matched_expired = false;
    // Certificate credentials have no hash; a secret never matches them.
    for credential in principal
        .credentials
        .iter()
        .filter(|c| c.certificate.is_none())
    {
        let stored = SecretHash {
            salt: credential.salt.clone(),
            hash: credential.hash.clone(),
        };
        // Always compute the comparison; branch on expiry only afterwards.
        let matches = verify_secret(&stored, client_secret);
        let expired = credential.expires.is_some_and(|expires| expires <= now);
        if matches && !expired {
            matched_live = Some(&credential.key_id);
        }
        matched_expired |= matches && expired;
    }
    if let Some(key_id) = matched_live {
        let credential_id = key_id.to_owned();
        Ok(AuthenticatedClient {
            principal,
            credential_id,
        })
    } else if matched_expired {
        Err(IdentityError::ExpiredSecret {
            app_id: principal.app_id,
        })
    } else {
        Err(IdentityError::InvalidSecret {
            app_id: principal.app_id,
        })
    }
}

/// The principal registered as `client_id` in the tenant `tenant_id` names.
pub(crate) async fn find_client(
    store: &dyn Store,
    tenant_id: &str,
    client_id: &str,
) -> Result<PrincipalRow, IdentityError> {
    if client_id.is_empty() {
        return Err(IdentityError::MissingParameter {
            name: "client_id".to_owned(),
        });
    }
    let tenant = resolve_tenant(store, tenant_id).await?;
    // A user's row keeps its user principal name where an application keeps its client id
    // (users.rs); a user is never a client.
    let Some(principal) = store
        .get_principal_by_app_id(&client_id.to_ascii_lowercase())
        .await?
        .filter(|principal| principal.kind != crate::USER_KIND)
    else {
        return Err(IdentityError::UnknownClient {
            client_id: client_id.to_owned(),
            tenant: tenant.tenant_id,
        });
    };
    if principal.tenant_id != tenant.tenant_id {
        return Err(IdentityError::TenantMismatch {
            client_id: client_id.to_owned(),
            tenant: tenant.tenant_id,
        });
    }
    Ok(principal)
}

/// Registers a service principal in `tenant_id` with fresh random object and application ids
/// and no credentials yet.
pub async fn create_service_principal(
    store: &dyn Store,
    tenant_id: &str,
    display_name: &str,
    is_admin: bool,
    now: UnixTime,
) -> Result<PrincipalRow, IdentityError> {
    let tenant = store
        .get_tenant(&tenant_id.to_ascii_lowercase())
        .await?
        .ok_or_else(|| IdentityError::UnknownTenant {
            tenant: tenant_id.to_owned(),
        })?;
    let principal = PrincipalRow {
        object_id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant.tenant_id,
        display_name: display_name.to_owned(),
        kind: "ServicePrincipal".to_owned(),
        is_admin,
        created: now,
        credentials: Vec::new(),
    };
    store.create_principal(principal.clone()).await?;
    Ok(principal)
}

/// The object id of the application registration behind a service principal. Strongroom
/// keeps one row per app, so Graph's two objects (the application and its service principal,
/// each with its own `id` in Azure) are two views of it; the application's id is derived from
/// the app id, stable and distinct from the principal's object id, and needs no column.
pub fn application_object_id(app_id: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!(
            "strongroom application object id\0{}",
            app_id.to_ascii_lowercase()
        )
        .as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    // Version and variant bits of a v4 UUID, so clients that check GUID shapes accept it.
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// What a new client secret is called and until when it works.
#[derive(Debug, Clone, Default)]
pub struct NewSecret {
    /// Graph's `displayName` of the credential; may be empty.
    pub display_name: String,
    /// When it stops working; `None`: a year from now ([`CLIENT_SECRET_LIFETIME_DAYS`]).
    pub expires: Option<UnixTime>,
}

/// Adds a client secret to a principal, valid for a year. The returned `SecretValue` is the
/// only copy of the secret; the store keeps a salted hash and a three-character hint. The
/// store appends it atomically, so concurrent additions for one principal all survive.
pub async fn add_client_secret(
    store: &dyn Store,
    object_id: &str,
    now: UnixTime,
) -> Result<(CredentialRow, SecretValue), IdentityError> {
    add_named_client_secret(store, object_id, NewSecret::default(), now).await
}

/// [`add_client_secret`] with a display name and an end of the caller's choosing (Graph's
/// `addPassword` body). An end that is not after `now` is refused.
pub async fn add_named_client_secret(
    store: &dyn Store,
    object_id: &str,
    new: NewSecret,
    now: UnixTime,
) -> Result<(CredentialRow, SecretValue), IdentityError> {
    let expires = new
        .expires
        .unwrap_or_else(|| now.plus_days(CLIENT_SECRET_LIFETIME_DAYS));
    if expires <= now {
        return Err(IdentityError::InvalidCredentialLifetime);
    }
    let principal = existing_principal(store, object_id).await?;
    let secret = new_client_secret()?;
    let hashed = hash_secret(secret.expose())?;
    let credential = CredentialRow {
        key_id: uuid::Uuid::new_v4().to_string(),
        salt: hashed.salt,
        hash: hashed.hash,
        hint: secret.expose().chars().take(HINT_CHARS).collect(),
        created: now,
        expires: Some(expires),
        certificate: None,
        display_name: new.display_name,
    };
    store
        .add_principal_credential(&principal.object_id, credential.clone())
        .await?;
    Ok((credential, secret))
}

/// The principal `object_id`, or `PrincipalNotFound`.
async fn existing_principal(
    store: &dyn Store,
    object_id: &str,
) -> Result<PrincipalRow, IdentityError> {
    store
        .get_principal_by_object_id(object_id)
        .await?
        .ok_or_else(|| IdentityError::PrincipalNotFound {
            object_id: object_id.to_owned(),
        })
}

/// A fresh client secret that never begins with `-`: tutorials pass secrets as
/// `az login -p $SECRET`, and argparse would read a leading dash as an option (Azure's own
/// secrets avoid it too). Redrawing costs 1 in 64 attempts one more draw and leaves the other
/// characters uniformly random.
fn new_client_secret() -> Result<SecretValue, IdentityError> {
    loop {
        let secret = SecretValue::new(random_token(CLIENT_SECRET_BYTES)?);
        if !secret.expose().starts_with('-') {
            return Ok(secret);
        }
    }
}

/// Registers a public certificate (PEM, or base64 of its DER) as a credential of a principal: client assertions
/// signed with its key authenticate the principal until the certificate expires. Returns the
/// new credential and what the certificate says (thumbprints, dates).
pub async fn add_client_certificate(
    store: &dyn Store,
    object_id: &str,
    certificate: &str,
    now: UnixTime,
) -> Result<(CredentialRow, CertificateInfo), IdentityError> {
    let (credential, info) = certificate_credential(certificate, None, String::new(), now)?;
    let principal = existing_principal(store, object_id).await?;
    store
        .add_principal_credential(&principal.object_id, credential.clone())
        .await?;
    Ok((credential, info))
}

/// A certificate credential, not yet stored: the public certificate (PEM, or base64 of its
/// DER) checked to be an unexpired RSA certificate, under `key_id` (a new one when `None`:
/// Graph lets the client choose it in a `keyCredentials` update).
pub fn certificate_credential(
    certificate: &str,
    key_id: Option<&str>,
    display_name: String,
    now: UnixTime,
) -> Result<(CredentialRow, CertificateInfo), IdentityError> {
    let certificate_der =
        certificate_der_from_text(certificate).map_err(|_| IdentityError::InvalidCertificate)?;
    let info = parse_client_certificate(&certificate_der)
        .map_err(|_| IdentityError::InvalidCertificate)?;
    if info.not_after <= now {
        return Err(IdentityError::InvalidCertificate);
    }
    let key_id = key_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_ascii_lowercase);
    let credential = CredentialRow {
        key_id,
        salt: Vec::new(),
        hash: Vec::new(),
        hint: String::new(),
        created: now,
        expires: Some(info.not_after),
        certificate: Some(certificate_der),
        display_name,
    };
    Ok((credential, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secrets_never_begin_with_a_dash() {
        // Unconstrained, 1 in 64 would: 4,096 draws all pass by chance with odds below 1e-27.
        for _ in 0..4096 {
            let secret = new_client_secret().unwrap();
            assert!(!secret.expose().starts_with('-'));
            assert_eq!(secret.expose().len(), 43);
        }
    }
}
