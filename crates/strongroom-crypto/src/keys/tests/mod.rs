//! Tests of `keys`: known answers from RFCs and NIST, round trips for every algorithm and key
//! size, cross-checks against raw aws-lc-rs, and a table of refusals. Keys are generated once
//! per process (RSA-4096 generation takes a while) and shared, which also proves
//! `PrivateKey: Send + Sync`.

mod known_answers;
mod refusals;
mod release;
mod round_trips;

use super::{Curve, PrivateKey, SignatureAlgorithm};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::OnceLock;

fn shared(slot: &'static OnceLock<PrivateKey>, make: fn() -> PrivateKey) -> &'static PrivateKey {
    slot.get_or_init(make)
}

fn rsa(bits: usize) -> &'static PrivateKey {
    static RSA_2048: OnceLock<PrivateKey> = OnceLock::new();
    static RSA_3072: OnceLock<PrivateKey> = OnceLock::new();
    static RSA_4096: OnceLock<PrivateKey> = OnceLock::new();
    match bits {
        2048 => shared(&RSA_2048, || PrivateKey::generate_rsa(2048, None).unwrap()),
        3072 => shared(&RSA_3072, || {
            PrivateKey::generate_rsa(3072, Some(65537)).unwrap()
        }),
        4096 => shared(&RSA_4096, || PrivateKey::generate_rsa(4096, None).unwrap()),
        _ => unreachable!("no shared RSA-{bits} key"),
    }
}

fn ec(curve: Curve) -> &'static PrivateKey {
    static KEYS: [OnceLock<PrivateKey>; 4] = [const { OnceLock::new() }; 4];
    let index = Curve::ALL.iter().position(|&c| c == curve).unwrap();
    KEYS[index].get_or_init(|| PrivateKey::generate_ec(curve).unwrap())
}

fn oct(bits: usize) -> &'static PrivateKey {
    static KEYS: [OnceLock<PrivateKey>; 3] = [const { OnceLock::new() }; 3];
    let index = [128, 192, 256].iter().position(|&b| b == bits).unwrap();
    KEYS[index].get_or_init(|| PrivateKey::generate_oct(bits).unwrap())
}

/// The digest a client would compute for `alg` before calling `sign`.
fn digest_for(alg: SignatureAlgorithm, message: &[u8]) -> Vec<u8> {
    digest::digest(alg.digest_algorithm(), message)
        .as_ref()
        .to_vec()
}

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

#[test]
fn private_key_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PrivateKey>();
}
