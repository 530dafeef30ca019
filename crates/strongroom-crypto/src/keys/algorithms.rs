//! The words Key Vault uses for key types, curves and algorithms, each written and parsed in
//! Azure's exact spelling (`"P-256K"`, `"RSA-OAEP-256"`, `"A256CBCPAD"`), plus what each
//! algorithm needs from a key (family, curve, digest length, AES key size).

use aws_lc_rs::digest;
use std::fmt;

/// One enum per Azure vocabulary, with `as_str`, exact `parse` and `ALL` generated from a
/// single table so that the spelling cannot drift between the two directions.
macro_rules! azure_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant, )* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// Azure's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            /// Parses Azure's exact spelling (case-sensitive, as Key Vault writes it).
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The kind of key: Key Vault's `kty` without the `-HSM` suffix (that is the vault's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    Rsa,
    Ec,
    Oct,
}

impl KeyFamily {
    /// The JWK `kty` spelling: `"RSA"`, `"EC"`, `"oct"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::Ec => "EC",
            Self::Oct => "oct",
        }
    }
}

impl fmt::Display for KeyFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An elliptic curve Key Vault offers for EC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
    /// secp256k1.
    P256K,
}

impl Curve {
    /// Every curve, in declaration order.
    pub const ALL: &'static [Self] = &[Self::P256, Self::P384, Self::P521, Self::P256K];

    /// Azure's spelling (JWK `crv`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
            Self::P256K => "P-256K",
        }
    }

    /// Parses Azure's exact spelling, and also `"SECP256K1"`, which older Key Vault API
    /// versions and some SDKs use for `P-256K`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "P-256" => Some(Self::P256),
            "P-384" => Some(Self::P384),
            "P-521" => Some(Self::P521),
            "P-256K" | "SECP256K1" => Some(Self::P256K),
            _ => None,
        }
    }

    /// The curve's size in bits (the `key_size` Azure reports for EC keys).
    pub fn bits(self) -> usize {
        match self {
            Self::P256 | Self::P256K => 256,
            Self::P384 => 384,
            Self::P521 => 521,
        }
    }

    /// Bytes of one coordinate or of the private scalar (JWK `x`, `y`, `d`).
    pub fn field_len(self) -> usize {
        self.bits().div_ceil(8)
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

azure_names! {
    /// A signature algorithm of the `sign` and `verify` operations (JWS names).
    pub enum SignatureAlgorithm {
        Rs256 => "RS256",
        Rs384 => "RS384",
        Rs512 => "RS512",
        Ps256 => "PS256",
        Ps384 => "PS384",
        Ps512 => "PS512",
        Es256 => "ES256",
        Es384 => "ES384",
        Es512 => "ES512",
        Es256K => "ES256K",
    }
}

impl SignatureAlgorithm {
    /// The length of the digest the caller must hand in (SHA-256, -384 or -512).
    pub fn digest_len(self) -> usize {
        self.digest_algorithm().output_len()
    }

    /// The key family the algorithm signs with.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512 => {
                KeyFamily::Rsa
            }
            Self::Es256 | Self::Es384 | Self::Es512 | Self::Es256K => KeyFamily::Ec,
        }
    }

    /// The one curve an ECDSA algorithm is defined for (JWA pairs them; ES512 is P-521).
    pub fn curve(self) -> Option<Curve> {
        match self {
            Self::Es256 => Some(Curve::P256),
            Self::Es384 => Some(Curve::P384),
            Self::Es512 => Some(Curve::P521),
            Self::Es256K => Some(Curve::P256K),
            _ => None,
        }
    }

    pub(super) fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            Self::Rs256 | Self::Ps256 | Self::Es256 | Self::Es256K => &digest::SHA256,
            Self::Rs384 | Self::Ps384 | Self::Es384 => &digest::SHA384,
            Self::Rs512 | Self::Ps512 | Self::Es512 => &digest::SHA512,
        }
    }
}

azure_names! {
    /// An algorithm of the `encrypt`, `decrypt`, `wrapKey` and `unwrapKey` operations.
    pub enum EncryptionAlgorithm {
        Rsa15 => "RSA1_5",
        RsaOaep => "RSA-OAEP",
        RsaOaep256 => "RSA-OAEP-256",
        A128Gcm => "A128GCM",
        A192Gcm => "A192GCM",
        A256Gcm => "A256GCM",
        A128Kw => "A128KW",
        A192Kw => "A192KW",
        A256Kw => "A256KW",
        A128Cbc => "A128CBC",
        A192Cbc => "A192CBC",
        A256Cbc => "A256CBC",
        A128CbcPad => "A128CBCPAD",
        A192CbcPad => "A192CBCPAD",
        A256CbcPad => "A256CBCPAD",
    }
}

/// How an `EncryptionAlgorithm` works, independent of its key size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Rsa15,
    RsaOaep,
    RsaOaep256,
    Gcm,
    Kw,
    Cbc,
    CbcPad,
}

impl EncryptionAlgorithm {
    /// The key family the algorithm works with.
    pub fn family(self) -> KeyFamily {
        match self.mode() {
            Mode::Rsa15 | Mode::RsaOaep | Mode::RsaOaep256 => KeyFamily::Rsa,
            Mode::Gcm | Mode::Kw | Mode::Cbc | Mode::CbcPad => KeyFamily::Oct,
        }
    }

    /// The AES key size an `A*` algorithm needs, in bits; `None` for RSA algorithms.
    pub fn aes_key_bits(self) -> Option<usize> {
        match self {
            Self::A128Gcm | Self::A128Kw | Self::A128Cbc | Self::A128CbcPad => Some(128),
            Self::A192Gcm | Self::A192Kw | Self::A192Cbc | Self::A192CbcPad => Some(192),
            Self::A256Gcm | Self::A256Kw | Self::A256Cbc | Self::A256CbcPad => Some(256),
            Self::Rsa15 | Self::RsaOaep | Self::RsaOaep256 => None,
        }
    }

    /// True for the algorithms `wrap_key` and `unwrap_key` take (RSA ones and AES-KW).
    pub fn is_key_wrap(self) -> bool {
        !matches!(self.mode(), Mode::Gcm | Mode::Cbc | Mode::CbcPad)
    }

    pub(super) fn mode(self) -> Mode {
        match self {
            Self::Rsa15 => Mode::Rsa15,
            Self::RsaOaep => Mode::RsaOaep,
            Self::RsaOaep256 => Mode::RsaOaep256,
            Self::A128Gcm | Self::A192Gcm | Self::A256Gcm => Mode::Gcm,
            Self::A128Kw | Self::A192Kw | Self::A256Kw => Mode::Kw,
            Self::A128Cbc | Self::A192Cbc | Self::A256Cbc => Mode::Cbc,
            Self::A128CbcPad | Self::A192CbcPad | Self::A256CbcPad => Mode::CbcPad,
        }
    }
}
