// DOM helpers for the console: every element is built with `h` (text is always a text node,
// never parsed as HTML), every input gets a label, and each page puts focus on its heading.

let nextId = 0;

/** A fresh element id (labels, descriptions). */
export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "required", "selected", "multiple", "readOnly", "open"]);

/**
 * `h("button", {class: "primary", onclick: f}, "Save")`. Attributes starting with `on` are
 * listeners, a few are properties, `null`/`false` ones are left out; children are nodes,
 * strings (text) or arrays of them; `null`, `undefined` and `false` children are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else if (name === "class") {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces `element`'s children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const main = () => document.getElementById("main");

/** Shows "Loading…" in the main landmark while a page fetches. */
export function loading(title) {
  const region = main();
  region.setAttribute("aria-busy", "true");
  replace(region, h("h1", { tabindex: "-1" }, title), h("p", { class: "muted" }, "Loading…"));
}

/**
 * Renders a page: its heading (which takes focus, so a screen reader announces the new page),
 * an optional breadcrumb and the content.
 */
export function page({ title, breadcrumb = null, actions = null }, ...content) {
  const region = main();
  region.removeAttribute("aria-busy");
  const heading = h("h1", { tabindex: "-1", id: "page-title" }, title);
  replace(
    region,
    breadcrumb ? h("nav", { "aria-label": "Breadcrumb", class: "breadcrumb" }, h("ol", {}, breadcrumb.map((item) => h("li", {}, item)))) : null,
    h("div", { class: "page-head" }, heading, actions ? h("div", { class: "actions" }, actions) : null),
    content,
  );
  document.title = `${title} – Strongroom`;
  heading.focus();
}

/** A link styled as a button (navigation), e.g. "New secret". */
export function linkButton(href, text, primary = false) {
  return h("a", { class: primary ? "button primary" : "button", href }, text);
}

export function button(text, onclick, { kind = "", label = null, type = "button" } = {}) {
  return h("button", { type, class: kind ? `button ${kind}` : "button", onclick, "aria-label": label }, text);
}

/**
 * Runs `work` with `control` disabled and marked busy; returns its result, or shows its error
 * in `errorSlot` (or as a toast) and returns undefined.
 */
export async function busy(control, work, errorSlot = null) {
  const previous = control?.textContent;
  if (control) {
    control.disabled = true;
    control.setAttribute("aria-busy", "true");
  }
  if (errorSlot) replace(errorSlot);
  try {
    return await work();
  } catch (error) {
    if (errorSlot) showError(errorSlot, error);
    else toast(errorMessage(error), "error");
    return undefined;
  } finally {
    if (control && control.isConnected) {
      control.disabled = false;
      control.removeAttribute("aria-busy");
      control.textContent = previous;
    }
  }
}

/** The message to show for an error: Azure's `error.message` when there is one. */
export function errorMessage(error) {
  return error?.message || String(error);
}

/** An alert box with an error (Azure's code and message). */
export function errorBox(error, extra = null) {
  const code = error?.code && error.code !== String(error.status) ? error.code : null;
  return h(
    "div",
    { class: "alert error", role: "alert" },
    h("p", { class: "alert-title" }, error?.status ? `Error ${error.status}${code ? `: ${code}` : ""}` : code ?? "Error"),
    h("p", { class: "alert-message" }, errorMessage(error)),
    extra,
  );
}

export function showError(slot, error) {
  replace(slot, errorBox(error));
}

/** A region where a form's error appears (announced when it does). */
export function errorSlot() {
  return h("div", { class: "error-slot" });
}

/** A short, polite status message in the corner. */
export function toast(message, kind = "info") {
  const region = document.getElementById("toast");
  const item = h("p", { class: `toast ${kind}` }, message);
  region.appendChild(item);
  setTimeout(() => item.remove(), 6000);
}

/**
 * A labelled form field. `control` is an input, select or textarea; its id is set and the
 * label points at it; `hint` becomes its accessible description.
 */
export function field(labelText, control, hint = null) {
  const id = control.id || uid();
  control.id = id;
  let hintElement = null;
  if (hint) {
    hintElement = h("p", { class: "hint", id: `${id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintElement.id);
  }
  if (control.type === "checkbox") {
    return h("div", { class: "field checkbox" }, control, h("label", { for: id }, labelText), hintElement);
  }
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control, hintElement);
}

export function input(name, { type = "text", value = "", required = false, placeholder = null, pattern = null, autocomplete = "off", min = null, max = null, list = null, spellcheck = null } = {}) {
  return h("input", { name, type, value, required, placeholder, pattern, autocomplete, min, max, list, spellcheck });
}

export function checkbox(name, checked = false) {
  return h("input", { name, type: "checkbox", checked });
}

export function select(name, options, selected = null) {
  return h(
    "select",
    { name },
    options.map((option) => {
      const [value, text] = Array.isArray(option) ? option : [option, option];
      return h("option", { value, selected: value === selected }, text);
    }),
  );
}

export function textarea(name, { value = "", rows = 4, required = false, spellcheck = "false" } = {}) {
  return h("textarea", { name, rows, required, spellcheck, value });
}

/** A group of checkboxes in a fieldset with a legend. */
export function checkboxGroup(legend, name, options, checked = []) {
  const set = new Set(checked.map((c) => c.toLowerCase()));
  return h(
    "fieldset",
    { class: "checkbox-group" },
    h("legend", {}, legend),
    h(
      "div",
      { class: "checkbox-grid" },
      options.map((option) => field(option, h("input", { type: "checkbox", name, value: option, checked: set.has(option.toLowerCase()) }))),
    ),
  );
}

/** The values of the checked boxes called `name` in `form`. */
export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[type=checkbox][name="${name}"]`)].filter((c) => c.checked).map((c) => c.value);
}

/**
 * A form with a submit button; `onsubmit` receives the form and runs with the button busy;
 * its error shows above the buttons.
 */
export function form({ label, submitText, onsubmit, cancelHref = null }, ...fields) {
  const errors = errorSlot();
  const submit = h("button", { type: "submit", class: "button primary" }, submitText);
  const element = h(
    "form",
    { "aria-label": label, class: "form", novalidate: false },
    fields,
    errors,
    h("div", { class: "form-actions" }, submit, cancelHref ? linkButton(cancelHref, "Cancel") : null),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!element.reportValidity()) return;
    busy(submit, () => onsubmit(element), errors);
  });
  return element;
}

/**
 * A data table. `columns`: [{label, cell(row) -> node|string}]; an empty list shows
 * `empty` instead.
 */
export function table({ caption, columns, rows, empty = "Nothing here yet." }) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: caption?.visible ? "" : "visually-hidden" }, caption?.text ?? caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c, index) => (index === 0 ? h("th", { scope: "row" }, c.cell(row)) : h("td", {}, c.cell(row))))))),
    ),
  );
}

/** A description list of [term, value] pairs (a resource's properties). */
export function properties(pairs) {
  return h(
    "dl",
    { class: "properties" },
    pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]),
  );
}

export function section(title, ...content) {
  const id = uid("s");
  return h("section", { "aria-labelledby": id, class: "panel" }, h("h2", { id }, title), content);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

/** Enabled / Disabled / Expired / Not yet valid, from Key Vault attributes. */
export function status(attributes) {
  const now = Date.now() / 1000;
  if (!attributes) return badge("Unknown");
  if (attributes.enabled === false) return badge("Disabled", "muted");
  if (attributes.exp && attributes.exp < now) return badge("Expired", "danger");
  if (attributes.nbf && attributes.nbf > now) return badge("Not yet valid", "warning");
  return badge("Enabled", "ok");
}

/** A Unix time (seconds) as a local date and time; "—" when absent. */
export function date(seconds) {
  if (!seconds) return "—";
  const value = new Date(seconds * 1000);
  return h("time", { datetime: value.toISOString() }, value.toLocaleString());
}

/** Seconds -> the `datetime-local` input's value (local time). */
export function toLocalInput(seconds) {
  if (!seconds) return "";
  const value = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}T${pad(value.getHours())}:${pad(value.getMinutes())}`;
}

/** A `datetime-local` value -> Unix seconds, or undefined when empty. */
export function fromLocalInput(text) {
  if (!text) return undefined;
  return Math.floor(new Date(text).getTime() / 1000);
}

/** Tags as "key=value" lines, and back. */
export function tagsText(tags) {
  return Object.entries(tags ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

export function parseTags(text) {
  const tags = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    if (at <= 0) throw new Error(`Tag "${trimmed}" is not of the form key=value.`);
    tags[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return tags;
}

export function tagList(tags) {
  const entries = Object.entries(tags ?? {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "tags" }, entries.map(([k, v]) => h("li", {}, `${k}: ${v}`)));
}

/**
 * Asks for confirmation in a modal `<dialog>` (focus moves into it and returns to the opener
 * afterwards; Escape cancels). Resolves to true when confirmed.
 */
export function confirm(message, { confirmText = "Delete", danger = true } = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid("d");
    const cancel = h("button", { type: "button", class: "button" }, "Cancel");
    const ok = h("button", { type: "button", class: danger ? "button danger" : "button primary" }, confirmText);
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId }, h("h2", { id: titleId }, "Please confirm"), h("p", {}, message), h("div", { class: "form-actions" }, ok, cancel));
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(answer);
    };
    ok.addEventListener("click", () => close(true));
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Saves `blob` as a file called `name` (a download, no navigation). */
export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, class: "visually-hidden" }, name);
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Tabs as links (each its own route); the current one has `aria-current="page"`. */
export function tabs(label, items, current) {
  return h(
    "nav",
    { "aria-label": label, class: "tabs" },
    h(
      "ul",
      {},
      items.map(([key, text, href]) => h("li", {}, h("a", { href, "aria-current": key === current ? "page" : null }, text))),
    ),
  );
}
