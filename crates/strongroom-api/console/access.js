// Who may use a vault: its access policies (ARM `accessPolicies/add|remove`), or with Azure RBAC
// its role assignments (`Microsoft.Authorization/roleAssignments` at the vault's scope).
// Principals are picked from Graph's users and service principals and ARM's identities, or
// named by object id.

import { h, table, form, field, input, select, button, busy, toast, section, errorBox, checkboxGroup, checkedValues, confirm, uid } from "./ui.js";
import { vaultPage, vaultOrError, vaultHref } from "./objects.js";

const PERMISSIONS = {
  keys: ["get", "list", "update", "create", "import", "delete", "recover", "backup", "restore", "purge", "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "release", "rotate", "getrotationpolicy", "setrotationpolicy"],
  secrets: ["get", "list", "set", "delete", "recover", "backup", "restore", "purge"],
  certificates: ["get", "list", "update", "create", "import", "delete", "recover", "backup", "restore", "purge", "managecontacts", "manageissuers", "getissuers", "listissuers", "setissuers", "deleteissuers"],
};

/** Principals the user can see: object id -> {name, type}. Best effort (each list may be refused). */
async function knownPrincipals(ctx) {
  const known = new Map();
  const lists = [
    ["users", (u) => [u.id, { name: `${u.displayName ?? u.userPrincipalName} (user)`, type: "User" }]],
    ["servicePrincipals", (p) => [p.id, { name: `${p.displayName} (application)`, type: "ServicePrincipal" }]],
  ];
  await Promise.all([
    ...lists.map(async ([path, entry]) => {
      try {
        for (const item of await ctx.api.graphList(path)) {
          const [id, value] = entry(item);
          known.set(id, value);
        }
      } catch {
        // Not listed: names stay object ids.
      }
    }),
    (async () => {
      try {
        for (const identity of await ctx.api.listIdentities()) {
          known.set(identity.properties.principalId, { name: `${identity.name} (managed identity)`, type: "ServicePrincipal" });
        }
      } catch {
        // Same.
      }
    })(),
  ]);
  return known;
}

function principalName(known, id) {
  const entry = known.get(id);
  return entry ? h("span", {}, entry.name, h("br"), h("code", { class: "muted" }, id)) : h("code", {}, id);
}

/** A text input for an object id with the known principals as suggestions. */
function principalInput(known) {
  const listId = uid("principals");
  const control = input("principal", { required: true, list: listId, spellcheck: "false", pattern: "[0-9a-fA-F\\-]{36}" });
  const options = h("datalist", { id: listId }, [...known].map(([id, entry]) => h("option", { value: id }, entry.name)));
  return { control, options };
}

export async function page(ctx, name) {
  const vault = await vaultOrError(ctx, name, `Access to ${name}`);
  if (!vault.resource) {
    vaultPage(
      ctx,
      vault,
      { title: `Access to ${vault.name}`, tab: "access" },
      errorBox(vault.armError ?? { message: "This vault was not found through Resource Manager." }, h("p", {}, "Access policies and role assignments are managed through Resource Manager, which needs management access.")),
    );
    return;
  }
  const known = await knownPrincipals(ctx);
  if (vault.resource.properties.enableRbacAuthorization) return rbacPage(ctx, vault, known);
  return policiesPage(ctx, vault, known);
}

function policiesPage(ctx, vault, known) {
  const policies = vault.resource.properties.accessPolicies ?? [];
  const summary = (list) => (list?.length ? (list.length >= 8 ? `${list.length} permissions` : list.join(", ")) : "—");
  const { control: principal, options } = principalInput(known);
  const groups = Object.entries(PERMISSIONS).map(([kind, names]) => checkboxGroup(`${kind[0].toUpperCase()}${kind.slice(1)} permissions`, kind, names, kind === "keys" ? [] : ["get", "list"]));
  const add = form(
    {
      label: "Add an access policy",
      submitText: "Add",
      onsubmit: async (element) => {
        const permissions = Object.fromEntries(Object.keys(PERMISSIONS).map((kind) => [kind, checkedValues(element, kind)]));
        await ctx.api.updateAccessPolicies(vault.resource.id, "add", [{ tenantId: ctx.config.tenantId, objectId: principal.value.trim(), permissions }]);
        await ctx.vault(vault.name, { fresh: true });
        toast("The access policy was added.");
        ctx.navigate(vaultHref(vault.name, "access"));
      },
    },
    field("Principal (object id)", principal, "Type or pick a user, application or managed identity."),
    options,
    groups,
  );
  vaultPage(
    ctx,
    vault,
    { title: `Access policies of ${vault.name}`, tab: "access" },
    section(
      "Access policies",
      table({
        caption: "Access policies",
        empty: "No access policies: nobody can use this vault's data plane.",
        rows: policies,
        columns: [
          { label: "Principal", cell: (p) => principalName(known, p.objectId) },
          { label: "Key permissions", cell: (p) => summary(p.permissions?.keys) },
          { label: "Secret permissions", cell: (p) => summary(p.permissions?.secrets) },
          { label: "Certificate permissions", cell: (p) => summary(p.permissions?.certificates) },
          {
            label: "Actions",
            cell: (p) => {
              const remove = button("Remove", async () => {
                if (!(await confirm(`Remove the access policy of ${known.get(p.objectId)?.name ?? p.objectId}?`, { confirmText: "Remove" }))) return;
                await busy(remove, async () => {
                  await ctx.api.updateAccessPolicies(vault.resource.id, "remove", [{ tenantId: p.tenantId, objectId: p.objectId, permissions: {} }]);
                  await ctx.vault(vault.name, { fresh: true });
                  toast("The access policy was removed.");
                  ctx.navigate(vaultHref(vault.name, "access"));
                });
              }, { kind: "danger small", label: `Remove the access policy of ${known.get(p.objectId)?.name ?? p.objectId}` });
              return remove;
            },
          },
        ],
      }),
    ),
    section("Add an access policy", add),
  );
}

async function rbacPage(ctx, vault, known) {
  const scope = vault.resource.id;
  const [assignments, definitions] = await Promise.all([ctx.api.roleAssignments(scope), ctx.api.roleDefinitions(scope)]);
  const roles = new Map(definitions.map((d) => [d.id.split("/").pop().toLowerCase(), d.properties.roleName]));
  const roleOf = (a) => roles.get(a.properties.roleDefinitionId.split("/").pop().toLowerCase()) ?? a.properties.roleDefinitionId;
  const keyVaultRoles = definitions.filter((d) => /key vault/i.test(d.properties.roleName)).sort((a, b) => a.properties.roleName.localeCompare(b.properties.roleName));
  const role = select("role", keyVaultRoles.map((d) => [d.id, d.properties.roleName]), keyVaultRoles.find((d) => d.properties.roleName === "Key Vault Secrets User")?.id);
  const { control: principal, options } = principalInput(known);
  const add = form(
    {
      label: "Add a role assignment",
      submitText: "Assign",
      onsubmit: async () => {
        const id = principal.value.trim();
        await ctx.api.assignRole(scope, role.value, id, known.get(id)?.type ?? "ServicePrincipal");
        toast("The role was assigned.");
        ctx.navigate(vaultHref(vault.name, "access"));
      },
    },
    field("Role", role),
    field("Principal (object id)", principal, "Type or pick a user, application or managed identity."),
    options,
  );
  vaultPage(
    ctx,
    vault,
    { title: `Access control (IAM) of ${vault.name}`, tab: "access" },
    section(
      "Role assignments",
      table({
        caption: "Role assignments",
        empty: "No role assignments on this vault.",
        rows: assignments,
        columns: [
          { label: "Principal", cell: (a) => principalName(known, a.properties.principalId) },
          { label: "Role", cell: roleOf },
          { label: "Scope", cell: (a) => h("code", {}, a.properties.scope === scope ? "This vault" : a.properties.scope) },
          {
            label: "Actions",
            cell: (a) => {
              const remove = button("Remove", async () => {
                if (!(await confirm(`Remove the role "${roleOf(a)}" from ${known.get(a.properties.principalId)?.name ?? a.properties.principalId}?`, { confirmText: "Remove" }))) return;
                await busy(remove, async () => {
                  await ctx.api.deleteRoleAssignment(a.id);
                  toast("The role assignment was removed.");
                  ctx.navigate(vaultHref(vault.name, "access"));
                });
              }, { kind: "danger small", label: `Remove role ${roleOf(a)} from ${a.properties.principalId}` });
              return remove;
            },
          },
        ],
      }),
    ),
    section("Add a role assignment", add),
  );
}
