// The public APIs the console calls with the signed-in user's token, and nothing else:
// Azure Resource Manager and Microsoft Graph on this origin, and each vault's data plane on
// its own host (`properties.vaultUri`, cross-origin: the vault hosts allow this origin).
// Errors keep Azure's `error.code` and `error.message`.

const ARM_VERSION = "2023-07-01";
const ROLES_VERSION = "2022-04-01";
const IDENTITY_VERSION = "2023-01-31";
const VAULT_VERSION = "7.5";
/** At most this many pages of a list are followed. */
const MAX_PAGES = 100;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(session, config) {
    this.session = session;
    this.config = config;
    this.subscription = null;
  }

  async call(url, { method = "GET", body, scope }) {
    const token = await this.session.token(scope);
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      throw new ApiError(0, "NetworkError", `${new URL(url, window.location.href).host} could not be reached (${error.message}).`);
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const error = json?.error;
      const message = typeof error === "object" && error ? error.message : json?.error_description;
      throw new ApiError(response.status, (typeof error === "object" ? error?.code : error) ?? String(response.status), message || text || response.statusText);
    }
    return { status: response.status, body: json };
  }

  /** Every item of a paged list (`value` + `nextLink`). */
  async all(url, scope) {
    const items = [];
    let next = url;
    for (let page = 0; next && page < MAX_PAGES; page += 1) {
      const { body } = await this.call(next, { scope });
      items.push(...(body?.value ?? []));
      next = body?.nextLink ?? null;
    }
    return items;
  }

  // --- Resource Manager (same origin) ---

  arm(path, { method = "GET", body, version = ARM_VERSION } = {}) {
    const join = path.includes("?") ? "&" : "?";
    return this.call(`${path}${join}api-version=${version}`, { method, body, scope: this.config.managementScope }).then((r) => r.body);
  }

  armList(path, version = ARM_VERSION) {
    const join = path.includes("?") ? "&" : "?";
    return this.all(`${path}${join}api-version=${version}`, this.config.managementScope);
  }

  /** The subscription: the first one ARM lists for the user, else the deployment's. */
  async subscriptionId() {
    if (this.subscription) return this.subscription;
    try {
      const subscriptions = await this.armList("/subscriptions", "2022-12-01");
      this.subscription = subscriptions[0]?.subscriptionId ?? this.config.subscriptionId;
    } catch {
      this.subscription = this.config.subscriptionId;
    }
    return this.subscription;
  }

  async listVaults() {
    const sub = await this.subscriptionId();
    return this.armList(`/subscriptions/${sub}/providers/Microsoft.KeyVault/vaults`);
  }

  async createVault(group, name, properties, location = "local", tags = {}) {
    const sub = await this.subscriptionId();
    return this.arm(`/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.KeyVault/vaults/${encodeURIComponent(name)}`, {
      method: "PUT",
      body: { location, tags, properties },
    });
  }

  deleteVault(id) {
    return this.arm(id, { method: "DELETE" });
  }

  async listDeletedVaults() {
    const sub = await this.subscriptionId();
    return this.armList(`/subscriptions/${sub}/providers/Microsoft.KeyVault/deletedVaults`);
  }

  /** A deleted vault comes back with a PUT of `createMode: recover` in its old group. */
  async recoverVault(deleted) {
    const sub = await this.subscriptionId();
    const group = resourceGroupOf(deleted.properties.vaultId) ?? "strongroom";
    return this.arm(`/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.KeyVault/vaults/${encodeURIComponent(deleted.name)}`, {
      method: "PUT",
      body: { location: deleted.properties.location, properties: { tenantId: this.config.tenantId, sku: { family: "A", name: "standard" }, createMode: "recover" } },
    });
  }

  purgeDeletedVault(deleted) {
    return this.arm(`${deleted.id}/purge`, { method: "POST" });
  }

  updateAccessPolicies(vaultId, operation, policies) {
    return this.arm(`${vaultId}/accessPolicies/${operation}`, { method: "PUT", body: { properties: { accessPolicies: policies } } });
  }

  roleAssignments(scope) {
    return this.armList(`${scope}/providers/Microsoft.Authorization/roleAssignments`, ROLES_VERSION);
  }

  roleDefinitions(scope) {
    return this.armList(`${scope}/providers/Microsoft.Authorization/roleDefinitions`, ROLES_VERSION);
  }

  assignRole(scope, roleDefinitionId, principalId, principalType) {
    return this.arm(`${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`, {
      method: "PUT",
      version: ROLES_VERSION,
      body: { properties: { roleDefinitionId, principalId, principalType } },
    });
  }

  deleteRoleAssignment(id) {
    return this.arm(id, { method: "DELETE", version: ROLES_VERSION });
  }

  async listIdentities() {
    const sub = await this.subscriptionId();
    return this.armList(`/subscriptions/${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, IDENTITY_VERSION);
  }

  async createIdentity(group, name, location = "local") {
    const sub = await this.subscriptionId();
    return this.arm(`/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${encodeURIComponent(name)}`, {
      method: "PUT",
      version: IDENTITY_VERSION,
      body: { location },
    });
  }

  deleteIdentity(id) {
    return this.arm(id, { method: "DELETE", version: IDENTITY_VERSION });
  }

  // --- Strongroom's own API (same origin, the management token) ---

  /** A page of audit events: `/strongroom/audit/events?…` (or a `nextLink`'s path and query). */
  auditEvents(pathAndQuery) {
    return this.call(pathAndQuery, { scope: this.config.managementScope }).then((r) => r.body);
  }

  // --- Microsoft Graph (same origin) ---

  graph(path, { method = "GET", body } = {}) {
    return this.call(`/v1.0/${path}`, { method, body, scope: this.config.graphScope }).then((r) => r.body);
  }

  graphList(path) {
    return this.all(`/v1.0/${path}`, this.config.graphScope);
  }

  // --- A vault's data plane (its own host) ---

  /** The data plane of the vault at `vaultUri` (`https://{name}.vault.{domain}:{port}/`). */
  vault(vaultUri) {
    return new VaultClient(this, vaultUri.replace(/\/?$/, "/"));
  }

  /** Where vault `name` lives, for a user who knows it only by name. */
  vaultUri(name) {
    return `https://${name}.${this.config.vaultHostSuffix}/`;
  }
}

/** `/subscriptions/S/resourceGroups/G/...` -> G. */
export function resourceGroupOf(id) {
  const match = /\/resourceGroups\/([^/]+)/i.exec(id ?? "");
  return match ? decodeURIComponent(match[1]) : null;
}

class VaultClient {
  constructor(api, base) {
    this.api = api;
    this.base = base;
  }

  url(path) {
    const join = path.includes("?") ? "&" : "?";
    return `${this.base}${path.replace(/^\//, "")}${join}api-version=${VAULT_VERSION}`;
  }

  request(method, path, body) {
    return this.api.call(this.url(path), { method, body, scope: this.api.config.vaultScope });
  }

  get(path) {
    return this.request("GET", path).then((r) => r.body);
  }

  put(path, body) {
    return this.request("PUT", path, body).then((r) => r.body);
  }

  post(path, body = {}) {
    return this.request("POST", path, body).then((r) => r.body);
  }

  patch(path, body) {
    return this.request("PATCH", path, body).then((r) => r.body);
  }

  delete(path) {
    return this.request("DELETE", path).then((r) => r.body);
  }

  /** Every item of a collection (`secrets`, `keys/NAME/versions`, `deletedcertificates`…). */
  list(path) {
    return this.api.all(this.url(`${path}${path.includes("?") ? "&" : "?"}maxresults=25`), this.api.config.vaultScope);
  }
}

/** The last path segment of a Key Vault id (`…/secrets/NAME[/VERSION]`). */
export function nameOf(id) {
  return new URL(id).pathname.split("/")[2] ?? "";
}

export function versionOf(id) {
  return new URL(id).pathname.split("/")[3] ?? "";
}
