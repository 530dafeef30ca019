//! Azure RBAC's decision, as Azure makes it for the Key Vault data plane: a caller may perform a
//! data action on a resource when one of its role assignments has a scope that covers the
//! resource and a role whose `dataActions` match the action and whose `notDataActions` do not.
//! Assignments only add (no deny assignments); roles are looked up by id.
//!
//! Matching follows Azure's rules: action strings compare case-insensitively and `*` stands
//! for any run of characters (`Microsoft.KeyVault/vaults/*`, `*/read`); a scope covers itself
//! and every scope below it, at segment boundaries (`/subscriptions/s/resourceGroups/rg`
//! covers `…/rg/providers/Microsoft.KeyVault/vaults/v/secrets/s`, not `…/rg2`).

use strongroom_model::ObjectId;

/// A role: what it allows in the control plane (`actions`) and the data plane (`dataActions`),
/// less what it carves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    /// The full ARM id: `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`
    /// or, for built-in roles, `/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    pub id: String,
    /// The GUID, the last segment of `id`: what assignments are matched on.
    pub name: String,
    pub role_name: String,
    pub description: String,
    /// Azure's own (`BuiltInRole`), or made by someone (`CustomRole`).
    pub builtin: bool,
    /// Where the role may be assigned (`/` for built-in roles).
    pub assignable_scopes: Vec<String>,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

impl RoleDefinition {
    /// Whether the role allows the data action `action`.
    pub fn allows_data_action(&self, action: &str) -> bool {
        self.data_actions
            .iter()
            .any(|pattern| action_matches(pattern, action))
            && !self
                .not_data_actions
                .iter()
                .any(|pattern| action_matches(pattern, action))
    }

    /// Whether the role allows the control-plane action `action`.
    pub fn allows_action(&self, action: &str) -> bool {
        self.actions
            .iter()
            .any(|pattern| action_matches(pattern, action))
            && !self
                .not_actions
                .iter()
                .any(|pattern| action_matches(pattern, action))
    }
}

/// One role assignment: `principal` holds role `role` (a role definition GUID) at `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub principal: ObjectId,
    pub role: String,
    pub scope: String,
}

/// The assignment that grants a data action, for the answer's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacGrant<'a> {
    pub assignment: &'a RoleAssignment,
    pub role: &'a RoleDefinition,
}

/// Decides whether `principal` may perform `data_action` on `resource_scope`: the first
/// assignment of the principal whose scope covers the resource and whose role (found by
/// `role`) allows the action, or `None`.
pub fn rbac_allows<'a>(
    assignments: &'a [RoleAssignment],
    role: impl Fn(&str) -> Option<&'a RoleDefinition>,
    principal: &ObjectId,
    resource_scope: &str,
    data_action: &str,
) -> Option<RbacGrant<'a>> {
    assignments
        .iter()
        .filter(|assignment| assignment.principal.0.eq_ignore_ascii_case(&principal.0))
        .filter(|assignment| scope_covers(&assignment.scope, resource_scope))
        .find_map(|assignment| {
            let role = role(&assignment.role)?;
            role.allows_data_action(data_action)
                .then_some(RbacGrant { assignment, role })
        })
}

/// Every role assignment and role definition of a deployment, as the data plane decides with
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RbacSnapshot {
    pub assignments: Vec<RoleAssignment>,
    pub roles: Vec<RoleDefinition>,
}

impl RbacSnapshot {
    /// As [`rbac_allows`] over this snapshot.
    pub fn allows(
        &self,
        principal: &ObjectId,
        resource_scope: &str,
        data_action: &str,
    ) -> Option<RbacGrant<'_>> {
        rbac_allows(
            &self.assignments,
            |name| {
                self.roles
                    .iter()
                    .find(|role| role.name.eq_ignore_ascii_case(name))
            },
            principal,
            resource_scope,
            data_action,
        )
    }
}

/// Whether the action pattern `pattern` (with `*` wildcards) matches `action`, ignoring ASCII
/// case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(
        pattern.to_ascii_lowercase().as_bytes(),
        action.to_ascii_lowercase().as_bytes(),
    )
}

/// Glob matching with `*` only: iterative, with one backtrack point (linear in practice, never
/// exponential, whatever a custom role's pattern holds).
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Whether an assignment at `scope` covers `resource`: the same scope or one below it, compared
/// segment by segment, ignoring ASCII case; `/` (the root) covers everything.
pub fn scope_covers(scope: &str, resource: &str) -> bool {
    let scope = scope.trim_end_matches('/');
    let resource = resource.trim_end_matches('/');
    if scope.is_empty() {
        return true;
    }
    resource.len() >= scope.len()
        && resource.as_bytes()[..scope.len()].eq_ignore_ascii_case(scope.as_bytes())
        && matches!(resource.as_bytes().get(scope.len()), None | Some(b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, data_actions: &[&str], not_data_actions: &[&str]) -> RoleDefinition {
        RoleDefinition {
            id: format!("/providers/Microsoft.Authorization/roleDefinitions/{name}"),
            name: name.to_owned(),
            role_name: name.to_owned(),
            description: String::new(),
            builtin: false,
            assignable_scopes: vec!["/".to_owned()],
            actions: Vec::new(),
            not_actions: Vec::new(),
            data_actions: data_actions.iter().map(|a| (*a).to_owned()).collect(),
            not_data_actions: not_data_actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn actions_match_with_wildcards_in_any_case() {
        let get = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
        assert!(action_matches("Microsoft.KeyVault/vaults/*", get));
        assert!(action_matches("microsoft.keyvault/vaults/secrets/*", get));
        assert!(action_matches("*", get));
        assert!(action_matches("*/action", get));
        assert!(action_matches(get, &get.to_uppercase()));
        assert!(action_matches("Microsoft.KeyVault/*/secrets/*/action", get));
        assert!(!action_matches("Microsoft.KeyVault/vaults/keys/*", get));
        assert!(!action_matches(
            "Microsoft.KeyVault/vaults/secrets/getSecret",
            get
        ));
        assert!(!action_matches("*/read", get));
        assert!(action_matches(
            "*/read",
            "Microsoft.KeyVault/vaults/keys/read"
        ));
        // Pathological patterns stay cheap.
        let long = "a".repeat(4096);
        assert!(!action_matches(&"*a".repeat(200), &format!("{long}b")));
    }

    #[test]
    fn a_scope_covers_itself_and_what_is_below_it_at_segment_boundaries() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v";
        let secret = format!("{vault}/secrets/name");
        assert!(scope_covers("/subscriptions/s", &secret));
        assert!(scope_covers("/subscriptions/S/resourcegroups/RG", &secret));
        assert!(scope_covers(vault, &secret));
        assert!(scope_covers(&secret, &secret));
        assert!(scope_covers("/", &secret));
        assert!(scope_covers(&format!("{vault}/"), vault));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/r", &secret));
        assert!(!scope_covers(&format!("{vault}/secrets/nam"), &secret));
        assert!(!scope_covers(&format!("{vault}/secrets/other"), &secret));
        assert!(
            !scope_covers(&secret, vault),
            "an object scope does not cover its vault"
        );
    }

    #[test]
    fn a_data_action_needs_a_covering_assignment_of_a_role_that_allows_it() {
        let officer = role("officer", &["Microsoft.KeyVault/vaults/secrets/*"], &[]);
        let no_purge = role(
            "no-purge",
            &["Microsoft.KeyVault/vaults/secrets/*"],
            &["Microsoft.KeyVault/vaults/secrets/purge/action"],
        );
        let roles = [officer, no_purge];
        let lookup = |name: &str| roles.iter().find(|r| r.name.eq_ignore_ascii_case(name));
        let alice = ObjectId("alice".to_owned());
        let bob = ObjectId("bob".to_owned());
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v";
        let assignments = [
            RoleAssignment {
                principal: alice.clone(),
                role: "officer".to_owned(),
                scope: format!("{vault}/secrets/one"),
            },
            RoleAssignment {
                principal: bob.clone(),
                role: "NO-PURGE".to_owned(),
                scope: "/subscriptions/s".to_owned(),
            },
        ];
        let get = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
        let purge = "Microsoft.KeyVault/vaults/secrets/purge/action";
        let one = format!("{vault}/secrets/one");
        let two = format!("{vault}/secrets/two");

        let grant = rbac_allows(&assignments, lookup, &alice, &one, get).expect("alice, one");
        assert_eq!(grant.role.name, "officer");
        assert!(rbac_allows(&assignments, lookup, &alice, &two, get).is_none());
        assert!(rbac_allows(&assignments, lookup, &alice, vault, get).is_none());
        assert!(rbac_allows(&assignments, lookup, &bob, &two, get).is_some());
        assert!(
            rbac_allows(&assignments, lookup, &bob, &two, purge).is_none(),
            "notDataActions carve out"
        );
        let keys = "Microsoft.KeyVault/vaults/keys/sign/action";
        assert!(rbac_allows(&assignments, lookup, &bob, vault, keys).is_none());
        let stranger = ObjectId("carol".to_owned());
        assert!(rbac_allows(&assignments, lookup, &stranger, &one, get).is_none());
        // An assignment of a role that does not exist grants nothing.
        let dangling = [RoleAssignment {
            principal: alice.clone(),
            role: "gone".to_owned(),
            scope: "/".to_owned(),
        }];
        assert!(rbac_allows(&dangling, lookup, &alice, &one, get).is_none());
    }
}
