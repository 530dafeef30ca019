//! The three kinds of vault object, which share versioning and soft delete.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Secret,
    Key,
    Certificate,
}

impl ObjectKind {
    /// Stable tag used in storage and in authenticated data; never change a value.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Key => "key",
            Self::Certificate => "certificate",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "secret" => Some(Self::Secret),
            "key" => Some(Self::Key),
            "certificate" => Some(Self::Certificate),
            _ => None,
        }
    }

    /// The URL collection segment (`/secrets/...`).
    pub fn collection(self) -> &'static str {
        match self {
            Self::Secret => "secrets",
            Self::Key => "keys",
            Self::Certificate => "certificates",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Secret => "Secret",
            Self::Key => "Key",
            Self::Certificate => "Certificate",
        })
    }
}
