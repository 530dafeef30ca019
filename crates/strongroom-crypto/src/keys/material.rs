//! Plain data that crosses the `keys` API: JWK parts in and out (`KeyMaterial`), public keys
//! (`PublicKey`), and the inputs and outputs of encrypt/decrypt (`CipherInput`,
//! `CipherOutput`). `Debug` never prints key bytes or plaintext.

use super::{Curve, KeyFamily};
use std::fmt;
use zeroize::Zeroizing;

/// The parts of a JWK, base64url-decoded: what `import` reads and `export` writes.
/// Integers are big-endian unsigned; `export` writes `n`, `e` and the RSA private parts
/// without leading zeros, and EC `x`, `y`, `d` at the curve's full field length.
#[derive(Default)]
pub struct KeyMaterial {
    pub family: Option<KeyFamily>,
    pub n: Option<Vec<u8>>,
    pub e: Option<Vec<u8>>,
    pub d: Option<Zeroizing<Vec<u8>>>,
    pub p: Option<Zeroizing<Vec<u8>>>,
    pub q: Option<Zeroizing<Vec<u8>>>,
    pub dp: Option<Zeroizing<Vec<u8>>>,
    pub dq: Option<Zeroizing<Vec<u8>>>,
    pub qi: Option<Zeroizing<Vec<u8>>>,
    pub curve: Option<Curve>,
    pub x: Option<Vec<u8>>,
    pub y: Option<Vec<u8>>,
    pub k: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which parts are present and how long the public ones are; never a byte of any.
        fn public(part: Option<&Vec<u8>>) -> String {
            part.map_or_else(
                || "-".to_owned(),
                |bytes| format!("<{} bytes>", bytes.len()),
            )
        }
        fn private(part: Option<&Zeroizing<Vec<u8>>>) -> &'static str {
            if part.is_some() { "<redacted>" } else { "-" }
        }
        f.debug_struct("KeyMaterial")
            .field("family", &self.family)
            .field("curve", &self.curve)
            .field("n", &format_args!("{}", public(self.n.as_ref())))
            .field("e", &format_args!("{}", public(self.e.as_ref())))
            .field("x", &format_args!("{}", public(self.x.as_ref())))
            .field("y", &format_args!("{}", public(self.y.as_ref())))
            .field("d", &format_args!("{}", private(self.d.as_ref())))
            .field("p", &format_args!("{}", private(self.p.as_ref())))
            .field("q", &format_args!("{}", private(self.q.as_ref())))
            .field("dp", &format_args!("{}", private(self.dp.as_ref())))
            .field("dq", &format_args!("{}", private(self.dq.as_ref())))
            .field("qi", &format_args!("{}", private(self.qi.as_ref())))
            .field("k", &format_args!("{}", private(self.k.as_ref())))
            .finish()
    }
}

/// The public half of a key, in JWK terms. `n` and `e` are big-endian without leading zeros;
/// `x` and `y` are the curve's full field length. An oct key has no public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Oct,
}

impl PublicKey {
    pub fn family(&self) -> KeyFamily {
        match self {
            Self::Rsa { .. } => KeyFamily::Rsa,
            Self::Ec { .. } => KeyFamily::Ec,
            Self::Oct => KeyFamily::Oct,
        }
    }
}

/// The request of an `encrypt` or `decrypt`: `data` is plaintext or ciphertext; `iv`, `aad`
/// and `tag` are only for the AES algorithms that use them.
#[derive(Clone, Copy, Default)]
pub struct CipherInput<'a> {
    pub data: &'a [u8],
    pub iv: Option<&'a [u8]>,
    pub aad: Option<&'a [u8]>,
    pub tag: Option<&'a [u8]>,
}

impl<'a> CipherInput<'a> {
    /// Just data, no iv, aad or tag (RSA, or GCM with a generated iv).
    pub fn data(data: &'a [u8]) -> Self {
        Self {
            data,
            ..Self::default()
        }
    }
}

impl fmt::Debug for CipherInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `data` may be plaintext: its length only.
        f.debug_struct("CipherInput")
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .field("iv", &self.iv)
            .field("aad", &self.aad.map(<[u8]>::len))
            .field("tag", &self.tag)
            .finish()
    }
}

/// The result of an `encrypt`: ciphertext, and the iv and tag where the algorithm has them
/// (GCM returns both, CBC returns the iv it used, RSA neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherOutput {
    pub data: Vec<u8>,
    pub iv: Option<Vec<u8>>,
    pub tag: Option<Vec<u8>>,
}
