//! Lifetime actions: the scheduler's side of a certificate policy. `run_due` (called by the
//! janitor, so driven by the injected clock) renews a certificate whose `AutoRenew` trigger
//! has passed, and records an event for the vault's contacts when an `EmailContacts` trigger
//! has (Azure sends an e-mail; a self-hosted deployment records it where the CLI lists it).
//!
//! A trigger is a point in the current version's validity: a percentage of its lifetime from
//! `nbf`, or a number of days before `exp`. Renewal makes a new current version, whose later
//! validity moves the trigger on, so a certificate renews once per version; an event is
//! recorded once per version (its document is keyed by name and version).

use super::contacts::stored_contacts;
use super::meta;
use super::policy::{LifetimeActionType, Trigger};
use super::service::create_version;
use super::stored;
use super::types::CreateCertificate;
use crate::error::corrupt;
use crate::{Vault, VaultCtx, VaultError, vaults};
use serde::{Deserialize, Serialize};
use strongroom_model::{ObjectKind, UnixTime};
use strongroom_store::NamePolicyRow;

const KIND: ObjectKind = ObjectKind::Certificate;
const EVENT_DOCUMENT: &str = "certificate-event";

/// What one scheduler run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeRun {
    pub renewed: u64,
    pub notified: u64,
}

/// An `EmailContacts` action that fired: which certificate version, when it expires, and who
/// was to be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateEvent {
    pub time: i64,
    pub action: String,
    pub certificate: String,
    pub version: String,
    pub expires: i64,
    pub contacts: Vec<String>,
}

/// Runs every lifetime action due at `ctx.now()`. A certificate that cannot be handled is
/// logged and skipped, so it cannot hold up the others.
pub async fn run_due(ctx: &VaultCtx) -> Result<LifetimeRun, VaultError> {
    let mut run = LifetimeRun::default();
    for row in ctx.store().list_name_policies(KIND).await? {
        match run_one(ctx, &row).await {
            Ok(Some(LifetimeActionType::AutoRenew)) => run.renewed += 1,
            Ok(Some(LifetimeActionType::EmailContacts)) => run.notified += 1,
            Ok(None) => {}
            Err(err) => tracing::error!(
                vault_id = row.vault.0,
                certificate = %row.name,
                error = %err,
                "certificate lifetime action could not be run"
            ),
        }
    }
    Ok(run)
}

/// The events recorded for a vault's certificates, oldest first.
pub async fn events(ctx: &VaultCtx, vault: &Vault) -> Result<Vec<CertificateEvent>, VaultError> {
    let mut events = ctx
        .store()
        .list_vault_documents(vault.id, EVENT_DOCUMENT)
        .await?
        .into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|_| corrupt("stored event is not valid"))
        })
        .collect::<Result<Vec<CertificateEvent>, _>>()?;
    events.sort_by(|a, b| (a.time, &a.certificate).cmp(&(b.time, &b.certificate)));
    Ok(events)
}

async fn run_one(
    ctx: &VaultCtx,
    row: &NamePolicyRow,
) -> Result<Option<LifetimeActionType>, VaultError> {
    let now = ctx.now();
    let Some(vault) = vaults::by_id(ctx, row.vault).await? else {
        return Ok(None);
    };
    let policy = stored::decode(&row.policy)?;
    let Some(current) = ctx
        .store()
        .get_version(vault.id, KIND, &row.name, None)
        .await?
    else {
        return Ok(None);
    };
    let current = meta::properties(current)?;
    let (Some(not_before), Some(expires)) =
        (current.attributes.not_before, current.attributes.expires)
    else {
        return Ok(None); // pending: nothing to renew yet
    };
    if !current.attributes.enabled {
        return Ok(None);
    }
    for action in &policy.lifetime_actions {
        if now < trigger_time(action.trigger, not_before, expires) {
            continue;
        }
        match action.action {
            LifetimeActionType::AutoRenew => {
                if policy.issuer.is_unknown() {
                    continue;
                }
                let renewal = CreateCertificate {
                    policy: None,
                    enabled: Some(true),
                    tags: Some(current.tags.clone()),
                };
                let operation = match create_version(ctx, &vault, &row.name, renewal).await {
                    Ok(operation) => operation,
                    // A create of this name is in progress: it makes the new version.
                    Err(VaultError::OperationConflict(_)) => continue,
                    Err(other) => return Err(other),
                };
                tracing::info!(
                    vault = %vault.name,
                    certificate = %row.name,
                    version = %operation.version,
                    "certificate renewed (AutoRenew lifetime action)"
                );
                return Ok(Some(LifetimeActionType::AutoRenew));
            }
            LifetimeActionType::EmailContacts => {
                let key = format!("{}/{}", row.name.folded(), current.version);
                let store = ctx.store();
                if store
                    .get_vault_document(vault.id, EVENT_DOCUMENT, &key)
                    .await?
                    .is_some()
                {
                    continue;
                }
                let contacts = stored_contacts(ctx, &vault)
                    .await?
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|contact| contact.email)
                    .collect();
                let event = CertificateEvent {
                    time: now.seconds(),
                    action: LifetimeActionType::EmailContacts.as_str().to_owned(),
                    certificate: current.name.as_str().to_owned(),
                    version: current.version.as_str().to_owned(),
                    expires: expires.seconds(),
                    contacts,
                };
                let document = serde_json::to_vec(&event)
                    .map_err(|_| corrupt("event could not be encoded"))?;
                store
                    .put_vault_document(vault.id, EVENT_DOCUMENT, &key, document)
                    .await?;
                tracing::info!(
                    vault = %vault.name,
                    certificate = %row.name,
                    version = %current.version,
                    contacts = event.contacts.len(),
                    "certificate near expiry (EmailContacts lifetime action)"
                );
                return Ok(Some(LifetimeActionType::EmailContacts));
            }
        }
    }
    Ok(None)
}

/// When a trigger fires for a version valid from `not_before` to `expires`.
pub(crate) fn trigger_time(trigger: Trigger, not_before: UnixTime, expires: UnixTime) -> UnixTime {
    match trigger {
        Trigger::LifetimePercentage(percentage) => {
            let lifetime = (expires.seconds() - not_before.seconds()).max(0);
            UnixTime(not_before.seconds() + lifetime * i64::from(percentage) / 100)
        }
        Trigger::DaysBeforeExpiry(days) => {
            UnixTime(expires.seconds() - i64::from(days) * UnixTime::SECONDS_PER_DAY)
        }
    }
}

#[cfg(test)]
mod tests {
    //! Trigger arithmetic.
    use super::*;

    #[test]
    fn triggers_fall_inside_the_validity() {
        let nbf = UnixTime(1_000_000);
        let exp = UnixTime(1_000_000 + 100 * UnixTime::SECONDS_PER_DAY);
        assert_eq!(
            trigger_time(Trigger::LifetimePercentage(80), nbf, exp),
            UnixTime(1_000_000 + 80 * UnixTime::SECONDS_PER_DAY)
        );
        assert_eq!(
            trigger_time(Trigger::DaysBeforeExpiry(30), nbf, exp),
            UnixTime(1_000_000 + 70 * UnixTime::SECONDS_PER_DAY)
        );
        assert_eq!(
            trigger_time(Trigger::LifetimePercentage(1), nbf, exp).seconds(),
            1_000_000 + 86_400
        );
    }
}
