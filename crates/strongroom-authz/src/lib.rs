//! The allow/deny decision: a vault's access policies, a caller and a required permission
//! give a `Grant` or a `Denied`. Pure: no IO, no status codes.
//!
//! A `Grant<P>` is the proof a service function demands: `vault::secrets::get` takes
//! `&Grant<perm::SecretGet>`, so it cannot be called without the check having passed.
//! `authorize` returns `Grant<Any>`; the dispatcher narrows it to the type the service asks
//! for, and a disagreement between the table and the service is a loud error, never a quiet
//! over-grant.
//!
//! Start reading at `authorize`.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod builtin_roles;
pub mod rbac;

use std::marker::PhantomData;
use std::sync::Arc;
use strongroom_model::{
    Caller, CertificatePermission, KeyPermission, ObjectId, ObjectKind, Permission, PermissionSet,
    SecretPermission, TenantId,
};

/// One access-policy entry of a vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub tenant_id: TenantId,
    pub object_id: ObjectId,
    pub permissions: PermissionSet,
}

/// The decision "no": who asked and what they lacked. A value, not a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub caller: Arc<Caller>,
    pub missing: Permission,
}

/// Marker for a grant not yet narrowed to one permission type.
#[derive(Debug)]
pub enum Any {}

/// Proof that a caller holds a permission. Only `authorize` creates one.
#[derive(Debug)]
pub struct Grant<P> {
    caller: Arc<Caller>,
    permission: Permission,
    _permission_type: PhantomData<fn() -> P>,
}

impl<P> Grant<P> {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    pub fn permission(&self) -> Permission {
        self.permission
    }
}

/// The table and the service disagreed about which permission an operation needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grant for {granted} cannot be used as {wanted}")]
pub struct GrantMismatch {
    pub granted: Permission,
    pub wanted: Permission,
}

impl Grant<Any> {
    /// Turns a checked grant into the typed proof a service function asks for.
    pub fn narrow<P: PermissionType>(self) -> Result<Grant<P>, GrantMismatch> {
        if self.permission == P::PERMISSION {
            Ok(Grant {
                caller: self.caller,
                permission: self.permission,
                _permission_type: PhantomData,
            })
        } else {
            Err(GrantMismatch {
                granted: self.permission,
                wanted: P::PERMISSION,
            })
        }
    }
}

/// A permission as a type, so service signatures name what they require.
pub trait PermissionType {
    const PERMISSION: Permission;
}

/// One type per permission.
pub mod perm {
    use super::PermissionType;
    use strongroom_model::{CertificatePermission, KeyPermission, Permission, SecretPermission};

    // `permission_types!(Kind(KindPermission) { TypeName => Variant, .. })`.
    macro_rules! permission_types {
        ($kind:ident($enum:ident) { $($ty:ident => $variant:ident),* $(,)? }) => {$(
            #[derive(Debug)]
            pub enum $ty {}
            impl PermissionType for $ty {
                const PERMISSION: Permission = Permission::$kind($enum::$variant);
            }
        )*};
    }

    permission_types! { Secret(SecretPermission) {
        SecretGet => Get,
        SecretList => List,
        SecretSet => Set,
        SecretDelete => Delete,
        SecretBackup => Backup,
        SecretRestore => Restore,
        SecretRecover => Recover,
        SecretPurge => Purge,
    }}

    permission_types! { Key(KeyPermission) {
        KeyGet => Get,
        KeyList => List,
        KeyUpdate => Update,
        KeyCreate => Create,
        KeyImport => Import,
        KeyDelete => Delete,
        KeyRecover => Recover,
        KeyBackup => Backup,
        KeyRestore => Restore,
        KeyPurge => Purge,
        KeyDecrypt => Decrypt,
        KeyEncrypt => Encrypt,
        KeyUnwrapKey => UnwrapKey,
        KeyWrapKey => WrapKey,
        KeyVerify => Verify,
        KeySign => Sign,
        KeyRelease => Release,
        KeyRotate => Rotate,
        KeyGetRotationPolicy => GetRotationPolicy,
        KeySetRotationPolicy => SetRotationPolicy,
    }}

    permission_types! { Certificate(CertificatePermission) {
        CertificateGet => Get,
        CertificateList => List,
        CertificateUpdate => Update,
        CertificateCreate => Create,
        CertificateImport => Import,
        CertificateDelete => Delete,
        CertificateRecover => Recover,
        CertificateBackup => Backup,
        CertificateRestore => Restore,
        CertificatePurge => Purge,
        CertificateManageContacts => ManageContacts,
        CertificateManageIssuers => ManageIssuers,
        CertificateGetIssuers => GetIssuers,
        CertificateListIssuers => ListIssuers,
        CertificateSetIssuers => SetIssuers,
        CertificateDeleteIssuers => DeleteIssuers,
    }}
}

/// Decides whether `caller` may exercise `required` under `policies`. Every entry for the
/// caller's tenant and object id contributes; permissions are the union.
pub fn authorize(
    policies: &[AccessPolicy],
    caller: &Arc<Caller>,
    required: Permission,
) -> Result<Grant<Any>, Denied> {
    let allowed = policies.iter().any(|policy| {
        policy.tenant_id == caller.tenant_id
            && policy.object_id == caller.object_id
            && policy.permissions.allows(required)
    });
    if allowed {
        Ok(Grant {
            caller: Arc::clone(caller),
            permission: required,
            _permission_type: PhantomData,
        })
    } else {
        Err(Denied {
            caller: Arc::clone(caller),
            missing: required,
        })
    }
}

/// How a vault decides: its access policies, or Azure RBAC over the deployment's role
/// assignments for one data action on one resource.
#[derive(Debug, Clone, Copy)]
pub enum VaultModel<'a> {
    AccessPolicies(&'a [AccessPolicy]),
    Rbac {
        snapshot: &'a rbac::RbacSnapshot,
        /// The ARM id of what the request touches: the vault, or one object of it.
        resource_scope: &'a str,
        data_action: &'static str,
    },
}

/// A refusal in the vault's own model, for the error each model answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AccessPolicy(Denied),
    Rbac {
        caller: Arc<Caller>,
        data_action: &'static str,
        resource_scope: String,
    },
}

/// The one decision for both models: the typed `Grant` for `required` when the vault's model
/// allows the caller, else the refusal. Under RBAC the permission still names the grant (the
/// service functions ask for it), while the data action is what is checked.
pub fn authorize_in(
    model: VaultModel<'_>,
    caller: &Arc<Caller>,
    required: Permission,
) -> Result<Grant<Any>, Refusal> {
    match model {
        VaultModel::AccessPolicies(policies) => {
            authorize(policies, caller, required).map_err(Refusal::AccessPolicy)
        }
        VaultModel::Rbac {
            snapshot,
            resource_scope,
            data_action,
        } => match snapshot.allows(&caller.object_id, resource_scope, data_action) {
            Some(_) => Ok(Grant {
                caller: Arc::clone(caller),
                permission: required,
                _permission_type: PhantomData,
            }),
            None => Err(Refusal::Rbac {
                caller: Arc::clone(caller),
                data_action,
                resource_scope: resource_scope.to_owned(),
            }),
        },
    }
}

/// Parses policy permission names as `az keyvault set-policy` accepts them; `all` expands to
/// every permission. Returns the first unknown name as the error.
pub fn parse_secret_permissions<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<SecretPermission>, String> {
    parse_permissions(names, SecretPermission::ALL, SecretPermission::parse)
}

/// A permission name an access policy does not know, and the kind of list it was in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPermission {
    pub kind: ObjectKind,
    pub name: String,
}

/// Parses an access policy's three lists of permission names (ARM's `secrets`, `keys`,
/// `certificates`) into a `PermissionSet`; the first unknown name is the error.
pub fn parse_permission_set<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    keys: impl IntoIterator<Item = &'a str>,
    certificates: impl IntoIterator<Item = &'a str>,
) -> Result<PermissionSet, UnknownPermission> {
    let unknown = |kind| move |name| UnknownPermission { kind, name };
    Ok(PermissionSet {
        secrets: parse_secret_permissions(secrets).map_err(unknown(ObjectKind::Secret))?,
        keys: parse_key_permissions(keys).map_err(unknown(ObjectKind::Key))?,
        certificates: parse_certificate_permissions(certificates)
            .map_err(unknown(ObjectKind::Certificate))?,
    })
}

/// As `parse_secret_permissions`, for `--certificate-permissions`.
pub fn parse_certificate_permissions<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<CertificatePermission>, String> {
    parse_permissions(
        names,
        CertificatePermission::ALL,
        CertificatePermission::parse,
    )
}

/// As `parse_secret_permissions`, for `--key-permissions`.
pub fn parse_key_permissions<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<KeyPermission>, String> {
    parse_permissions(names, KeyPermission::ALL, KeyPermission::parse)
}

fn parse_permissions<'a, P: Copy + Ord>(
    names: impl IntoIterator<Item = &'a str>,
    all: &[P],
    parse: fn(&str) -> Option<P>,
) -> Result<Vec<P>, String> {
    let mut out: Vec<P> = Vec::new();
    for name in names {
        if name.eq_ignore_ascii_case("all") {
            out.extend_from_slice(all);
        } else {
            out.push(parse(name).ok_or_else(|| name.to_owned())?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(tenant: &str, oid: &str) -> Arc<Caller> {
        Arc::new(Caller {
            tenant_id: TenantId(tenant.into()),
            object_id: ObjectId(oid.into()),
            kind: strongroom_model::PrincipalKind::ServicePrincipal,
            app_id: "app".into(),
            issuer: "iss".into(),
            is_admin: false,
            credential_id: None,
        })
    }

    fn policy(tenant: &str, oid: &str, perms: &[&str]) -> AccessPolicy {
        AccessPolicy {
            tenant_id: TenantId(tenant.into()),
            object_id: ObjectId(oid.into()),
            permissions: PermissionSet {
                secrets: parse_secret_permissions(perms.iter().copied()).unwrap(),
                keys: Vec::new(),
                certificates: Vec::new(),
            },
        }
    }

    const GET: Permission = Permission::Secret(SecretPermission::Get);
    const LIST: Permission = Permission::Secret(SecretPermission::List);
    const PURGE: Permission = Permission::Secret(SecretPermission::Purge);

    #[track_caller]
    fn check(policies: &[AccessPolicy], who: &Arc<Caller>, required: Permission, allowed: bool) {
        assert_eq!(authorize(policies, who, required).is_ok(), allowed);
    }

    #[test]
    fn decisions() {
        let alice = caller("t1", "alice");
        let alice_other_tenant = caller("t2", "alice");
        let bob = caller("t1", "bob");
        let policies = [
            policy("t1", "alice", &["get"]),
            policy("t1", "alice", &["list"]),
        ];
        check(&policies, &alice, GET, true);
        check(&policies, &alice, LIST, true);
        check(&policies, &alice, PURGE, false);
        check(&policies, &bob, GET, false);
        check(&policies, &alice_other_tenant, GET, false);
        check(&[], &alice, GET, false);
        check(&[policy("t1", "alice", &["all"])], &alice, PURGE, true);
        check(&[policy("t1", "alice", &["Get"])], &alice, GET, true);
    }

    #[test]
    fn denial_names_caller_and_permission() {
        let alice = caller("t1", "alice");
        let denied = authorize(&[], &alice, PURGE).unwrap_err();
        assert_eq!(denied.missing.to_string(), "secrets purge");
        assert_eq!(*denied.caller, *alice);
    }

    #[test]
    fn narrowing_checks_the_permission() {
        let alice = caller("t1", "alice");
        let grant = authorize(&[policy("t1", "alice", &["all"])], &alice, GET).unwrap();
        assert!(grant.narrow::<perm::SecretGet>().is_ok());
        let grant = authorize(&[policy("t1", "alice", &["all"])], &alice, GET).unwrap();
        let err = grant.narrow::<perm::SecretPurge>().unwrap_err();
        assert_eq!(err.wanted, PURGE);
    }

    #[test]
    fn key_permissions_are_separate_from_secret_permissions() {
        let alice = caller("t1", "alice");
        let sign = Permission::Key(KeyPermission::Sign);
        let keys_only = AccessPolicy {
            permissions: PermissionSet {
                secrets: Vec::new(),
                keys: parse_key_permissions(["sign", "UnwrapKey"]).unwrap(),
                certificates: Vec::new(),
            },
            ..policy("t1", "alice", &[])
        };
        check(std::slice::from_ref(&keys_only), &alice, sign, true);
        check(
            std::slice::from_ref(&keys_only),
            &alice,
            Permission::Key(KeyPermission::UnwrapKey),
            true,
        );
        check(std::slice::from_ref(&keys_only), &alice, GET, false);
        check(
            &[keys_only],
            &alice,
            Permission::Key(KeyPermission::Decrypt),
            false,
        );
        check(&[policy("t1", "alice", &["get"])], &alice, sign, false);
        let denied = authorize(&[], &alice, sign).unwrap_err();
        assert_eq!(denied.missing.to_string(), "keys sign");
        assert_eq!(
            parse_key_permissions(["all"]).unwrap().len(),
            KeyPermission::ALL.len()
        );
        assert_eq!(parse_key_permissions(["set"]), Err("set".to_owned()));
    }

    #[test]
    fn certificate_permissions_are_their_own_kind() {
        let alice = caller("t1", "alice");
        let certs_only = AccessPolicy {
            permissions: PermissionSet {
                secrets: Vec::new(),
                keys: Vec::new(),
                certificates: parse_certificate_permissions(["get", "ManageIssuers"]).unwrap(),
            },
            ..policy("t1", "alice", &[])
        };
        let cert = |p| Permission::Certificate(p);
        for &p in CertificatePermission::ALL {
            // `manageissuers` also grants the four granular issuer permissions.
            let granted = matches!(
                p,
                CertificatePermission::Get | CertificatePermission::ManageIssuers
            ) || p.is_issuer_permission();
            check(std::slice::from_ref(&certs_only), &alice, cert(p), granted);
        }
        // A secret or key permission of the same name grants nothing on certificates.
        check(
            &[policy("t1", "alice", &["all"])],
            &alice,
            cert(CertificatePermission::Get),
            false,
        );
        check(std::slice::from_ref(&certs_only), &alice, GET, false);
        check(
            std::slice::from_ref(&certs_only),
            &alice,
            Permission::Key(KeyPermission::Get),
            false,
        );
        let denied =
            authorize(&[], &alice, cert(CertificatePermission::ManageContacts)).unwrap_err();
        assert_eq!(denied.missing.to_string(), "certificates managecontacts");
        assert_eq!(
            parse_certificate_permissions(["all"]).unwrap().len(),
            CertificatePermission::ALL.len()
        );
        assert_eq!(
            parse_certificate_permissions(["sign"]),
            Err("sign".to_owned())
        );
        // Without `manageissuers`, a granular issuer permission grants only itself.
        let list_issuers = AccessPolicy {
            permissions: PermissionSet {
                certificates: parse_certificate_permissions(["listissuers"]).unwrap(),
                ..PermissionSet::default()
            },
            ..policy("t1", "alice", &[])
        };
        for &p in CertificatePermission::ALL {
            let granted = p == CertificatePermission::ListIssuers;
            check(
                std::slice::from_ref(&list_issuers),
                &alice,
                cert(p),
                granted,
            );
        }
        let grant = authorize(&[certs_only], &alice, cert(CertificatePermission::Get)).unwrap();
        assert!(grant.narrow::<perm::CertificateGet>().is_ok());
    }

    #[test]
    fn unknown_permission_names_are_refused() {
        assert_eq!(
            parse_secret_permissions(["get", "fly"]),
            Err("fly".to_owned())
        );
    }
}
