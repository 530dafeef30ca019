//! Background upkeep: purges soft-deleted objects whose retention has run out, and runs the
//! key rotations and notifications their rotation policies make due.
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
    let n_rotated = crate::keys::rotation::run_due(ctx).await?;
    if n_rotated > 0 {
        tracing::info!(
            n_rotated,
            "janitor rotated keys whose rotation policy was due"
        );
    }
    Ok(n_purged)
}
