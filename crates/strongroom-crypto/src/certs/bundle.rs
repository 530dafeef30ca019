//! `CertBundle`: a private key with its certificate and chain, whatever file it came from.

use super::CertError;
use super::info::{parse_certificate, public_key_of};
use crate::keys::PrivateKey;
use std::fmt;

/// A certificate's leaf, chain and (for an import or export) private key. `Debug` shows the
/// key's kind and the certificates' sizes only.
pub struct CertBundle {
    pub key: Option<PrivateKey>,
    /// The certificate of `key` (DER).
    pub leaf: Vec<u8>,
    /// The other certificates (DER), in the order the file had them.
    pub chain: Vec<Vec<u8>>,
}

impl CertBundle {
    /// Picks the leaf: the first certificate whose public key is `key`'s, or without a key the
    /// first certificate. Files list the chain in any order (a PEM may start with the root),
    /// so the key, not the position, says which certificate is the leaf.
    pub(super) fn assemble(
        key: Option<PrivateKey>,
        mut certificates: Vec<Vec<u8>>,
    ) -> Result<Self, CertError> {
        if certificates.is_empty() {
            return Err(CertError::NoCertificate);
        }
        let public = key.as_ref().map(PrivateKey::public);
        let mut leaf_index = None;
        // Every certificate is parsed, so a damaged chain is refused wherever the leaf is.
        for (index, der) in certificates.iter().enumerate() {
            let cert = parse_certificate(der)?;
            let certified = public_key_of(cert.public_key())?;
            if leaf_index.is_none() && (public.is_none() || certified == public) {
                leaf_index = Some(index);
            }
        }
        let leaf_index = leaf_index.ok_or(CertError::KeyMismatch)?;
        let leaf = certificates.remove(leaf_index);
        Ok(Self {
            key,
            leaf,
            chain: certificates,
        })
    }
}

impl fmt::Debug for CertBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain: Vec<usize> = self.chain.iter().map(Vec::len).collect();
        f.debug_struct("CertBundle")
            .field("key", &self.key)
            .field("leaf", &format_args!("<{} bytes>", self.leaf.len()))
            .field("chain", &format_args!("{chain:?} bytes"))
            .finish()
    }
}
