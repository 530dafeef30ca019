//! User passwords: Argon2id, stored as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
//!
//! Unlike client secrets (256 random bits, `secret_hash.rs`), a password is chosen by a person
//! and may have little entropy, so its hash must be slow and memory-hard. aws-lc-rs has no
//! memory-hard password hash; `argon2` (RustCrypto, already our master-key KDF) provides
//! Argon2id, and its verifier compares the digests in constant time. The parameters are
//! OWASP's first recommendation (19 MiB, two passes, one lane): about 25 ms on one core, which
//! is also why callers run it on a blocking thread and bound how many run at once.
//!
//! The parameters are in the stored string, so raising them later still verifies old hashes.

use crate::{CryptoError, random_bytes};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory in KiB, passes and lanes of a new password hash (OWASP Password Storage Cheat Sheet).
pub const PASSWORD_HASH_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

fn hasher(memory_kib: u32, passes: u32, lanes: u32) -> Result<Argon2<'static>, CryptoError> {
    let params =
        Params::new(memory_kib, passes, lanes, None).map_err(|_| CryptoError::Unspecified)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a new password with fresh random salt; the result is safe to store and to show
/// (it is a PHC string, not the password).
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let (memory_kib, passes, lanes) = PASSWORD_HASH_PARAMS;
    hash_password_with(password, memory_kib, passes, lanes)
}

/// [`hash_password`] with explicit parameters (tests use small ones).
pub fn hash_password_with(
    password: &str,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<String, CryptoError> {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| CryptoError::Unspecified)?;
    let hash = hasher(memory_kib, passes, lanes)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| CryptoError::Unspecified)?;
    Ok(hash.to_string())
}

/// Whether `presented` is the password `stored` (a PHC string from [`hash_password`]) was
/// made from. A stored value that is not an Argon2id PHC string never matches.
pub fn verify_password(stored: &str, presented: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return false;
    }
    // The verifier takes the parameters from the PHC string; the default instance only
    // supplies the algorithm family.
    Argon2::default()
        .verify_password(presented.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let stored = hash_password_with("Correct-horse-1", 64, 1, 1).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains("Correct-horse-1"));
        assert!(verify_password(&stored, "Correct-horse-1"));
        assert!(!verify_password(&stored, "Correct-horse-2"));
        assert!(!verify_password(&stored, ""));
        let again = hash_password_with("Correct-horse-1", 64, 1, 1).unwrap();
        assert_ne!(stored, again, "salts are random");
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let stored = hash_password("Correct-horse-1").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify_password(&stored, "Correct-horse-1"));
    }

    #[test]
    fn refuses_what_is_not_an_argon2id_hash() {
        assert!(!verify_password("", "x"));
        assert!(!verify_password("not a hash", "not a hash"));
        let argon2i =
            "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        assert!(!verify_password(argon2i, "password"));
    }
}
