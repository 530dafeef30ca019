//! Key usage flags in Azure's spelling (`x509_props.key_usage`), the bits of RFC 5280's
//! `KeyUsage` extension.

use std::fmt;

/// One bit of the X.509 key usage extension, named as Key Vault names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

impl KeyUsage {
    /// Every flag, in the extension's bit order (so listings come out in Azure's order).
    pub const ALL: &'static [Self] = &[
        Self::DigitalSignature,
        Self::NonRepudiation,
        Self::KeyEncipherment,
        Self::DataEncipherment,
        Self::KeyAgreement,
        Self::KeyCertSign,
        Self::CrlSign,
        Self::EncipherOnly,
        Self::DecipherOnly,
    ];

    /// Azure's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DigitalSignature => "digitalSignature",
            Self::NonRepudiation => "nonRepudiation",
            Self::KeyEncipherment => "keyEncipherment",
            Self::DataEncipherment => "dataEncipherment",
            Self::KeyAgreement => "keyAgreement",
            Self::KeyCertSign => "keyCertSign",
            Self::CrlSign => "cRLSign",
            Self::EncipherOnly => "encipherOnly",
            Self::DecipherOnly => "decipherOnly",
        }
    }

    /// Parses Azure's exact spelling (case-sensitive, as Key Vault writes it).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|usage| usage.as_str() == text)
    }

    pub(super) fn to_rcgen(self) -> rcgen::KeyUsagePurpose {
        use rcgen::KeyUsagePurpose as Purpose;
        match self {
            Self::DigitalSignature => Purpose::DigitalSignature,
            Self::NonRepudiation => Purpose::ContentCommitment,
            Self::KeyEncipherment => Purpose::KeyEncipherment,
            Self::DataEncipherment => Purpose::DataEncipherment,
            Self::KeyAgreement => Purpose::KeyAgreement,
            Self::KeyCertSign => Purpose::KeyCertSign,
            Self::CrlSign => Purpose::CrlSign,
            Self::EncipherOnly => Purpose::EncipherOnly,
            Self::DecipherOnly => Purpose::DecipherOnly,
        }
    }

    /// Whether x509-parser's decoded extension has this bit set.
    pub(super) fn is_set_in(self, usage: &x509_parser::extensions::KeyUsage) -> bool {
        match self {
            Self::DigitalSignature => usage.digital_signature(),
            Self::NonRepudiation => usage.non_repudiation(),
            Self::KeyEncipherment => usage.key_encipherment(),
            Self::DataEncipherment => usage.data_encipherment(),
            Self::KeyAgreement => usage.key_agreement(),
            Self::KeyCertSign => usage.key_cert_sign(),
            Self::CrlSign => usage.crl_sign(),
            Self::EncipherOnly => usage.encipher_only(),
            Self::DecipherOnly => usage.decipher_only(),
        }
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
