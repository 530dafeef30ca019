// Certificates: the list, create with a policy (issuance is a long operation: the pending
// operation is polled and its progress shown), a certificate's versions, attributes and
// policy (edit), its download (the certificate's secret: PFX or PEM, or the public .cer),
// delete.

import { h, table, form, field, input, select, checkbox, linkButton, button, busy, toast, section, properties, date, status, tagList, download, errorBox, replace, errorSlot } from "./ui.js";
import { nameOf, versionOf } from "./api.js";
import { vaultPage, vaultOrError, stateColumns, attributeFields, deleteButton, vaultHref, newestFirst } from "./objects.js";

const PKCS12 = "application/x-pkcs12";
const PEM = "application/x-pem-file";
const POLL_MS = 1000;
const POLL_LIMIT = 300;

export async function list(ctx, name) {
  const vault = await vaultOrError(ctx, name, `Certificates in ${name}`);
  const items = await ctx.api.vault(vault.uri).list("certificates");
  vaultPage(
    ctx,
    vault,
    {
      title: `Certificates in ${vault.name}`,
      tab: "certificates",
      actions: [linkButton(vaultHref(vault.name, "new/certificates"), "Generate/Import", true), button("Refresh", () => ctx.navigate(vaultHref(vault.name, "certificates")))],
    },
    table({
      caption: "Certificates",
      empty: "No certificates in this vault.",
      rows: items,
      columns: [
        { label: "Name", cell: (c) => h("a", { href: vaultHref(vault.name, `certificates/${encodeURIComponent(nameOf(c.id))}`) }, nameOf(c.id)) },
        { label: "Thumbprint", cell: (c) => (c.x5t ? h("code", {}, thumbprint(c.x5t)) : "—") },
        ...stateColumns(),
      ],
    }),
  );
}

/** base64url SHA-1 -> upper-case hex, as the portal shows it. */
function thumbprint(x5t) {
  const raw = atob(x5t.replaceAll("-", "+").replaceAll("_", "/"));
  return [...raw].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** The policy fields, filled from `policy` (or sensible defaults). */
function policyFields(policy = null) {
  const x509 = policy?.x509_props ?? {};
  const keyProps = policy?.key_props ?? {};
  const subject = input("subject", { required: true, value: x509.subject ?? "CN=example.com" });
  const dns = input("dns", { value: (x509.sans?.dns_names ?? []).join(", ") });
  const months = input("months", { type: "number", min: "1", max: "1200", required: true, value: String(x509.validity_months ?? 12) });
  const issuer = select("issuer", [["Self", "Self-signed"], ["Strongroom", "Strongroom (the deployment's certificate CA)"], ["Unknown", "Unknown (sign a CSR elsewhere)"]], policy?.issuer?.name ?? "Self");
  const contentType = select("contentType", [[PKCS12, "PKCS #12 (PFX)"], [PEM, "PEM"]], policy?.secret_props?.contentType ?? PKCS12);
  const keyType = select("keyType", [["RSA", "RSA"], ["EC", "EC"]], keyProps.kty?.startsWith("EC") ? "EC" : "RSA");
  const keySize = select("keySize", ["2048", "3072", "4096"], String(keyProps.key_size ?? 2048));
  const curve = select("curve", ["P-256", "P-384", "P-521", "P-256K"], keyProps.crv ?? "P-256");
  const exportable = checkbox("exportable", keyProps.exportable !== false);
  const reuse = checkbox("reuseKey", keyProps.reuse_key === true);
  const trigger = policy?.lifetime_actions?.[0];
  const renewPercent = input("renewPercent", { type: "number", min: "1", max: "99", value: String(trigger?.trigger?.lifetime_percentage ?? 80) });
  const renewAction = select("renewAction", [["AutoRenew", "Renew automatically"], ["EmailContacts", "E-mail the contacts"]], trigger?.action?.action_type ?? "AutoRenew");
  const sizeField = field("Key size", keySize);
  const curveField = field("Curve", curve);
  const sync = () => {
    sizeField.hidden = keyType.value !== "RSA";
    curveField.hidden = keyType.value !== "EC";
  };
  keyType.addEventListener("change", sync);
  sync();
  return {
    nodes: [
      field("Subject", subject, "An X.500 name, e.g. CN=www.contoso.com"),
      field("DNS names (optional)", dns, "Comma-separated."),
      field("Validity period (months)", months),
      field("Type of certificate authority", issuer),
      field("Content type", contentType),
      field("Key type", keyType),
      sizeField,
      curveField,
      field("Exportable private key", exportable),
      field("Reuse the key on renewal", reuse),
      field("Lifetime action at this percentage of the lifetime", renewPercent),
      field("Lifetime action", renewAction),
    ],
    read: () => {
      const dnsNames = dns.value.split(",").map((d) => d.trim()).filter(Boolean);
      const key = { exportable: exportable.checked, reuse_key: reuse.checked, kty: keyType.value };
      if (keyType.value === "RSA") key.key_size = Number(keySize.value);
      else key.crv = curve.value;
      return {
        key_props: key,
        secret_props: { contentType: contentType.value },
        x509_props: { subject: subject.value.trim(), sans: dnsNames.length ? { dns_names: dnsNames } : undefined, validity_months: Number(months.value) },
        issuer: { name: issuer.value },
        lifetime_actions: [{ trigger: { lifetime_percentage: Number(renewPercent.value) }, action: { action_type: renewAction.value } }],
      };
    },
  };
}

export async function create(ctx, name) {
  const vault = await vaultOrError(ctx, name, "Create a certificate");
  const certName = input("name", { required: true, pattern: "[0-9a-zA-Z\\-]{1,127}", spellcheck: "false" });
  const policy = policyFields();
  const enabled = checkbox("enabled", true);
  const progress = h("div", { class: "progress-region", role: "status", "aria-live": "polite" });
  vaultPage(
    ctx,
    vault,
    { title: "Create a certificate", tab: "certificates", crumbs: ["Create a certificate"] },
    form(
      {
        label: "Create a certificate",
        submitText: "Create",
        cancelHref: vaultHref(vault.name, "certificates"),
        onsubmit: async () => {
          const client = ctx.api.vault(vault.uri);
          const path = `certificates/${encodeURIComponent(certName.value)}`;
          let operation = await client.post(`${path}/create`, { policy: policy.read(), attributes: { enabled: enabled.checked } });
          const bar = h("progress", { "aria-label": "Certificate creation" });
          const text = h("p", {}, `Creating ${certName.value}: ${operation.status}…`);
          replace(progress, text, bar);
          for (let i = 0; operation.status === "inProgress" && i < POLL_LIMIT; i += 1) {
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
            operation = await client.get(`${path}/pending`);
            text.textContent = `Creating ${certName.value}: ${operation.status_details || operation.status}…`;
          }
          if (operation.status !== "completed") {
            replace(progress);
            throw { status: 0, code: operation.error?.code ?? operation.status, message: operation.error?.message ?? operation.status_details ?? `The operation is ${operation.status}.` };
          }
          replace(progress, h("p", {}, `${certName.value} was created.`));
          toast(`Certificate ${certName.value} created.`);
          ctx.navigate(vaultHref(vault.name, `certificates/${encodeURIComponent(certName.value)}`));
        },
      },
      field("Certificate name", certName, "Letters, digits and dashes."),
      policy.nodes,
      field("Enabled", enabled),
    ),
    progress,
  );
}

export async function detail(ctx, vaultName, certName) {
  const vault = await vaultOrError(ctx, vaultName, certName);
  const client = ctx.api.vault(vault.uri);
  const path = `certificates/${encodeURIComponent(certName)}`;
  const [bundle, versions] = await Promise.all([client.get(path), client.list(`${path}/versions`)]);
  let pending = null;
  try {
    pending = await client.get(`${path}/pending`);
  } catch {
    pending = null;
  }
  const policy = bundle.policy ?? (await client.get(`${path}/policy`));
  const downloads = h("div", { class: "row-actions" });
  const downloadErrors = errorSlot();
  const format = policy?.secret_props?.contentType === PEM ? "PEM" : "PFX";
  const secretDownload = button(`Download in ${format} format`, () =>
    busy(secretDownload, async () => {
      // The certificate's secret: a normal GET of the secret `sid` names.
      const secret = await ctx.api.call(withVersion(bundle.sid), { scope: ctx.config.vaultScope }).then((r) => r.body);
      if (secret.contentType === PKCS12) {
        const bytes = Uint8Array.from(atob(secret.value), (c) => c.charCodeAt(0));
        download(`${certName}.pfx`, new Blob([bytes], { type: PKCS12 }));
      } else {
        download(`${certName}.pem`, new Blob([secret.value], { type: PEM }));
      }
    }, downloadErrors));
  const cerDownload = button("Download in CER format", () => {
    const bytes = Uint8Array.from(atob(bundle.cer), (c) => c.charCodeAt(0));
    download(`${certName}.cer`, new Blob([bytes], { type: "application/pkix-cert" }));
  });
  if (bundle.cer) downloads.append(cerDownload);
  if (bundle.sid) downloads.append(secretDownload);

  const attributes = attributeFields(bundle);
  const editAttributes = form(
    {
      label: "Edit the current version",
      submitText: "Save",
      onsubmit: async () => {
        const { attributes: attrs, tags } = attributes.read();
        await client.patch(`${path}/${versionOf(bundle.id)}`, { attributes: { enabled: attrs.enabled }, tags });
        toast(`${certName} was updated.`);
        ctx.navigate(vaultHref(vault.name, `certificates/${encodeURIComponent(certName)}`));
      },
    },
    attributes.nodes.filter((_, index) => index === 0 || index === 3),
  );
  const policyForm = policyFields(policy);
  const editPolicy = form(
    {
      label: "Issuance policy",
      submitText: "Save policy",
      onsubmit: async () => {
        await client.patch(`${path}/policy`, policyForm.read());
        toast(`The policy of ${certName} was saved; it applies to the next version.`);
        ctx.navigate(vaultHref(vault.name, `certificates/${encodeURIComponent(certName)}`));
      },
    },
    policyForm.nodes,
  );
  const renew = button("New version", () =>
    busy(renew, async () => {
      await client.post(`${path}/create`, { policy });
      toast(`A new version of ${certName} is being issued.`);
      ctx.navigate(vaultHref(vault.name, `certificates/${encodeURIComponent(certName)}`));
    }));
  vaultPage(
    ctx,
    vault,
    { title: certName, tab: "certificates", crumbs: [certName], actions: [renew, deleteButton(ctx, vault, "certificates", certName)] },
    pending && pending.status !== "completed"
      ? pending.status === "inProgress"
        ? h("p", { class: "note", role: "status" }, `An operation is in progress: ${pending.status_details ?? pending.status}. Refresh to follow it.`)
        : errorBox({ code: pending.status, message: pending.error?.message ?? pending.status_details ?? "" })
      : null,
    section(
      "Current version",
      properties([
        ["Certificate identifier", h("code", {}, bundle.id)],
        ["Subject", policy?.x509_props?.subject],
        ["Thumbprint", bundle.x5t ? h("code", {}, thumbprint(bundle.x5t)) : "—"],
        ["Status", status(bundle.attributes)],
        ["Issuer", policy?.issuer?.name],
        ["Created", date(bundle.attributes?.created)],
        ["Activation date", date(bundle.attributes?.nbf)],
        ["Expiration date", date(bundle.attributes?.exp)],
        ["Tags", tagList(bundle.tags)],
      ]),
      downloads,
      downloadErrors,
    ),
    section(
      "Versions",
      table({
        caption: "Versions",
        rows: newestFirst(versions),
        columns: [
          { label: "Version", cell: (v) => h("code", {}, versionOf(v.id)) },
          { label: "Thumbprint", cell: (v) => (v.x5t ? h("code", {}, thumbprint(v.x5t)) : "—") },
          { label: "Status", cell: (v) => status(v.attributes) },
          { label: "Created", cell: (v) => date(v.attributes?.created) },
          { label: "Expires", cell: (v) => date(v.attributes?.exp) },
        ],
      }),
    ),
    section("Edit the current version", editAttributes),
    section("Issuance policy", editPolicy),
  );
}

/** A Key Vault id with the api-version the data plane wants. */
function withVersion(id) {
  return `${id}${id.includes("?") ? "&" : "?"}api-version=7.5`;
}
