// Sign-in: the OAuth2 authorization-code flow with PKCE (S256) against Strongroom's identity
// service, as the public client of `config.json`. The code comes back in the URL's fragment
// (`response_mode=fragment`), which the browser never sends to a server: it reaches no access
// or audit log, and is cleared from the address bar as soon as it is read. Tokens live in this
// module's memory only:
// a reload signs in again (silently, `prompt=none`, while the identity service's own session
// lasts). Only the one-use PKCE verifier, state and nonce cross the redirect, in
// sessionStorage, and are removed as soon as the browser is back.

const PENDING = "strongroom.console.signin";
const SILENT_TRIED = "strongroom.console.silent";
/** Renew a token this long before it expires. */
const EARLY_SECONDS = 300;

export class SignInRequired extends Error {
  constructor(message) {
    super(message);
    this.name = "SignInRequired";
  }
}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function random(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(text) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** The claims of a JWT (not verified: it came straight from our own token endpoint over TLS). */
function claims(jwt) {
  const part = jwt.split(".")[1] ?? "";
  const padded = part.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export class Session {
  constructor(config) {
    this.config = config;
    this.origin = window.location.origin;
    this.redirectUri = `${this.origin}/`;
    const authority = `${this.origin}/${config.authority}/oauth2/v2.0`;
    this.authorizeEndpoint = `${authority}/authorize`;
    this.tokenEndpoint = `${authority}/token`;
    this.logoutEndpoint = `${authority}/logout`;
    /** scope -> {token, expiresAt} */
    this.tokens = new Map();
    this.refreshToken = null;
    this.account = null;
    /** Refreshes run one after another: each answer replaces the refresh token. */
    this.queue = Promise.resolve();
  }

  /** Sends the browser to the authorize endpoint; `returnTo` is the route to show after. */
  async signIn(prompt = null, returnTo = window.location.hash) {
    const state = random(16);
    const nonce = random(16);
    const verifier = random(32);
    sessionStorage.setItem(PENDING, JSON.stringify({ state, nonce, verifier, returnTo, prompt }));
    if (prompt === "none") sessionStorage.setItem(SILENT_TRIED, String(Date.now()));
    const query = new URLSearchParams({
      client_id: this.config.clientId,
      response_type: "code",
      redirect_uri: this.redirectUri,
      scope: `${this.config.managementScope} openid profile offline_access`,
      state,
      nonce,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
      response_mode: "fragment",
    });
    if (prompt) query.set("prompt", prompt);
    window.location.assign(`${this.authorizeEndpoint}?${query}`);
  }

  /** Whether a silent attempt just came back without a session (so no loop of redirects). */
  silentJustTried() {
    const at = Number(sessionStorage.getItem(SILENT_TRIED) ?? 0);
    return Date.now() - at < 15000;
  }

  /**
   * Finishes a sign-in if the URL's fragment carries its answer (`#code=…` or `#error=…`;
   * the console's own routes are `#/…`): returns `{returnTo}` when signed in, `{error,
   * description, prompt}` when the identity service refused, `null` when there is none.
   */
  async complete() {
    const fragment = window.location.hash.replace(/^#/, "");
    const query = new URLSearchParams(fragment.startsWith("/") ? "" : fragment);
    if (!query.has("code") && !query.has("error")) return null;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
    sessionStorage.removeItem(PENDING);
    const returnTo = pending?.returnTo || "#/vaults";
    // The code must not stay in the address bar or the history.
    window.history.replaceState(null, "", `/${returnTo}`);
    if (!pending || query.get("state") !== pending.state) {
      return { error: "state_mismatch", description: "The sign-in answer does not match a sign-in started here. Please sign in again." };
    }
    if (query.has("error")) {
      return { error: query.get("error"), description: query.get("error_description") ?? "", prompt: pending.prompt };
    }
    const answer = await this.tokenRequest({
      grant_type: "authorization_code",
      client_id: this.config.clientId,
      code: query.get("code"),
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
      scope: `${this.config.managementScope} openid profile offline_access`,
    });
    if (answer.id_token) {
      const identity = claims(answer.id_token);
      if (identity.nonce !== pending.nonce) {
        return { error: "nonce_mismatch", description: "The sign-in answer was not made for this sign-in. Please sign in again." };
      }
      this.account = {
        name: identity.name ?? identity.preferred_username ?? identity.oid,
        username: identity.preferred_username ?? "",
        objectId: identity.oid,
        tenantId: identity.tid,
      };
    } else {
      const access = claims(answer.access_token);
      this.account = { name: access.name ?? access.oid, username: "", objectId: access.oid, tenantId: access.tid };
    }
    this.keep(this.config.managementScope, answer);
    sessionStorage.removeItem(SILENT_TRIED);
    return { returnTo };
  }

  keep(scope, answer) {
    this.tokens.set(scope, { token: answer.access_token, expiresAt: Date.now() / 1000 + Number(answer.expires_in ?? 3599) });
    if (answer.refresh_token) this.refreshToken = answer.refresh_token;
  }

  async tokenRequest(form) {
    let response;
    try {
      response = await fetch(this.tokenEndpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new Error(`The identity service could not be reached: ${error.message}`);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = body.error_description || body.error || `The token endpoint answered ${response.status}.`;
      if (body.error === "invalid_grant" || body.error === "interaction_required") throw new SignInRequired(message);
      throw new Error(message);
    }
    return body;
  }

  /** An access token for `scope` (`…/.default`), renewed with the refresh token when due. */
  async token(scope) {
    const held = this.tokens.get(scope);
    if (held && held.expiresAt - EARLY_SECONDS > Date.now() / 1000) return held.token;
    const run = this.queue.then(async () => {
      const again = this.tokens.get(scope);
      if (again && again.expiresAt - EARLY_SECONDS > Date.now() / 1000) return again.token;
      if (!this.refreshToken) throw new SignInRequired("Your session has ended. Please sign in again.");
      const answer = await this.tokenRequest({
        grant_type: "refresh_token",
        client_id: this.config.clientId,
        refresh_token: this.refreshToken,
        scope: `${scope} offline_access`,
      });
      this.keep(scope, answer);
      return answer.access_token;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forgets every token and ends the identity service's session. */
  signOut() {
    this.tokens.clear();
    this.refreshToken = null;
    this.account = null;
    sessionStorage.removeItem(PENDING);
    sessionStorage.setItem(SILENT_TRIED, String(Date.now()));
    const query = new URLSearchParams({ post_logout_redirect_uri: this.redirectUri });
    window.location.assign(`${this.logoutEndpoint}?${query}`);
  }
}
