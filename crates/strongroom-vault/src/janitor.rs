//! Background upkeep: purges soft-deleted objects and vaults whose retention has run out, runs the key
//! rotations and notifications their rotation policies make due, and the certificate
//! renewals and contact events their policies' lifetime actions make due.
//!
//! The binary calls `run_once` on a timer; tests call it after moving the `ManualClock`, so
//! "later" is as precise as the clock and no test sleeps.

use crate::{VaultCtx, VaultError};

/// Purges every deleted object (any vault, any kind) whose scheduled purge date is at or
/// before `ctx.now()`; returns how many names were purged.
pub async fn run_once(ctx: &VaultCtx) -> Result<u64, VaultError> {
    let now = ctx.now();
    let n_purged = ctx.store().purge_expired(now).await?;
    if n_purged > 0 {
        tracing::info!(n_purged, "janitor purged expired deleted objects");
    }
    let n_vaults_purged = crate::vaults::purge_expired(ctx).await?;
    if n_vaults_purged > 0 {
        tracing::info!(n_vaults_purged, "janitor purged expired deleted vaults");
    }
    let n_rotated = crate::keys::rotation::run_due(ctx).await?;
    if n_rotated > 0 {
        tracing::info!(
            n_rotated,
            "janitor rotated keys whose rotation policy was due"
        );
    }
    let certificates = crate::certificates::lifetime::run_due(ctx).await?;
    if certificates != crate::certificates::lifetime::LifetimeRun::default() {
        tracing::info!(
            renewed = certificates.renewed,
            notified = certificates.notified,
            "janitor ran certificate lifetime actions"
        );
    }
    Ok(n_purged)
}
