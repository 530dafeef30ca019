"use strict";
// Managed identity through `strongroom agent` (App Service protocol: IDENTITY_ENDPOINT + IDENTITY_HEADER, as
// `strongroom env --agent` prints them): `new ManagedIdentityCredential()` unchanged, in a program whose environment
// is only those variables, as tests/sdk-python/test_managed_identity.py does for Python. (Azure Arc is left to the
// Python suite: MSAL reads Arc key files only from /var/opt/azcmagent/tokens, a system path.)

const assert = require("node:assert/strict");
const path = require("node:path");
const { after, before, test } = require("node:test");
const { Agent, StrongroomServer, programEnv, runProgram, suiteRoot } = require("./harness/strongroom.js");
const { assertForbidden } = require("./harness/expect.js");

let server;
let identity;
let agent;

before(async () => {
  const root = suiteRoot("managed-identity");
  server = await StrongroomServer.start(root);
  identity = await server.createIdentity("js-agent");
  agent = await Agent.start(server, identity, path.join(root, "agent-a"));
});

after(async () => {
  await agent?.stop();
  await server?.stop();
});

test("ManagedIdentityCredential through strongroom agent (App Service) reads a secret", async () => {
  const { vault, name, value } = await server.vaultWithSecret("js-agent");
  await server.grantSecrets(vault, ["--object-id", identity.principalId], "get", "list");
  const exported = await agent.env();
  assert.equal(exported.IDENTITY_ENDPOINT, `${agent.origin}/msi/token`);
  assert.ok(exported.IDENTITY_HEADER.length >= 16);
  assert.equal(exported.NODE_EXTRA_CA_CERTS, server.caFile);
  const report = await runProgram("read-secret.js", ["managed-identity", server.vaultUrl(vault), name], programEnv(exported));
  assert.deepEqual(report, { value });
});

test("the agent's identity without an access policy gets a 403 RestError with code Forbidden", async () => {
  const { vault, name } = await server.vaultWithSecret("js-agent-no");
  const report = await runProgram(
    "read-secret.js",
    ["managed-identity", server.vaultUrl(vault), name],
    programEnv(await agent.env()),
  );
  assertForbidden(report);
});

test("a wrong IDENTITY_HEADER gets no token", async () => {
  const { vault, name } = await server.vaultWithSecret("js-agent-hdr");
  await server.grantSecrets(vault, ["--object-id", identity.principalId], "get");
  const report = await runProgram(
    "read-secret.js",
    ["managed-identity", server.vaultUrl(vault), name],
    programEnv(await agent.env(), { IDENTITY_HEADER: "not-the-secret" }),
  );
  assert.deepEqual(Object.keys(report), ["authError"]);
});
