//! Users: people who sign in with a password (Graph's `user`, `az ad user …`).
//!
//! A user is a principal like a service principal or a managed identity (kind [`USER_KIND`]):
//! it has an object id that access policies and role assignments name, tokens issued to it
//! carry that id, and deleting it (or replacing its password) revokes its tokens through the
//! same revocation check (`revocation.rs`). What differs is stored thus:
//! - the principal's `app_id` column holds the user principal name in lower case. A user has
//!   no application id; the column is unique and indexed, which is exactly what the sign-in
//!   lookup and the "one user per name" rule need. `find_client` refuses users, so a UPN
//!   never works as a client id;
//! - the password is the principal's one credential: an Argon2id PHC string in `hash`
//!   (`salt` empty, no certificate). Its key id goes into tokens (`strongroom_cred`), so a new
//!   password revokes every token and refresh token bought with the old one;
//! - the rest of Graph's profile (the UPN as typed, `accountEnabled`, given name, surname) is
//!   a deployment document (`user-profile`, keyed by object id).

use crate::IdentityError;
use serde::{Deserialize, Serialize};
use strongroom_crypto::verify_password;
use strongroom_model::UnixTime;
use strongroom_store::{CredentialRow, PrincipalRow, Store, StoreError};

/// The principal kind of a user.
pub const USER_KIND: &str = "User";
/// Deployment document kind of a user's profile.
const PROFILE_DOCUMENT: &str = "user-profile";
/// Entra's password length limits.
const PASSWORD_MIN_CHARS: usize = 8;
const PASSWORD_MAX_CHARS: usize = 256;
/// Entra's limit on a user principal name (`alias@domain`: 113 in all, 64 before the `@`).
const UPN_MAX_CHARS: usize = 113;
const UPN_ALIAS_MAX_CHARS: usize = 64;

/// A user as Graph shows one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccount {
    pub principal: PrincipalRow,
    /// As typed when created; compared case-insensitively.
    pub user_principal_name: String,
    pub account_enabled: bool,
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

impl UserAccount {
    pub fn object_id(&self) -> &str {
        &self.principal.object_id
    }

    pub fn display_name(&self) -> &str {
        &self.principal.display_name
    }

    /// The password credential (a user has at most one).
    pub fn password(&self) -> Option<&CredentialRow> {
        self.principal
            .credentials
            .iter()
            .find(|c| c.certificate.is_none() && c.salt.is_empty())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    user_principal_name: String,
    account_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    surname: Option<String>,
}

/// What creating a user takes. The password arrives hashed ([`strongroom_crypto::hash_password`]):
/// hashing is deliberately slow, so the caller runs it off the async threads.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_principal_name: String,
    pub display_name: String,
    pub password_hash: String,
    pub account_enabled: bool,
    pub is_admin: bool,
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

/// Changes to a user (Graph `PATCH /users/{id}`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub given_name: Option<Option<String>>,
    pub surname: Option<Option<String>>,
}

/// A user principal name Entra would accept: `alias@domain`, one `@`, an alias of letters,
/// digits and `. - _ ' +` not starting or ending with a dot, a domain of DNS labels.
pub fn check_user_principal_name(upn: &str) -> Result<(), IdentityError> {
    let invalid = || IdentityError::InvalidUserPrincipalName {
        upn: upn.chars().take(UPN_MAX_CHARS + 1).collect(),
    };
    if upn.chars().count() > UPN_MAX_CHARS {
        return Err(invalid());
    }
    let Some((alias, domain)) = upn.split_once('@') else {
        return Err(invalid());
    };
    let alias_ok = !alias.is_empty()
        && alias.chars().count() <= UPN_ALIAS_MAX_CHARS
        && !alias.starts_with('.')
        && !alias.ends_with('.')
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-'+".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if alias_ok && domain_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// Entra's password rule: 8 to 256 characters, at least three of lower case, upper case,
/// digits and symbols.
pub fn check_password_complexity(password: &str) -> Result<(), IdentityError> {
    let chars = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password
            .chars()
            .any(|c| !c.is_alphanumeric() && !c.is_whitespace()),
    ]
    .into_iter()
    .filter(|present| *present)
    .count();
    if (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) && classes >= 3 {
        Ok(())
    } else {
        Err(IdentityError::WeakPassword)
    }
}

fn password_credential(password_hash: String, now: UnixTime) -> CredentialRow {
    CredentialRow {
        key_id: uuid::Uuid::new_v4().to_string(),
        salt: Vec::new(),
        hash: password_hash.into_bytes(),
        hint: String::new(),
        created: now,
        expires: None,
        certificate: None,
        display_name: "password".to_owned(),
    }
}

/// Creates a user in `tenant_id`. `UserExists` when the name is taken (by any principal).
pub async fn create_user(
    store: &dyn Store,
    tenant_id: &str,
    new: NewUser,
    now: UnixTime,
) -> Result<UserAccount, IdentityError> {
    check_user_principal_name(&new.user_principal_name)?;
    let key = new.user_principal_name.to_ascii_lowercase();
    let exists = || IdentityError::UserExists {
        upn: new.user_principal_name.clone(),
    };
    if store.get_principal_by_app_id(&key).await?.is_some() {
        return Err(exists());
    }
    let principal = PrincipalRow {
        object_id: uuid::Uuid::new_v4().to_string(),
        app_id: key,
        tenant_id: tenant_id.to_owned(),
        display_name: new.display_name,
        kind: USER_KIND.to_owned(),
        is_admin: new.is_admin,
        created: now,
        credentials: vec![password_credential(new.password_hash, now)],
    };
    let profile = Profile {
        user_principal_name: new.user_principal_name.clone(),
        account_enabled: new.account_enabled,
        given_name: new.given_name,
        surname: new.surname,
    };
    // The profile first: a principal whose profile write failed would be a user without a
    // UPN as typed; a profile without its principal is never read (lookups go through the
    // principal) and is replaced if the object id ever recurs, which a v4 UUID does not.
    put_profile(store, &principal.object_id, &profile).await?;
    match store.create_principal(principal.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => {
            let _ = store
                .delete_deployment_document(PROFILE_DOCUMENT, &principal.object_id)
                .await;
            return Err(exists());
        }
        Err(err) => return Err(err.into()),
    }
    Ok(account(principal, Some(profile)))
}

async fn put_profile(
    store: &dyn Store,
    object_id: &str,
    profile: &Profile,
) -> Result<(), IdentityError> {
    store
        .put_deployment_document(PROFILE_DOCUMENT, object_id, serde_json::to_vec(profile)?)
        .await?;
    Ok(())
}

async fn profile_of(store: &dyn Store, object_id: &str) -> Result<Option<Profile>, IdentityError> {
    Ok(store
        .get_deployment_document(PROFILE_DOCUMENT, object_id)
        .await?
        .and_then(|(_, body)| serde_json::from_slice(&body).ok()))
}

fn account(principal: PrincipalRow, profile: Option<Profile>) -> UserAccount {
    let profile = profile.unwrap_or_else(|| Profile {
        user_principal_name: principal.app_id.clone(),
        account_enabled: true,
        ..Profile::default()
    });
    UserAccount {
        principal,
        user_principal_name: profile.user_principal_name,
        account_enabled: profile.account_enabled,
        given_name: profile.given_name,
        surname: profile.surname,
    }
}

/// The user an object id or a user principal name (any case) names; `None` when there is
/// none (or the id names a principal that is not a user).
pub async fn find_user(
    store: &dyn Store,
    id_or_upn: &str,
) -> Result<Option<UserAccount>, IdentityError> {
    let principal = if id_or_upn.contains('@') {
        store
            .get_principal_by_app_id(&id_or_upn.to_ascii_lowercase())
            .await?
    } else {
        store
            .get_principal_by_object_id(&id_or_upn.to_ascii_lowercase())
            .await?
    };
    let Some(principal) = principal.filter(|p| p.kind == USER_KIND) else {
        return Ok(None);
    };
    let profile = profile_of(store, &principal.object_id).await?;
    Ok(Some(account(principal, profile)))
}

/// The user `object_id` if what was granted with password `credential_id` still holds: the
/// user exists, is enabled and still has that password. Every sign-in artifact (session,
/// code, refresh token, device code) is checked with this before it is honoured.
pub async fn find_live_user(
    store: &dyn Store,
    object_id: &str,
    credential_id: &str,
) -> Result<Option<UserAccount>, IdentityError> {
    Ok(find_user(store, object_id).await?.filter(|user| {
        user.account_enabled && user.password().map(|c| c.key_id.as_str()) == Some(credential_id)
    }))
}

/// Every user, by user principal name.
pub async fn list_users(store: &dyn Store) -> Result<Vec<UserAccount>, IdentityError> {
    let profiles: std::collections::HashMap<String, Profile> = store
        .list_deployment_documents(PROFILE_DOCUMENT)
        .await?
        .into_iter()
        .filter_map(|(name, body)| {
            serde_json::from_slice(&body)
                .ok()
                .map(|p| (name.to_ascii_lowercase(), p))
        })
        .collect();
    let mut users: Vec<UserAccount> = store
        .list_principals()
        .await?
        .into_iter()
        .filter(|p| p.kind == USER_KIND)
        .map(|p| {
            let profile = profiles.get(&p.object_id).cloned();
            account(p, profile)
        })
        .collect();
    users.sort_by(|a, b| a.principal.app_id.cmp(&b.principal.app_id));
    Ok(users)
}

/// Replaces a user's password. The old password's key id disappears, which revokes every
/// token and refresh token obtained with it.
pub async fn set_password(
    store: &dyn Store,
    object_id: &str,
    password_hash: String,
    now: UnixTime,
) -> Result<(), IdentityError> {
    let user =
        find_user(store, object_id)
            .await?
            .ok_or_else(|| IdentityError::PrincipalNotFound {
                object_id: object_id.to_owned(),
            })?;
    store
        .set_principal_credentials(
            user.object_id(),
            vec![password_credential(password_hash, now)],
        )
        .await?;
    Ok(())
}

/// Applies Graph's `PATCH` of a user.
pub async fn update_user(
    store: &dyn Store,
    object_id: &str,
    changes: UserChanges,
) -> Result<UserAccount, IdentityError> {
    let user =
        find_user(store, object_id)
            .await?
            .ok_or_else(|| IdentityError::PrincipalNotFound {
                object_id: object_id.to_owned(),
            })?;
    if let Some(name) = &changes.display_name {
        store.rename_principal(user.object_id(), name).await?;
    }
    let mut profile = Profile {
        user_principal_name: user.user_principal_name.clone(),
        account_enabled: user.account_enabled,
        given_name: user.given_name.clone(),
        surname: user.surname.clone(),
    };
    if let Some(enabled) = changes.account_enabled {
        profile.account_enabled = enabled;
    }
    if let Some(given_name) = changes.given_name {
        profile.given_name = given_name;
    }
    if let Some(surname) = changes.surname {
        profile.surname = surname;
    }
    put_profile(store, user.object_id(), &profile).await?;
    find_user(store, user.object_id())
        .await?
        .ok_or_else(|| IdentityError::PrincipalNotFound {
            object_id: object_id.to_owned(),
        })
}

/// Deletes a user (its tokens are refused from the next request on). `false` if absent.
pub async fn delete_user(store: &dyn Store, object_id: &str) -> Result<bool, IdentityError> {
    let Some(user) = find_user(store, object_id).await? else {
        return Ok(false);
    };
    let deleted = store.delete_principal(user.object_id()).await?;
    store
        .delete_deployment_document(PROFILE_DOCUMENT, user.object_id())
        .await?;
    Ok(deleted)
}

/// Why a sign-in was refused. The page shows one text for the first two (Entra's
/// `AADSTS50126`), so it does not say which names exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    UnknownUserOrWrongPassword,
    /// The account exists and the password was right, but `accountEnabled` is false
    /// (`AADSTS50057`).
    Disabled,
}

/// A user who proved their password, and the key id of that password (for revocation).
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub account: UserAccount,
    pub credential_id: String,
}

/// A hash, with the default parameters, of a random password no one knows: an unknown name
/// costs the same Argon2id run as a known one, so timing does not tell which names exist.
/// Made on first use (one hash, once per process).
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let password = uuid::Uuid::new_v4().to_string();
    strongroom_crypto::hash_password(&password).unwrap_or_default()
});

/// Checks a password for `user` (the lookup's result, `None` for an unknown name). Slow on
/// purpose (Argon2id): run it on a blocking thread.
pub fn check_password(
    user: Option<UserAccount>,
    password: &str,
) -> Result<SignedInUser, SignInRefusal> {
    let stored = user
        .as_ref()
        .and_then(UserAccount::password)
        .map(|c| String::from_utf8_lossy(&c.hash).into_owned());
    let matches = verify_password(stored.as_deref().unwrap_or(DECOY_HASH.as_str()), password);
    match user {
        Some(account) if matches && stored.is_some() => {
            if !account.account_enabled {
                return Err(SignInRefusal::Disabled);
            }
            let credential_id = account
                .password()
                .map(|c| c.key_id.clone())
                .unwrap_or_default();
            Ok(SignedInUser {
                account,
                credential_id,
            })
        }
        _ => Err(SignInRefusal::UnknownUserOrWrongPassword),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_principal_names_follow_entra() {
        for good in ["alice@contoso.com", "a.b-c_d'e+f@x.y.z", "Bob@Example.ORG"] {
            assert!(check_user_principal_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "alice",
            "@contoso.com",
            "alice@",
            "alice@contoso",
            ".alice@contoso.com",
            "alice.@contoso.com",
            "al ice@contoso.com",
            "alice@con_toso.com",
            "alice@-contoso.com",
            "a@b@contoso.com",
        ] {
            assert!(check_user_principal_name(bad).is_err(), "{bad:?}");
        }
        let long_alias = format!("{}@contoso.com", "a".repeat(65));
        assert!(check_user_principal_name(&long_alias).is_err());
    }

    #[test]
    fn passwords_need_eight_characters_of_three_classes() {
        for good in ["Passw0rd", "pass word 1!", "ABCdef!!", "Zürich-2026"] {
            assert!(check_password_complexity(good).is_ok(), "{good}");
        }
        for bad in [
            "Pa0!",
            "password",
            "PASSWORD1",
            "passw0rd",
            "        ",
            &"Aa1".repeat(90),
        ] {
            assert!(check_password_complexity(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_decoy_hash_is_an_argon2id_hash_with_the_default_parameters() {
        let (m, t, p) = strongroom_crypto::PASSWORD_HASH_PARAMS;
        assert!(DECOY_HASH.starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$")));
        assert!(matches!(
            check_password(None, ""),
            Err(SignInRefusal::UnknownUserOrWrongPassword)
        ));
    }
}
