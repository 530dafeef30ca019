//! Revocation: a verified token is honoured only while its principal exists and still holds the
//! credential the token was obtained with (a token that names no credential is refused), and its admin claim only while the principal is
//! still an administrator. Checked on every request, after the signature (which the verifier
//! caches), against a per-principal snapshot of the store: a map lookup on the hot path.
//!
//! Freshness: a mutation made through this process (`forget`) takes effect on the next request;
//! a snapshot is otherwise reloaded after `SNAPSHOT_TTL` at most, which bounds how long a change
//! made elsewhere (another node on the same database) takes to bite.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use strongroom_model::{CacheCounts, Caller};
use strongroom_store::{PrincipalRow, Store};

use crate::TokenError;

/// The longest a principal's snapshot is trusted before it is read again.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(2);
/// Snapshots kept at most; a full map drops its stale entries, then all of them.
const MAX_SNAPSHOTS: usize = 65_536;

/// What revocation needs to know about one principal.
struct Snapshot {
    loaded: Instant,
    /// `None`: the principal does not exist (deleted, or never did).
    state: Option<PrincipalState>,
}

struct PrincipalState {
    is_admin: bool,
    credential_ids: Vec<String>,
}

impl PrincipalState {
    fn of(principal: &PrincipalRow) -> Self {
        Self {
            is_admin: principal.is_admin,
            credential_ids: principal
                .credentials
                .iter()
                .map(|c| c.key_id.clone())
                .collect(),
        }
    }
}

/// The per-principal snapshots, shared by every request.
#[derive(Default)]
pub struct PrincipalStates {
    snapshots: RwLock<HashMap<String, Arc<Snapshot>>>,
    /// Bumped by every `forget`: a load that raced one does not cache what it read.
    forgets: AtomicU64,
    lookups: CacheCounts,
}

impl PrincipalStates {
    /// The caller as the principal's current state allows: `Revoked` if the principal is gone
    /// or no longer holds the token's credential; a token whose admin claim outlived the
    /// principal's admin rights is honoured without them.
    pub async fn admit(
        &self,
        store: &dyn Store,
        caller: Arc<Caller>,
    ) -> Result<Arc<Caller>, TokenError> {
        let fresh = self.fresh(&caller.object_id.0);
        self.lookups.record(fresh.is_some());
        let snapshot = match fresh {
            Some(snapshot) => snapshot,
            None => self.load(store, &caller.object_id.0).await?,
        };
        let Some(state) = &snapshot.state else {
            return Err(TokenError::Revoked);
        };
        // Every token Strongroom issues names its credential; one that names none could only
        // come from the signing key itself, and would escape credential revocation.
        let holds_credential = caller
            .credential_id
            .as_ref()
            .is_some_and(|credential| state.credential_ids.iter().any(|id| id == credential));
        if !holds_credential {
            return Err(TokenError::Revoked);
        }
        if caller.is_admin && !state.is_admin {
            let mut demoted = (*caller).clone();
            demoted.is_admin = false;
            return Ok(Arc::new(demoted));
        }
        Ok(caller)
    }

    /// Drops the snapshot of `object_id`: the next request reads the store. Call after every
    /// change to a principal or its credentials.
    pub fn forget(&self, object_id: &str) {
        self.forgets.fetch_add(1, Ordering::AcqRel);
        self.snapshots
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(object_id);
    }

    /// Lookups of principals' snapshots in memory (metrics).
    pub fn cache_counts(&self) -> &CacheCounts {
        &self.lookups
    }

    /// Drops every snapshot: another node changed principals (`Store::cache_generation`).
    pub fn forget_all(&self) {
        let mut snapshots = self
            .snapshots
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.forgets.fetch_add(1, Ordering::AcqRel);
        snapshots.clear();
    }

    fn fresh(&self, object_id: &str) -> Option<Arc<Snapshot>> {
        let snapshots = self
            .snapshots
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        snapshots
            .get(object_id)
            .filter(|snapshot| snapshot.loaded.elapsed() < SNAPSHOT_TTL)
            .cloned()
    }

    async fn load(&self, store: &dyn Store, object_id: &str) -> Result<Arc<Snapshot>, TokenError> {
        let loaded = Instant::now();
        let forgets_before = self.forgets.load(Ordering::Acquire);
        let principal = store
            .get_principal_by_object_id(object_id)
            .await
            .map_err(|_| TokenError::Unavailable)?;
        let snapshot = Arc::new(Snapshot {
            loaded,
            state: principal.as_ref().map(PrincipalState::of),
        });
        let mut snapshots = self
            .snapshots
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.forgets.load(Ordering::Acquire) != forgets_before {
            // A change landed while we read: use what we read once, but don't keep it.
            return Ok(snapshot);
        }
        if snapshots.len() >= MAX_SNAPSHOTS {
            snapshots.retain(|_, s| s.loaded.elapsed() < SNAPSHOT_TTL);
            if snapshots.len() >= MAX_SNAPSHOTS {
                snapshots.clear();
            }
        }
        snapshots.insert(object_id.to_owned(), snapshot.clone());
        Ok(snapshot)
    }
}
