//! The service context: store, clock, the deployment's keys, and the caches that keep the
//! data-plane hot path free of database reads and master-key work.
//!
//! - The master key and the backup key sit behind one async lock (`Keyring`). Everything
//!   that seals or opens with the master key (a vault's creation, a data-key cache miss)
//!   holds a read guard until its row is written or read, and a master-key rotation
//!   (`master_key.rs`) holds the write guard from its first read to its swap, so no data key is
//!   ever sealed under a key the rotation is about to forget.
//! - Resolved vaults are cached by name for `VAULT_CACHE_TTL`, and dropped at once when this
//!   process changes or deletes the vault. On a store other nodes write, the API layer drops
//!   them all (`forget_all_vaults`) before a request that finds the store's cache generation
//!   moved, so another node's change is seen by the next request that starts after it.
//! - Opened data keys are cached per vault for the life of the process. The cache key includes
//!   the vault's name and creation time (the data key's authenticated data), so a vault that
//!   is deleted and re-created, even under a reused id, never meets the old key.
//! - Parsed private keys (a key version's unsealed, parsed material) are cached by vault,
//!   name and version, at most `KEY_CACHE_CAPACITY` of them, so a hot key skips the unseal
//!   and parse on every operation. A version's material never changes; every operation still
//!   reads the version's row first, so a deleted, purged or disabled key is never used.

use crate::VaultError;
use crate::keys::ReleaseConfig;
use crate::vaults::Vault;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use strongroom_crypto::keys::PrivateKey;
use strongroom_crypto::{Aad, DataKey, LocalCa, MasterKey};
use strongroom_model::{
    CacheCounts, Clock, ObjectName, Sealed, UnixTime, VaultId, VaultName, Version,
};
use strongroom_store::Store;

/// How long a resolved vault is served from memory before the store is asked again.
pub const VAULT_CACHE_TTL: Duration = Duration::from_secs(1);

/// How many parsed private keys are kept; past that the cache starts over (a simple bound:
/// hot keys come back after one miss each).
pub(crate) const KEY_CACHE_CAPACITY: usize = 4096;

/// Everything a vault operation needs. Built once at start-up and shared (`Arc<VaultCtx>`).
pub struct VaultCtx {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: tokio::sync::RwLock<Keyring>,
    vault_cache_ttl: Duration,
    vaults: Mutex<HashMap<VaultName, CachedVault>>,
    /// Bumped by `forget_all_vaults`: a resolve that read the store before it does not cache
    /// what it read (it may predate the change that caused the forgetting).
    vault_epoch: AtomicU64,
    vault_lookups: CacheCounts,
    /// `false` once this node found that the deployment's master key is no longer the one it
    /// holds (rotated through another node): it then seals nothing new with it.
    master_current: std::sync::atomic::AtomicBool,
    // By vault id; an entry serves only the vault whose name and creation time it was sealed
    // for (`DataKeyId`), checked on every hit, so a reused id never finds another's key.
    data_keys: Mutex<HashMap<VaultId, (DataKeyId, Arc<DataKey>)>>,
    private_keys: Mutex<HashMap<PrivateKeyId, Arc<PrivateKey>>>,
    release: ReleaseConfig,
    issuing_ca: Option<IssuingCa>,
}

/// The deployment-level keys.
pub(crate) struct Keyring {
    pub(crate) master: Arc<MasterKey>,
    /// Seals backup blobs, once read from the store or derived (`VaultCtx::backup_key`). A
    /// deployment whose master key was never rotated has none stored: its backup key is
    /// derived from the master key (as every deployment's was before rotation existed), and
    /// the first rotation stores it sealed, so that backups made before it still restore
    /// after it.
    pub(crate) backup: Option<Arc<DataKey>>,
}

/// Where the backup key is kept once stored: `meta`, sealed by the master key with
/// `Aad::deployment(BACKUP_KEY_META)`.
pub(crate) const BACKUP_KEY_META: &str = "backup-key";

/// Whether a DNS name (possibly a wildcard) is one the deployment serves itself.
pub type ServedName = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The deployment CA as an issuer, and the names it must never sign for.
#[derive(Clone)]
pub(crate) struct IssuingCa {
    pub(crate) ca: Arc<LocalCa>,
    pub(crate) served: ServedName,
}

/// Identifies one key version's material: its vault (as `DataKeyId`) and lower-cased name
/// and version.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PrivateKeyId {
    vault: DataKeyId,
    name: String,
    version: Version,
}

struct CachedVault {
    // Shared, so the hot path hands out a reference count instead of cloning the vault and
    // its access-policy strings on every request.
    vault: Arc<Vault>,
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
    /// Whether this is `vault`'s id (compared without building one).
    fn is(&self, vault: &Vault) -> bool {
        self.id == vault.id && self.created == vault.created && self.name == vault.name
    }

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
            keys: tokio::sync::RwLock::new(Keyring {
                master,
                backup: None,
            }),
            vault_cache_ttl: VAULT_CACHE_TTL,
            vaults: Mutex::new(HashMap::new()),
            vault_epoch: AtomicU64::new(0),
            vault_lookups: CacheCounts::default(),
            master_current: std::sync::atomic::AtomicBool::new(true),
            data_keys: Mutex::new(HashMap::new()),
            private_keys: Mutex::new(HashMap::new()),
            release: ReleaseConfig::default(),
            issuing_ca: None,
        }
    }

    /// The deployment CA, which issues certificates whose policy names the
    /// `DEPLOYMENT_CA_ISSUER` (default: none, so such policies are refused), and the names
    /// it refuses to sign: those the deployment serves itself (its own hosts and the Azure
    /// names transparent mode intercepts), since every client of the deployment trusts it.
    #[must_use]
    pub fn with_issuing_ca(mut self, ca: Arc<LocalCa>, served: ServedName) -> Self {
        self.issuing_ca = Some(IssuingCa { ca, served });
        self
    }

    pub(crate) fn issuing_ca(&self) -> Option<&IssuingCa> {
        self.issuing_ca.as_ref()
    }

    /// Secure key release's trusted attestation authorities and signing key (default: none,
    /// so every release is refused).
    #[must_use]
    pub fn with_release(mut self, release: ReleaseConfig) -> Self {
        self.release = release;
        self
    }

    pub(crate) fn release_config(&self) -> &ReleaseConfig {
        &self.release
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

    /// The deployment keys, shared: hold the guard across the store call that reads or
    /// writes what the master key seals.
    pub(crate) async fn keyring(&self) -> tokio::sync::RwLockReadGuard<'_, Keyring> {
        self.keys.read().await
    }

    /// The deployment keys, exclusively (a rotation).
    pub(crate) async fn keyring_mut(&self) -> tokio::sync::RwLockWriteGuard<'_, Keyring> {
        self.keys.write().await
    }

    /// Checks that this node's master key is still the deployment's: after a rotation through
    /// another node the stored backup key is sealed under the new key, and this one no longer
    /// opens it. A node that finds so stops sealing with its key (`ensure_master_current`), so
    /// no vault is created that the new key could not open; reads of vaults it already holds
    /// keys for go on until it is restarted with the new key.
    pub async fn check_master_key(&self) -> Result<(), VaultError> {
        let keys = self.keys.read().await;
        let Some(sealed) = self.store.get_meta(BACKUP_KEY_META).await? else {
            return Ok(());
        };
        let current = keys
            .master
            .open_data_key(&Aad::deployment(BACKUP_KEY_META), &Sealed::from(sealed))
            .is_ok();
        let was = self.master_current.swap(current, Ordering::AcqRel);
        if was && !current {
            tracing::error!(
                "the deployment's master key was rotated through another node: this node creates no vault until it is restarted with the new key"
            );
        }
        Ok(())
    }

    /// `Unavailable` when this node's master key is no longer the deployment's.
    pub(crate) fn ensure_master_current(&self) -> Result<(), VaultError> {
        if self.master_current.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(VaultError::Store(strongroom_store::StoreError::Unavailable(
            "this node's master key is no longer the deployment's (it was rotated through another node); restart the node with the new key".to_owned(),
        )))
    }

    /// The key that seals backup blobs.
    pub(crate) async fn backup_key(&self) -> Result<Arc<DataKey>, VaultError> {
        if let Some(key) = &self.keys.read().await.backup {
            return Ok(Arc::clone(key));
        }
        let mut keys = self.keys.write().await;
        self.load_backup_key(&mut keys).await
    }

    /// The backup key, kept once known: the stored one, or, where no rotation has stored one
    /// yet, the one derived from the master key.
    pub(crate) async fn load_backup_key(
        &self,
        keys: &mut Keyring,
    ) -> Result<Arc<DataKey>, VaultError> {
        if let Some(key) = &keys.backup {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(match self.store.get_meta(BACKUP_KEY_META).await? {
            Some(sealed) => keys
                .master
                .open_data_key(&Aad::deployment(BACKUP_KEY_META), &Sealed::from(sealed))?,
            None => keys.master.backup_key()?,
        });
        keys.backup = Some(Arc::clone(&key));
        Ok(key)
    }

    pub(crate) fn cached_vault(&self, name: &str) -> Option<Arc<Vault>> {
        let mut vaults = lock(&self.vaults);
        let found = match vaults.get(name) {
            Some(cached) if cached.fetched.elapsed() < self.vault_cache_ttl => {
                Some(Arc::clone(&cached.vault))
            }
            Some(_) => {
                vaults.remove(name);
                None
            }
            None => None,
        };
        self.vault_lookups.record(found.is_some());
        found
    }

    /// Lookups of resolved vaults in memory (metrics).
    pub fn vault_cache_counts(&self) -> &CacheCounts {
        &self.vault_lookups
    }

    /// The epoch to pass to `cache_vault_read_in`, taken before reading the store.
    pub(crate) fn vault_epoch(&self) -> u64 {
        self.vault_epoch.load(Ordering::Acquire)
    }

    /// `cache_vault` for a vault read from the store during `epoch`: kept only if no
    /// `forget_all_vaults` happened since, else just returned.
    pub(crate) fn cache_vault_read_in(&self, vault: &Vault, epoch: u64) -> Arc<Vault> {
        let mut vaults = lock(&self.vaults);
        if self.vault_epoch.load(Ordering::Acquire) != epoch {
            return Arc::new(vault.clone());
        }
        let shared = Arc::new(vault.clone());
        vaults.insert(
            vault.name.clone(),
            CachedVault {
                vault: Arc::clone(&shared),
                fetched: Instant::now(),
            },
        );
        shared
    }

    /// Forgets every resolved vault: another node changed vaults (`Store::cache_generation`
    /// moved). Data keys and parsed keys stay: they are immutable for a vault's id, name and
    /// creation time, which their cache keys include.
    pub fn forget_all_vaults(&self) {
        let mut vaults = lock(&self.vaults);
        self.vault_epoch.fetch_add(1, Ordering::AcqRel);
        vaults.clear();
    }

    pub(crate) fn cache_vault(&self, vault: &Vault) -> Arc<Vault> {
        let shared = Arc::new(vault.clone());
        lock(&self.vaults).insert(
            vault.name.clone(),
            CachedVault {
                vault: Arc::clone(&shared),
                fetched: Instant::now(),
            },
        );
        shared
    }

    /// Forgets a vault, its data key and its parsed keys (after delete).
    pub(crate) fn forget_vault(&self, vault: &Vault) {
        lock(&self.vaults).remove(&vault.name);
        let id = DataKeyId::of(vault);
        lock(&self.data_keys).remove(&vault.id);
        lock(&self.private_keys).retain(|key, _| key.vault != id);
    }

    /// A key version's parsed private key, from the cache or from `open` (which unseals and
    /// parses the stored material) once.
    pub(crate) fn private_key(
        &self,
        vault: &Vault,
        name: &ObjectName,
        version: &Version,
        open: impl FnOnce() -> Result<PrivateKey, VaultError>,
    ) -> Result<Arc<PrivateKey>, VaultError> {
        let id = PrivateKeyId {
            vault: DataKeyId::of(vault),
            name: name.folded().into_owned(),
            version: version.clone(),
        };
        if let Some(key) = lock(&self.private_keys).get(&id) {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(open()?);
        let mut cache = lock(&self.private_keys);
        if cache.len() >= KEY_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(id, Arc::clone(&key));
        Ok(key)
    }

    pub(crate) fn remember_data_key(&self, vault: &Vault, key: Arc<DataKey>) {
        lock(&self.data_keys).insert(vault.id, (DataKeyId::of(vault), key));
    }

    /// The vault's opened data key: from the cache, or read from the store and opened with the
    /// master key once.
    pub(crate) async fn data_key(&self, vault: &Vault) -> Result<Arc<DataKey>, VaultError> {
        let cached = lock(&self.data_keys)
            .get(&vault.id)
            .filter(|(id, _)| id.is(vault))
            .map(|(_, key)| Arc::clone(key));
        if let Some(key) = cached {
            return Ok(key);
        }
        // Held until the key is opened: a rotation between the read and the open would leave
        // a row sealed under a key this one is no longer.
        let keys = self.keyring().await;
        let row = self
            .store
            .get_vault_by_id(vault.id)
            .await?
            .filter(|row| row.name == vault.name && row.created == vault.created)
            .ok_or(VaultError::VaultNotFound)?;
        let aad = Aad::data_key(vault.name.as_str(), vault.created.seconds());
        let key = Arc::new(keys.master.open_data_key(&aad, &row.sealed_data_key)?);
        drop(keys);
        self.remember_data_key(vault, Arc::clone(&key));
        Ok(key)
    }
}

impl fmt::Debug for VaultCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultCtx").finish_non_exhaustive()
    }
}
