// Secrets: the list, a secret's versions and attributes, its value (shown only on request: a
// normal, audited GET of the secret), new versions, attribute and tag edits, delete.

import { h, table, form, field, input, textarea, linkButton, button, busy, toast, section, properties, date, status, tagList, replace, errorSlot, showError } from "./ui.js";
import { nameOf, versionOf } from "./api.js";
import { vaultPage, vaultOrError, stateColumns, attributeFields, deleteButton, vaultHref, newestFirst } from "./objects.js";

export async function list(ctx, name) {
  const vault = await vaultOrError(ctx, name, `Secrets in ${name}`);
  const items = await ctx.api.vault(vault.uri).list("secrets");
  vaultPage(
    ctx,
    vault,
    {
      title: `Secrets in ${vault.name}`,
      tab: "secrets",
      actions: [linkButton(vaultHref(vault.name, "new/secrets"), "Generate/Import", true), button("Refresh", () => ctx.navigate(vaultHref(vault.name, "secrets")))],
    },
    table({
      caption: "Secrets",
      empty: "No secrets in this vault.",
      rows: items,
      columns: [
        { label: "Name", cell: (s) => h("a", { href: vaultHref(vault.name, `secrets/${encodeURIComponent(nameOf(s.id))}`) }, nameOf(s.id)) },
        { label: "Content type", cell: (s) => s.contentType ?? "—" },
        ...stateColumns(),
        { label: "Managed", cell: (s) => (s.managed ? "By its certificate" : "—") },
      ],
    }),
  );
}

export async function create(ctx, name) {
  const vault = await vaultOrError(ctx, name, "Create a secret");
  const secretName = input("name", { required: true, pattern: "[0-9a-zA-Z\\-]{1,127}", spellcheck: "false" });
  const value = textarea("value", { rows: 4, required: true });
  const contentType = input("contentType");
  const attributes = attributeFields();
  vaultPage(
    ctx,
    vault,
    { title: "Create a secret", tab: "secrets", crumbs: ["Create a secret"] },
    form(
      {
        label: "Create a secret",
        submitText: "Create",
        cancelHref: vaultHref(vault.name, "secrets"),
        onsubmit: async () => {
          const { attributes: attrs, tags } = attributes.read();
          await ctx.api.vault(vault.uri).put(`secrets/${encodeURIComponent(secretName.value)}`, {
            value: value.value,
            contentType: contentType.value || undefined,
            attributes: clean(attrs),
            tags,
          });
          toast(`Secret ${secretName.value} created.`);
          ctx.navigate(vaultHref(vault.name, `secrets/${encodeURIComponent(secretName.value)}`));
        },
      },
      field("Name", secretName, "Letters, digits and dashes."),
      field("Secret value", value),
      field("Content type (optional)", contentType),
      attributes.nodes,
    ),
  );
}

/** Leaves out dates that are not set (a create has nothing to clear). */
function clean(attributes) {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null && v !== undefined));
}

export async function detail(ctx, vaultName, secretName) {
  const vault = await vaultOrError(ctx, vaultName, secretName);
  const client = ctx.api.vault(vault.uri);
  const path = `secrets/${encodeURIComponent(secretName)}`;
  const versions = newestFirst(await client.list(`${path}/versions`));
  const current = versions[0];

  const valueRegion = h("div", { class: "secret-value", "aria-live": "polite" });
  const valueErrors = errorSlot();
  const show = (version = "") => {
    const control = document.activeElement;
    return busy(control instanceof HTMLButtonElement ? control : null, async () => {
      const secret = await client.get(version ? `${path}/${version}` : path);
      const label = `Value of ${secretName}, version ${versionOf(secret.id)}`;
      const output = h("textarea", { readOnly: true, rows: Math.min(8, Math.max(2, secret.value.split("\n").length)), "aria-label": label, spellcheck: "false", class: "revealed" });
      output.value = secret.value;
      const hide = button("Hide value", () => {
        replace(valueRegion);
        showButton.focus();
      });
      const copy = button("Copy", async () => {
        await navigator.clipboard.writeText(secret.value);
        toast("Copied to the clipboard.");
      });
      replace(valueRegion, h("p", { class: "muted" }, `Version ${versionOf(secret.id)}`), output, h("div", { class: "row-actions" }, copy, hide));
      output.focus();
    }, valueErrors);
  };
  const showButton = button("Show secret value", () => show(), { kind: "primary" });

  const newValue = textarea("value", { rows: 3, required: true });
  const newContentType = input("contentType", { value: current?.contentType ?? "" });
  const newVersion = form(
    {
      label: "New version",
      submitText: "Create version",
      onsubmit: async () => {
        await client.put(path, { value: newValue.value, contentType: newContentType.value || undefined, tags: current?.tags });
        toast(`A new version of ${secretName} was created.`);
        ctx.navigate(vaultHref(vault.name, `secrets/${encodeURIComponent(secretName)}`));
      },
    },
    field("New secret value", newValue),
    field("Content type (optional)", newContentType),
  );

  const editSection = current ? editForm(ctx, vault, client, path, secretName, current) : null;

  vaultPage(
    ctx,
    vault,
    { title: secretName, tab: "secrets", crumbs: [secretName], actions: [deleteButton(ctx, vault, "secrets", secretName)] },
    current?.managed ? h("p", { class: "note" }, "This secret holds a certificate's key and certificate; it changes with the certificate.") : null,
    section(
      "Current version",
      current
        ? properties([
            ["Version", h("code", {}, versionOf(current.id))],
            ["Status", status(current.attributes)],
            ["Content type", current.contentType],
            ["Created", date(current.attributes?.created)],
            ["Updated", date(current.attributes?.updated)],
            ["Activation date", date(current.attributes?.nbf)],
            ["Expiration date", date(current.attributes?.exp)],
            ["Recovery level", current.attributes?.recoveryLevel],
            ["Tags", tagList(current.tags)],
          ])
        : h("p", {}, "No versions."),
      h("div", { class: "row-actions" }, showButton),
      valueErrors,
      valueRegion,
    ),
    section(
      "Versions",
      table({
        caption: "Versions",
        rows: versions,
        columns: [
          { label: "Version", cell: (v) => h("code", {}, versionOf(v.id)) },
          { label: "Status", cell: (v) => status(v.attributes) },
          { label: "Created", cell: (v) => date(v.attributes?.created) },
          { label: "Expires", cell: (v) => date(v.attributes?.exp) },
          { label: "Value", cell: (v) => button("Show", () => show(versionOf(v.id)), { kind: "small", label: `Show the value of version ${versionOf(v.id)}` }) },
        ],
      }),
    ),
    current?.managed ? null : section("New version", newVersion),
    editSection,
  );
}

function editForm(ctx, vault, client, path, secretName, current) {
  const attributes = attributeFields(current);
  const contentType = input("contentType", { value: current.contentType ?? "" });
  const errors = errorSlot();
  return section(
    "Edit the current version",
    form(
      {
        label: "Edit the current version",
        submitText: "Save",
        onsubmit: async () => {
          const { attributes: attrs, tags } = attributes.read();
          await client.patch(`${path}/${versionOf(current.id)}`, { contentType: contentType.value || undefined, attributes: attrs, tags });
          toast(`${secretName} was updated.`);
          ctx.navigate(vaultHref(vault.name, `secrets/${encodeURIComponent(secretName)}`));
        },
      },
      field("Content type", contentType),
      attributes.nodes,
    ),
    errors,
  );
}

