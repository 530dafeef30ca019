//! The backup blob: the format `backup`/`restore` exchange with clients, opaque to them.
//!
//! ```text
//! "SRBK" | format (1 byte, = 1) | kind tag length (1) | kind tag | name length (1) | name
//!        | body sealed with the deployment's backup key, AAD = Aad::backup(kind, name)
//! ```
//! The kind and name travel in clear because the authenticated data is built from them; the
//! body (versioned JSON: every version with attributes, tags, metadata and plaintext value)
//! opens only under the deployment's backup key (which outlives master-key rotations), so a
//! blob restores into any vault of the deployment that made it and nowhere else. Anything that does not parse or open is `MalformedBackup`.

use crate::VaultError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use strongroom_crypto::{Aad, DataKey};
use strongroom_model::{ObjectKind, ObjectName, Sealed, SecretValue};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"SRBK";
const FORMAT_V1: u8 = 1;
/// Version of the JSON body, independent of the framing.
pub(crate) const BODY_FORMAT_V1: u32 = 1;

/// The sealed body of a secret backup.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretBackupBody {
    pub(crate) format: u32,
    /// Repeats the clear-text name, checked on restore.
    pub(crate) name: String,
    /// Oldest first; the last one is the current version.
    pub(crate) versions: Vec<SecretBackupVersion>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretBackupVersion {
    pub(crate) version: String,
    pub(crate) enabled: bool,
    pub(crate) not_before: Option<i64>,
    pub(crate) expires: Option<i64>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) content_type: Option<String>,
    pub(crate) managed: bool,
    /// Unused (a managed secret's key is the key of its name and version); kept so that
    /// v1 bodies, which always carry it, still parse under `deny_unknown_fields`.
    pub(crate) key_id: Option<String>,
    #[serde(
        serialize_with = "serialize_value",
        deserialize_with = "deserialize_value"
    )]
    pub(crate) value: SecretValue,
}

fn serialize_value<S: Serializer>(value: &SecretValue, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.expose())
}

fn deserialize_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretValue, D::Error> {
    String::deserialize(deserializer).map(SecretValue::new)
}

/// Serialises and seals a secret backup.
pub(crate) fn seal_secret(
    backup_key: &DataKey,
    name: &ObjectName,
    body: &SecretBackupBody,
) -> Result<Vec<u8>, VaultError> {
    // The JSON holds plaintext: write it into a buffer sized up front (values plus generous
    // room for escaping and attributes) so it is unlikely to be reallocated, then wipe it.
    let estimate: usize = body
        .versions
        .iter()
        .map(|version| 2 * version.value.len() + 1024)
        .sum();
    seal_body(backup_key, ObjectKind::Secret, name, body, estimate + 256)
}

/// Serialises any kind's backup body into a wiped buffer of about `size_hint` bytes (sized
/// up front so the plaintext JSON is unlikely to be reallocated) and seals it.
pub(crate) fn seal_body<T: Serialize>(
    backup_key: &DataKey,
    kind: ObjectKind,
    name: &ObjectName,
    body: &T,
    size_hint: usize,
) -> Result<Vec<u8>, VaultError> {
    let mut json = Zeroizing::new(Vec::with_capacity(size_hint));
    serde_json::to_writer(&mut *json, body)
        .map_err(|_| crate::error::corrupt("backup body could not be serialised"))?;
    seal(backup_key, kind, name, &json)
}

/// Opens a blob of `kind` and parses its body; anything that does not is `MalformedBackup`.
pub(crate) fn open_body<T: serde::de::DeserializeOwned>(
    backup_key: &DataKey,
    kind: ObjectKind,
    blob: &[u8],
) -> Result<(ObjectName, T), VaultError> {
    let (name, json) = open(backup_key, kind, blob)?;
    let body: T = serde_json::from_slice(&json).map_err(|_| VaultError::MalformedBackup)?;
    Ok((name, body))
}

/// Opens and parses a secret backup. The returned name is the clear-text one, which the
/// authenticated data has vouched for.
pub(crate) fn open_secret(
    backup_key: &DataKey,
    blob: &[u8],
) -> Result<(ObjectName, SecretBackupBody), VaultError> {
    let (name, body): (ObjectName, SecretBackupBody) =
        open_body(backup_key, ObjectKind::Secret, blob)?;
    if body.format != BODY_FORMAT_V1 || body.name != name.as_str() || body.versions.is_empty() {
        return Err(VaultError::MalformedBackup);
    }
    Ok((name, body))
}

fn seal(
    backup_key: &DataKey,
    kind: ObjectKind,
    name: &ObjectName,
    body: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let kind_tag = kind.tag().as_bytes();
    let name_bytes = name.as_str().as_bytes();
    let (Ok(kind_len), Ok(name_len)) =
        (u8::try_from(kind_tag.len()), u8::try_from(name_bytes.len()))
    else {
        return Err(crate::error::corrupt("backup header field too long"));
    };
    let sealed = backup_key.seal(&Aad::backup(kind, name.as_str()), body)?;
    let mut blob =
        Vec::with_capacity(MAGIC.len() + 3 + kind_tag.len() + name_bytes.len() + sealed.len());
    blob.extend_from_slice(MAGIC);
    blob.push(FORMAT_V1);
    blob.push(kind_len);
    blob.extend_from_slice(kind_tag);
    blob.push(name_len);
    blob.extend_from_slice(name_bytes);
    blob.extend_from_slice(sealed.as_bytes());
    Ok(blob)
}

fn open(
    backup_key: &DataKey,
    expected_kind: ObjectKind,
    blob: &[u8],
) -> Result<(ObjectName, Zeroizing<Vec<u8>>), VaultError> {
    let header = parse_header(blob).ok_or(VaultError::MalformedBackup)?;
    if header.kind != expected_kind {
        return Err(VaultError::MalformedBackup);
    }
    let plain = backup_key
        .open(
            &Aad::backup(header.kind, header.name.as_str()),
            &Sealed::from(header.sealed.to_vec()),
        )
        .map_err(|_| VaultError::MalformedBackup)?;
    Ok((header.name, Zeroizing::new(plain.expose().to_vec())))
}

#[derive(Debug)]
struct Header<'a> {
    kind: ObjectKind,
    name: ObjectName,
    sealed: &'a [u8],
}

fn parse_header(blob: &[u8]) -> Option<Header<'_>> {
    let rest = blob.strip_prefix(MAGIC.as_slice())?;
    let (&format, rest) = rest.split_first()?;
    if format != FORMAT_V1 {
        return None;
    }
    let (kind_tag, rest) = take_field(rest)?;
    let kind = ObjectKind::from_tag(std::str::from_utf8(kind_tag).ok()?)?;
    let (name, sealed) = take_field(rest)?;
    let name = ObjectName::parse(std::str::from_utf8(name).ok()?).ok()?;
    Some(Header { kind, name, sealed })
}

/// A one-byte length, then that many bytes.
fn take_field(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = bytes.split_first()?;
    let len = usize::from(len);
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    #[track_caller]
    fn check(blob: &[u8], expect: Expect) {
        let parsed = parse_header(blob)
            .map(|header| format!("{} {} sealed={:?}", header.kind, header.name, header.sealed));
        expect.assert_eq(&format!("{parsed:?}"));
    }

    #[test]
    fn headers() {
        check(
            b"SRBK\x01\x06secret\x03abcXYZ",
            expect![[r#"Some("Secret abc sealed=[88, 89, 90]")"#]],
        );
        check(
            b"SRBK\x01\x03key\x01k",
            expect![[r#"Some("Key k sealed=[]")"#]],
        );
        check(b"", expect!["None"]);
        check(b"SRBK", expect!["None"]);
        check(b"SRBX\x01\x06secret\x03abc", expect!["None"]);
        check(b"SRBK\x02\x06secret\x03abc", expect!["None"]);
        check(b"SRBK\x01\x06secret\x04abc", expect!["None"]);
        check(b"SRBK\x01\x05thing\x03abc", expect!["None"]);
        check(b"SRBK\x01\x06secret\x03a_c", expect!["None"]);
        check(b"SRBK\x01\x06secret\x00", expect!["None"]);
        check(b"SRBK\x01\x09secret", expect!["None"]);
    }

    #[test]
    fn round_trip_and_refusals() {
        let master = DataKey::generate().unwrap();
        let name = ObjectName::parse("Db-Password").unwrap();
        let body = SecretBackupBody {
            format: BODY_FORMAT_V1,
            name: name.as_str().to_owned(),
            versions: vec![SecretBackupVersion {
                version: "0123456789abcdef0123456789abcdef".to_owned(),
                enabled: true,
                not_before: None,
                expires: Some(5),
                created: 1,
                updated: 2,
                tags: BTreeMap::new(),
                content_type: None,
                managed: false,
                key_id: None,
                value: SecretValue::new("quote \" and \u{1} control".to_owned()),
            }],
        };
        let blob = seal_secret(&master, &name, &body).unwrap();
        assert!(!blob.windows(5).any(|w| w == b"quote"), "body is sealed");
        let (opened_name, opened) = open_secret(&master, &blob).unwrap();
        assert_eq!(opened_name, name);
        assert_eq!(
            opened.versions[0].value.expose(),
            "quote \" and \u{1} control"
        );

        // Every truncation and every single-bit flip is refused.
        for len in 0..blob.len() {
            assert!(matches!(
                open_secret(&master, &blob[..len]),
                Err(VaultError::MalformedBackup)
            ));
        }
        for index in 0..blob.len() {
            let mut flipped = blob.clone();
            flipped[index] ^= 0x01;
            if let Ok((flipped_name, _)) = open_secret(&master, &flipped) {
                panic!("flip at {index} accepted as {flipped_name}");
            }
        }
        let other = DataKey::generate().unwrap();
        assert!(matches!(
            open_secret(&other, &blob),
            Err(VaultError::MalformedBackup)
        ));
    }
}
