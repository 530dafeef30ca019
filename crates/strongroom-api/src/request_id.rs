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
    // By hand rather than `format!`: it runs on every response, and the formatting machinery
    // cost more than the rest of this function together.
    let mut id = String::with_capacity(36);
    id.push_str(prefix);
    push_hex(&mut id, (n >> 48) & 0xfff, 3);
    id.push('-');
    push_hex(&mut id, n & 0xffff_ffff_ffff, 12);
    id
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
    fn the_counter_is_zero_padded_hex() {
        let mut out = String::new();
        super::push_hex(&mut out, 0x2a, 12);
        assert_eq!(out, "00000000002a");
        out.clear();
        super::push_hex(&mut out, 0xabc, 3);
        assert_eq!(out, "abc");
    }
}
