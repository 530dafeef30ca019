"use strict";
// SecretClient end to end: set (two versions), get (latest and by version), list versions, list over several pages,
// update properties, delete (poller), getDeleted, list deleted, recover (poller), delete again and purge, backup
// and restore.
//
// usage: node secrets.js <credential> [vault-url]   (vault URL default: $AZURE_KEYVAULT_URL)

const { SecretClient } = require("@azure/keyvault-secrets");
const { POLL, credentialFor, restError, runMain } = require("./common.js");

const N_PAGED = 30;

async function names(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item.name);
  return out.sort();
}

function summary(secret) {
  const p = secret.properties;
  return {
    name: secret.name,
    value: secret.value,
    id: p.id,
    version: p.version,
    vaultUrl: p.vaultUrl,
    enabled: p.enabled,
    contentType: p.contentType,
    tags: p.tags,
    expiresOn: p.expiresOn?.toISOString(),
    recoveryLevel: p.recoveryLevel,
    createdOn: p.createdOn instanceof Date,
  };
}

async function main() {
  const [kind, vaultUrl = process.env.AZURE_KEYVAULT_URL] = process.argv.slice(2);
  const client = new SecretClient(vaultUrl, credentialFor(kind));
  const report = { vaultUrl };

  // Set, two versions; get the latest and the first by version; list the versions.
  const first = await client.setSecret("db-password", "s3cr3t-1", {
    contentType: "text/plain",
    tags: { env: "test" },
  });
  const second = await client.setSecret("db-password", "s3cr3t-2");
  report.set = summary(first);
  report.latest = summary(await client.getSecret("db-password"));
  report.byVersion = (await client.getSecret("db-password", { version: first.properties.version })).value;
  report.secondVersion = second.properties.version;
  const versions = [];
  for await (const properties of client.listPropertiesOfSecretVersions("db-password")) {
    versions.push(properties.version);
  }
  report.versions = versions.sort();

  // More secrets than one page holds: the SDK follows nextLink.
  for (let i = 0; i < N_PAGED; i += 1) {
    await client.setSecret(`paged-${String(i).padStart(2, "0")}`, `value-${i}`);
  }
  report.listed = await names(client.listPropertiesOfSecrets());
  report.pageSizes = [];
  for await (const page of client.listPropertiesOfSecrets().byPage()) report.pageSizes.push(page.length);
  report.smallPageSizes = [];
  for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 7 })) {
    report.smallPageSizes.push(page.length);
  }

  // Update properties of the latest version. (Before 2038: the SDK writes epoch seconds with `| 0`, so a later
  // date wraps around to 1901-1970 before it leaves the client; docs/reference/msal-node.md.)
  const expiresOn = new Date(Date.UTC(2037, 0, 1));
  const updated = await client.updateSecretProperties("db-password", second.properties.version, {
    contentType: "application/json",
    tags: { rotated: "yes" },
    expiresOn,
  });
  report.updated = {
    version: updated.version,
    contentType: updated.contentType,
    tags: updated.tags,
    expiresOn: updated.expiresOn?.toISOString(),
  };
  report.afterUpdate = summary(await client.getSecret("db-password"));

  // Soft delete, read the deleted secret, recover it.
  const deletePoller = await client.beginDeleteSecret("db-password", POLL);
  const deleted = await deletePoller.pollUntilDone();
  report.deleted = {
    name: deleted.name,
    recoveryId: deleted.properties.recoveryId,
    deletedOn: deleted.properties.deletedOn instanceof Date,
    scheduledPurgeDate: deleted.properties.scheduledPurgeDate instanceof Date,
  };
  report.getDeleted = (await client.getDeletedSecret("db-password")).name;
  report.listedDeleted = await names(client.listDeletedSecrets());
  try {
    await client.getSecret("db-password");
    report.getWhileDeleted = "found";
  } catch (error) {
    report.getWhileDeleted = restError(error);
  }
  const recoverPoller = await client.beginRecoverDeletedSecret("db-password", POLL);
  report.recovered = (await recoverPoller.pollUntilDone()).name;
  report.afterRecover = (await client.getSecret("db-password")).value;

  // Delete again and purge: the name is gone for good.
  await (await client.beginDeleteSecret("db-password", POLL)).pollUntilDone();
  await client.purgeDeletedSecret("db-password");
  try {
    await client.getDeletedSecret("db-password");
    report.getDeletedAfterPurge = "found";
  } catch (error) {
    report.getDeletedAfterPurge = restError(error);
  }

  // Backup, delete and purge, restore: both versions come back.
  await client.setSecret("backed-up", "before-backup-1");
  await client.setSecret("backed-up", "before-backup-2");
  const backup = await client.backupSecret("backed-up");
  report.backupBytes = backup.length;
  await (await client.beginDeleteSecret("backed-up", POLL)).pollUntilDone();
  await client.purgeDeletedSecret("backed-up");
  const restored = await client.restoreSecretBackup(backup);
  report.restored = { name: restored.name, vaultUrl: restored.vaultUrl };
  report.afterRestore = (await client.getSecret("backed-up")).value;
  let restoredVersions = 0;
  for await (const _ of client.listPropertiesOfSecretVersions("backed-up")) restoredVersions += 1;
  report.restoredVersions = restoredVersions;
  return report;
}

runMain(main);
