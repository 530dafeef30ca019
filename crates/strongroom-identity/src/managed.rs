//! Managed identities: principals of kind `ManagedIdentity` (user-assigned identities and the
//! system-assigned identities of named hosts), and the token bodies of the managed-identity
//! protocols that hand their tokens to workloads (CLIENT-PROTOCOL.md §4).
//!
//! A managed identity is issued tokens exactly like a service principal
//! (`TokenRequest::for_principal`); only the bodies differ by protocol: IMDS and Azure Arc
//! send every value as a string and need `expires_in`, App Service needs `expires_on`
//! (CLIENT-PROTOCOL.md §4.7).
//!
//! User-assigned identities and hosts with a system-assigned identity share one namespace of
//! names (the principal's display name), compared without regard to ASCII case, as Azure
//! compares resource names.

use crate::{IdentityError, IssuedToken};
use serde_json::{Value, json};
use strongroom_model::UnixTime;
use strongroom_store::{PrincipalRow, Store};

/// `PrincipalRow::kind` of a managed identity.
pub const MANAGED_IDENTITY_KIND: &str = "ManagedIdentity";

/// The IMDS token body (also Azure Arc's): every value a string, as the real service sends it.
pub fn imds_token_response(token: &IssuedToken, resource: &str, client_id: &str) -> Value {
    json!({
        "access_token": token.access_token,
        "client_id": client_id,
        "expires_in": token.expires_in.to_string(),
        "expires_on": token.expires_on.0.to_string(),
        "ext_expires_in": token.expires_in.to_string(),
        "not_before": token.not_before.0.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    })
}

/// The App Service token body (`api-version=2019-08-01`): `expires_on` as a string of epoch
/// seconds (Python parses it as an int, Rust insists on a string), no `expires_in`.
pub fn app_service_token_response(token: &IssuedToken, resource: &str, client_id: &str) -> Value {
    json!({
        "access_token": token.access_token,
        "expires_on": token.expires_on.0.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": client_id,
    })
}

/// The IMDS error body: `{"error":"invalid_request","error_description":…}`.
pub fn imds_error(description: &str) -> Value {
    json!({"error": "invalid_request", "error_description": description})
}

/// The optional identity selectors of a managed-identity token request: `client_id`,
/// `object_id` (App Service also says `principal_id`) and a resource id (`msi_res_id` for IMDS
/// and Arc, `mi_res_id` for App Service).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdentitySelector<'a> {
    pub client_id: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub resource_id: Option<&'a str>,
}

impl IdentitySelector<'_> {
    /// Whether every given selector names the identity with these ids and this name (absent
    /// selectors pass). A resource id names the identity by its last segment
    /// (`…/userAssignedIdentities/{name}` or `…/virtualMachines/{host}`), without regard to case.
    pub fn selects(&self, client_id: &str, object_id: &str, name: &str) -> bool {
        self.client_id
            .is_none_or(|id| id.eq_ignore_ascii_case(client_id))
            && self
                .object_id
                .is_none_or(|id| id.eq_ignore_ascii_case(object_id))
            && self.resource_id.is_none_or(|id| {
                id.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last.eq_ignore_ascii_case(name))
            })
    }
}

/// Whether the optional selectors (`client_id`, `object_id`, a resource id) of a
/// managed-identity token request all name `identity`; see `IdentitySelector::selects`.
pub fn selects_identity(
    client_id: Option<&str>,
    object_id: Option<&str>,
    resource_id: Option<&str>,
    identity: &PrincipalRow,
) -> bool {
    IdentitySelector {
        client_id,
        object_id,
        resource_id,
    }
    .selects(
        &identity.app_id,
        &identity.object_id,
        &identity.display_name,
    )
}

/// Registers a managed identity named `name` in `tenant_id` with fresh random object
/// (principal) and application (client) ids and no credentials. Does not look for an
/// identity of the same name: callers that must be idempotent call `find_managed_identity`
/// first.
pub async fn create_managed_identity(
    store: &dyn Store,
    tenant_id: &str,
    name: &str,
    now: UnixTime,
) -> Result<PrincipalRow, IdentityError> {
    let tenant = store
        .get_tenant(&tenant_id.to_ascii_lowercase())
        .await?
        .ok_or_else(|| IdentityError::UnknownTenant {
            tenant: tenant_id.to_owned(),
        })?;
    let principal = PrincipalRow {
        object_id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant.tenant_id,
        display_name: name.to_owned(),
        kind: MANAGED_IDENTITY_KIND.to_owned(),
        is_admin: false,
        created: now,
        credentials: Vec::new(),
    };
    store.create_principal(principal.clone()).await?;
    Ok(principal)
}

/// The managed identity with this name (any ASCII case), client id or principal (object) id.
/// Service principals are never returned.
pub async fn find_managed_identity(
    store: &dyn Store,
    name_or_id: &str,
) -> Result<Option<PrincipalRow>, IdentityError> {
    let wanted = name_or_id.to_ascii_lowercase();
    for found in [
        store.get_principal_by_object_id(&wanted).await?,
        store.get_principal_by_app_id(&wanted).await?,
    ]
    .into_iter()
    .flatten()
    {
        if found.kind == MANAGED_IDENTITY_KIND {
            return Ok(Some(found));
        }
    }
    Ok(list_managed_identities(store)
        .await?
        .into_iter()
        .find(|principal| principal.display_name.eq_ignore_ascii_case(name_or_id)))
}

/// Every managed identity of the deployment, in the store's order.
pub async fn list_managed_identities(
    store: &dyn Store,
) -> Result<Vec<PrincipalRow>, IdentityError> {
    Ok(store
        .list_principals()
        .await?
        .into_iter()
        .filter(|principal| principal.kind == MANAGED_IDENTITY_KIND)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn token() -> IssuedToken {
        IssuedToken {
            access_token: "eyJ.x.y".to_owned(),
            expires_in: 3599,
            expires_on: UnixTime(1_700_003_600),
            not_before: UnixTime(1_700_000_000),
        }
    }

    fn identity() -> PrincipalRow {
        PrincipalRow {
            object_id: "0b0b0b0b-0000-0000-0000-000000000000".to_owned(),
            app_id: "0a0a0a0a-0000-0000-0000-000000000000".to_owned(),
            tenant_id: "7e7e7e7e-0000-0000-0000-000000000000".to_owned(),
            display_name: "web-id".to_owned(),
            kind: MANAGED_IDENTITY_KIND.to_owned(),
            is_admin: false,
            created: UnixTime(1_700_000_000),
            credentials: Vec::new(),
        }
    }

    #[test]
    fn bodies() {
        let client = "11111111-1111-1111-1111-111111111111";
        expect![[r#"{"access_token":"eyJ.x.y","client_id":"11111111-1111-1111-1111-111111111111","expires_in":"3599","expires_on":"1700003600","ext_expires_in":"3599","not_before":"1700000000","resource":"https://vault.azure.net","token_type":"Bearer"}"#]]
            .assert_eq(&imds_token_response(&token(), "https://vault.azure.net", client).to_string());
        expect![[r#"{"access_token":"eyJ.x.y","client_id":"11111111-1111-1111-1111-111111111111","expires_on":"1700003600","resource":"https://vault.azure.net","token_type":"Bearer"}"#]]
            .assert_eq(
                &app_service_token_response(&token(), "https://vault.azure.net", client)
                    .to_string(),
            );
        expect![[r#"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#]]
            .assert_eq(&imds_error("Required metadata header not specified").to_string());
    }

    #[test]
    fn selection() {
        let id = identity();
        let rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/WEB-ID";
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, bool);
        let cases: [Case<'_>; 7] = [
            (None, None, None, true),
            (
                Some("0A0A0A0A-0000-0000-0000-000000000000"),
                None,
                None,
                true,
            ),
            (
                Some("0b0b0b0b-0000-0000-0000-000000000000"),
                None,
                None,
                false,
            ),
            (
                None,
                Some("0b0b0b0b-0000-0000-0000-000000000000"),
                None,
                true,
            ),
            (
                None,
                Some("0a0a0a0a-0000-0000-0000-000000000000"),
                None,
                false,
            ),
            (None, None, Some(rid), true),
            (None, None, Some("/x/userAssignedIdentities/other"), false),
        ];
        for (client_id, object_id, resource_id, expected) in cases {
            let selector = IdentitySelector {
                client_id,
                object_id,
                resource_id,
            };
            assert_eq!(
                selector.selects(&id.app_id, &id.object_id, &id.display_name),
                expected,
                "{client_id:?} {object_id:?} {resource_id:?}"
            );
        }
    }
}
