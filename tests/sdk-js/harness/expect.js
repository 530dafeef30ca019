"use strict";
// Assertions on the reports of ../programs, shared by the direct and the transparent suites.

const assert = require("node:assert/strict");

const HEX32 = /^[0-9a-f]{32}$/;

/** What programs/secrets.js must have seen against `vaultUrl` (no trailing slash). */
function assertSecretsScenario(report, vaultUrl) {
  assert.equal(report.vaultUrl, vaultUrl);

  const first = report.set;
  assert.equal(first.name, "db-password");
  assert.equal(first.value, "s3cr3t-1");
  assert.match(first.version, HEX32);
  assert.equal(first.id, `${vaultUrl}/secrets/db-password/${first.version}`);
  assert.equal(first.vaultUrl, vaultUrl);
  assert.equal(first.enabled, true);
  assert.equal(first.contentType, "text/plain");
  assert.deepEqual(first.tags, { env: "test" });
  assert.equal(first.recoveryLevel, "Recoverable+Purgeable");
  assert.equal(first.createdOn, true);

  assert.equal(report.latest.value, "s3cr3t-2");
  assert.equal(report.latest.version, report.secondVersion);
  assert.notEqual(report.secondVersion, first.version);
  assert.equal(report.byVersion, "s3cr3t-1");
  assert.deepEqual(report.versions, [first.version, report.secondVersion].sort());

  // 31 secrets: Key Vault's page of 25 and the rest, or pages of the size the client asked for.
  const paged = Array.from({ length: 30 }, (_, i) => `paged-${String(i).padStart(2, "0")}`);
  assert.deepEqual(report.listed, ["db-password", ...paged]);
  assert.deepEqual(report.pageSizes, [25, 6]);
  assert.deepEqual(report.smallPageSizes, [7, 7, 7, 7, 3]);

  assert.deepEqual(report.updated, {
    version: report.secondVersion,
    contentType: "application/json",
    tags: { rotated: "yes" },
    expiresOn: "2037-01-01T00:00:00.000Z",
  });
  assert.equal(report.afterUpdate.value, "s3cr3t-2");
  assert.equal(report.afterUpdate.contentType, "application/json");
  assert.deepEqual(report.afterUpdate.tags, { rotated: "yes" });
  assert.equal(report.afterUpdate.expiresOn, "2037-01-01T00:00:00.000Z");

  assert.deepEqual(report.deleted, {
    name: "db-password",
    recoveryId: `${vaultUrl}/deletedsecrets/db-password`,
    deletedOn: true,
    scheduledPurgeDate: true,
  });
  assert.equal(report.getDeleted, "db-password");
  assert.deepEqual(report.listedDeleted, ["db-password"]);
  assert.deepEqual(report.getWhileDeleted, { name: "RestError", statusCode: 404, code: "SecretNotFound" });
  assert.equal(report.recovered, "db-password");
  assert.equal(report.afterRecover, "s3cr3t-2");
  assert.deepEqual(report.getDeletedAfterPurge, { name: "RestError", statusCode: 404, code: "SecretNotFound" });

  assert.ok(report.backupBytes > 100, `backup of ${report.backupBytes} bytes`);
  assert.deepEqual(report.restored, { name: "backed-up", vaultUrl });
  assert.equal(report.afterRestore, "before-backup-2");
  assert.equal(report.restoredVersions, 2);
}

/** The 403 a principal without a policy gets: Key Vault's `Forbidden`, as a RestError. */
function assertForbidden(report) {
  assert.deepEqual(report, { restError: { name: "RestError", statusCode: 403, code: "Forbidden" } });
}

module.exports = { assertForbidden, assertSecretsScenario };
