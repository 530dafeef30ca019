//! PEM certificate bundles: reading what users import (certificates and one private key as
//! PKCS#8, PKCS#1 or SEC1, in any order) and writing the layout of Key Vault's PEM secret
//! (PKCS#8 key first, then the leaf, then the chain).

use super::{CertBundle, CertError};
use crate::keys::PrivateKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use x509_parser::pem::Pem;
use zeroize::Zeroizing;

/// Base64 characters per PEM line (RFC 7468).
const LINE_LEN: usize = 64;

/// Reads certificates (in file order) and exactly one private key from PEM text. Text outside
/// the `-----BEGIN`/`-----END` blocks is ignored, as OpenSSL does; `EC PARAMETERS` blocks
/// (which `openssl ecparam -genkey` writes before the key) are skipped.
pub fn parse_pem_bundle(text: &str) -> Result<CertBundle, CertError> {
    let mut certificates = Vec::new();
    let mut key = None;
    for block in Pem::iter_from_buffer(text.as_bytes()) {
        // An encrypted traditional key ("Proc-Type: 4,ENCRYPTED" headers) fails here too:
        // its header lines are not base64.
        let block = block.map_err(|_| CertError::Malformed("PEM block"))?;
        let Pem { label, contents } = block;
        // Key bytes move into a wiping buffer without a copy.
        let contents = Zeroizing::new(contents);
        let parsed = match label.as_str() {
            "CERTIFICATE" => {
                certificates.push(contents.to_vec());
                continue;
            }
            "EC PARAMETERS" => continue,
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&contents)?,
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&contents)?,
            "EC PRIVATE KEY" => PrivateKey::from_sec1_der(&contents)?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(CertError::Unsupported("encrypted PEM private keys"));
            }
            _ => return Err(CertError::Malformed("PEM bundle: unexpected block type")),
        };
        if key.replace(parsed).is_some() {
            return Err(CertError::ExtraKey);
        }
    }
    if certificates.is_empty() {
        return Err(CertError::NoCertificate);
    }
    let key = key.ok_or(CertError::MissingKey)?;
    CertBundle::assemble(Some(key), certificates)
}

/// Key Vault's PEM secret: the PKCS#8 `PRIVATE KEY` (when the bundle has a key), the leaf,
/// then the chain; base64 in 64-column lines ending in `\n`.
pub fn build_pem(bundle: &CertBundle) -> Zeroizing<String> {
    let key_der = bundle.key.as_ref().map(PrivateKey::private_bytes);
    let mut blocks: Vec<(&str, &[u8])> = Vec::with_capacity(2 + bundle.chain.len());
    if let Some(der) = &key_der {
        blocks.push((PRIVATE_KEY, der));
    }
    blocks.push(("CERTIFICATE", &bundle.leaf));
    blocks.extend(
        bundle
            .chain
            .iter()
            .map(|der| ("CERTIFICATE", der.as_slice())),
    );

    // Sized once: a reallocation would leave a copy of the key's base64 behind, unwiped.
    let capacity = blocks
        .iter()
        .map(|(label, der)| block_len(label, der.len()))
        .sum();
    let mut pem = Zeroizing::new(String::with_capacity(capacity));
    for (label, der) in blocks {
        push_block(&mut pem, label, der);
    }
    pem
}

/// One PEM block of a private key (`PRIVATE KEY`, PKCS#8 DER), written into a buffer sized
/// once: rcgen's `serialize_pem` grows its string as it goes, leaving copies of the key's
/// base64 behind in the allocations it outgrew.
pub(crate) fn private_key_pem(pkcs8: &[u8]) -> Zeroizing<String> {
    let mut pem = Zeroizing::new(String::with_capacity(block_len(PRIVATE_KEY, pkcs8.len())));
    push_block(&mut pem, PRIVATE_KEY, pkcs8);
    pem
}

const PRIVATE_KEY: &str = "PRIVATE KEY";

/// Appends one block; `pem` has room for it (`block_len`), so it never reallocates.
fn push_block(pem: &mut String, label: &str, der: &[u8]) {
    debug_assert!(pem.capacity() - pem.len() >= block_len(label, der.len()));
    let mut encoded = Zeroizing::new(String::with_capacity(base64_len(der.len())));
    STANDARD.encode_string(der, &mut encoded);
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    // Base64 is ASCII, so every 64-byte chunk is a whole `str`.
    let mut rest = encoded.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(LINE_LEN));
        pem.push_str(line);
        pem.push('\n');
        rest = tail;
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
}

fn base64_len(n_bytes: usize) -> usize {
    n_bytes.div_ceil(3) * 4
}

fn block_len(label: &str, n_bytes: usize) -> usize {
    let body = base64_len(n_bytes);
    let n_lines = body.div_ceil(LINE_LEN);
    let armour = "-----BEGIN -----\n".len() + "-----END -----\n".len() + 2 * label.len();
    armour + body + n_lines
}
