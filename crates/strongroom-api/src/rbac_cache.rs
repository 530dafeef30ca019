//! The deployment's role assignments and role definitions in memory, for vaults that authorise
//! by Azure RBAC: loaded from the store on first use, replaced at once when this node changes
//! them (`invalidate`), and reloaded at most [`LIFETIME`] after it was loaded, so a change made
//! through another node is honoured within that time. Vaults that use access policies never
//! touch it.
//!
//! One load at a time: requests that find the snapshot stale wait for the load already under
//! way instead of each reading the store. A load that raced an invalidation (it may have read
//! the store before the change) answers its own request but is not kept.

use crate::error::ApiError;
use crate::state::AppState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use strongroom_authz::rbac::RbacSnapshot;

/// How long a loaded snapshot serves before the next request reloads it.
const LIFETIME: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(crate) struct RbacCache {
    current: RwLock<Option<(Instant, Arc<RbacSnapshot>)>>,
    /// Held while loading.
    loading: tokio::sync::Mutex<()>,
    /// Bumped by every invalidation.
    generation: AtomicU64,
    pub(crate) lookups: strongroom_model::CacheCounts,
}

impl RbacCache {
    /// The snapshot to decide with: the cached one while fresh, else loaded now.
    pub(crate) async fn snapshot(&self, state: &AppState) -> Result<Arc<RbacSnapshot>, ApiError> {
        let fresh = self.fresh();
        self.lookups.record(fresh.is_some());
        if let Some(fresh) = fresh {
            return Ok(fresh);
        }
        let _loading = self.loading.lock().await;
        // Someone else may have loaded it while this request waited.
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let snapshot = Arc::new(RbacSnapshot {
            assignments: crate::arm::role_assignments(state).await?,
            roles: crate::arm::role_definitions(state).await?,
        });
        if self.generation.load(Ordering::Acquire) == generation {
            *self
                .current
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((Instant::now(), Arc::clone(&snapshot)));
        }
        Ok(snapshot)
    }

    /// Forgets the snapshot: the next decision loads what the store holds now.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn fresh(&self) -> Option<Arc<RbacSnapshot>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        current
            .as_ref()
            .filter(|(loaded, _)| loaded.elapsed() < LIFETIME)
            .map(|(_, snapshot)| Arc::clone(snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalidated_cache_has_nothing_fresh() {
        let cache = RbacCache::default();
        *cache
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), Arc::new(RbacSnapshot::default())));
        assert!(cache.fresh().is_some());
        let before = cache.generation.load(Ordering::Acquire);
        cache.invalidate();
        assert!(cache.fresh().is_none());
        assert_eq!(cache.generation.load(Ordering::Acquire), before + 1);
    }
}
