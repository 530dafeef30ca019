//! `x-ms-request-id` values: GUID-shaped, unique per process run, and cheap (a random
//! per-process prefix and a counter, taken by each thread in blocks) because every response
//! carries one.

use std::cell::Cell;
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
    let n = next_number();
    // By hand rather than `format!`: it runs on every response, and the formatting machinery
    // cost more than the rest of this function together.
    let mut id = String::with_capacity(36);
    id.push_str(prefix);
    push_hex(&mut id, (n >> 48) & 0xfff, 3);
    id.push('-');
    push_hex(&mut id, n & 0xffff_ffff_ffff, 12);
    id
}

/// Numbers are handed to each thread in blocks: one shared counter touched by every request
/// would bounce its cache line between the cores serving requests.
const BLOCK: u64 = 1024;

thread_local! {
    /// The next number of this thread's block, and the end of the block.
    static BLOCK_LEFT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn next_number() -> u64 {
    BLOCK_LEFT.with(|block| {
        let (mut next, mut end) = block.get();
        if next == end {
            next = COUNTER.fetch_add(BLOCK, Ordering::Relaxed);
            end = next + BLOCK;
        }
        block.set((next + 1, end));
        next
    })
}

/// Appends the low `digits` hex digits of `value`, zero-padded.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        out.push(char::from(HEX[nibble as usize]));
    }
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

    #[test]
    fn threads_never_share_an_id() {
        let per_thread = 3 * super::BLOCK as usize;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..per_thread).map(|_| super::next()).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = std::collections::HashSet::new();
        for thread in threads {
            for id in thread.join().unwrap() {
                assert!(all.insert(id), "an id was issued twice");
            }
        }
        assert_eq!(all.len(), 4 * per_thread);
    }

    #[test]
    fn the_counter_is_zero_padded_hex() {
        let mut out = String::new();
        super::push_hex(&mut out, 0x2a, 12);
        assert_eq!(out, "00000000002a");
        out.clear();
        super::push_hex(&mut out, 0xabc, 3);
        assert_eq!(out, "abc");
    }
}
