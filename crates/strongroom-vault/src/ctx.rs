//! The service context: store, clock, master key, and the two caches that keep the
//! data-plane hot path free of database reads and master-key work.
//!
//! - Resolved vaults are cached by name for `VAULT_CACHE_TTL`, and dropped at once when this
//!   process changes or deletes the vault. The short TTL bounds how long another node's change
//!   (a future multi-node backend) can go unseen.
//! - Opened data keys are cached per vault for the life of the process. The cache key includes
//!   the vault's name and creation time (the data key's authenticated data), so a vault that
//!   is deleted and re-created, even under a reused id, never meets the old key.

use crate::VaultError;
use crate::vaults::Vault;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use strongroom_crypto::{Aad, DataKey, MasterKey};
use strongroom_model::{Clock, UnixTime, VaultId, VaultName};
use strongroom_store::Store;

/// How long a resolved vault is served from memory before the store is asked again.
pub const VAULT_CACHE_TTL: Duration = Duration::from_secs(1);

/// Everything a vault operation needs. Built once at start-up and shared (`Arc<VaultCtx>`).
pub struct VaultCtx {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    master: Arc<MasterKey>,
    vault_cache_ttl: Duration,
    vaults: Mutex<HashMap<VaultName, CachedVault>>,
    data_keys: Mutex<HashMap<DataKeyId, Arc<DataKey>>>,
}

struct CachedVault {
    vault: Vault,
    // A monotonic instant, not domain time: it only measures the cache entry's age, and a
    // test that moves the `ManualClock` must not be able to stretch it.
    fetched: Instant,
}

/// Identifies one vault's data key: its id plus the authenticated data it was sealed with.
#[derive(Clone, PartialEq, Eq, Hash)]
struct DataKeyId {
    id: VaultId,
    name: VaultName,
    created: UnixTime,
}

impl DataKeyId {
    fn of(vault: &Vault) -> Self {
        Self {
            id: vault.id,
            name: vault.name.clone(),
            created: vault.created,
        }
    }
}

/// The caches hold plain data that is valid after any panic, so a poisoned lock is still used.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl VaultCtx {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, master: Arc<MasterKey>) -> Self {
        Self {
            store,
            clock,
            master,
            vault_cache_ttl: VAULT_CACHE_TTL,
            vaults: Mutex::new(HashMap::new()),
            data_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Overrides how long a resolved vault is served from memory (default one second).
    #[must_use]
    pub fn with_vault_cache_ttl(mut self, ttl: Duration) -> Self {
        self.vault_cache_ttl = ttl;
        self
    }

    /// The current time, from the injected clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn master(&self) -> &MasterKey {
        &self.master
    }

    pub(crate) fn cached_vault(&self, name: &VaultName) -> Option<Vault> {
        let mut vaults = lock(&self.vaults);
        match vaults.get(name) {
            Some(cached) if cached.fetched.elapsed() < self.vault_cache_ttl => {
                Some(cached.vault.clone())
            }
            Some(_) => {
                vaults.remove(name);
                None
            }
            None => None,
        }
    }

    pub(crate) fn cache_vault(&self, vault: &Vault) {
        lock(&self.vaults).insert(
            vault.name.clone(),
            CachedVault {
                vault: vault.clone(),
                fetched: Instant::now(),
            },
        );
    }

    /// Forgets a vault and its data key (after delete).
    pub(crate) fn forget_vault(&self, vault: &Vault) {
        lock(&self.vaults).remove(&vault.name);
        lock(&self.data_keys).remove(&DataKeyId::of(vault));
    }

    pub(crate) fn remember_data_key(&self, vault: &Vault, key: Arc<DataKey>) {
        lock(&self.data_keys).insert(DataKeyId::of(vault), key);
    }

    /// The vault's opened data key: from the cache, or read from the store and opened with the
    /// master key once.
    pub(crate) async fn data_key(&self, vault: &Vault) -> Result<Arc<DataKey>, VaultError> {
        let cached = lock(&self.data_keys).get(&DataKeyId::of(vault)).cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        let row = self
            .store
            .get_vault_by_id(vault.id)
            .await?
            .filter(|row| row.name == vault.name && row.created == vault.created)
            .ok_or(VaultError::VaultNotFound)?;
        let aad = Aad::data_key(vault.name.as_str(), vault.created.seconds());
        let key = Arc::new(self.master.open_data_key(&aad, &row.sealed_data_key)?);
        self.remember_data_key(vault, Arc::clone(&key));
        Ok(key)
    }
}

impl fmt::Debug for VaultCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultCtx").finish_non_exhaustive()
    }
}
