// Key vaults through Resource Manager: the list, create, delete, and deleted vaults (recover,
// purge). A user whom ARM refuses (it is for administrators) can still open a vault by name
// and use its data plane with whatever access policy or role they hold there.

import { h, page, loading, table, form, field, input, select, checkbox, linkButton, button, busy, confirm, toast, errorBox, date, tagList, parseTags, textarea, section } from "./ui.js";
import { resourceGroupOf } from "./api.js";
import { SignInRequired } from "./auth.js";

const NAME_PATTERN = "[a-zA-Z][a-zA-Z0-9\\-]{1,22}[a-zA-Z0-9]";

/** The "open a vault by name" form (also shown where ARM refused). */
function openForm(ctx) {
  const name = input("vault", { required: true, pattern: NAME_PATTERN, spellcheck: "false" });
  return form(
    {
      label: "Open a vault by name",
      submitText: "Open vault",
      onsubmit: async () => ctx.navigate(`#/vault/${encodeURIComponent(name.value.trim().toLowerCase())}/secrets`),
    },
    field("Vault name", name, "For a vault you were given access to; its address is https://NAME." + ctx.config.vaultHostSuffix + "/"),
  );
}

export async function list(ctx) {
  loading("Key vaults");
  let vaults;
  try {
    vaults = await ctx.api.listVaults();
  } catch (error) {
    if (error instanceof SignInRequired) throw error;
    page(
      { title: "Key vaults" },
      errorBox(error, h("p", {}, "Listing vaults needs Resource Manager access. You can still open a vault you were given access to by its name.")),
      section("Open a vault by name", openForm(ctx)),
    );
    return;
  }
  for (const resource of vaults) ctx.vaults.set(resource.name, { name: resource.name, uri: resource.properties.vaultUri, resource, armError: null });
  page(
    {
      title: "Key vaults",
      actions: [linkButton("#/vaults/new", "Create vault", true), linkButton("#/deleted-vaults", "Deleted vaults"), button("Refresh", () => ctx.navigate("#/vaults"))],
    },
    table({
      caption: "Key vaults",
      empty: "No key vaults yet. Create one to store secrets, keys and certificates.",
      rows: vaults,
      columns: [
        { label: "Name", cell: (v) => h("a", { href: `#/vault/${encodeURIComponent(v.name)}/secrets` }, v.name) },
        { label: "Resource group", cell: (v) => resourceGroupOf(v.id) ?? "—" },
        { label: "Pricing tier", cell: (v) => (v.properties.sku?.name === "premium" ? "Premium" : "Standard") },
        { label: "Permission model", cell: (v) => (v.properties.enableRbacAuthorization ? "Azure RBAC" : "Access policies") },
        { label: "Vault URI", cell: (v) => h("code", {}, v.properties.vaultUri) },
        { label: "Tags", cell: (v) => tagList(v.tags) },
        {
          label: "Actions",
          cell: (v) =>
            button("Delete", (event) => deleteVault(ctx, v, event.currentTarget), { kind: "danger small", label: `Delete vault ${v.name}` }),
        },
      ],
    }),
  );
}

async function deleteVault(ctx, vault, control) {
  const retention = vault.properties.softDeleteRetentionInDays ?? 90;
  if (!(await confirm(`Delete vault "${vault.name}"? It can be recovered for ${retention} days, until it is purged.`))) return;
  await busy(control, async () => {
    await ctx.api.deleteVault(vault.id);
    ctx.forgetVaults();
    toast(`Vault ${vault.name} deleted.`);
    ctx.navigate("#/vaults");
  });
}

export async function create(ctx) {
  const name = input("name", { required: true, pattern: NAME_PATTERN, spellcheck: "false" });
  const group = input("group", { required: true, value: "strongroom" });
  const sku = select("sku", [["standard", "Standard"], ["premium", "Premium (HSM key types)"]], "standard");
  const model = select("model", [["policies", "Vault access policy"], ["rbac", "Azure role-based access control"]], "policies");
  const retention = input("retention", { type: "number", value: "90", min: "7", max: "90", required: true });
  const tags = textarea("tags", { rows: 3 });
  page(
    { title: "Create a key vault", breadcrumb: [h("a", { href: "#/vaults" }, "Key vaults"), "Create"] },
    form(
      {
        label: "Create a key vault",
        submitText: "Create",
        cancelHref: "#/vaults",
        onsubmit: async () => {
          const rbac = model.value === "rbac";
          const me = ctx.session.account;
          const properties = {
            tenantId: ctx.config.tenantId,
            sku: { family: "A", name: sku.value },
            softDeleteRetentionInDays: Number(retention.value),
            enableRbacAuthorization: rbac,
            // As the portal does: the creator gets full access to the data plane.
            accessPolicies: rbac
              ? []
              : [{ tenantId: ctx.config.tenantId, objectId: me.objectId, permissions: { keys: ["all"], secrets: ["all"], certificates: ["all"] } }],
          };
          const created = await ctx.api.createVault(group.value.trim(), name.value.trim(), properties, "local", parseTags(tags.value));
          ctx.forgetVaults();
          toast(`Vault ${created.name} created.`);
          ctx.navigate(`#/vault/${encodeURIComponent(created.name)}/secrets`);
        },
      },
      field("Vault name", name, "3–24 characters: letters, digits and dashes, starting with a letter."),
      field("Resource group", group),
      field("Pricing tier", sku),
      field("Permission model", model),
      field("Days to retain deleted vaults and objects", retention, "7 to 90."),
      field("Tags", tags, "One key=value per line."),
    ),
  );
}

export async function deleted(ctx) {
  loading("Deleted vaults");
  const vaults = await ctx.api.listDeletedVaults();
  page(
    { title: "Deleted vaults", breadcrumb: [h("a", { href: "#/vaults" }, "Key vaults"), "Deleted vaults"] },
    table({
      caption: "Deleted vaults",
      empty: "No deleted vaults.",
      rows: vaults,
      columns: [
        { label: "Name", cell: (v) => v.name },
        { label: "Resource group", cell: (v) => resourceGroupOf(v.properties.vaultId) ?? "—" },
        { label: "Deleted", cell: (v) => date(Date.parse(v.properties.deletionDate) / 1000) },
        { label: "Purged automatically", cell: (v) => date(Date.parse(v.properties.scheduledPurgeDate) / 1000) },
        {
          label: "Actions",
          cell: (v) => {
            const recover = button("Recover", () =>
              busy(recover, async () => {
                await ctx.api.recoverVault(v);
                ctx.forgetVaults();
                toast(`Vault ${v.name} recovered.`);
                ctx.navigate("#/vaults");
              }), { kind: "small", label: `Recover vault ${v.name}` });
            const purge = button("Purge", async () => {
              if (!(await confirm(`Purge vault "${v.name}"? Its secrets, keys and certificates are destroyed for good.`, { confirmText: "Purge" }))) return;
              await busy(purge, async () => {
                await ctx.api.purgeDeletedVault(v);
                toast(`Vault ${v.name} purged.`);
                ctx.navigate("#/deleted-vaults");
              });
            }, { kind: "danger small", label: `Purge vault ${v.name}` });
            return h("div", { class: "row-actions" }, recover, purge);
          },
        },
      ],
    }),
  );
}

export async function open(ctx) {
  page(
    { title: "Open a vault by name" },
    h("p", {}, "Work with a vault you were given access to (an access policy or a role on it), without listing vaults through Resource Manager."),
    openForm(ctx),
  );
}

