//! PKCS#12 (PFX): reading what users import and writing Key Vault's password-less PFX secret.
//!
//! Why `p12-keystore`: it is the maintained PKCS#12 crate that reads both generations of PFX
//! we must accept (PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC with an HMAC-SHA256 MAC, as OpenSSL 3
//! and python `cryptography` write; and pbeWithSHAAnd3-KeyTripleDES-CBC keys,
//! pbeWithSHAAnd40BitRC2-CBC certificates and a SHA-1 MAC, as Windows and `openssl pkcs12
//! -legacy` write), bounds attacker-chosen iteration counts, writes PBES2 files, and hands
//! out the decoded bags in file order (`Pkcs12Archive`), so leaf selection stays ours. The
//! alternatives: `p12` reads and writes only the legacy ciphers, and RustCrypto's `pkcs12` is
//! ASN.1 types without the container logic (which `p12-keystore` builds on).
//!
//! Its ciphers are RustCrypto's (aws-lc-rs has neither 3DES nor RC2). They only open and seal
//! the *container* under its password; every operation with the private key inside runs on
//! aws-lc-rs once the key is a `PrivateKey`. The crate keeps PKCS#8 bytes (decrypted on
//! import, plaintext before encryption on export) in plain `Vec`s that it drops without
//! wiping; we parse them into a `PrivateKey` at once and accept that gap for PFX I/O (FIXME:
//! wipe them if `p12-keystore` gains `zeroize` support). It cannot open a MAC made under
//! OpenSSL's NULL password either; `null_password.rs` covers that case.

use super::{CertBundle, CertError, null_password};
use crate::keys::PrivateKey;
use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use p12_keystore::error::Error as P12Error;
use p12_keystore::{
    Certificate, KeyStore, KeyStoreEntry, Pkcs12Archive, PrivateKey as P12PrivateKey,
    PrivateKeyChain,
};

/// The friendly name of the key in the PFX we write; readers ignore it.
const ALIAS: &str = "strongroom";

/// Reads a PFX: its certificates (in file order) and at most one private key. `None` and
/// `Some("")` both mean the empty password, which also opens a file with no encryption at all
/// (python `cryptography`'s `NoEncryption()`), and a MAC made under OpenSSL's NULL password
/// (`null_password.rs`). A MAC or padding that fails is `BadPassword`, and so is content that
/// does not parse in a file without a MAC (nothing there tells a wrong password from damage).
pub fn parse_pfx(der: &[u8], password: Option<&str>) -> Result<CertBundle, CertError> {
    let password = password.unwrap_or_default();
    let archive = match Pkcs12Archive::from_pkcs12(der, password) {
        Err(P12Error::MacError(_)) if password.is_empty() => {
            let without_mac =
                null_password::verified_without_mac(der).ok_or(CertError::BadPassword)?;
            Pkcs12Archive::from_pkcs12(&without_mac, password)
        }
        opened => opened,
    }
    .map_err(|err| match pfx_error(err) {
        // Without a MAC, a wrong password shows only as bags that do not decrypt to valid
        // content; about one time in 256 the CBC padding of the garbage is valid, and the
        // failure comes from the content instead. It is still the password.
        CertError::Malformed(_) if null_password::lacks_mac(der) => CertError::BadPassword,
        other => other,
    })?;
    let mut key = None;
    for bag in &archive.keys {
        let parsed = PrivateKey::from_pkcs8_der(bag.key.as_der())?;
        if key.replace(parsed).is_some() {
            return Err(CertError::ExtraKey);
        }
    }
    let certificates = archive
        .certs
        .iter()
        .map(|bag| bag.cert.as_der().to_vec())
        .collect();
    CertBundle::assemble(key, certificates)
}

/// Writes the bundle as Key Vault exports a certificate's secret: a PFX without a password
/// (the empty password, PBES2 with AES-256-CBC and an HMAC-SHA256 MAC), key and leaf linked
/// by a `localKeyId`, then the chain. Without a key (a certificate whose key is not
/// exportable) the PFX holds the certificates only.
pub fn build_pfx(bundle: &CertBundle) -> Result<Vec<u8>, CertError> {
    let certificates = std::iter::once(&bundle.leaf)
        .chain(&bundle.chain)
        .map(|der| Certificate::from_der(der).map_err(|_| CertError::Malformed("certificate")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = KeyStore::new();
    match &bundle.key {
        Some(key) => {
            let pkcs8 = key.private_bytes();
            let p12_key =
                P12PrivateKey::from_der(&pkcs8).map_err(|_| CertError::Malformed("PKCS#8 key"))?;
            // The leaf's SHA-1, as OpenSSL and Windows choose the localKeyId.
            let local_key_id = digest(&SHA1_FOR_LEGACY_USE_ONLY, &bundle.leaf)
                .as_ref()
                .to_vec();
            store.add_entry(
                ALIAS,
                KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
                    local_key_id,
                    p12_key,
                    certificates,
                )),
            );
        }
        None => {
            for (index, certificate) in certificates.into_iter().enumerate() {
                store.add_entry(
                    &format!("{ALIAS}-{index}"),
                    KeyStoreEntry::Certificate(certificate),
                );
            }
        }
    }
    store
        .writer("")
        .write()
        .map_err(|_| CertError::Issuance("the PFX could not be written".to_owned()))
}

fn pfx_error(err: P12Error) -> CertError {
    match err {
        P12Error::MacError(_) | P12Error::UnpadError => CertError::BadPassword,
        // The PBES2 path reports a failed decryption (bad padding: the wrong password, when
        // no MAC said so first) only as pkcs5's message.
        P12Error::Pkcs5Error(message) if message == "PKCS#5 decryption failed" => {
            CertError::BadPassword
        }
        P12Error::Pkcs5Error(_)
        | P12Error::UnsupportedEncryptionScheme
        | P12Error::UnsupportedMacAlgorithm
        | P12Error::UnsupportedContentType
        | P12Error::UnsupportedCertificateType => {
            CertError::Unsupported("the PFX uses an algorithm or content type we do not read")
        }
        P12Error::InvalidParameters => CertError::Unsupported(
            "the PFX's iteration count or work factor is above the limit we accept",
        ),
        _ => CertError::Malformed("PFX"),
    }
}
