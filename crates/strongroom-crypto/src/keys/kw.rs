//! AES key wrap (RFC 3394) built on aws-lc-rs's AES block cipher, one ECB block at a time,
//! for the 192-bit KEK (`A192KW`) that aws-lc-rs's `key_wrap` module does not offer.
//! `A128KW` and `A256KW` use `aws_lc_rs::key_wrap` directly; the tests check this
//! implementation against RFC 3394's vectors for all three KEK sizes.
//!
//! AES key wrap with padding (RFC 5649, "KWP") reuses the same rounds with the alternative
//! initial value; secure key release wraps released key material with it (`release.rs`).
//! The tests check it against RFC 5649's vectors (192-bit KEK) and aws-lc-rs's own KWP.
//!
//! Callers of `wrap`/`unwrap` have checked the lengths: plaintext a multiple of 8 bytes and
//! at least 16, ciphertext a multiple of 8 and at least 24.

use super::KeyError;
use aws_lc_rs::cipher::{self, DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// RFC 3394 2.2.3.1 default initial value.
const DEFAULT_IV: [u8; 8] = [0xA6; 8];
/// RFC 5649 3: the alternative initial value's constant half (the other is the length).
const ALTERNATIVE_IV_PREFIX: [u8; 4] = [0xA6, 0x59, 0x59, 0xA6];
const SEMIBLOCK: usize = 8;

pub(super) fn wrap(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    wrap_with_iv(algorithm, kek, DEFAULT_IV, plaintext)
}

/// RFC 5649 section 4.1: wraps `plaintext` of any length from 1 byte to 2^32 - 1 bytes.
pub(super) fn wrap_padded(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let mli = u32::try_from(plaintext.len())
        .ok()
        .filter(|len| *len > 0)
        .ok_or(KeyError::InvalidInput("key to wrap is empty or too long"))?;
    let mut aiv = [0u8; SEMIBLOCK];
    aiv[..4].copy_from_slice(&ALTERNATIVE_IV_PREFIX);
    aiv[4..].copy_from_slice(&mli.to_be_bytes());
    let padded_len = plaintext.len().div_ceil(SEMIBLOCK) * SEMIBLOCK;
    let mut padded = Zeroizing::new(vec![0u8; padded_len]);
    padded[..plaintext.len()].copy_from_slice(plaintext);
    if padded_len == SEMIBLOCK {
        // One semiblock: a single AES-ECB block of AIV | P.
        let key = EncryptingKey::ecb(UnboundCipherKey::new(algorithm, kek)?)?;
        let mut block = Zeroizing::new([0u8; 16]);
        block[..SEMIBLOCK].copy_from_slice(&aiv);
        block[SEMIBLOCK..].copy_from_slice(&padded);
        key.encrypt(&mut block[..])?;
        return Ok(block.to_vec());
    }
    wrap_with_iv(algorithm, kek, aiv, &padded)
}

/// RFC 5649 section 4.2: the inverse of `wrap_padded`, checking the AIV, length and padding.
pub(super) fn unwrap_padded(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if wrapped.len() < 2 * SEMIBLOCK || !wrapped.len().is_multiple_of(SEMIBLOCK) {
        return Err(KeyError::InvalidInput("wrapped key has an invalid length"));
    }
    let (a, padded) = if wrapped.len() == 2 * SEMIBLOCK {
        let key = DecryptingKey::ecb(UnboundCipherKey::new(algorithm, kek)?)?;
        let mut block = Zeroizing::new([0u8; 16]);
        block.copy_from_slice(wrapped);
        key.decrypt(&mut block[..], DecryptionContext::None)?;
        let mut a = [0u8; SEMIBLOCK];
        a.copy_from_slice(&block[..SEMIBLOCK]);
        (a, Zeroizing::new(block[SEMIBLOCK..].to_vec()))
    } else {
        unwrap_raw(algorithm, kek, wrapped)?
    };
    let prefix_ok = a[..4].ct_eq(&ALTERNATIVE_IV_PREFIX);
    let mli = u32::from_be_bytes([a[4], a[5], a[6], a[7]]) as usize;
    let length_ok = mli + SEMIBLOCK > padded.len() && mli <= padded.len();
    if !bool::from(prefix_ok) || !length_ok || padded[mli..].iter().any(|byte| *byte != 0) {
        return Err(KeyError::DecryptionFailed);
    }
    Ok(Zeroizing::new(padded[..mli].to_vec()))
}

fn wrap_with_iv(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    iv: [u8; SEMIBLOCK],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let key = EncryptingKey::ecb(UnboundCipherKey::new(algorithm, kek)?)?;
    let n = plaintext.len() / SEMIBLOCK;
    let mut a = iv;
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
    let (a, r) = unwrap_raw(algorithm, kek, wrapped)?;
    if bool::from(a.ct_eq(&DEFAULT_IV)) {
        Ok(r)
    } else {
        Err(KeyError::DecryptionFailed)
    }
}

/// The RFC 3394 unwrapping rounds: the recovered initial value and semiblocks, unchecked.
fn unwrap_raw(
    algorithm: &'static cipher::Algorithm,
    kek: &[u8],
    wrapped: &[u8],
) -> Result<([u8; SEMIBLOCK], Zeroizing<Vec<u8>>), KeyError> {
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
    Ok((a, r))
}

/// `A ^= t`, with `t` as a 64-bit big-endian counter.
fn xor_counter(a: &mut [u8; SEMIBLOCK], t: usize) {
    for (byte, t_byte) in a.iter_mut().zip((t as u64).to_be_bytes()) {
        *byte ^= t_byte;
    }
}
