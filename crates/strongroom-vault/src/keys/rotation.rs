//! Rotation: `rotate` makes a new version with fresh material of the same type, size and
//! operations; a key's rotation policy (stored per name, `Store::put_name_policy`) says when
//! the scheduler (`run_due`, called by the janitor) rotates it or notifies, and what expiry
//! new versions get. Durations are ISO 8601 (`P90D`, `P1Y10D`, `PT48H`), kept verbatim for
//! the wire and measured with years of 365 days and months of 30.

use super::meta::{KeyMeta, split};
use super::types::{KeyProperties, KeyType};
use super::{KIND, NewKeyVersion, generate, write_version};
use crate::lifecycle;
use crate::{Vault, VaultCtx, VaultError, vaults};
use serde::{Deserialize, Serialize};
use strongroom_authz::{Grant, perm};
use strongroom_crypto::keys::KeyFamily;
use strongroom_model::{ObjectName, UnixTime};
use strongroom_store::NamePolicyRow;

/// Azure's floor on a policy's `expiryTime` (KeyRotationPolicyAttributes: "at least 28 days").
pub const MIN_EXPIRY_DAYS: i64 = 28;
/// Azure's floor on rotation triggers: 7 days after creation or before expiry.
pub const MIN_TRIGGER_DAYS: i64 = 7;

/// What a lifetime action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeActionType {
    Rotate,
    Notify,
}

/// When a lifetime action runs: exactly one of the two durations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifetimeTrigger {
    TimeAfterCreate(String),
    TimeBeforeExpiry(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeAction {
    pub trigger: LifetimeTrigger,
    pub action: LifetimeActionType,
}

/// A key's rotation policy. `created`/`updated` are `None` for the default policy of a key
/// that never had one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPolicy {
    pub lifetime_actions: Vec<LifetimeAction>,
    pub expiry_time: Option<String>,
    pub created: Option<UnixTime>,
    pub updated: Option<UnixTime>,
    /// The version the scheduler last notified about (so a notification is sent once).
    pub notified_version: Option<String>,
}

/// The stored form of a policy (the `name_policies` document).
#[derive(Serialize, Deserialize)]
struct StoredPolicy {
    actions: Vec<StoredAction>,
    #[serde(default)]
    expiry_time: Option<String>,
    #[serde(default)]
    created: Option<i64>,
    #[serde(default)]
    updated: Option<i64>,
    #[serde(default)]
    notified_version: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredAction {
    /// `rotate` or `notify`.
    action: String,
    #[serde(default)]
    after_create: Option<String>,
    #[serde(default)]
    before_expiry: Option<String>,
}

/// `UpdateKeyRotationPolicy`'s input: `None` fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct RotationPolicyUpdate {
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    pub expiry_time: Option<String>,
}

impl RotationPolicy {
    /// What Azure answers for a key without a policy: notify 30 days before expiry.
    pub fn default_policy() -> Self {
        Self {
            lifetime_actions: vec![LifetimeAction {
                trigger: LifetimeTrigger::TimeBeforeExpiry("P30D".to_owned()),
                action: LifetimeActionType::Notify,
            }],
            expiry_time: None,
            created: None,
            updated: None,
            notified_version: None,
        }
    }

    fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        let corrupt = || crate::error::corrupt("rotation policy is not valid");
        let stored: StoredPolicy = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
        let lifetime_actions = stored
            .actions
            .into_iter()
            .map(|stored| {
                let action = match stored.action.as_str() {
                    "rotate" => LifetimeActionType::Rotate,
                    "notify" => LifetimeActionType::Notify,
                    _ => return Err(corrupt()),
                };
                let trigger = match (stored.after_create, stored.before_expiry) {
                    (Some(after), None) => LifetimeTrigger::TimeAfterCreate(after),
                    (None, Some(before)) => LifetimeTrigger::TimeBeforeExpiry(before),
                    _ => return Err(corrupt()),
                };
                Ok(LifetimeAction { trigger, action })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            lifetime_actions,
            expiry_time: stored.expiry_time,
            created: stored.created.map(UnixTime),
            updated: stored.updated.map(UnixTime),
            notified_version: stored.notified_version,
        })
    }

    fn encode(&self) -> Result<Vec<u8>, VaultError> {
        let stored = StoredPolicy {
            actions: self
                .lifetime_actions
                .iter()
                .map(|action| {
                    let (after_create, before_expiry) = match &action.trigger {
                        LifetimeTrigger::TimeAfterCreate(after) => (Some(after.clone()), None),
                        LifetimeTrigger::TimeBeforeExpiry(before) => (None, Some(before.clone())),
                    };
                    StoredAction {
                        action: match action.action {
                            LifetimeActionType::Rotate => "rotate",
                            LifetimeActionType::Notify => "notify",
                        }
                        .to_owned(),
                        after_create,
                        before_expiry,
                    }
                })
                .collect(),
            expiry_time: self.expiry_time.clone(),
            created: self.created.map(UnixTime::seconds),
            updated: self.updated.map(UnixTime::seconds),
            notified_version: self.notified_version.clone(),
        };
        serde_json::to_vec(&stored)
            .map_err(|_| crate::error::corrupt("rotation policy could not be encoded"))
    }

    fn action(&self, action: LifetimeActionType) -> Option<&LifetimeTrigger> {
        self.lifetime_actions
            .iter()
            .find(|candidate| candidate.action == action)
            .map(|candidate| &candidate.trigger)
    }
}

/// Rotates a key now: a new current version with fresh material.
pub async fn rotate(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyRotate>,
    name: &ObjectName,
) -> Result<KeyProperties, VaultError> {
    rotate_now(ctx, vault, name).await
}

/// The key's rotation policy, or Azure's default when none was set. `KeyNotFound` if the key
/// is not live (AZURE-ERRORS.md 4.10).
pub async fn get_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeyGetRotationPolicy>,
    name: &ObjectName,
) -> Result<RotationPolicy, VaultError> {
    lifecycle::get_row(ctx, vault, KIND, name, None).await?;
    stored_policy(ctx, vault, name)
        .await
        .map(|policy| policy.unwrap_or_else(RotationPolicy::default_policy))
}

/// Sets the given members of the key's rotation policy.
pub async fn update_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    _grant: &Grant<perm::KeySetRotationPolicy>,
    name: &ObjectName,
    update: RotationPolicyUpdate,
) -> Result<RotationPolicy, VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, None).await?;
    lifecycle::refuse_managed(&row, KIND, super::is_managed, "setrotationpolicy")?;
    let now = ctx.now();
    let existing = stored_policy(ctx, vault, name).await?;
    let mut policy = existing.clone().unwrap_or_else(|| RotationPolicy {
        lifetime_actions: Vec::new(),
        ..RotationPolicy::default_policy()
    });
    if let Some(actions) = update.lifetime_actions {
        check_actions(&actions)?;
        policy.lifetime_actions = actions;
    }
    if let Some(expiry_time) = update.expiry_time {
        let seconds = duration_seconds(&expiry_time)?;
        if seconds < MIN_EXPIRY_DAYS * UnixTime::SECONDS_PER_DAY {
            return Err(VaultError::InvalidParameter(format!(
                "The expiryTime of a rotation policy must be at least {MIN_EXPIRY_DAYS} days (P{MIN_EXPIRY_DAYS}D)."
            )));
        }
        policy.expiry_time = Some(expiry_time);
    }
    policy.created = existing
        .as_ref()
        .and_then(|existing| existing.created)
        .or(Some(now));
    policy.updated = Some(now);
    ctx.store()
        .put_name_policy(vault.id, KIND, name, policy.encode()?)
        .await
        .map_err(|err| match err {
            strongroom_store::StoreError::NotFound => lifecycle::not_found(KIND, name, None),
            other => VaultError::Store(other),
        })?;
    Ok(policy)
}

/// Runs every rotation and notification that is due at `ctx.now()`; returns how many keys
/// were rotated. Called by the janitor. One key that cannot be handled (a corrupt policy, a
/// failed write) is logged and skipped so it cannot hold up every other key's rotation.
pub async fn run_due(ctx: &VaultCtx) -> Result<u64, VaultError> {
    let mut n_rotated = 0;
    for row in ctx.store().list_name_policies(KIND).await? {
        match run_one(ctx, &row).await {
            Ok(rotated) => n_rotated += u64::from(rotated),
            Err(err) => tracing::error!(
                vault_id = row.vault.0,
                key = %row.name,
                error = %err,
                "rotation policy could not be run"
            ),
        }
    }
    Ok(n_rotated)
}

/// Runs one key's due action; `true` if it was rotated.
async fn run_one(ctx: &VaultCtx, row: &NamePolicyRow) -> Result<bool, VaultError> {
    let now = ctx.now();
    {
        let Some(vault) = vaults::by_id(ctx, row.vault).await? else {
            return Ok(false);
        };
        let mut policy = RotationPolicy::decode(&row.policy)?;
        let Some(current) = ctx
            .store()
            .get_version(vault.id, KIND, &row.name, None)
            .await?
        else {
            return Ok(false);
        };
        let created = current.attributes.created;
        let expires = current.attributes.expires;
        if let Some(trigger) = policy.action(LifetimeActionType::Rotate)
            && is_due(trigger, created, expires, now)?
        {
            rotate_now(ctx, &vault, &row.name).await?;
            return Ok(true);
        }
        if let Some(trigger) = policy.action(LifetimeActionType::Notify)
            && is_due(trigger, created, expires, now)?
            && policy.notified_version.as_deref() != Some(current.version.as_str())
        {
            // Azure publishes an Event Grid event (Microsoft.KeyVault.KeyNearExpiry); a
            // self-hosted deployment has the log.
            tracing::info!(
                vault = %vault.name,
                key = %row.name,
                version = %current.version,
                "key near expiry (rotation policy notify action)"
            );
            policy.notified_version = Some(current.version.as_str().to_owned());
            ctx.store()
                .put_name_policy(vault.id, KIND, &row.name, policy.encode()?)
                .await?;
        }
    }
    Ok(false)
}

/// Makes the new version: same type, size or curve, operations, tags and release rules;
/// expiry from the policy's `expiryTime` when it has one.
async fn rotate_now(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<KeyProperties, VaultError> {
    let row = lifecycle::get_row(ctx, vault, KIND, name, None).await?;
    lifecycle::refuse_managed(&row, KIND, super::is_managed, "rotate")?;
    let meta = KeyMeta::decode(&row.meta)?;
    let (current, _payload) = split(row)?;
    let key_type: KeyType = current.key_type;
    let private = match key_type.family() {
        KeyFamily::Rsa | KeyFamily::Oct => {
            generate(key_type, Some(current.size_bits), None, None).await?
        }
        KeyFamily::Ec => generate(key_type, None, None, current.curve).await?,
    };
    let policy = stored_policy(ctx, vault, name).await?;
    let now = ctx.now();
    let expires = match policy
        .as_ref()
        .and_then(|policy| policy.expiry_time.as_deref())
    {
        Some(expiry_time) => Some(UnixTime(
            now.seconds().saturating_add(duration_seconds(expiry_time)?),
        )),
        None => None,
    };
    let new = NewKeyVersion {
        key_type,
        key_ops: current.key_ops,
        enabled: true,
        not_before: None,
        expires,
        exportable: meta.exportable,
        tags: current.tags,
        release_policy: current.release_policy,
    };
    write_version(ctx, vault, name, &private, new, "rotate").await
}

async fn stored_policy(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
) -> Result<Option<RotationPolicy>, VaultError> {
    ctx.store()
        .get_name_policy(vault.id, KIND, name)
        .await?
        .map(|bytes| RotationPolicy::decode(&bytes))
        .transpose()
}

fn is_due(
    trigger: &LifetimeTrigger,
    created: UnixTime,
    expires: Option<UnixTime>,
    now: UnixTime,
) -> Result<bool, VaultError> {
    Ok(match trigger {
        LifetimeTrigger::TimeAfterCreate(duration) => {
            now.seconds()
                >= created
                    .seconds()
                    .saturating_add(duration_seconds(duration)?)
        }
        LifetimeTrigger::TimeBeforeExpiry(duration) => match expires {
            Some(expires) => {
                now.seconds()
                    >= expires
                        .seconds()
                        .saturating_sub(duration_seconds(duration)?)
            }
            None => false,
        },
    })
}

fn check_actions(actions: &[LifetimeAction]) -> Result<(), VaultError> {
    let invalid = |message: &str| Err(VaultError::InvalidParameter(message.to_owned()));
    for kind in [LifetimeActionType::Rotate, LifetimeActionType::Notify] {
        if actions
            .iter()
            .filter(|action| action.action == kind)
            .count()
            > 1
        {
            return invalid(
                "A rotation policy can have at most one rotate and one notify lifetime action.",
            );
        }
    }
    for action in actions {
        let (LifetimeTrigger::TimeAfterCreate(duration)
        | LifetimeTrigger::TimeBeforeExpiry(duration)) = &action.trigger;
        if duration_seconds(duration)? < MIN_TRIGGER_DAYS * UnixTime::SECONDS_PER_DAY {
            return Err(VaultError::InvalidParameter(format!(
                "Lifetime action triggers must be at least {MIN_TRIGGER_DAYS} days (P{MIN_TRIGGER_DAYS}D)."
            )));
        }
        if action.action == LifetimeActionType::Notify
            && matches!(action.trigger, LifetimeTrigger::TimeAfterCreate(_))
        {
            return invalid("A notify lifetime action can only be triggered by timeBeforeExpiry.");
        }
    }
    Ok(())
}

/// Seconds in an ISO 8601 duration (`PnYnMnWnDTnHnMnS`; years 365 days, months 30).
pub fn duration_seconds(text: &str) -> Result<i64, VaultError> {
    let invalid = || {
        VaultError::InvalidParameter(format!(
            "'{text}' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."
        ))
    };
    let rest = text.strip_prefix('P').ok_or_else(invalid)?;
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut number = String::new();
    let mut n_parts = 0;
    for ch in rest.chars() {
        match ch {
            '0'..='9' => number.push(ch),
            'T' if !in_time && number.is_empty() => in_time = true,
            unit => {
                let value: i64 = number.parse().map_err(|_| invalid())?;
                number.clear();
                let day = UnixTime::SECONDS_PER_DAY;
                let seconds_per_unit = match (in_time, unit) {
                    (false, 'Y') => 365 * day,
                    (false, 'M') => 30 * day,
                    (false, 'W') => 7 * day,
                    (false, 'D') => day,
                    (true, 'H') => 3600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return Err(invalid()),
                };
                total = value
                    .checked_mul(seconds_per_unit)
                    .and_then(|part| total.checked_add(part))
                    .ok_or_else(invalid)?;
                n_parts += 1;
            }
        }
    }
    if !number.is_empty() || n_parts == 0 {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    #[track_caller]
    fn check(text: &str, expect: Expect) {
        let got = match duration_seconds(text) {
            Ok(seconds) => seconds.to_string(),
            Err(err) => format!("error: {err}"),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn durations() {
        check("P90D", expect!["7776000"]);
        check("P1Y10D", expect!["32400000"]);
        check("PT48H", expect!["172800"]);
        check("P3M", expect!["7776000"]);
        check("P2W", expect!["1209600"]);
        check("P1DT1H1M1S", expect!["90061"]);
        check(
            "90D",
            expect!["error: '90D' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."],
        );
        check(
            "P",
            expect!["error: 'P' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."],
        );
        check(
            "P1H",
            expect!["error: 'P1H' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."],
        );
        check(
            "P10",
            expect!["error: 'P10' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."],
        );
        check(
            "P99999999999999999D",
            expect![
                "error: 'P99999999999999999D' is not an ISO 8601 duration (for example P90D, P1Y10D, PT48H)."
            ],
        );
    }
}
