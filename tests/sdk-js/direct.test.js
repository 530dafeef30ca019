"use strict";
// Direct mode: unmodified SDK programs with exactly the variables `strongroom env --vault V` prints
// (AZURE_TENANT_ID=adfs, AZURE_CLIENT_ID/SECRET of V's own application principal, AZURE_AUTHORITY_HOST,
// AZURE_KEYVAULT_URL, NODE_EXTRA_CA_CERTS), vaults at https://V.vault.localhost:PORT (resolved in-process).
//
// MSAL for Node fetches `/adfs/.well-known/openid-configuration` and refuses a document whose `issuer` is not on the
// authority's origin (docs/reference/msal-node.md): the first test checks the documents, the others that the SDK
// then works end to end.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const https = require("node:https");
const { after, before, test } = require("node:test");
const { StrongroomServer, programEnv, runProgram, suiteRoot, uniqueName } = require("./harness/strongroom.js");
const { assertForbidden, assertSecretsScenario } = require("./harness/expect.js");

let server;

before(async () => {
  server = await StrongroomServer.start(suiteRoot("direct"));
});

after(async () => {
  await server?.stop();
});

/** A new vault and the environment `strongroom env --vault` prints for it. */
async function vaultEnv(prefix) {
  const vault = await server.createVault(prefix);
  return { vault, env: await server.env("--vault", vault) };
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: fs.readFileSync(server.caFile) }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
      })
      .on("error", reject);
  });
}

test("strongroom env --vault prints what the JavaScript SDK reads", async () => {
  const { vault, env } = await vaultEnv("js-env");
  assert.equal(env.AZURE_TENANT_ID, "adfs");
  assert.equal(env.AZURE_AUTHORITY_HOST, server.authorityHost);
  assert.equal(env.AZURE_KEYVAULT_URL, server.vaultUrl(vault));
  assert.equal(env.NODE_EXTRA_CA_CERTS, server.caFile);
  assert.match(env.AZURE_CLIENT_ID, /^[0-9a-f-]{36}$/);
  assert.ok(env.AZURE_CLIENT_SECRET.length >= 32);
});

test("the OIDC documents MSAL for Node fetches name an issuer on the authority's origin", async () => {
  const origin = server.authorityHost;
  for (const [path, issuer, tokenEndpoint] of [
    ["/adfs/.well-known/openid-configuration", `${origin}/adfs`, `${origin}/adfs/oauth2/v2.0/token`],
    [
      `/${server.tenantId}/v2.0/.well-known/openid-configuration`,
      `${origin}/${server.tenantId}/v2.0`,
      `${origin}/${server.tenantId}/oauth2/v2.0/token`,
    ],
  ]) {
    const { status, body } = await getJson(`${origin}${path}`);
    assert.equal(status, 200, path);
    // msal-common's isOpenIdConfigResponse requires all four; validateIssuer compares scheme, host and port.
    assert.equal(body.issuer, issuer, path);
    assert.equal(body.token_endpoint, tokenEndpoint, path);
    assert.ok(body.authorization_endpoint.startsWith(`${origin}/`), path);
    assert.ok(body.jwks_uri.startsWith(`${origin}/`), path);
  }
});

test("DefaultAzureCredential + SecretClient: set, get, list over pages, update, delete, recover, purge, backup, restore", async () => {
  const { vault, env } = await vaultEnv("js-default");
  const report = await runProgram("secrets.js", ["default"], programEnv(env));
  assertSecretsScenario(report, server.vaultUrl(vault));
});

test("ClientSecretCredential + SecretClient: the same scenario", async () => {
  const { vault, env } = await vaultEnv("js-csc");
  const report = await runProgram("secrets.js", ["client-secret"], programEnv(env));
  assertSecretsScenario(report, server.vaultUrl(vault));
});

test("ClientSecretCredential with the tenant GUID and disableInstanceDiscovery (the v2 discovery document)", async () => {
  const { vault, env } = await vaultEnv("js-guid");
  const name = uniqueName("secret");
  await server.cliJson("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", "guid-tenant");
  const report = await runProgram(
    "read-secret.js",
    ["client-secret-no-discovery", server.vaultUrl(vault), name],
    programEnv(env, { AZURE_TENANT_ID: server.tenantId }),
  );
  assert.deepEqual(report, { value: "guid-tenant" });
});

test("KeyClient + CryptographyClient: RSA and EC keys, sign/verify, encrypt/decrypt, list", async () => {
  const { vault, env } = await vaultEnv("js-keys");
  const report = await runProgram("keys.js", ["default"], programEnv(env));
  const vaultUrl = server.vaultUrl(vault);

  assert.equal(report.rsa.name, "js-rsa");
  assert.equal(report.rsa.keyType, "RSA");
  assert.equal(report.rsa.modulusBits, 2048);
  assert.equal(report.rsa.exponent, "AQAB");
  assert.deepEqual(report.rsa.keyOps, ["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"]);
  assert.match(report.rsa.id, new RegExp(`^${vaultUrl}/keys/js-rsa/[0-9a-f]{32}$`));
  assert.equal(report.rsa.signedWithKid, report.rsa.id);
  assert.equal(report.rsa.signatureBytes, 256);
  assert.equal(report.rsa.verifiedLocally, true);
  assert.equal(report.rsa.verifiedBySdk, true);
  assert.equal(report.rsa.decryptedOaep, true);
  assert.equal(report.rsa.decryptedOaep256, true);
  assert.equal(report.rsa.sdkRoundTrip, true);

  assert.equal(report.ec.name, "js-ec");
  assert.equal(report.ec.keyType, "EC");
  assert.equal(report.ec.curve, "P-256");
  assert.equal(report.ec.xBytes, 32);
  assert.equal(report.ec.signatureBytes, 64);
  assert.equal(report.ec.verifiedLocally, true);
  assert.equal(report.ec.verifiedBySdk, true);
  assert.equal(report.ec.tamperedVerifies, false);

  assert.deepEqual(report.listed, ["js-ec", "js-rsa"]);
  assert.equal(report.getKeySameModulus, true);
});

test("CertificateClient: beginCreateCertificate (self-signed), poll until done, get", async () => {
  const { vault, env } = await vaultEnv("js-certs");
  const name = uniqueName("cert");
  const report = await runProgram("certificates.js", ["default", name], programEnv(env));
  const vaultUrl = server.vaultUrl(vault);

  assert.deepEqual(report.created, { name, enabled: true, issuer: "Self" });
  const cert = report.certificate;
  assert.equal(cert.name, name);
  assert.equal(cert.subject, "CN=js-sdk.strongroom.test");
  assert.equal(cert.issuer, "CN=js-sdk.strongroom.test");
  assert.equal(cert.subjectAltName, "DNS:js-sdk.strongroom.test");
  assert.equal(cert.selfSigned, true);
  assert.ok(cert.validDays >= 364 && cert.validDays <= 366, `valid for ${cert.validDays} days`);
  assert.equal(cert.thumbprintMatches, true);
  assert.match(cert.keyId, new RegExp(`^${vaultUrl}/keys/${name}/[0-9a-f]{32}$`));
  assert.equal(cert.secretId, cert.keyId.replace("/keys/", "/secrets/"));
  assert.equal(cert.policySubject, "CN=js-sdk.strongroom.test");
  assert.equal(cert.policyIssuer, "Self");
  assert.equal(cert.policyKeySize, 2048);
  assert.equal(report.keyMatchesCertificate, true);
  assert.equal(report.operationStatus, "completed");
  assert.deepEqual(report.policy, { subject: "CN=js-sdk.strongroom.test", issuerName: "Self", validityInMonths: 12 });
});

test("a principal without an access policy gets a 403 RestError with code Forbidden", async () => {
  const { vault, env } = await vaultEnv("js-denied");
  const name = uniqueName("secret");
  await server.cliJson("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", "not-for-you");
  const outsider = await server.createServicePrincipal("js-outsider");
  const report = await runProgram(
    "read-secret.js",
    ["default", server.vaultUrl(vault), name],
    programEnv(env, { AZURE_CLIENT_ID: outsider.appId, AZURE_CLIENT_SECRET: outsider.password }),
  );
  assertForbidden(report);
});
