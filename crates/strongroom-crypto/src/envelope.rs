//! Envelope encryption: the master key seals data keys; data keys seal payloads.
//!
//! Format of a `Sealed`: `version (1 byte) || nonce (12) || ciphertext || tag (16)`.
//! The authenticated data is never stored: the caller rebuilds it from where the ciphertext
//! belongs (vault, kind, name, version), so a ciphertext moved to another row will not open.

use crate::{CryptoError, random_bytes};
use aws_lc_rs::aead::{AES_256_GCM, Aad as LcAad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use std::fmt;
use strongroom_model::{ObjectKind, Sealed, SecretBytes};
use zeroize::Zeroizing;

const FORMAT_V1: u8 = 1;
const KEY_LEN: usize = 32;
/// The version byte and the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// Authenticated data: the context a ciphertext is bound to.
#[derive(Clone)]
pub struct Aad(AadBytes);

/// An object's AAD is built on every secret read and key operation: up to `INLINE_AAD` bytes
/// (every object's: vault 24, kind, name 127, version 32) it lives on the stack.
#[derive(Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "the inline variant is the point: boxing it would be the allocation it avoids"
)]
enum AadBytes {
    Inline { bytes: [u8; INLINE_AAD], len: usize },
    Heap(Vec<u8>),
}

const INLINE_AAD: usize = 256;

impl PartialEq for Aad {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Aad {}

impl fmt::Debug for Aad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Aad").field(&self.as_bytes()).finish()
    }
}

impl Aad {
    fn from_vec(bytes: Vec<u8>) -> Self {
        Self(AadBytes::Heap(bytes))
    }

    /// Joins `parts` with NUL separators.
    fn joined(parts: &[&str]) -> Self {
        let len = parts.iter().map(|p| p.len() + 1).sum::<usize>() - 1;
        if len > INLINE_AAD {
            return Self::from_vec(parts.join("\0").into_bytes());
        }
        let mut bytes = [0u8; INLINE_AAD];
        let mut at = 0;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                at += 1; // the separator: already zero
            }
            bytes[at..at + part.len()].copy_from_slice(part.as_bytes());
            at += part.len();
        }
        Self(AadBytes::Inline { bytes, len })
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            AadBytes::Inline { bytes, len } => &bytes[..*len],
            AadBytes::Heap(bytes) => bytes,
        }
    }

    /// For a vault's data key sealed by the master key.
    pub fn data_key(vault_name: &str, vault_created: i64) -> Self {
        Self::from_vec(
            format!("strongroom/data-key/v1\0{vault_name}\0{vault_created}").into_bytes(),
        )
    }

    /// For an object payload sealed by its vault's data key.
    pub fn object(vault_name: &str, kind: ObjectKind, name: &str, version: &str) -> Self {
        Self::joined(&[
            "strongroom/object/v1",
            vault_name,
            kind.tag(),
            name,
            version,
        ])
    }

    /// For a secret part of a per-vault document (a certificate issuer's password) sealed by
    /// the vault's data key; `name` is the document's lower-cased name.
    pub fn vault_document(vault_name: &str, kind: &str, name: &str) -> Self {
        Self::from_vec(
            format!("strongroom/vault-document/v1\0{vault_name}\0{kind}\0{name}").into_bytes(),
        )
    }

    /// For deployment-level values sealed by the master key (e.g. the token-signing key).
    pub fn deployment(purpose: &str) -> Self {
        Self::from_vec(format!("strongroom/deployment/v1\0{purpose}").into_bytes())
    }

    /// For backup blobs: bound to the object kind and name only, so a backup restores into
    /// any vault of the same deployment.
    pub fn backup(kind: ObjectKind, name: &str) -> Self {
        Self::from_vec(format!("strongroom/backup/v1\0{}\0{name}", kind.tag()).into_bytes())
    }
}

struct AeadKey(LessSafeKey);

impl AeadKey {
    fn new(bytes: &[u8]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// Seals into one buffer of exactly the sealed length, allocated before the plaintext is
    /// copied in and encrypted in place: it never grows (a growing `Vec` moves its bytes and
    /// frees the old allocation unwiped), and it holds plaintext only until `seal_in_place`
    /// returns; if sealing fails, it is wiped on the way out.
    fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let body = HEADER_LEN..HEADER_LEN + plaintext.len();
        let mut out = Zeroizing::new(Vec::with_capacity(body.end + TAG_LEN));
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(plaintext);
        let tag = self.0.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            LcAad::from(aad.as_bytes()),
            &mut out[body],
        )?;
        out.extend_from_slice(tag.as_ref());
        debug_assert_eq!(out.len(), out.capacity(), "the sealing buffer never grows");
        // Ciphertext now: taken out of the wiping wrapper (which is left an empty `Vec`).
        Ok(Sealed::from(std::mem::take(&mut *out)))
    }

    fn open(&self, aad: &Aad, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let bytes = sealed.as_bytes();
        if bytes.len() < HEADER_LEN + TAG_LEN || bytes[0] != FORMAT_V1 {
            return Err(CryptoError::OpenFailed);
        }
        let nonce = Nonce::try_assume_unique_for_key(&bytes[1..=NONCE_LEN])
            .map_err(|_| CryptoError::OpenFailed)?;
        // Exactly the ciphertext's length; the plaintext is a prefix of it (never a copy).
        let mut in_out = Zeroizing::new(bytes[HEADER_LEN..].to_vec());
        let plaintext_len = self
            .0
            .open_in_place(nonce, LcAad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| CryptoError::OpenFailed)?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }
}

/// The deployment's root key (32 random bytes in `master.key`). Seals data keys and
/// deployment secrets; derives the backup key.
pub struct MasterKey {
    raw: Zeroizing<[u8; KEY_LEN]>,
    aead: AeadKey,
}

impl MasterKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&random_bytes::<KEY_LEN>()?)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let raw: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        let raw = Zeroizing::new(raw);
        let aead = AeadKey::new(raw.as_ref())?;
        Ok(Self { raw, aead })
    }

    /// The raw key, for writing `master.key` once at initialisation.
    pub fn expose_bytes(&self) -> &[u8] {
        self.raw.as_ref()
    }

    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        self.aead.seal(aad, plaintext)
    }

    pub fn open(&self, aad: &Aad, sealed: &Sealed) -> Result<SecretBytes, CryptoError> {
        self.aead.open(aad, sealed).map(SecretBytes::from_zeroizing)
    }

    /// Opens `sealed` and seals its plaintext under `new` with the same authenticated data
    /// (a master-key rotation); the plaintext never leaves this crate and is wiped.
    pub fn reseal(
        &self,
        aad: &Aad,
        sealed: &Sealed,
        new: &MasterKey,
    ) -> Result<Sealed, CryptoError> {
        let plain = self.aead.open(aad, sealed)?;
        new.aead.seal(aad, &plain)
    }

    /// Seals a vault's data key.
    pub fn seal_data_key(&self, aad: &Aad, key: &DataKey) -> Result<Sealed, CryptoError> {
        self.seal(aad, key.raw.as_ref())
    }

    /// Opens a vault's data key.
    pub fn open_data_key(&self, aad: &Aad, sealed: &Sealed) -> Result<DataKey, CryptoError> {
        let plain = self.aead.open(aad, sealed)?;
        DataKey::from_bytes(&plain)
    }

    /// The key that seals backup blobs, derived so that backups from this deployment restore
    /// into any of its vaults and nowhere else.
    pub fn backup_key(&self) -> Result<DataKey, CryptoError> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongroom");
        let prk = salt.extract(self.raw.as_ref());
        let info: [&[u8]; 1] = [b"backup-key/v1"];
        let okm = prk
            .expand(&info, hkdf::HKDF_SHA256)
            .map_err(|_| CryptoError::Unspecified)?;
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        okm.fill(out.as_mut())
            .map_err(|_| CryptoError::Unspecified)?;
        DataKey::from_bytes(out.as_ref())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A vault's data key: seals that vault's object payloads.
pub struct DataKey {
    raw: Zeroizing<[u8; KEY_LEN]>,
    aead: AeadKey,
}

impl DataKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&random_bytes::<KEY_LEN>()?)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let raw: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        let raw = Zeroizing::new(raw);
        let aead = AeadKey::new(raw.as_ref())?;
        Ok(Self { raw, aead })
    }

    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        self.aead.seal(aad, plaintext)
    }

    pub fn open(&self, aad: &Aad, sealed: &Sealed) -> Result<SecretBytes, CryptoError> {
        self.aead.open(aad, sealed).map(SecretBytes::from_zeroizing)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AAD is part of the at-rest format: sealed payloads only open with these bytes.
    #[test]
    fn object_aad_bytes_are_stable() {
        let aad = Aad::object("vault1", ObjectKind::Key, "db-key", "0123abcd");
        assert_eq!(
            aad.as_bytes(),
            b"strongroom/object/v1\0vault1\0key\0db-key\x000123abcd"
        );
        // A name too long for the inline buffer gives the same bytes from the heap.
        let long = "n".repeat(300);
        let aad = Aad::object("vault1", ObjectKind::Secret, &long, "v");
        assert_eq!(
            aad.as_bytes(),
            format!("strongroom/object/v1\0vault1\0secret\0{long}\0v").as_bytes()
        );
    }

    #[test]
    fn round_trip_and_context_binding() {
        let master = MasterKey::generate().unwrap();
        let dk = DataKey::generate().unwrap();
        let dk_aad = Aad::data_key("v1", 100);
        let sealed_dk = master.seal_data_key(&dk_aad, &dk).unwrap();
        let dk2 = master.open_data_key(&dk_aad, &sealed_dk).unwrap();
        assert!(
            master
                .open_data_key(&Aad::data_key("v2", 100), &sealed_dk)
                .is_err()
        );

        let aad = Aad::object("v1", ObjectKind::Secret, "db-password", "abc");
        let sealed = dk.seal(&aad, b"hunter2").unwrap();
        assert!(!sealed.as_bytes().windows(7).any(|w| w == b"hunter2"));
        assert_eq!(dk2.open(&aad, &sealed).unwrap().expose(), b"hunter2");
        let moved = Aad::object("v1", ObjectKind::Secret, "other-name", "abc");
        assert!(dk2.open(&moved, &sealed).is_err());
        let other_key = DataKey::generate().unwrap();
        assert!(other_key.open(&aad, &sealed).is_err());

        let mut bytes = sealed.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = Sealed::from(bytes);
        assert!(dk.open(&aad, &tampered).is_err());
        assert!(dk.open(&aad, &Sealed::from(vec![1, 2, 3])).is_err());
    }

    #[test]
    fn reseal_moves_a_value_to_the_new_key_under_the_same_aad() {
        let old = MasterKey::generate().unwrap();
        let new = MasterKey::generate().unwrap();
        let aad = Aad::deployment("token-signing-key");
        let sealed = old.seal(&aad, b"signing key").unwrap();
        let resealed = old.reseal(&aad, &sealed, &new).unwrap();
        assert_eq!(new.open(&aad, &resealed).unwrap().expose(), b"signing key");
        assert!(old.open(&aad, &resealed).is_err());
        let other = Aad::deployment("backup-key");
        assert!(new.open(&other, &resealed).is_err(), "the AAD is kept");
        assert!(
            new.reseal(&aad, &sealed, &old).is_err(),
            "opens only under its own key"
        );
    }

    #[test]
    fn backup_key_is_stable_per_master_key() {
        let master = MasterKey::generate().unwrap();
        let aad = Aad::backup(ObjectKind::Secret, "s");
        let sealed = master.backup_key().unwrap().seal(&aad, b"blob").unwrap();
        let reopened = MasterKey::from_bytes(master.expose_bytes()).unwrap();
        assert_eq!(
            reopened
                .backup_key()
                .unwrap()
                .open(&aad, &sealed)
                .unwrap()
                .expose(),
            b"blob"
        );
        let other = MasterKey::generate().unwrap();
        assert!(other.backup_key().unwrap().open(&aad, &sealed).is_err());
    }
}
