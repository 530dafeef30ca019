// A vault's audit log: Strongroom's `GET /strongroom/audit/events?vault=…` on this origin
// (deployment administrators only; 404 `AuditLogNotEnabled` when the server keeps no log),
// newest first, filtered by time, operation, caller and result, a page at a time. The
// filters live in the address (`#/vault/NAME/audit?operation=SecretGet…`), so a filtered view
// can be bookmarked and the browser's Back button returns to the previous one.

import { h, field, input, select, table, errorBox, button, busy, replace } from "./ui.js";
import { SignInRequired } from "./auth.js";
import { vaultPage, vaultOrError, vaultHref } from "./objects.js";

/** Events asked for per page. */
const PAGE_SIZE = 50;

/** Azure's `operationName`s of the data plane (the audit log's words), offered as suggestions. */
const OPERATIONS = [
  "SecretGet", "SecretSet", "SecretUpdate", "SecretList", "SecretListVersions", "SecretDelete", "SecretRecover", "SecretPurge",
  "SecretBackup", "SecretRestore", "KeyCreate", "KeyImport", "KeyGet", "KeyUpdate", "KeyList", "KeyListVersions", "KeyDelete",
  "KeyRecover", "KeyPurge", "KeyEncrypt", "KeyDecrypt", "KeySign", "KeyVerify", "KeyWrap", "KeyUnwrap", "KeyRotate",
  "CertificateCreate", "CertificateImport", "CertificateGet", "CertificateUpdate", "CertificateList", "CertificateDelete",
  "CertificatePendingGet", "CertificatePolicyUpdate", "CertificateRecover", "CertificatePurge",
];

const OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier";

/** The filters the API takes, in the order the form shows them. */
const FILTERS = ["from", "to", "operation", "caller", "result"];

/** `#/vault/NAME/audit[?filters]` for `filters` (empty values left out). */
export function auditHref(vault, filters = {}) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
  const text = query.toString();
  return `${vaultHref(vault, "audit")}${text ? `?${text}` : ""}`;
}

/** A `datetime-local` value (local time) as RFC 3339 in UTC, or "" when empty or invalid. */
function toRfc3339(local) {
  if (!local) return "";
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? "" : time.toISOString();
}

/** RFC 3339 -> a `datetime-local` value in local time (minutes), or "". */
function toLocal(text) {
  if (!text) return "";
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}`;
}

function when(text) {
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) return text ?? "—";
  return h("time", { datetime: time.toISOString() }, time.toLocaleString());
}

/** The request: its method and the path it addressed (without the vault's origin). */
function request(event) {
  const id = event.properties?.id ?? event.properties?.requestUri ?? "";
  let path = id || "—";
  try {
    path = new URL(id).pathname || "/";
  } catch {
    // Not a URL: shown as it is.
  }
  const method = event.properties?.httpMethod;
  return h("code", { class: "wrap" }, method ? `${method} ${path}` : path);
}

function caller(ctx, event) {
  const claims = event.identity?.claim ?? {};
  const objectId = claims[OBJECT_ID_CLAIM];
  if (!objectId) return h("span", { class: "muted" }, "anonymous");
  const you = ctx.session.account?.objectId === objectId;
  return h("span", {}, h("code", {}, objectId), you ? h("span", { class: "muted" }, " (you)") : null);
}

function result(event) {
  const ok = event.resultType === "Success";
  const status = event.properties?.httpStatusCode;
  return h("span", { class: `badge ${ok ? "ok" : "danger"}` }, `${event.resultType ?? "?"}${status ? ` (${status})` : ""}`);
}

const COLUMNS = (ctx) => [
  { label: "Time", cell: (event) => when(event.time) },
  { label: "Operation", cell: (event) => event.operationName ?? "—" },
  { label: "Result", cell: result },
  { label: "Caller", cell: (event) => caller(ctx, event) },
  { label: "Request", cell: request },
  { label: "Client IP", cell: (event) => event.callerIpAddress ?? "—" },
  { label: "Duration (ms)", cell: (event) => event.durationMs ?? "—" },
];

/** The filter form, filled from `filters`; submitting it moves to the filtered address. */
function filterForm(ctx, vault, filters) {
  const from = input("from", { type: "datetime-local", value: toLocal(filters.from) });
  const to = input("to", { type: "datetime-local", value: toLocal(filters.to) });
  const listId = `audit-operations-${vault.name}`;
  const operation = input("operation", { value: filters.operation ?? "", list: listId, spellcheck: "false" });
  const callerInput = input("caller", { value: filters.caller ?? "", spellcheck: "false" });
  const outcome = select("result", [["", "Any"], ["success", "Success"], ["failure", "Failure"]], filters.result ?? "");
  const apply = h("button", { type: "submit", class: "button primary" }, "Apply filters");
  const clear = h("a", { class: "button", href: auditHref(vault.name) }, "Clear filters");
  const element = h(
    "form",
    { class: "form filters", "aria-label": "Filter audit events", role: "search" },
    h(
      "div",
      { class: "filter-grid" },
      field("From", from, "Local time; events at or after it."),
      field("To", to, "Local time; events before it."),
      field("Operation", operation, "Such as SecretGet; several separated by commas."),
      field("Caller (object id)", callerInput),
      field("Result", outcome),
    ),
    h("datalist", { id: listId }, OPERATIONS.map((name) => h("option", { value: name }))),
    h("div", { class: "form-actions" }, apply, clear),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(
      auditHref(vault.name, {
        from: toRfc3339(from.value),
        to: toRfc3339(to.value),
        operation: operation.value.trim(),
        caller: callerInput.value.trim(),
        result: outcome.value,
      }),
    );
  });
  return element;
}

/** The audit log tab of vault `name`; `queryText` is the address's `?…` (the filters). */
export async function page(ctx, name, queryText = "") {
  const vault = await vaultOrError(ctx, name, `Audit log of ${name}`);
  const given = new URLSearchParams(queryText);
  const filters = Object.fromEntries(FILTERS.map((filter) => [filter, given.get(filter) ?? ""]));
  const query = new URLSearchParams({ vault: vault.name, top: String(PAGE_SIZE) });
  for (const filter of FILTERS) if (filters[filter]) query.set(filter, filters[filter]);
  const filtered = FILTERS.some((filter) => filters[filter]);

  const results = h("div", { class: "audit-results" });
  const status = h("p", { class: "muted", role: "status", hidden: true });
  const moreErrors = h("div", { class: "error-slot" });
  const events = [];
  let nextPath = null;
  const more = button("Show more", () =>
    busy(more, async () => {
      const firstNew = events.length;
      show(await ctx.api.auditEvents(nextPath));
      // The keyboard goes on where the new rows start (or stays on the button).
      const row = results.querySelectorAll("tbody th")[firstNew];
      if (row) {
        row.setAttribute("tabindex", "-1");
        row.focus();
      }
    }, moreErrors),
  );
  const show = (answer) => {
    events.push(...(answer?.value ?? []));
    replace(
      results,
      table({
        caption: { text: `Audit events of ${vault.name}, newest first${filtered ? " (filtered)" : ""}`, visible: true },
        columns: COLUMNS(ctx),
        rows: events,
        empty: filtered ? "No event matches these filters." : "No events recorded for this vault yet.",
      }),
    );
    replace(status, `${events.length} event${events.length === 1 ? "" : "s"} shown${answer?.nextLink ? "; older ones follow" : ""}.`);
    status.hidden = !events.length;
    const next = answer?.nextLink ? new URL(answer.nextLink, window.location.href) : null;
    nextPath = next ? `${next.pathname}${next.search}` : null;
    more.hidden = !nextPath;
  };
  let body;
  try {
    body = await ctx.api.auditEvents(`/strongroom/audit/events?${query}`);
  } catch (error) {
    if (error instanceof SignInRequired) throw error;
    more.hidden = true;
    replace(results, errorBox(error));
  }
  if (body) show(body);
  vaultPage(ctx, vault, { title: `Audit log of ${vault.name}`, tab: "audit" }, filterForm(ctx, vault, filters), h("div", { class: "panel" }, status, results, moreErrors, h("div", { class: "form-actions" }, more)));
}
