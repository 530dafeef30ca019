//! Cryptographic failures, in crypto's words. Never carries key material or plaintext.

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext could not be opened (wrong key, wrong context, or tampered)")]
    OpenFailed,
    #[error("key material is malformed")]
    BadKey,
    #[error("the crypto library refused the operation")]
    Unspecified,
    #[error("certificate generation failed: {0}")]
    Certificate(String),
}

impl From<aws_lc_rs::error::Unspecified> for CryptoError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Unspecified
    }
}
