//! Symmetric (oct) keys of 128, 192 or 256 bits: AES-GCM, AES-CBC with and without PKCS#7
//! padding, and AES key wrap (RFC 3394), through aws-lc-rs.
//!
//! An `OctKey` keeps the expanded aws-lc keys for GCM and CBC, built once. Key wrap builds its
//! key per call because aws-lc-rs's `KeyEncryptionKey::wrap` consumes it.
//!
//! GCM encryption uses a caller's iv as given (repeating one under the same key breaks GCM)
//! and draws a random 12-byte iv when there is none, which is the safe default.
//!
//! CBC-PAD decryption reports a bad padding as `DecryptionFailed`, like any other failure;
//! unauthenticated CBC is inherently malleable, and Key Vault offers it for compatibility.

use super::algorithms::Mode;
use super::kw;
use super::{CipherInput, CipherOutput, EncryptionAlgorithm, KeyError, KeyFamily};
use aws_lc_rs::aead::{self, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    self, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{self, KeyEncryptionKey, KeyWrap as _};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

const GCM_TAG_LEN: usize = 16;
const CBC_IV_LEN: usize = 16;
const AES_BLOCK_LEN: usize = 16;

pub(super) struct OctKey {
    raw: Zeroizing<Vec<u8>>,
    gcm: LessSafeKey,
    cbc_encrypt: EncryptingKey,
    cbc_decrypt: DecryptingKey,
    cbc_pad_encrypt: PaddedBlockEncryptingKey,
    cbc_pad_decrypt: PaddedBlockDecryptingKey,
}

impl OctKey {
    pub(super) fn generate(bits: usize) -> Result<Self, KeyError> {
        if !matches!(bits, 128 | 192 | 256) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let mut raw = Zeroizing::new(vec![0u8; bits / 8]);
        SystemRandom::new().fill(&mut raw)?;
        Self::from_bytes(&raw)
    }

    /// From the raw key (JWK `k`, or the stored form): 16, 24 or 32 bytes.
    pub(super) fn from_bytes(raw: &[u8]) -> Result<Self, KeyError> {
        let (gcm, aes) = match raw.len() {
            16 => (&aead::AES_128_GCM, &cipher::AES_128),
            24 => (&aead::AES_192_GCM, &cipher::AES_192),
            32 => (&aead::AES_256_GCM, &cipher::AES_256),
            len => return Err(KeyError::UnsupportedKeySize { bits: len * 8 }),
        };
        let cipher_key = || UnboundCipherKey::new(aes, raw);
        Ok(Self {
            raw: Zeroizing::new(raw.to_vec()),
            gcm: LessSafeKey::new(UnboundKey::new(gcm, raw)?),
            cbc_encrypt: EncryptingKey::cbc(cipher_key()?)?,
            cbc_decrypt: DecryptingKey::cbc(cipher_key()?)?,
            cbc_pad_encrypt: PaddedBlockEncryptingKey::cbc_pkcs7(cipher_key()?)?,
            cbc_pad_decrypt: PaddedBlockDecryptingKey::cbc_pkcs7(cipher_key()?)?,
        })
    }

    pub(super) fn size_bits(&self) -> usize {
        self.raw.len() * 8
    }

    pub(super) fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub(super) fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<CipherOutput, KeyError> {
        match self.mode_for(alg)? {
            Mode::Gcm => self.gcm_seal(input),
            Mode::Cbc | Mode::CbcPad => self.cbc_encrypt(alg, input),
            _ => Err(KeyError::InvalidInput(
                "key-wrap algorithms are for wrap_key and unwrap_key",
            )),
        }
    }

    pub(super) fn decrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match self.mode_for(alg)? {
            Mode::Gcm => self.gcm_open(input),
            Mode::Cbc | Mode::CbcPad => self.cbc_decrypt(alg, input),
            _ => Err(KeyError::InvalidInput(
                "key-wrap algorithms are for wrap_key and unwrap_key",
            )),
        }
    }

    pub(super) fn wrap_key(
        &self,
        alg: EncryptionAlgorithm,
        key: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.kw_for(alg)?;
        if key.len() < 16 || !key.len().is_multiple_of(8) {
            return Err(KeyError::InvalidInput(
                "a key to wrap is a multiple of 8 bytes and at least 16",
            ));
        }
        match self.raw.len() {
            24 => kw::wrap(&cipher::AES_192, &self.raw, key),
            len => {
                let cipher = if len == 16 {
                    &key_wrap::AES_128
                } else {
                    &key_wrap::AES_256
                };
                let mut out = vec![0u8; key.len() + 8];
                let wrapped_len = KeyEncryptionKey::new(cipher, &self.raw)?
                    .wrap(key, &mut out)?
                    .len();
                out.truncate(wrapped_len);
                Ok(out)
            }
        }
    }

    pub(super) fn unwrap_key(
        &self,
        alg: EncryptionAlgorithm,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.kw_for(alg)?;
        if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
            return Err(KeyError::InvalidInput(
                "a wrapped key is a multiple of 8 bytes and at least 24",
            ));
        }
        match self.raw.len() {
            24 => kw::unwrap(&cipher::AES_192, &self.raw, wrapped),
            len => {
                let cipher = if len == 16 {
                    &key_wrap::AES_128
                } else {
                    &key_wrap::AES_256
                };
                let mut out = Zeroizing::new(vec![0u8; wrapped.len() - 8]);
                let unwrapped_len = KeyEncryptionKey::new(cipher, &self.raw)?
                    .unwrap(wrapped, &mut out)
                    .map_err(|_| KeyError::DecryptionFailed)?
                    .len();
                out.truncate(unwrapped_len);
                Ok(out)
            }
        }
    }

    /// An AES algorithm, for this key's size.
    fn mode_for(&self, alg: EncryptionAlgorithm) -> Result<Mode, KeyError> {
        let Some(bits) = alg.aes_key_bits() else {
            return Err(KeyError::not_for(alg.as_str(), KeyFamily::Oct));
        };
        if bits != self.size_bits() {
            return Err(KeyError::KeySizeMismatch {
                algorithm: alg,
                bits: self.size_bits(),
            });
        }
        Ok(alg.mode())
    }

    /// An AES key-wrap algorithm, for this key's size.
    fn kw_for(&self, alg: EncryptionAlgorithm) -> Result<(), KeyError> {
        if alg.aes_key_bits().is_some() && alg.mode() != Mode::Kw {
            return Err(KeyError::InvalidInput(
                "wrap_key and unwrap_key take A128KW, A192KW or A256KW for oct keys",
            ));
        }
        self.mode_for(alg).map(drop)
    }

    fn gcm_seal(&self, input: &CipherInput<'_>) -> Result<CipherOutput, KeyError> {
        if input.tag.is_some() {
            return Err(KeyError::InvalidInput("a tag is not an input of encrypt"));
        }
        let iv: [u8; NONCE_LEN] = match input.iv {
            Some(iv) => iv
                .try_into()
                .map_err(|_| KeyError::InvalidInput("a GCM iv is 12 bytes"))?,
            None => {
                let mut iv = [0u8; NONCE_LEN];
                SystemRandom::new().fill(&mut iv)?;
                iv
            }
        };
        // Plaintext until sealed in place (no growth: the tag is separate); wiped if sealing
        // fails, handed out as ciphertext otherwise.
        let mut data = Zeroizing::new(input.data.to_vec());
        let tag = self.gcm.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(input.aad.unwrap_or_default()),
            &mut data,
        )?;
        Ok(CipherOutput {
            data: std::mem::take(&mut *data),
            iv: Some(iv.to_vec()),
            tag: Some(tag.as_ref().to_vec()),
        })
    }

    fn gcm_open(&self, input: &CipherInput<'_>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let iv = input
            .iv
            .ok_or(KeyError::InvalidInput("GCM decryption needs the iv"))?;
        let nonce = Nonce::try_assume_unique_for_key(iv)
            .map_err(|_| KeyError::InvalidInput("a GCM iv is 12 bytes"))?;
        let tag = input
            .tag
            .ok_or(KeyError::InvalidInput("GCM decryption needs the tag"))?;
        if tag.len() != GCM_TAG_LEN {
            return Err(KeyError::InvalidInput("a GCM tag is 16 bytes"));
        }
        let mut data = Zeroizing::new(input.data.to_vec());
        self.gcm
            .open_in_place_separate_tag(
                nonce,
                Aad::from(input.aad.unwrap_or_default()),
                tag,
                &mut data,
            )
            .map_err(|_| KeyError::DecryptionFailed)?;
        Ok(data)
    }

    fn cbc_encrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<CipherOutput, KeyError> {
        let iv = cbc_iv(input)?;
        let context = EncryptionContext::Iv128(FixedLength::from(iv));
        // Room for the padding up front, so no reallocation leaves a plaintext copy behind;
        // wiped if encryption is refused or fails while it still holds plaintext.
        let mut data = Zeroizing::new(Vec::with_capacity(input.data.len() + AES_BLOCK_LEN));
        data.extend_from_slice(input.data);
        if alg.mode() == Mode::CbcPad {
            self.cbc_pad_encrypt
                .less_safe_encrypt(&mut *data, context)?;
        } else {
            if !data.len().is_multiple_of(AES_BLOCK_LEN) {
                return Err(KeyError::InvalidInput(
                    "CBC without padding takes a multiple of 16 bytes",
                ));
            }
            self.cbc_encrypt.less_safe_encrypt(&mut data, context)?;
        }
        Ok(CipherOutput {
            data: std::mem::take(&mut *data),
            iv: Some(iv.to_vec()),
            tag: None,
        })
    }

    fn cbc_decrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let iv = cbc_iv(input)?;
        if !input.data.len().is_multiple_of(AES_BLOCK_LEN) {
            return Err(KeyError::InvalidInput(
                "CBC ciphertext is a multiple of 16 bytes",
            ));
        }
        let context = DecryptionContext::Iv128(FixedLength::from(iv));
        let mut data = Zeroizing::new(input.data.to_vec());
        let plaintext_len = if alg.mode() == Mode::CbcPad {
            if data.is_empty() {
                return Err(KeyError::InvalidInput(
                    "CBC-PAD ciphertext is at least one block",
                ));
            }
            self.cbc_pad_decrypt
                .decrypt(&mut data, context)
                .map_err(|_| KeyError::DecryptionFailed)?
                .len()
        } else {
            self.cbc_decrypt
                .decrypt(&mut data, context)
                .map_err(|_| KeyError::DecryptionFailed)?
                .len()
        };
        data.truncate(plaintext_len);
        Ok(data)
    }
}

/// CBC takes a 16-byte iv from the caller, and neither aad nor tag.
fn cbc_iv(input: &CipherInput<'_>) -> Result<[u8; CBC_IV_LEN], KeyError> {
    if input.aad.is_some() || input.tag.is_some() {
        return Err(KeyError::InvalidInput("CBC takes neither aad nor tag"));
    }
    input
        .iv
        .ok_or(KeyError::InvalidInput("CBC needs an iv"))?
        .try_into()
        .map_err(|_| KeyError::InvalidInput("a CBC iv is 16 bytes"))
}
