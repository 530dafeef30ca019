//! Who is making a request, as established by a verified token.

use std::fmt;

/// A tenant (directory) id: a GUID in lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub String);

/// A principal's object id (`oid`): a GUID in lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub String);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// What kind of principal a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    ServicePrincipal,
    ManagedIdentity,
    /// A person who signed in (authorization code or device code), acting through an app.
    User,
}

/// An authenticated caller. Only `strongroom-identity` constructs one, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: TenantId,
    pub object_id: ObjectId,
    /// A user, or an application acting as itself (managed identities are service
    /// principals here, as in Azure's role assignments).
    pub kind: PrincipalKind,
    /// The application (client) id the token was issued to.
    pub app_id: String,
    /// The token's issuer, echoed in Azure's 403 message.
    pub issuer: String,
    /// Deployment administrators may use the management API. The token's claim, checked
    /// against the principal's current state on every request (a demoted admin's token
    /// loses it).
    pub is_admin: bool,
    /// The key id of the credential (client secret or certificate) the token was obtained
    /// with: deleting that credential revokes the token. `None` for tokens without one.
    pub credential_id: Option<String>,
}

impl Caller {
    /// Azure's caller description in a 403 message: `appid=..;oid=..;iss=..`.
    pub fn describe(&self) -> String {
        format!(
            "appid={};oid={};iss={}",
            self.app_id, self.object_id, self.issuer
        )
    }
}
