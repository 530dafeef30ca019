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
//! The price is one small query per request on a shared store, shared in flight: a read that
//! began after a request arrived answers that request too, so concurrent requests share one
//! read (`GenerationReads`) without weakening the guarantee. On SQLite (one process) the first
//! request learns there is nothing to do and later requests pay one atomic load.

use crate::error::ApiError;
use crate::state::AppState;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use strongroom_store::{Store, StoreError};

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
    reads: GenerationReads,
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
        let generation = match self.reads.read(state.store.as_ref()).await {
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

/// The store's cache generation, read once for many requests. Each request takes an arrival
/// number; a read records the arrival count when it begins, and its answer serves every
/// request whose number is at most that count (they arrived before it began, so it reflects
/// every write acknowledged before they arrived). A request that finds no such answer either
/// starts the next read, or waits for the one in flight and looks again.
struct GenerationReads {
    arrivals: AtomicU64,
    reading: AtomicBool,
    /// The last finished read: the arrival count when it began, and its answer (`None`: it
    /// failed).
    latest: tokio::sync::watch::Sender<(u64, Option<Option<u64>>)>,
}

impl Default for GenerationReads {
    fn default() -> Self {
        Self {
            arrivals: AtomicU64::new(0),
            reading: AtomicBool::new(false),
            latest: tokio::sync::watch::Sender::new((0, None)),
        }
    }
}

impl GenerationReads {
    async fn read(&self, store: &dyn Store) -> Result<Option<u64>, StoreError> {
        self.read_with(|| store.cache_generation()).await
    }

    /// `read` with the store's call given as `fetch` (tests give one that never answers).
    async fn read_with<F, Fut>(&self, fetch: F) -> Result<Option<u64>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<u64>, StoreError>>,
    {
        let ticket = self.arrivals.fetch_add(1, Ordering::AcqRel) + 1;
        let mut latest = self.latest.subscribe();
        loop {
            let (began, answer) = *latest.borrow_and_update();
            if began >= ticket {
                return answer.ok_or_else(|| {
                    StoreError::Unavailable("the cache generation could not be read".to_owned())
                });
            }
            if !self.reading.swap(true, Ordering::AcqRel) {
                // Released however this read ends: a request dropped mid-read (its client
                // went away) must not leave every later request waiting for it.
                let _in_flight = ReadInFlight(self);
                let began = self.arrivals.load(Ordering::Acquire);
                let result = fetch().await;
                self.latest
                    .send_replace((began, result.as_ref().ok().copied()));
                return result;
            }
            // Another request's read is in flight: its end (or its abandonment) is announced.
            if latest.changed().await.is_err() {
                return fetch().await;
            }
        }
    }
}

/// The one read in flight: on drop, lets the next request read and wakes the waiting ones.
struct ReadInFlight<'a>(&'a GenerationReads);

impl Drop for ReadInFlight<'_> {
    fn drop(&mut self) {
        self.0.reading.store(false, Ordering::Release);
        self.0.latest.send_modify(|_| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use strongroom_store::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_reads_and_each_gets_one_begun_after_it_arrived() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("s.db")).unwrap());
        let reads = Arc::new(GenerationReads::default());
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (reads, store) = (reads.clone(), store.clone());
            tasks.push(tokio::spawn(
                async move { reads.read(store.as_ref()).await },
            ));
        }
        for task in tasks {
            assert_eq!(
                task.await.unwrap().unwrap(),
                None,
                "SQLite has no generation"
            );
        }
        // A request that arrives after every read so far gets a fresh read, never an old one.
        let (began_before, _) = *reads.latest.borrow();
        reads.read(store.as_ref()).await.unwrap();
        let (began_after, _) = *reads.latest.borrow();
        assert!(
            began_after > began_before,
            "{began_before} -> {began_after}"
        );
        assert_eq!(began_after, reads.arrivals.load(Ordering::Acquire));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_abandoned_mid_flight_does_not_stall_the_requests_after_it() {
        let reads = Arc::new(GenerationReads::default());
        let stuck = {
            let reads = reads.clone();
            tokio::spawn(async move {
                reads
                    .read_with(std::future::pending::<Result<Option<u64>, StoreError>>)
                    .await
            })
        };
        // Wait until the stuck read is in flight, then let a second request wait on it.
        while !reads.reading.load(Ordering::Acquire) {
            tokio::task::yield_now().await;
        }
        let waiting = {
            let reads = reads.clone();
            tokio::spawn(async move { reads.read_with(|| async { Ok(Some(7)) }).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stuck.abort();
        let answer = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting request was not left waiting")
            .unwrap();
        assert_eq!(answer.unwrap(), Some(7));
        assert!(!reads.reading.load(Ordering::Acquire));
    }
}
