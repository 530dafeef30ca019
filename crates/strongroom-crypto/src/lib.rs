//! Every cryptographic primitive Strongroom uses, all from aws-lc-rs (and rcgen on top of it).
//!
//! Owns: envelope encryption (`MasterKey` seals per-vault `DataKey`s, data keys seal payloads,
//! AES-256-GCM with authenticated data binding each ciphertext to where it belongs), random
//! generation, client-secret hashing, the local CA and TLS certificates, RSA signing keys,
//! client certificates, the verification of client-assertion signatures, Key Vault keys
//! (`keys`: RSA, EC and oct keys and every operation Key Vault offers on them), and Key Vault
//! certificates' material (`certs`: PEM and PFX import and export, X.509 details, issuance).
//!
//! Must not touch: storage, HTTP, logging of its inputs.
//!
//! Invariants: key material lives in zeroizing types with redacted `Debug`; every private-key
//! operation goes through aws-lc-rs (never the `rsa` crate); a `Sealed` opens only with the
//! same key *and* the same authenticated data it was sealed with. The one exception to
//! "everything on aws-lc-rs": a PFX *container* is opened and sealed under its password by
//! `p12-keystore` on RustCrypto ciphers (aws-lc-rs has no 3DES or RC2, which legacy PFX
//! files need); the key inside becomes a `PrivateKey` at once (`certs/pfx.rs`).
//!
//! Start reading at `envelope.rs`.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod certs;
mod client_cert;
mod digest;
mod envelope;
mod error;
pub mod keys;
mod password;
mod random;
mod secret_hash;
mod signing;
mod tls;

pub use client_cert::{
    AssertionAlgorithm, CLIENT_CERT_VALIDITY_DAYS, CertificateInfo, ClientCertificate,
    certificate_der_from_text, generate_client_certificate, parse_client_certificate,
};
pub use digest::sha256;
pub use envelope::{Aad, DataKey, MasterKey};
pub use error::CryptoError;
pub use password::{PASSWORD_HASH_PARAMS, hash_password, hash_password_with, verify_password};
pub use random::{random_bytes, random_token};
pub use secret_hash::{SecretHash, hash_secret, verify_secret};
pub use signing::{
    RsaSigningKey, generate_rsa_signing_key, rsa_public_components, rsa_signature_verifies,
};
pub use tls::{IssuedCert, LocalCa, NameScope};
