//! Randomness from aws-lc-rs's system RNG.

use crate::CryptoError;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out)?;
    Ok(out)
}

/// A random base64url string with `n_bytes` of entropy (client secrets, identity headers).
pub fn random_token(n_bytes: usize) -> Result<String, CryptoError> {
    // The token's entropy: wiped once encoded (the encoding is sized exactly, never grown).
    let mut out = Zeroizing::new(vec![0u8; n_bytes]);
    SystemRandom::new().fill(&mut out)?;
    Ok(URL_SAFE_NO_PAD.encode(&*out))
}
