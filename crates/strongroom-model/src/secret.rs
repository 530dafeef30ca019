//! Secret material that cannot leak by accident, and ciphertext that storage may hold.

use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A secret value (a Key Vault secret, a client secret): wiped on drop, redacted in `Debug`,
/// no `Display`, readable only through `expose()`.
#[derive(Clone)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The same buffer as text, without a copy; the bytes back (still wiped on drop) when
    /// they are not UTF-8.
    pub fn from_utf8(mut bytes: SecretBytes) -> Result<Self, SecretBytes> {
        match String::from_utf8(std::mem::take(&mut *bytes.0)) {
            Ok(text) => Ok(Self::new(text)),
            Err(err) => Err(SecretBytes::new(err.into_bytes())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality, for credentials.
    pub fn ct_eq(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// Secret bytes (keys, key material): wiped on drop, redacted in `Debug`.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// Ciphertext produced by `strongroom-crypto` (nonce, ciphertext and tag). Storage holds
/// these and nothing else that is secret; it has no means to open them. Shared bytes: the
/// store's cache of current versions copies a row on every read, and copying these is a
/// reference count.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Arc<[u8]>);

impl Sealed {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Sealed {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let value = SecretValue::new("hunter2".to_owned());
        assert_eq!(format!("{value:?}"), "SecretValue(<redacted>)");
        let bytes = SecretBytes::new(b"hunter2".to_vec());
        assert!(!format!("{bytes:?}").contains("hunter2"));
        assert!(value.ct_eq("hunter2"));
        assert!(!value.ct_eq("hunter3"));
    }

    #[test]
    fn bytes_become_text_in_place_or_come_back() {
        let bytes = SecretBytes::new("pässword".as_bytes().to_vec());
        let address = bytes.expose().as_ptr();
        let value = SecretValue::from_utf8(bytes).unwrap();
        assert_eq!(value.expose(), "pässword");
        assert_eq!(value.expose().as_ptr(), address, "no copy of the secret");

        let invalid = SecretValue::from_utf8(SecretBytes::new(vec![0xff, 0x61])).unwrap_err();
        assert_eq!(invalid.expose(), &[0xff, 0x61]);
    }
}
