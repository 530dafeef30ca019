//! Azure's built-in roles that matter to a vault: the Key Vault data-plane roles and the
//! general control-plane ones `az` assigns (Owner, Contributor, Reader, User Access
//! Administrator, Role Based Access Control Administrator), with Azure's role-definition GUIDs
//! and permission lists as the built-in-roles reference publishes them, so scripts that name a
//! role by GUID or by name work unchanged. Key Vault Data Access Administrator's ABAC condition
//! (which roles it may assign) is not modelled yet.

use crate::rbac::RoleDefinition;

/// One built-in role, as code.
#[derive(Debug)]
pub struct BuiltinRole {
    /// The role definition's GUID (Azure's, the same in every tenant).
    pub id: &'static str,
    pub role_name: &'static str,
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
    pub data_actions: &'static [&'static str],
    pub not_data_actions: &'static [&'static str],
}

impl BuiltinRole {
    pub fn definition(&self) -> RoleDefinition {
        let owned = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect();
        RoleDefinition {
            id: format!(
                "/providers/Microsoft.Authorization/roleDefinitions/{}",
                self.id
            ),
            name: self.id.to_owned(),
            role_name: self.role_name.to_owned(),
            description: self.description.to_owned(),
            builtin: true,
            assignable_scopes: vec!["/".to_owned()],
            actions: owned(self.actions),
            not_actions: owned(self.not_actions),
            data_actions: owned(self.data_actions),
            not_data_actions: owned(self.not_data_actions),
        }
    }
}

/// The control-plane reads every Key Vault data role carries, so its holder can find vaults.
const KEY_VAULT_READS: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        role_name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "21090545-7ca7-4776-b22c-e363652d74d2",
        role_name: "Key Vault Reader",
        description: "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        role_name: "Key Vault Secrets Officer",
        description: "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/secrets/*"],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "4633458b-17de-408a-b874-0445c86b69e6",
        role_name: "Key Vault Secrets User",
        description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        role_name: "Key Vault Crypto Officer",
        description: "Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "12338af0-0e69-4776-bea7-57ae8d297424",
        role_name: "Key Vault Crypto User",
        description: "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        role_name: "Key Vault Crypto Service Encryption User",
        description: "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.EventGrid/eventSubscriptions/write",
            "Microsoft.EventGrid/eventSubscriptions/read",
            "Microsoft.EventGrid/eventSubscriptions/delete",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        role_name: "Key Vault Crypto Service Release User",
        description: "Release keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/keys/release/action"],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "a4417e6f-fecd-4de8-b567-7b0420556985",
        role_name: "Key Vault Certificates Officer",
        description: "Perform any action on the certificates of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        role_name: "Key Vault Certificate User",
        description: "Read certificate contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/keys/read",
        ],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        role_name: "Key Vault Data Access Administrator",
        description: "Manage access to Azure Key Vault by adding or removing role assignments for the Key Vault Administrator, Key Vault Certificates Officer, Key Vault Crypto Officer, Key Vault Crypto Service Encryption User, Key Vault Crypto User, Key Vault Reader, Key Vault Secrets Officer, or Key Vault Secrets User roles. Includes an ABAC condition to constrain role assignments.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "Microsoft.Authorization/*/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Management/managementGroups/read",
            // Azure's own list names it twice.
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/vaults/*/read",
        ],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "f25e0fa2-a7c8-4377-a976-54943a77a395",
        role_name: "Key Vault Contributor",
        description: "Lets you manage key vaults, but not access to them.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.KeyVault/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[
            "Microsoft.KeyVault/locations/deletedVaults/purge/action",
            "Microsoft.KeyVault/hsmPools/*",
            "Microsoft.KeyVault/managedHsms/*",
        ],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        role_name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        role_name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        role_name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        role_name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
    BuiltinRole {
        id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        role_name: "Role Based Access Control Administrator",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
        not_data_actions: &[],
    },
];

/// The built-in role with this name (any case), as `az role assignment create --role NAME`
/// finds it.
pub fn by_name(role_name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES
        .iter()
        .find(|role| role.role_name.eq_ignore_ascii_case(role_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_guids() {
        for (i, role) in BUILTIN_ROLES.iter().enumerate() {
            assert_eq!(role.id.len(), 36, "{}", role.role_name);
            assert!(
                role.id
                    .chars()
                    .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            for other in &BUILTIN_ROLES[i + 1..] {
                assert_ne!(role.id, other.id);
                assert!(!role.role_name.eq_ignore_ascii_case(other.role_name));
            }
        }
    }

    #[test]
    fn the_key_vault_roles_allow_what_their_names_say() {
        let role = |name: &str| by_name(name).expect(name).definition();
        let get_secret = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
        let set_secret = "Microsoft.KeyVault/vaults/secrets/setSecret/action";
        let sign = "Microsoft.KeyVault/vaults/keys/sign/action";
        let read_key = "Microsoft.KeyVault/vaults/keys/read";
        assert!(role("Key Vault Administrator").allows_data_action(sign));
        assert!(role("key vault secrets user").allows_data_action(get_secret));
        assert!(!role("Key Vault Secrets User").allows_data_action(set_secret));
        assert!(role("Key Vault Secrets Officer").allows_data_action(set_secret));
        assert!(!role("Key Vault Secrets Officer").allows_data_action(sign));
        assert!(role("Key Vault Reader").allows_data_action(read_key));
        assert!(!role("Key Vault Reader").allows_data_action(get_secret));
        assert!(role("Key Vault Crypto User").allows_data_action(sign));
        assert!(!role("Key Vault Crypto Service Encryption User").allows_data_action(sign));
        assert!(
            !role("Owner").allows_data_action(get_secret),
            "Owner has no data actions"
        );
        assert!(role("Contributor").allows_action("Microsoft.KeyVault/vaults/write"));
        assert!(
            !role("Contributor").allows_action("Microsoft.Authorization/roleAssignments/write")
        );
    }
}
