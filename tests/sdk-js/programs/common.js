"use strict";
// What every program shares: the credential named on its command line, built the way Microsoft's samples build
// it (from the environment alone), and how a program reports. Each program prints one JSON object on its last
// line; the test asserts on it. A failure the test expects (a RestError, an authentication error) is reported as
// data, anything else makes the program exit non-zero with its stack on stderr.

const {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
} = require("@azure/identity");

/**
 * - `default`: `new DefaultAzureCredential()` (EnvironmentCredential with `strongroom env`'s variables);
 * - `client-secret`: `new ClientSecretCredential(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)`, the
 *   SDK reading `AZURE_AUTHORITY_HOST` itself when it is set;
 * - `client-secret-no-discovery`: the same with `disableInstanceDiscovery: true`, the documented way to use a
 *   tenant GUID with a custom authority (CLIENT-PROTOCOL.md §3.3);
 * - `managed-identity`: `new ManagedIdentityCredential()` (IMDS, or App Service when `IDENTITY_ENDPOINT` is set).
 */
function credentialFor(kind) {
  const env = process.env;
  switch (kind) {
    case "default":
      return new DefaultAzureCredential();
    case "client-secret":
      return new ClientSecretCredential(env.AZURE_TENANT_ID, env.AZURE_CLIENT_ID, env.AZURE_CLIENT_SECRET);
    case "client-secret-no-discovery":
      return new ClientSecretCredential(env.AZURE_TENANT_ID, env.AZURE_CLIENT_ID, env.AZURE_CLIENT_SECRET, {
        disableInstanceDiscovery: true,
      });
    case "managed-identity":
      return new ManagedIdentityCredential();
    default:
      throw new Error(`unknown credential kind ${kind}`);
  }
}

/** A RestError as data: `{name, statusCode, code}` (the service's `error.code`). */
function restError(error) {
  if (error?.name !== "RestError") throw error;
  return { name: error.name, statusCode: error.statusCode, code: error.code };
}

/** Runs `main` and prints its report as the last line; any unexpected failure exits 1. */
function runMain(main) {
  main().then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    },
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}

/** Poller options: poll briskly, the server answers at once. */
const POLL = { updateIntervalInMs: 100 };

module.exports = { POLL, credentialFor, restError, runMain };
