"use strict";
// Reads one secret with the credential named on the command line, as Microsoft's samples do:
// `new SecretClient(vaultUrl, credential).getSecret(name)`. Reports `{value}`, or the failure as data:
// `{restError: {name, statusCode, code}}` for a service error, `{authError: {name, message}}` when no token was had.
//
// usage: node read-secret.js <credential> <vault-url> <secret-name>

const { SecretClient } = require("@azure/keyvault-secrets");
const { credentialFor, restError, runMain } = require("./common.js");

async function main() {
  const [kind, vaultUrl, name] = process.argv.slice(2);
  const client = new SecretClient(vaultUrl, credentialFor(kind));
  try {
    return { value: (await client.getSecret(name)).value };
  } catch (error) {
    if (error?.name === "AuthenticationError" || error?.name === "CredentialUnavailableError") {
      return { authError: { name: error.name, message: String(error.message).slice(0, 800) } };
    }
    return { restError: restError(error) };
  }
}

runMain(main);
