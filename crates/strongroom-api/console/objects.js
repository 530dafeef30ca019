// What the pages of one vault share: the vault's frame (breadcrumb, address, tabs), the
// attributes form every kind edits (enabled, activation, expiry, tags), and the deleted
// objects of the vault (recover, purge).

import { h, page, loading, table, field, input, checkbox, textarea, tabs, date, status, tagList, toLocalInput, fromLocalInput, tagsText, parseTags, button, busy, confirm, toast, section, errorBox } from "./ui.js";
import { nameOf } from "./api.js";

const KINDS = {
  secrets: { singular: "secret", title: "Secrets" },
  keys: { singular: "key", title: "Keys" },
  certificates: { singular: "certificate", title: "Certificates" },
};

export function vaultHref(vault, tail = "secrets") {
  return `#/vault/${encodeURIComponent(vault)}/${tail}`;
}

/**
 * Renders a page of vault `name`: breadcrumb, the vault's address, its tabs (`tab` current),
 * then `content`.
 */
export function vaultPage(ctx, vault, { title, tab, crumbs = [], actions = null }, ...content) {
  const items = [
    ["secrets", "Secrets", vaultHref(vault.name, "secrets")],
    ["keys", "Keys", vaultHref(vault.name, "keys")],
    ["certificates", "Certificates", vaultHref(vault.name, "certificates")],
    ["deleted", "Deleted objects", vaultHref(vault.name, "deleted")],
    ["access", vault.resource?.properties.enableRbacAuthorization ? "Access control (IAM)" : "Access policies", vaultHref(vault.name, "access")],
    ["audit", "Audit log", vaultHref(vault.name, "audit")],
  ];
  page(
    {
      title,
      actions,
      breadcrumb: [h("a", { href: "#/vaults" }, "Key vaults"), crumbs.length ? h("a", { href: vaultHref(vault.name, tab) }, vault.name) : vault.name, ...crumbs],
    },
    h("p", { class: "vault-uri" }, "Vault URI: ", h("code", {}, vault.uri)),
    tabs(`Vault ${vault.name}`, items, tab),
    content,
  );
}

/** Columns every object list shows after its name. */
export function stateColumns() {
  return [
    { label: "Status", cell: (item) => status(item.attributes) },
    { label: "Expires", cell: (item) => date(item.attributes?.exp) },
    { label: "Updated", cell: (item) => date(item.attributes?.updated) },
    { label: "Tags", cell: (item) => tagList(item.tags) },
  ];
}

/** The attribute fields (enabled, activation, expiry, tags), filled from `item`. */
export function attributeFields(item = {}) {
  const attributes = item.attributes ?? {};
  const enabled = checkbox("enabled", attributes.enabled !== false);
  const nbf = input("nbf", { type: "datetime-local", value: toLocalInput(attributes.nbf) });
  const exp = input("exp", { type: "datetime-local", value: toLocalInput(attributes.exp) });
  const tags = textarea("tags", { rows: 3, value: tagsText(item.tags) });
  return {
    nodes: [field("Enabled", enabled), field("Activation date", nbf, "Optional: not usable before this time."), field("Expiration date", exp, "Optional."), field("Tags", tags, "One key=value per line.")],
    read: () => ({
      attributes: { enabled: enabled.checked, nbf: fromLocalInput(nbf.value) ?? null, exp: fromLocalInput(exp.value) ?? null },
      tags: parseTags(tags.value),
    }),
  };
}

/** Resolves the vault, or shows why it cannot be used. */
export async function vaultOrError(ctx, name, title) {
  loading(title);
  return ctx.vault(name);
}

export async function deleted(ctx, name) {
  const vault = await vaultOrError(ctx, name, `Deleted objects in ${name}`);
  const client = ctx.api.vault(vault.uri);
  const sections = [];
  for (const [kind, meta] of Object.entries(KINDS)) {
    let body;
    try {
      const items = await client.list(`deleted${kind}`);
      body = table({
        caption: `Deleted ${kind}`,
        empty: `No deleted ${kind}.`,
        rows: items,
        columns: [
          { label: "Name", cell: (item) => nameOf(item.recoveryId ?? item.id ?? item.kid) },
          { label: "Deleted", cell: (item) => date(item.deletedDate) },
          { label: "Purged automatically", cell: (item) => date(item.scheduledPurgeDate) },
          { label: "Recovery level", cell: (item) => item.attributes?.recoveryLevel ?? "—" },
          { label: "Actions", cell: (item) => deletedActions(ctx, vault, kind, meta, nameOf(item.recoveryId ?? item.id ?? item.kid)) },
        ],
      });
    } catch (error) {
      body = errorBox(error);
    }
    sections.push(section(`Deleted ${kind}`, body));
  }
  vaultPage(ctx, vault, { title: `Deleted objects in ${vault.name}`, tab: "deleted" }, sections);
}

function deletedActions(ctx, vault, kind, meta, objectName) {
  const client = ctx.api.vault(vault.uri);
  const recover = button("Recover", () =>
    busy(recover, async () => {
      await client.post(`deleted${kind}/${encodeURIComponent(objectName)}/recover`);
      toast(`The ${meta.singular} ${objectName} was recovered.`);
      ctx.navigate(vaultHref(vault.name, "deleted"));
    }), { kind: "small", label: `Recover ${meta.singular} ${objectName}` });
  const purge = button("Purge", async () => {
    if (!(await confirm(`Purge the ${meta.singular} "${objectName}"? It is destroyed for good.`, { confirmText: "Purge" }))) return;
    await busy(purge, async () => {
      await client.delete(`deleted${kind}/${encodeURIComponent(objectName)}`);
      toast(`The ${meta.singular} ${objectName} was purged.`);
      ctx.navigate(vaultHref(vault.name, "deleted"));
    });
  }, { kind: "danger small", label: `Purge ${meta.singular} ${objectName}` });
  return h("div", { class: "row-actions" }, recover, purge);
}

/** A "Delete" button for object `objectName` of `kind`; back to the list afterwards. */
export function deleteButton(ctx, vault, kind, objectName) {
  const meta = KINDS[kind];
  const control = button(`Delete ${meta.singular}`, async () => {
    if (!(await confirm(`Delete the ${meta.singular} "${objectName}"? It can be recovered from "Deleted objects" until it is purged.`))) return;
    await busy(control, async () => {
      await ctx.api.vault(vault.uri).delete(`${kind}/${encodeURIComponent(objectName)}`);
      toast(`The ${meta.singular} ${objectName} was deleted.`);
      ctx.navigate(vaultHref(vault.name, kind));
    });
  }, { kind: "danger" });
  return control;
}

/** Sorts versions newest first. */
export function newestFirst(items) {
  return [...items].sort((a, b) => (b.attributes?.created ?? 0) - (a.attributes?.created ?? 0));
}
