"use strict";
// Transparent mode: programs written for Azure, with Azure's names (https://V.vault.azure.net, tokens from
// login.microsoftonline.com, IMDS at 169.254.169.254), run with only the variables `strongroom env --proxy` prints
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, the CA variables) plus the credential a program reads, as
// tests/sdk-python/test_transparent.py does for Python. The SDK's pipeline and MSAL's network client both honour
// HTTPS_PROXY; MSAL knows login.microsoftonline.com's endpoints without fetching a discovery document.

const assert = require("node:assert/strict");
const { after, before, test } = require("node:test");
const { StrongroomServer, programEnv, runProgram, suiteRoot, uniqueName } = require("./harness/strongroom.js");
const { assertForbidden, assertSecretsScenario } = require("./harness/expect.js");

const SECRET_PERMISSIONS = ["get", "list", "set", "delete", "recover", "purge", "backup", "restore"];

let server;

before(async () => {
  server = await StrongroomServer.start(suiteRoot("transparent"));
});

after(async () => {
  await server?.stop();
});

const azureVaultUrl = (vault) => `https://${vault}.vault.azure.net`;

/** `strongroom env --proxy`'s variables plus a service principal's credential with the deployment's tenant GUID. */
async function servicePrincipalEnv(sp) {
  const exported = await server.env("--proxy");
  assert.equal(exported.HTTPS_PROXY, `http://127.0.0.1:${server.port}`);
  assert.equal(exported.HTTP_PROXY, exported.HTTPS_PROXY);
  assert.equal(exported.NODE_EXTRA_CA_CERTS, server.caFile);
  return programEnv(exported, {
    AZURE_TENANT_ID: server.tenantId,
    AZURE_CLIENT_ID: sp.appId,
    AZURE_CLIENT_SECRET: sp.password,
  });
}

test("ClientSecretCredential through the proxy: the secrets scenario at https://V.vault.azure.net", async () => {
  const vault = await server.createVault("js-tp");
  const sp = await server.createServicePrincipal("js-tp");
  await server.grantSecrets(vault, ["--spn", sp.appId], ...SECRET_PERMISSIONS);
  const report = await runProgram("secrets.js", ["client-secret", azureVaultUrl(vault)], await servicePrincipalEnv(sp));
  assertSecretsScenario(report, azureVaultUrl(vault));
});

test("DefaultAzureCredential through the proxy reads a secret", async () => {
  const { vault, name, value } = await server.vaultWithSecret("js-tp-default");
  const sp = await server.createServicePrincipal("js-tp-default");
  await server.grantSecrets(vault, ["--spn", sp.appId], "get");
  const report = await runProgram("read-secret.js", ["default", azureVaultUrl(vault), name], await servicePrincipalEnv(sp));
  assert.deepEqual(report, { value });
});

test("ManagedIdentityCredential through the proxy's IMDS reads a secret", async () => {
  const { vault, name, value } = await server.vaultWithSecret("js-imds");
  const identity = await server.createIdentity("js-imds");
  await server.grantSecrets(vault, ["--object-id", identity.principalId], "get", "list");
  const exported = await server.env("--proxy", "--identity", identity.name);
  const proxy = new URL(exported.HTTPS_PROXY);
  assert.equal(decodeURIComponent(proxy.username), identity.clientId);
  assert.equal(proxy.host, `127.0.0.1:${server.port}`);
  const report = await runProgram(
    "read-secret.js",
    ["managed-identity", azureVaultUrl(vault), name],
    programEnv(exported),
  );
  assert.deepEqual(report, { value });
});

test("a managed identity without an access policy gets a 403 RestError with code Forbidden", async () => {
  const { vault, name } = await server.vaultWithSecret("js-imds-no");
  const identity = await server.createIdentity("js-imds-no");
  const exported = await server.env("--proxy", "--identity", identity.name);
  const report = await runProgram(
    "read-secret.js",
    ["managed-identity", azureVaultUrl(vault), name],
    programEnv(exported),
  );
  assertForbidden(report);
});

test("wrong proxy credentials are refused with 407 before any token is asked for", async () => {
  const { vault, name } = await server.vaultWithSecret("js-imds-bad");
  const identity = await server.createIdentity("js-imds-wrong");
  const exported = await server.env("--proxy", "--identity", identity.name);
  const wrong = new URL(exported.HTTPS_PROXY);
  wrong.password = uniqueName("wrong");
  const report = await runProgram(
    "read-secret.js",
    ["managed-identity", azureVaultUrl(vault), name],
    programEnv(exported, { HTTPS_PROXY: wrong.href, HTTP_PROXY: wrong.href }),
  );
  // The SDK's first request is the vault's (bodiless, for the challenge): its CONNECT gets the 407.
  assert.deepEqual(report, { restError: { name: "RestError", statusCode: 407 } });
});
