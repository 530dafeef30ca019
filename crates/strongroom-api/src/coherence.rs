//! Caches that stay right when several nodes write one database.
//!
//! Each node caches resolved vaults, role assignments and principals' revocation state (and
//! with `--dev-clock`, the clock's offset). On a store that other processes write
//! (`Store::cache_generation` is `Some`), every request first reads the store's cache
//! generation, which every write to cached data moves in its own transaction. When it moved
//! since this node last looked, the caches are dropped before the request reads any of them,
//! and only then is the new generation published, so a request that starts after a write was
//! acknowledged by any node sees that write. A cache fill that read the store before a drop
//! is not kept (each cache has its own guard for that).
//!
//! The price is one small query per request on a shared store; on SQLite (one process) the
//! first request learns there is nothing to do and later requests pay one atomic load.

use crate::error::ApiError;
use crate::state::AppState;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// The store's answer is not known yet.
const UNKNOWN: u8 = 0;
/// Only this process writes the store: in-process invalidation is enough.
const PRIVATE: u8 = 1;
/// Other processes write the store: check the generation on every request.
const SHARED: u8 = 2;

/// The meta key of the dev clock's offset, so every node runs the same clock.
pub(crate) const DEV_CLOCK_META: &str = "dev-clock-offset-seconds";

#[derive(Default)]
pub(crate) struct Coherence {
    mode: AtomicU8,
    /// The newest generation whose changes this node's caches reflect.
    seen: AtomicU64,
    /// Held while dropping caches, so no request passes a drop still under way.
    dropping: tokio::sync::Mutex<()>,
}

impl Coherence {
    /// Makes the caches reflect every write acknowledged before now, on any node.
    pub(crate) async fn check(&self, state: &AppState) -> Result<(), ApiError> {
        if self.mode.load(Ordering::Relaxed) == PRIVATE {
            return Ok(());
        }
        let generation = match state.store.cache_generation().await {
            Ok(Some(generation)) => generation,
            Ok(None) => {
                self.mode.store(PRIVATE, Ordering::Relaxed);
                return Ok(());
            }
            Err(err) => return Err(ApiError::internal(err)),
        };
        if self.mode.load(Ordering::Relaxed) == UNKNOWN {
            self.mode.store(SHARED, Ordering::Relaxed);
        }
        if self.seen.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        let _dropping = self.dropping.lock().await;
        if self.seen.load(Ordering::Acquire) >= generation {
            return Ok(());
        }
        state.vaults.forget_all_vaults();
        state.rbac.invalidate();
        state.principals.forget_all();
        // A rotation through another node moves the generation too (it re-seals meta).
        state
            .vaults
            .check_master_key()
            .await
            .map_err(ApiError::from)?;
        if let Some(clock) = &state.config.dev_clock {
            let stored = state
                .store
                .get_meta(DEV_CLOCK_META)
                .await
                .map_err(ApiError::internal)?;
            if let Some(offset) = stored.as_deref().and_then(parse_offset) {
                clock.catch_up_to(offset);
            }
        }
        self.seen.store(generation, Ordering::Release);
        Ok(())
    }
}

/// The dev clock's offset as stored (decimal seconds).
pub(crate) fn parse_offset(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}
