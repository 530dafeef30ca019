// The console's entry point: reads `config.json`, signs in (or finishes a sign-in), then routes
// `#/…` addresses to pages. Each page renders into `<main>` and focuses its heading.

import { Session, SignInRequired } from "./auth.js";
import { Api } from "./api.js";
import { h, replace, page, loading, errorBox, button, busy } from "./ui.js";
import * as vaults from "./vaults.js";
import * as secrets from "./secrets.js";
import * as keys from "./keys.js";
import * as certificates from "./certificates.js";
import * as objects from "./objects.js";
import { vaultPage } from "./objects.js";
import * as access from "./access.js";
import * as principals from "./principals.js";
import * as audit from "./audit.js";

const ROUTES = [
  [/^#\/vaults$/, (ctx) => vaults.list(ctx)],
  [/^#\/vaults\/new$/, (ctx) => vaults.create(ctx)],
  [/^#\/deleted-vaults$/, (ctx) => vaults.deleted(ctx)],
  [/^#\/open$/, (ctx) => vaults.open(ctx)],
  [/^#\/vault\/([^/]+)$/, (ctx, v) => secrets.list(ctx, v)],
  [/^#\/vault\/([^/]+)\/secrets$/, (ctx, v) => secrets.list(ctx, v)],
  [/^#\/vault\/([^/]+)\/new\/secrets$/, (ctx, v) => secrets.create(ctx, v)],
  [/^#\/vault\/([^/]+)\/secrets\/([^/]+)$/, (ctx, v, n) => secrets.detail(ctx, v, n)],
  [/^#\/vault\/([^/]+)\/keys$/, (ctx, v) => keys.list(ctx, v)],
  [/^#\/vault\/([^/]+)\/new\/keys$/, (ctx, v) => keys.create(ctx, v)],
  [/^#\/vault\/([^/]+)\/keys\/([^/]+)$/, (ctx, v, n) => keys.detail(ctx, v, n)],
  [/^#\/vault\/([^/]+)\/certificates$/, (ctx, v) => certificates.list(ctx, v)],
  [/^#\/vault\/([^/]+)\/new\/certificates$/, (ctx, v) => certificates.create(ctx, v)],
  [/^#\/vault\/([^/]+)\/certificates\/([^/]+)$/, (ctx, v, n) => certificates.detail(ctx, v, n)],
  [/^#\/vault\/([^/]+)\/deleted$/, (ctx, v) => objects.deleted(ctx, v)],
  [/^#\/vault\/([^/]+)\/access$/, (ctx, v) => access.page(ctx, v)],
  // The filters ride in the address after `?` (read by the page itself, undecoded).
  [/^#\/vault\/([^/?]+)\/audit(?:\?.*)?$/, (ctx, v) => audit.page(ctx, v, window.location.hash.split("?")[1] ?? "")],
  [/^#\/principals$/, (ctx) => principals.list(ctx)],
  [/^#\/identities$/, (ctx) => principals.identities(ctx)],
];

/** What every page receives. */
class Context {
  constructor(config, session, api) {
    this.config = config;
    this.session = session;
    this.api = api;
    /** Vault name -> {uri, resource (ARM, or null), armError}. */
    this.vaults = new Map();
  }

  navigate(hash) {
    if (window.location.hash === hash) render(this);
    else window.location.hash = hash;
  }

  /** The vault's ARM resource when the user may read it, and its data-plane URI either way. */
  async vault(name, { fresh = false } = {}) {
    if (!fresh && this.vaults.has(name)) return this.vaults.get(name);
    let found = { name, uri: this.api.vaultUri(name), resource: null, armError: null };
    try {
      const all = await this.api.listVaults();
      for (const resource of all) {
        this.vaults.set(resource.name, { name: resource.name, uri: resource.properties.vaultUri, resource, armError: null });
      }
      const resource = all.find((v) => v.name.toLowerCase() === name.toLowerCase());
      if (resource) found = this.vaults.get(resource.name);
    } catch (error) {
      if (error instanceof SignInRequired) throw error;
      found.armError = error;
    }
    this.vaults.set(name, found);
    return found;
  }

  forgetVaults() {
    this.vaults.clear();
  }
}

async function render(ctx) {
  const hash = window.location.hash || "#/vaults";
  if (!hash.startsWith("#/")) return;
  markNav(hash);
  for (const [pattern, show] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      const args = match.slice(1).map(decodeURIComponent);
      try {
        await show(ctx, ...args);
      } catch (error) {
        if (error instanceof SignInRequired) return signedOut(ctx, error.message);
        showFailure(ctx, hash, error);
      }
      return;
    }
  }
  page({ title: "Page not found" }, h("p", {}, "There is no such page. "), h("a", { href: "#/vaults" }, "Go to key vaults"));
}

const TAB_TITLES = { secrets: "Secrets", keys: "Keys", certificates: "Certificates", deleted: "Deleted objects", access: "Access", audit: "Audit log" };

/**
 * A page that failed (Azure's error shown); inside a vault, the vault's tabs stay so a user
 * refused one kind of object can still reach the others.
 */
function showFailure(ctx, hash, error) {
  const match = /^#\/vault\/([^/]+)(?:\/(new\/)?([^/?]+))?/.exec(hash);
  const vault = match && ctx.vaults.get(decodeURIComponent(match[1]));
  if (vault) {
    const tab = match[3] && TAB_TITLES[match[3]] ? match[3] : "secrets";
    return vaultPage(ctx, vault, { title: `${TAB_TITLES[tab]} in ${vault.name}`, tab }, errorBox(error));
  }
  return page({ title: "Something went wrong" }, errorBox(error));
}

/** The side navigation marks the section of the current page. */
function markNav(hash) {
  let section = `#/${hash.slice(2).split("/")[0]}`;
  if (section === "#/vault" || section === "#/deleted-vaults") section = "#/vaults";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function showAccount(ctx) {
  const account = ctx.session.account;
  const signOut = button("Sign out", () => ctx.session.signOut());
  replace(document.getElementById("account"), h("span", { class: "account-name" }, h("span", { class: "visually-hidden" }, "Signed in as "), account.name, account.username && account.username !== account.name ? h("span", { class: "muted" }, ` (${account.username})`) : null), signOut);
  document.getElementById("nav").hidden = false;
}

/** The landing page: not signed in (or the session ended). */
function signedOut(ctx, message = null) {
  document.getElementById("nav").hidden = true;
  replace(document.getElementById("account"));
  const signIn = button("Sign in", () => busy(signIn, () => ctx.session.signIn("select_account", window.location.hash || "#/vaults")), { kind: "primary" });
  page(
    { title: "Sign in to Strongroom" },
    message ? errorBox({ message }) : null,
    h("p", {}, "Manage key vaults, their secrets, keys and certificates, and who may use them."),
    h("p", {}, signIn),
  );
}

async function start() {
  document.querySelector(".skip-link")?.addEventListener("click", (event) => {
    event.preventDefault();
    (document.getElementById("page-title") ?? document.getElementById("main")).focus();
  });
  loading("Strongroom");
  let config;
  try {
    const response = await fetch("/console/config.json", { cache: "no-store" });
    config = await response.json();
  } catch (error) {
    page({ title: "Strongroom" }, errorBox({ message: `The console's configuration could not be read: ${error.message}` }));
    return;
  }
  const session = new Session(config);
  const ctx = new Context(config, session, new Api(session, config));
  let outcome;
  try {
    outcome = await session.complete();
  } catch (error) {
    return signedOut(ctx, error.message);
  }
  if (outcome?.error) {
    // A silent attempt without a session is the normal way to land here signed out.
    const quiet = ["login_required", "interaction_required", "consent_required"].includes(outcome.error) && outcome.prompt === "none";
    return signedOut(ctx, quiet ? null : `${outcome.error}: ${outcome.description}`);
  }
  if (!outcome) {
    if (session.silentJustTried()) return signedOut(ctx);
    loading("Signing in…");
    await session.signIn("none");
    return undefined;
  }
  showAccount(ctx);
  window.addEventListener("hashchange", () => render(ctx));
  return render(ctx);
}

start();
