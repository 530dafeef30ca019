// Principals and identities: Graph's users and service principals, ARM's user-assigned
// managed identities (list, create, delete).

import { h, page, loading, table, form, field, input, button, busy, toast, section, errorBox, confirm } from "./ui.js";
import { resourceGroupOf } from "./api.js";
import { SignInRequired } from "./auth.js";

async function attempt(work) {
  try {
    return { value: await work() };
  } catch (error) {
    if (error instanceof SignInRequired) throw error;
    return { error };
  }
}

function deleteButton(text, label, message, work) {
  const control = button(text, async () => {
    if (!(await confirm(message))) return;
    await busy(control, work);
  }, { kind: "danger small", label });
  return control;
}

export async function list(ctx) {
  loading("Principals");
  const [users, principals] = await Promise.all([attempt(() => ctx.api.graphList("users")), attempt(() => ctx.api.graphList("servicePrincipals"))]);
  const usersTable = users.error
    ? errorBox(users.error)
    : table({
        caption: "Users",
        empty: "No users.",
        rows: users.value,
        columns: [
          { label: "Display name", cell: (u) => u.displayName ?? "—" },
          { label: "User principal name", cell: (u) => u.userPrincipalName ?? "—" },
          { label: "Object id", cell: (u) => h("code", {}, u.id) },
          { label: "Enabled", cell: (u) => (u.accountEnabled === false ? "No" : "Yes") },
        ],
      });
  const principalsTable = principals.error
    ? errorBox(principals.error)
    : table({
        caption: "Service principals",
        empty: "No service principals.",
        rows: principals.value,
        columns: [
          { label: "Display name", cell: (p) => p.displayName ?? "—" },
          { label: "Application (client) id", cell: (p) => h("code", {}, p.appId) },
          { label: "Object id", cell: (p) => h("code", {}, p.id) },
          { label: "Type", cell: (p) => p.servicePrincipalType ?? "—" },
          {
            label: "Actions",
            cell: (p) =>
              p.servicePrincipalType === "ManagedIdentity"
                ? "—"
                : deleteButton("Delete", `Delete service principal ${p.displayName}`, `Delete the service principal "${p.displayName}"? Its credentials stop working at once.`, async () => {
                    await ctx.api.graph(`servicePrincipals/${encodeURIComponent(p.id)}`, { method: "DELETE" });
                    toast(`${p.displayName} was deleted.`);
                    ctx.navigate("#/principals");
                  }),
          },
        ],
      });
  const displayName = input("displayName", { required: true });
  const createPrincipal = form(
    {
      label: "Create a service principal",
      submitText: "Create",
      onsubmit: async () => {
        const created = await ctx.api.graph("servicePrincipals", { method: "POST", body: { displayName: displayName.value.trim() } });
        toast(`${created.displayName} was created (application id ${created.appId}).`);
        ctx.navigate("#/principals");
      },
    },
    field("Display name", displayName),
  );
  page({ title: "Principals" }, section("Users", usersTable), section("Service principals", principalsTable), principals.error ? null : section("Create a service principal", createPrincipal));
}

export async function identities(ctx) {
  loading("Managed identities");
  const identities = await attempt(() => ctx.api.listIdentities());
  const name = input("name", { required: true, pattern: "[a-zA-Z0-9][a-zA-Z0-9_\\-]{2,127}" });
  const group = input("group", { required: true, value: "strongroom" });
  page(
    { title: "Managed identities" },
    section(
      "User-assigned managed identities",
      identities.error
        ? errorBox(identities.error)
        : table({
            caption: "User-assigned managed identities",
            empty: "No managed identities.",
            rows: identities.value,
            columns: [
              { label: "Name", cell: (i) => i.name },
              { label: "Resource group", cell: (i) => resourceGroupOf(i.id) ?? "—" },
              { label: "Client id", cell: (i) => h("code", {}, i.properties.clientId) },
              { label: "Object (principal) id", cell: (i) => h("code", {}, i.properties.principalId) },
              {
                label: "Actions",
                cell: (i) =>
                  deleteButton("Delete", `Delete managed identity ${i.name}`, `Delete the managed identity "${i.name}"?`, async () => {
                    await ctx.api.deleteIdentity(i.id);
                    toast(`${i.name} was deleted.`);
                    ctx.navigate("#/identities");
                  }),
              },
            ],
          }),
    ),
    identities.error
      ? null
      : section(
          "Create a managed identity",
          form(
            {
              label: "Create a managed identity",
              submitText: "Create",
              onsubmit: async () => {
                await ctx.api.createIdentity(group.value.trim(), name.value.trim());
                toast(`${name.value} was created.`);
                ctx.navigate("#/identities");
              },
            },
            field("Name", name),
            field("Resource group", group),
          ),
        ),
  );
}

