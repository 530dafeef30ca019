//! A vault's certificate contacts: who hears about certificates' lifetime events (the
//! `EmailContacts` action). One document per vault.

use crate::error::corrupt;
use crate::{Vault, VaultCtx, VaultError};
use serde::{Deserialize, Serialize};
use strongroom_authz::{Grant, perm};

const DOCUMENT: &str = "contacts";
/// At most this many contacts per vault (ours: Key Vault's limit is not documented).
pub const MAX_CONTACTS: usize = 64;
const MAX_FIELD_CHARS: usize = 256;

/// One contact; every member optional, as in the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Replaces the vault's contacts.
pub async fn set_contacts(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateManageContacts>,
    contacts: Vec<Contact>,
) -> Result<Vec<Contact>, VaultError> {
    if contacts.len() > MAX_CONTACTS {
        return Err(VaultError::InvalidParameter(format!(
            "A vault can have at most {MAX_CONTACTS} certificate contacts."
        )));
    }
    let too_long = |field: &Option<String>| {
        field
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_FIELD_CHARS)
    };
    if contacts
        .iter()
        .any(|c| too_long(&c.email) || too_long(&c.name) || too_long(&c.phone))
    {
        return Err(VaultError::InvalidParameter(format!(
            "A contact's email, name and phone may be at most {MAX_FIELD_CHARS} characters long."
        )));
    }
    let document =
        serde_json::to_vec(&contacts).map_err(|_| corrupt("contacts could not be encoded"))?;
    ctx.store()
        .put_vault_document(vault.id, DOCUMENT, "", document)
        .await?;
    Ok(contacts)
}

/// The vault's contacts; `ContactsNotFound` if none were set.
pub async fn get_contacts(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateManageContacts>,
) -> Result<Vec<Contact>, VaultError> {
    stored_contacts(ctx, vault)
        .await?
        .ok_or(VaultError::ContactsNotFound)
}

/// Removes the vault's contacts and returns them.
pub async fn delete_contacts(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::CertificateManageContacts>,
) -> Result<Vec<Contact>, VaultError> {
    let contacts = stored_contacts(ctx, vault)
        .await?
        .ok_or(VaultError::ContactsNotFound)?;
    ctx.store()
        .delete_vault_document(vault.id, DOCUMENT, "")
        .await?;
    Ok(contacts)
}

/// The contacts, if set; for the lifetime actions that notify them.
pub(crate) async fn stored_contacts(
    ctx: &VaultCtx,
    vault: &Vault,
) -> Result<Option<Vec<Contact>>, VaultError> {
    ctx.store()
        .get_vault_document(vault.id, DOCUMENT, "")
        .await?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|_| corrupt("stored contacts are not valid"))
        })
        .transpose()
}
