//! `x-ms-request-id` values: GUID-shaped, unique per process run, and cheap (a random
//! per-process prefix and a counter) because every response carries one.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static PREFIX: OnceLock<String> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The next request id, e.g. `3f2a9c1e-5b7d-4e10-8000-00000000002a`.
pub(crate) fn next() -> String {
    let prefix = PREFIX.get_or_init(|| {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{}-{}-{}-8", &random[..8], &random[8..12], &random[12..16])
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}{:03x}-{:012x}",
        (n >> 48) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_guid_shaped_and_distinct() {
        let a = super::next();
        let b = super::next();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
    }
}
