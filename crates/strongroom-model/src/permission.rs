//! Access-policy permissions, named as Azure names them.

use std::fmt;

/// One secret permission of an access policy (`az keyvault set-policy --secret-permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretPermission {
    Get,
    List,
    Set,
    Delete,
    Backup,
    Restore,
    Recover,
    Purge,
}

impl SecretPermission {
    pub const ALL: [SecretPermission; 8] = [
        Self::Get,
        Self::List,
        Self::Set,
        Self::Delete,
        Self::Backup,
        Self::Restore,
        Self::Recover,
        Self::Purge,
    ];

    /// The name used in access policies and in Azure's 403 message (`secrets get`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Set => "set",
            Self::Delete => "delete",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Recover => "recover",
            Self::Purge => "purge",
        }
    }

    /// Parses a policy permission name, case-insensitively as ARM does.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(raw))
    }
}

/// One key permission of an access policy (`az keyvault set-policy --key-permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyPermission {
    Get,
    List,
    Update,
    Create,
    Import,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
    Decrypt,
    Encrypt,
    UnwrapKey,
    WrapKey,
    Verify,
    Sign,
    Release,
    Rotate,
    GetRotationPolicy,
    SetRotationPolicy,
}

impl KeyPermission {
    pub const ALL: [KeyPermission; 20] = [
        Self::Get,
        Self::List,
        Self::Update,
        Self::Create,
        Self::Import,
        Self::Delete,
        Self::Recover,
        Self::Backup,
        Self::Restore,
        Self::Purge,
        Self::Decrypt,
        Self::Encrypt,
        Self::UnwrapKey,
        Self::WrapKey,
        Self::Verify,
        Self::Sign,
        Self::Release,
        Self::Rotate,
        Self::GetRotationPolicy,
        Self::SetRotationPolicy,
    ];

    /// The name ARM uses in access policies (`unwrapKey`, `getrotationpolicy`), which is also
    /// the word in Azure's 403 message (`keys sign`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Update => "update",
            Self::Create => "create",
            Self::Import => "import",
            Self::Delete => "delete",
            Self::Recover => "recover",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Purge => "purge",
            Self::Decrypt => "decrypt",
            Self::Encrypt => "encrypt",
            Self::UnwrapKey => "unwrapKey",
            Self::WrapKey => "wrapKey",
            Self::Verify => "verify",
            Self::Sign => "sign",
            Self::Release => "release",
            Self::Rotate => "rotate",
            Self::GetRotationPolicy => "getrotationpolicy",
            Self::SetRotationPolicy => "setrotationpolicy",
        }
    }

    /// Parses a policy permission name, case-insensitively as ARM does.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(raw))
    }
}

/// One certificate permission of an access policy (`az keyvault set-policy
/// --certificate-permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertificatePermission {
    Get,
    List,
    Update,
    Create,
    Import,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
    ManageContacts,
    ManageIssuers,
    GetIssuers,
    ListIssuers,
    SetIssuers,
    DeleteIssuers,
}

impl CertificatePermission {
    pub const ALL: [CertificatePermission; 16] = [
        Self::Get,
        Self::List,
        Self::Update,
        Self::Create,
        Self::Import,
        Self::Delete,
        Self::Recover,
        Self::Backup,
        Self::Restore,
        Self::Purge,
        Self::ManageContacts,
        Self::ManageIssuers,
        Self::GetIssuers,
        Self::ListIssuers,
        Self::SetIssuers,
        Self::DeleteIssuers,
    ];

    /// The name ARM uses in access policies (all lower case for certificates), which is also
    /// the word in Azure's 403 message (`certificates get`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Update => "update",
            Self::Create => "create",
            Self::Import => "import",
            Self::Delete => "delete",
            Self::Recover => "recover",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Purge => "purge",
            Self::ManageContacts => "managecontacts",
            Self::ManageIssuers => "manageissuers",
            Self::GetIssuers => "getissuers",
            Self::ListIssuers => "listissuers",
            Self::SetIssuers => "setissuers",
            Self::DeleteIssuers => "deleteissuers",
        }
    }

    /// Parses a policy permission name, case-insensitively as ARM does.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(raw))
    }

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
