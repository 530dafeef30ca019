//! AES key wrap (RFC 3394) built on aws-lc-rs's AES block cipher, one ECB block at a time,
//! for the 192-bit KEK (`A192KW`) that aws-lc-rs's `key_wrap` module does not offer.
//! `A128KW` and `A256KW` use `aws_lc_rs::key_wrap` directly; the tests check this
//! implementation against RFC 3394's vectors for all three KEK sizes.
//!
//! Callers have checked the lengths: plaintext a multiple of 8 bytes and at least 16,
//! ciphertext a multiple of 8 and at least 24.

use super::KeyError;
use aws_lc_rs::cipher::{self, DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// RFC 3394 2.2.3.1 default initial value.
const DEFAULT_IV: [u8; 8] = [0xA6; 8];
const SEMIBLOCK: usize = 8;

pub(super) fn wrap(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let key = EncryptingKey::ecb(UnboundCipherKey::new(algorithm, kek)?)?;
    let n = plaintext.len() / SEMIBLOCK;
    let mut a = DEFAULT_IV;
    let mut r = Zeroizing::new(plaintext.to_vec());
    let mut block = Zeroizing::new([0u8; 16]);
    for j in 0..6 {
        for (i, semiblock) in r.chunks_exact_mut(SEMIBLOCK).enumerate() {
            block[..SEMIBLOCK].copy_from_slice(&a);
            block[SEMIBLOCK..].copy_from_slice(semiblock);
            key.encrypt(&mut block[..])?;
            a.copy_from_slice(&block[..SEMIBLOCK]);
            xor_counter(&mut a, n * j + i + 1);
            semiblock.copy_from_slice(&block[SEMIBLOCK..]);
        }
    }
    let mut out = Vec::with_capacity(SEMIBLOCK + r.len());
    out.extend_from_slice(&a);
    out.extend_from_slice(&r);
    Ok(out)
}

pub(super) fn unwrap(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let key = DecryptingKey::ecb(UnboundCipherKey::new(algorithm, kek)?)?;
    let (first, rest) = wrapped
        .split_first_chunk::<SEMIBLOCK>()
        .ok_or(KeyError::InvalidInput("wrapped key is too short"))?;
    let n = rest.len() / SEMIBLOCK;
    let mut a = *first;
    let mut r = Zeroizing::new(rest.to_vec());
    let mut block = Zeroizing::new([0u8; 16]);
    for j in (0..6).rev() {
        for (i, semiblock) in r.chunks_exact_mut(SEMIBLOCK).enumerate().rev() {
            xor_counter(&mut a, n * j + i + 1);
            block[..SEMIBLOCK].copy_from_slice(&a);
            block[SEMIBLOCK..].copy_from_slice(semiblock);
            key.decrypt(&mut block[..], DecryptionContext::None)?;
            a.copy_from_slice(&block[..SEMIBLOCK]);
            semiblock.copy_from_slice(&block[SEMIBLOCK..]);
        }
    }
    if bool::from(a.ct_eq(&DEFAULT_IV)) {
        Ok(r)
    } else {
        Err(KeyError::DecryptionFailed)
    }
}

/// `A ^= t`, with `t` as a 64-bit big-endian counter.
fn xor_counter(a: &mut [u8; SEMIBLOCK], t: usize) {
    for (byte, t_byte) in a.iter_mut().zip((t as u64).to_be_bytes()) {
        *byte ^= t_byte;
    }
}
