//! Names and versions as Azure Key Vault validates them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Why a name or version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is longer than {max} characters")]
    TooLong { max: usize },
    #[error("name contains the character {0:?}")]
    InvalidChar(char),
    #[error("name is shorter than {min} characters")]
    TooShort { min: usize },
    #[error("name must start with a letter")]
    MustStartWithLetter,
    #[error("name must not end with a hyphen")]
    TrailingHyphen,
    #[error("name must not contain consecutive hyphens")]
    ConsecutiveHyphens,
    #[error("version must be 32 hexadecimal characters")]
    BadVersion,
}

/// Name of a secret, key or certificate: `^[0-9a-zA-Z-]{1,127}$` (Azure's rule).
///
/// Names and versions are shared strings: the store's cache of current versions hands out
/// a copy of a row on every read, and a copy of these is a reference count, not an allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectName(Arc<str>);

impl ObjectName {
    pub const MAX_LEN: usize = 127;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(NameError::InvalidChar(c));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(NameError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(raw.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name in lower case, the form names are compared in (Azure's names are
    /// case-insensitive). Borrowed when the name has no upper-case letter, as most do.
    pub fn folded(&self) -> Cow<'_, str> {
        fold(&self.0)
    }
}

/// Name of a vault, the first label of its host: Azure's rule is 3-24 characters,
/// letters, digits and single hyphens, starting with a letter, not ending with a hyphen.
/// Stored and compared in lower case because host names are case-insensitive.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VaultName(Arc<str>);

impl VaultName {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 24;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(NameError::InvalidChar(c));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(NameError::TooLong { max: Self::MAX_LEN });
        }
        if raw.len() < Self::MIN_LEN {
            return Err(NameError::TooShort { min: Self::MIN_LEN });
        }
        if !raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(NameError::MustStartWithLetter);
        }
        if raw.ends_with('-') {
            return Err(NameError::TrailingHyphen);
        }
        if raw.contains("--") {
            return Err(NameError::ConsecutiveHyphens);
        }
        Ok(Self(fold(raw).into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Lets maps keyed by vault name be searched with a host's label, without building a name:
// the derived `Hash` and `Eq` of `VaultName` are those of its string.
impl std::borrow::Borrow<str> for VaultName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// An object version: 32 lower-case hexadecimal characters, as Azure issues them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(Arc<str>);

impl Version {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.len() != 32 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NameError::BadVersion);
        }
        Ok(Self(fold(raw).into()))
    }

    /// A fresh random version (a v4 UUID without dashes, the shape Azure uses).
    pub fn new_random() -> Self {
        let mut buf = [0u8; uuid::fmt::Simple::LENGTH];
        Self((&*uuid::Uuid::new_v4().simple().encode_lower(&mut buf)).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `raw` in ASCII lower case, borrowed when it already is (most input is).
fn fold(raw: &str) -> Cow<'_, str> {
    if raw.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(raw.to_ascii_lowercase())
    } else {
        Cow::Borrowed(raw)
    }
}

/// Internal identifier of a vault (stable across renames of nothing; never shown to clients).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct VaultId(pub i64);

macro_rules! string_newtype_fmt {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{:?}", self.0) }
        }
    )*};
}
string_newtype_fmt!(ObjectName, VaultName, Version);

impl fmt::Display for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    #[track_caller]
    fn check_object(input: &str, expect: Expect) {
        expect.assert_eq(&format!("{:?}", ObjectName::parse(input)));
    }

    #[track_caller]
    fn check_vault(input: &str, expect: Expect) {
        expect.assert_eq(&format!("{:?}", VaultName::parse(input)));
    }

    #[track_caller]
    fn check_version(input: &str, expect: Expect) {
        expect.assert_eq(&format!("{:?}", Version::parse(input)));
    }

    #[test]
    fn object_names() {
        check_object("my-secret-1", expect![[r#"Ok("my-secret-1")"#]]);
        check_object("A", expect![[r#"Ok("A")"#]]);
        check_object("", expect!["Err(Empty)"]);
        check_object("a_b", expect!["Err(InvalidChar('_'))"]);
        check_object("a b", expect!["Err(InvalidChar(' '))"]);
        check_object("../etc", expect!["Err(InvalidChar('.'))"]);
        check_object("é", expect!["Err(InvalidChar('é'))"]);
        check_object(
            &"a".repeat(127),
            expect![[
                r#"Ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")"#
            ]],
        );
        check_object(&"a".repeat(128), expect!["Err(TooLong { max: 127 })"]);
    }

    #[test]
    fn vault_names() {
        check_vault("MyVault", expect![[r#"Ok("myvault")"#]]);
        check_vault("ab", expect!["Err(TooShort { min: 3 })"]);
        check_vault("1abc", expect!["Err(MustStartWithLetter)"]);
        check_vault("abc-", expect!["Err(TrailingHyphen)"]);
        check_vault("a--b", expect!["Err(ConsecutiveHyphens)"]);
        check_vault("a.b", expect!["Err(InvalidChar('.'))"]);
        check_vault(&"a".repeat(25), expect!["Err(TooLong { max: 24 })"]);
    }

    #[test]
    fn versions() {
        check_version(
            "4387e9f3d6e14c459867679a90fd0f79",
            expect![[r#"Ok("4387e9f3d6e14c459867679a90fd0f79")"#]],
        );
        check_version(
            "4387E9F3D6E14C459867679A90FD0F79",
            expect![[r#"Ok("4387e9f3d6e14c459867679a90fd0f79")"#]],
        );
        check_version("4387e9f3", expect!["Err(BadVersion)"]);
        check_version(
            "zz87e9f3d6e14c459867679a90fd0f79",
            expect!["Err(BadVersion)"],
        );
        assert!(Version::parse(Version::new_random().as_str()).is_ok());
    }
}
