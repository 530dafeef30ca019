//! Key Vault *certificates*' material: reading what users import (PEM bundles, PFX files),
//! writing what Key Vault hands back (the PEM and PFX secrets), describing a certificate the
//! way Azure does (`CertificateInfo`), and issuing certificates and CSRs for our own keys
//! (`issue_self_signed`, `issue_with_ca`, `build_csr`).
//!
//! Keys stay `PrivateKey`s throughout: imported keys are parsed into one at once (PKCS#8,
//! PKCS#1 or SEC1), exported ones are written from `private_bytes()` (PKCS#8), and issuance
//! hands rcgen the PKCS#8 so that the signature runs on aws-lc-rs. Text and buffers that
//! hold key bytes are `Zeroizing`; no error or `Debug` output carries them.
//!
//! The leaf of a bundle is the certificate that certifies its key, wherever the file put it;
//! the other certificates are the chain, in file order.
//!
//! Start with `CertBundle` (`bundle.rs`), then `pem.rs` and `pfx.rs`.

mod bundle;
mod error;
mod info;
mod issue;
mod null_password;
mod pem;
mod pfx;
mod subject;
#[cfg(test)]
mod tests;
mod usage;

pub use bundle::CertBundle;
pub use error::CertError;
pub use info::CertificateInfo;
pub(crate) use info::{sha1, sha256};
pub use issue::{CertificateRequestSpec, build_csr, issue_self_signed, issue_with_ca};
pub(crate) use pem::private_key_pem;
pub use pem::{build_pem, parse_pem_bundle};
pub use pfx::{build_pfx, parse_pfx};
pub use usage::KeyUsage;
