//! How a certificate version is stored: everything about it is public, so it all lives in
//! the version's `meta` column (the certificate's DER, its thumbprint, the secret's content
//! type) and the sealed payload is empty. The private key is the key version of the same
//! name and version; the exportable form is the secret version of that name and version.

use super::policy::SecretContentType;
use super::types::{CertificateAttributes, CertificateProperties};
use crate::VaultError;
use crate::error::corrupt;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use strongroom_store::VersionRow;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CertificateMeta {
    /// The certificate, base64 DER; absent while the version waits for a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    der: Option<String>,
    /// The SHA-1 thumbprint, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x5t: Option<String>,
    content_type: String,
}

impl CertificateMeta {
    pub(crate) fn new(
        der: Option<&[u8]>,
        x5t: Option<&[u8]>,
        content_type: SecretContentType,
    ) -> Self {
        Self {
            der: der.map(|der| STANDARD.encode(der)),
            x5t: x5t.map(|x5t| STANDARD.encode(x5t)),
            content_type: content_type.as_str().to_owned(),
        }
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, VaultError> {
        serde_json::to_vec(self).map_err(|_| corrupt("certificate metadata could not be encoded"))
    }

    fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|_| corrupt("certificate metadata is not valid"))
    }
}

/// A stored certificate version's properties.
pub(crate) fn properties(row: VersionRow) -> Result<CertificateProperties, VaultError> {
    let meta = CertificateMeta::decode(&row.meta)?;
    let base64 = |text: Option<String>| {
        text.map(|text| {
            STANDARD
                .decode(text)
                .map_err(|_| corrupt("certificate metadata is not valid base64"))
        })
        .transpose()
    };
    let content_type = SecretContentType::parse(&meta.content_type)
        .ok_or_else(|| corrupt("stored certificate content type is unknown"))?;
    Ok(CertificateProperties {
        cer: base64(meta.der)?,
        x5t: base64(meta.x5t)?,
        content_type,
        attributes: CertificateAttributes {
            enabled: row.attributes.enabled,
            not_before: row.attributes.not_before,
            expires: row.attributes.expires,
            created: row.attributes.created,
            updated: row.attributes.updated,
        },
        tags: row.tags,
        name: row.name,
        version: row.version,
    })
}
