//! Password-less PFX files whose MAC was made under OpenSSL's *NULL* password (no password
//! bytes at all) instead of the empty one (a BMPString holding only its two-byte terminator).
//! `PKCS12_create(NULL, ...)` writes them: python `cryptography` 38's `NoEncryption()`, as
//! Debian 12 ships it, and tools on OpenSSL 1.x. OpenSSL reads a password-less file by trying
//! one MAC key and then the other; `p12-keystore` knows only the empty password. So when it
//! refuses the MAC of a file opened without a password, we check the MAC under the NULL
//! password here and, if it holds, hand it the file without its (verified) MAC.
//!
//! A MAC under no password authenticates nothing (anyone can recompute it); we check it so that
//! a file protected by a real password is still refused as `BadPassword`.

use aws_lc_rs::hmac;
use pkcs8::ObjectIdentifier;
use pkcs8::der::{Decode, Encode};
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use pkcs12::pfx::Pfx;

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
/// `p12-keystore`'s bound on attacker-chosen MAC iterations, kept here too.
const MAX_ITERATIONS: i32 = 1_000_000;

/// Whether the PFX's outer structure parses and carries no MAC: such a file cannot tell a
/// wrong password from damage, since nothing authenticates what its bags decrypt to.
pub(super) fn lacks_mac(der: &[u8]) -> bool {
    Pfx::from_der(der).is_ok_and(|pfx| pfx.mac_data.is_none())
}

/// The PFX without its MAC, if it has a MAC and that MAC verifies under the NULL password.
pub(super) fn verified_without_mac(der: &[u8]) -> Option<Vec<u8>> {
    let pfx = Pfx::from_der(der).ok()?;
    let mac_data = pfx.mac_data.as_ref()?;
    if !(1..=MAX_ITERATIONS).contains(&mac_data.iterations) {
        return None;
    }
    let salt = mac_data.mac_salt.as_bytes();
    let rounds = mac_data.iterations;
    let (algorithm, key) = match mac_data.mac.algorithm.oid {
        SHA1 => (
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            derive_key::<sha1::Sha1>(&[], salt, Pkcs12KeyType::Mac, rounds, 20),
        ),
        SHA256 => (
            hmac::HMAC_SHA256,
            derive_key::<sha2::Sha256>(&[], salt, Pkcs12KeyType::Mac, rounds, 32),
        ),
        SHA384 => (
            hmac::HMAC_SHA384,
            derive_key::<sha2::Sha384>(&[], salt, Pkcs12KeyType::Mac, rounds, 48),
        ),
        SHA512 => (
            hmac::HMAC_SHA512,
            derive_key::<sha2::Sha512>(&[], salt, Pkcs12KeyType::Mac, rounds, 64),
        ),
        _ => return None,
    };
    let signed = pfx.auth_safe.content.value();
    hmac::verify(
        &hmac::Key::new(algorithm, &key),
        signed,
        mac_data.mac.digest.as_bytes(),
    )
    .ok()?;
    Pfx {
        mac_data: None,
        ..pfx
    }
    .to_der()
    .ok()
}
