// Keys: the list, create (RSA, EC, and with a premium vault the HSM types and oct), a key's
// versions, attributes and permitted operations, rotate, delete.

import { h, table, form, field, input, select, linkButton, button, busy, toast, section, properties, date, status, tagList, checkboxGroup, checkedValues } from "./ui.js";
import { nameOf, versionOf } from "./api.js";
import { vaultPage, vaultOrError, stateColumns, attributeFields, deleteButton, vaultHref, newestFirst } from "./objects.js";

const OPERATIONS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];

function keySummary(key) {
  if (!key) return "—";
  if (key.kty?.startsWith("EC")) return `${key.kty} ${key.crv ?? ""}`.trim();
  if (key.kty?.startsWith("RSA") && key.n) {
    const bytes = atob(key.n.replaceAll("-", "+").replaceAll("_", "/")).length;
    return `${key.kty} ${bytes * 8}`;
  }
  return key.kty ?? "—";
}

export async function list(ctx, name) {
  const vault = await vaultOrError(ctx, name, `Keys in ${name}`);
  const items = await ctx.api.vault(vault.uri).list("keys");
  vaultPage(
    ctx,
    vault,
    {
      title: `Keys in ${vault.name}`,
      tab: "keys",
      actions: [linkButton(vaultHref(vault.name, "new/keys"), "Generate/Import", true), button("Refresh", () => ctx.navigate(vaultHref(vault.name, "keys")))],
    },
    table({
      caption: "Keys",
      empty: "No keys in this vault.",
      rows: items,
      columns: [
        { label: "Name", cell: (k) => h("a", { href: vaultHref(vault.name, `keys/${encodeURIComponent(nameOf(k.kid))}`) }, nameOf(k.kid)) },
        ...stateColumns(),
        { label: "Managed", cell: (k) => (k.managed ? "By its certificate" : "—") },
      ],
    }),
  );
}

export async function create(ctx, name) {
  const vault = await vaultOrError(ctx, name, "Create a key");
  const premium = vault.resource?.properties.sku?.name === "premium";
  const keyName = input("name", { required: true, pattern: "[0-9a-zA-Z\\-]{1,127}", spellcheck: "false" });
  const types = [["RSA", "RSA"], ["EC", "EC"]];
  if (premium || !vault.resource) types.push(["RSA-HSM", "RSA-HSM"], ["EC-HSM", "EC-HSM"], ["oct-HSM", "oct-HSM (AES)"]);
  const kty = select("kty", types, "RSA");
  const size = select("size", [["2048", "2048"], ["3072", "3072"], ["4096", "4096"]], "2048");
  const octSize = select("octSize", [["128", "128"], ["192", "192"], ["256", "256"]], "256");
  const curve = select("curve", ["P-256", "P-384", "P-521", "P-256K"], "P-256");
  const sizeField = field("RSA key size", size);
  const octField = field("AES key size", octSize);
  const curveField = field("Elliptic curve", curve);
  const operations = checkboxGroup("Permitted operations", "ops", OPERATIONS, OPERATIONS);
  const attributes = attributeFields();
  const sync = () => {
    sizeField.hidden = !kty.value.startsWith("RSA");
    curveField.hidden = !kty.value.startsWith("EC");
    octField.hidden = !kty.value.startsWith("oct");
  };
  kty.addEventListener("change", sync);
  sync();
  vaultPage(
    ctx,
    vault,
    { title: "Create a key", tab: "keys", crumbs: ["Create a key"] },
    form(
      {
        label: "Create a key",
        submitText: "Create",
        cancelHref: vaultHref(vault.name, "keys"),
        onsubmit: async (element) => {
          const { attributes: attrs, tags } = attributes.read();
          const body = { kty: kty.value, key_ops: checkedValues(element, "ops"), attributes: Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== null)), tags };
          if (kty.value.startsWith("RSA")) body.key_size = Number(size.value);
          if (kty.value.startsWith("oct")) body.key_size = Number(octSize.value);
          if (kty.value.startsWith("EC")) body.crv = curve.value;
          await ctx.api.vault(vault.uri).post(`keys/${encodeURIComponent(keyName.value)}/create`, body);
          toast(`Key ${keyName.value} created.`);
          ctx.navigate(vaultHref(vault.name, `keys/${encodeURIComponent(keyName.value)}`));
        },
      },
      field("Name", keyName, "Letters, digits and dashes."),
      field("Key type", kty),
      sizeField,
      octField,
      curveField,
      operations,
      attributes.nodes,
    ),
  );
}

export async function detail(ctx, vaultName, keyName) {
  const vault = await vaultOrError(ctx, vaultName, keyName);
  const client = ctx.api.vault(vault.uri);
  const path = `keys/${encodeURIComponent(keyName)}`;
  const [bundle, versions] = await Promise.all([client.get(path), client.list(`${path}/versions`)]);
  const key = bundle.key;
  const attributes = attributeFields(bundle);
  const operations = checkboxGroup("Permitted operations", "ops", OPERATIONS, key.key_ops ?? []);
  const edit = form(
    {
      label: "Edit the current version",
      submitText: "Save",
      onsubmit: async (element) => {
        const { attributes: attrs, tags } = attributes.read();
        await client.patch(`${path}/${versionOf(key.kid)}`, { key_ops: checkedValues(element, "ops"), attributes: attrs, tags });
        toast(`${keyName} was updated.`);
        ctx.navigate(vaultHref(vault.name, `keys/${encodeURIComponent(keyName)}`));
      },
    },
    operations,
    attributes.nodes,
  );
  const rotate = button("Rotate", () =>
    busy(rotate, async () => {
      await client.post(`${path}/rotate`);
      toast(`A new version of ${keyName} was made.`);
      ctx.navigate(vaultHref(vault.name, `keys/${encodeURIComponent(keyName)}`));
    }));
  vaultPage(
    ctx,
    vault,
    { title: keyName, tab: "keys", crumbs: [keyName], actions: bundle.managed ? [] : [rotate, deleteButton(ctx, vault, "keys", keyName)] },
    bundle.managed ? h("p", { class: "note" }, "This key belongs to a certificate; it changes with the certificate.") : null,
    section(
      "Current version",
      properties([
        ["Key identifier", h("code", {}, key.kid)],
        ["Type", keySummary(key)],
        ["Status", status(bundle.attributes)],
        ["Permitted operations", (key.key_ops ?? []).join(", ") || "—"],
        ["Created", date(bundle.attributes?.created)],
        ["Updated", date(bundle.attributes?.updated)],
        ["Activation date", date(bundle.attributes?.nbf)],
        ["Expiration date", date(bundle.attributes?.exp)],
        ["Exportable", bundle.attributes?.exportable ? "Yes" : "No"],
        ["Tags", tagList(bundle.tags)],
      ]),
    ),
    section(
      "Versions",
      table({
        caption: "Versions",
        rows: newestFirst(versions),
        columns: [
          { label: "Version", cell: (v) => h("code", {}, versionOf(v.kid)) },
          { label: "Status", cell: (v) => status(v.attributes) },
          { label: "Created", cell: (v) => date(v.attributes?.created) },
          { label: "Expires", cell: (v) => date(v.attributes?.exp) },
        ],
      }),
    ),
    section("Edit the current version", edit),
  );
}
