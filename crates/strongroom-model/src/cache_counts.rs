//! Hit and miss counts of an in-memory cache, kept by the layer that owns the cache and read
//! by the metrics listener at each scrape (`strongroom_cache_lookups_total`). Relaxed atomics:
//! the counts are statistics, never used to decide anything.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct CacheCounts {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CacheCounts {
    /// Counts one lookup.
    pub fn record(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (hits, misses) so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::CacheCounts;

    #[test]
    fn counts_hits_and_misses_apart() {
        let counts = CacheCounts::default();
        counts.record(true);
        counts.record(true);
        counts.record(false);
        assert_eq!(counts.read(), (2, 1));
    }
}
