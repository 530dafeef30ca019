//! The deployment's role assignments and role definitions in memory, for vaults that authorise
//! by Azure RBAC: loaded from the store on first use, replaced at once when this node changes
//! them (`invalidate`), and reloaded at most [`LIFETIME`] after it was loaded, so a change made
//! through another node is honoured within that time. Vaults that use access policies never
//! touch it.

use crate::error::ApiError;
use crate::state::AppState;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use strongroom_authz::rbac::RbacSnapshot;

/// How long a loaded snapshot serves before the next request reloads it.
const LIFETIME: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(crate) struct RbacCache {
    current: RwLock<Option<(Instant, Arc<RbacSnapshot>)>>,
}

impl RbacCache {
    /// The snapshot to decide with: the cached one while fresh, else loaded now.
    pub(crate) async fn snapshot(&self, state: &AppState) -> Result<Arc<RbacSnapshot>, ApiError> {
        if let Some((loaded, snapshot)) = &*self.read()
            && loaded.elapsed() < LIFETIME
        {
            return Ok(Arc::clone(snapshot));
        }
        let snapshot = Arc::new(RbacSnapshot {
            assignments: crate::arm::role_assignments(state).await?,
            roles: crate::arm::role_definitions(state).await?,
        });
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&snapshot)));
        Ok(snapshot)
    }

    /// Forgets the snapshot: the next decision loads what the store holds now.
    pub(crate) fn invalidate(&self) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<(Instant, Arc<RbacSnapshot>)>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
