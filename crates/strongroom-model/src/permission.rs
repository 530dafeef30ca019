//! Access-policy permissions, named as Azure names them.

use crate::ObjectKind;
use std::fmt;

/// One enum per object kind: its variants in Azure's order (`ALL`), the name ARM uses in
/// access policies, which is also the word in Azure's 403 message (`as_str`), and parsing that
/// ignores case as ARM does (`parse`).
macro_rules! permission_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),*
                }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|p| p.as_str().eq_ignore_ascii_case(raw))
            }
        }
    };
}

permission_enum! {
    /// One secret permission of an access policy (`az keyvault set-policy --secret-permissions`).
    SecretPermission {
        Get => "get",
        List => "list",
        Set => "set",
        Delete => "delete",
        Backup => "backup",
        Restore => "restore",
        Recover => "recover",
        Purge => "purge",
    }
}

permission_enum! {
    /// One key permission of an access policy (`az keyvault set-policy --key-permissions`).
    /// ARM's names: `unwrapKey`, `wrapKey`, `getrotationpolicy`, `setrotationpolicy`.
    KeyPermission {
        Get => "get",
        List => "list",
        Update => "update",
        Create => "create",
        Import => "import",
        Delete => "delete",
        Recover => "recover",
        Backup => "backup",
        Restore => "restore",
        Purge => "purge",
        Decrypt => "decrypt",
        Encrypt => "encrypt",
        UnwrapKey => "unwrapKey",
        WrapKey => "wrapKey",
        Verify => "verify",
        Sign => "sign",
        Release => "release",
        Rotate => "rotate",
        GetRotationPolicy => "getrotationpolicy",
        SetRotationPolicy => "setrotationpolicy",
    }
}

permission_enum! {
    /// One certificate permission of an access policy (`az keyvault set-policy
    /// --certificate-permissions`); ARM spells them all in lower case.
    CertificatePermission {
        Get => "get",
        List => "list",
        Update => "update",
        Create => "create",
        Import => "import",
        Delete => "delete",
        Recover => "recover",
        Backup => "backup",
        Restore => "restore",
        Purge => "purge",
        ManageContacts => "managecontacts",
        ManageIssuers => "manageissuers",
        GetIssuers => "getissuers",
        ListIssuers => "listissuers",
        SetIssuers => "setissuers",
        DeleteIssuers => "deleteissuers",
    }
}

impl CertificatePermission {
    /// One of the four granular issuer permissions that `manageissuers` also grants.
    pub fn is_issuer_permission(self) -> bool {
        matches!(
            self,
            Self::GetIssuers | Self::ListIssuers | Self::SetIssuers | Self::DeleteIssuers
        )
    }
}

/// Any permission Strongroom checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Secret(SecretPermission),
    Key(KeyPermission),
    Certificate(CertificatePermission),
}

impl fmt::Display for Permission {
    /// Azure's phrase in the 403 message: `secrets get`, `keys sign`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(p) => write!(f, "secrets {}", p.as_str()),
            Self::Key(p) => write!(f, "keys {}", p.as_str()),
            Self::Certificate(p) => write!(f, "certificates {}", p.as_str()),
        }
    }
}

/// The permissions one access policy grants, per object kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet {
    pub secrets: Vec<SecretPermission>,
    pub keys: Vec<KeyPermission>,
    pub certificates: Vec<CertificatePermission>,
}

impl PermissionSet {
    /// ARM's names of the permissions of one kind, in the set's order.
    pub fn names(&self, kind: ObjectKind) -> Vec<&'static str> {
        match kind {
            ObjectKind::Secret => self.secrets.iter().map(|p| p.as_str()).collect(),
            ObjectKind::Key => self.keys.iter().map(|p| p.as_str()).collect(),
            ObjectKind::Certificate => self.certificates.iter().map(|p| p.as_str()).collect(),
        }
    }

    /// Adds `other`'s permissions (an access-policy `add`); each list stays sorted, without
    /// repeats.
    pub fn merge(&mut self, other: PermissionSet) {
        fn union<P: Ord>(into: &mut Vec<P>, more: Vec<P>) {
            into.extend(more);
            into.sort();
            into.dedup();
        }
        union(&mut self.secrets, other.secrets);
        union(&mut self.keys, other.keys);
        union(&mut self.certificates, other.certificates);
    }

    pub fn allows(&self, permission: Permission) -> bool {
        match permission {
            Permission::Secret(p) => self.secrets.contains(&p),
            Permission::Key(p) => self.keys.contains(&p),
            // The REST reference names issuer operations "certificates/manageissuers/
            // getissuers" and so on: `manageissuers` is the umbrella over the four.
            Permission::Certificate(p) => {
                self.certificates.contains(&p)
                    || (p.is_issuer_permission()
                        && self
                            .certificates
                            .contains(&CertificatePermission::ManageIssuers))
            }
        }
    }
}
