//! Buffers that hold plaintext never grow. A growing `Vec` moves its bytes to a larger
//! allocation and frees the old one as it is, so a plaintext copied in before the growth is
//! left behind in freed memory, out of reach of any wiping wrapper. This test binary counts
//! the allocator's calls (`stats_alloc` as the global allocator) around each operation that
//! copies plaintext or key material into a buffer of its own, and requires zero
//! reallocations.
//!
//! One `#[test]`: the counters are process-wide, so the checks run one after another on one
//! thread (another thread's allocations could only add to the counts, never hide ours).

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use strongroom_crypto::keys::{CipherInput, EncryptionAlgorithm, PrivateKey};
use strongroom_crypto::{Aad, DataKey, MasterKey};
use strongroom_model::ObjectKind;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Runs `f` and returns its result with the number of reallocations it made.
fn reallocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    (out, region.change().reallocations)
}

/// Plaintexts of sizes around the AES block and GCM tag, and a large one.
fn plaintexts() -> Vec<Vec<u8>> {
    [0usize, 1, 15, 16, 17, 1_000, 100_000]
        .into_iter()
        .map(|len| (0..len).map(|i| (i % 251) as u8).collect())
        .collect()
}

#[test]
fn no_plaintext_buffer_reallocates() {
    // Sanity: the counter sees a growing `Vec`, so a zero below means something.
    let (_, grew) = reallocations(|| {
        let mut v = Vec::with_capacity(1);
        v.extend_from_slice(&[1u8, 2, 3]);
        v
    });
    assert!(grew >= 1, "the instrumented allocator is not in use");

    let data_key = DataKey::generate().unwrap();
    let master = MasterKey::generate().unwrap();
    let aad = Aad::object("vault", ObjectKind::Secret, "name", "version");
    for plaintext in plaintexts() {
        let n = plaintext.len();
        let (sealed, count) = reallocations(|| data_key.seal(&aad, &plaintext).unwrap());
        assert_eq!(count, 0, "DataKey::seal of {n} bytes reallocated");
        let (opened, count) = reallocations(|| data_key.open(&aad, &sealed).unwrap());
        assert_eq!(count, 0, "DataKey::open of {n} bytes reallocated");
        assert_eq!(opened.expose(), plaintext.as_slice());
        let (_, count) = reallocations(|| master.seal(&aad, &plaintext).unwrap());
        assert_eq!(count, 0, "MasterKey::seal of {n} bytes reallocated");
    }

    // Key Vault's symmetric encryption with an oct key: the plaintext is copied into the
    // buffer that becomes the ciphertext (CBC-PAD grows it by the padding).
    let oct = PrivateKey::generate_oct(256).unwrap();
    let iv = [7u8; 16];
    for plaintext in plaintexts() {
        let n = plaintext.len();
        let (_, count) = reallocations(|| {
            oct.encrypt(EncryptionAlgorithm::A256Gcm, &CipherInput::data(&plaintext))
                .unwrap()
        });
        assert_eq!(count, 0, "A256GCM encrypt of {n} bytes reallocated");
        let input = CipherInput {
            data: &plaintext,
            iv: Some(&iv),
            ..CipherInput::default()
        };
        let (encrypted, count) = reallocations(|| {
            oct.encrypt(EncryptionAlgorithm::A256CbcPad, &input)
                .unwrap()
        });
        assert_eq!(count, 0, "A256CBCPAD encrypt of {n} bytes reallocated");
        let ciphertext = CipherInput {
            data: &encrypted.data,
            iv: Some(&iv),
            ..CipherInput::default()
        };
        let (decrypted, count) = reallocations(|| {
            oct.decrypt(EncryptionAlgorithm::A256CbcPad, &ciphertext)
                .unwrap()
        });
        assert_eq!(count, 0, "A256CBCPAD decrypt of {n} bytes reallocated");
        assert_eq!(decrypted.as_slice(), plaintext.as_slice());
    }

    // Key material serialised for sealing, export and release.
    let ec = PrivateKey::generate_ec(strongroom_crypto::keys::Curve::P256).unwrap();
    for key in [&oct, &ec] {
        let (_, count) = reallocations(|| key.to_stored());
        assert_eq!(count, 0, "to_stored reallocated");
        let (_, count) = reallocations(|| key.private_bytes());
        assert_eq!(count, 0, "private_bytes reallocated");
        let (_, count) = reallocations(|| key.export());
        assert_eq!(count, 0, "export reallocated");
    }
}
