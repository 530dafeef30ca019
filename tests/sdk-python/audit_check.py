"""The session's audit check (issue 11): the main server runs with `--audit-log`, and when the session ends its log
must verify (`strongroom audit verify`), hold only AuditEvent-shaped lines, carry a line for each operation the suite
is known to perform, and contain no secret value (a canary set at the start must not appear)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

# The AuditEvent fields every line has (Azure Key Vault's resource log), plus the chain.
FIELDS = {
    "time", "resourceId", "operationName", "operationVersion", "category", "resultType", "resultSignature",
    "durationMs", "callerIpAddress", "correlationId", "identity", "properties", "prevHash", "hash",
}  # fmt: skip

# Operations the SDK suite performs on the session's server, under Azure's log names. Each must have left a line.
EXPECTED_OPERATIONS = {
    "SecretSet", "SecretGet", "SecretList", "SecretListVersions", "SecretUpdate", "SecretDelete", "SecretRecover",
    "SecretPurge", "SecretBackup", "SecretRestore", "SecretGetDeleted", "SecretListDeleted",
    "KeyCreate", "KeyGet", "KeyImport", "KeySign", "KeyVerify", "KeyEncrypt", "KeyDecrypt", "KeyWrap", "KeyUnwrap",
    "KeyRotate", "KeyBackup", "KeyRestore", "KeyList",
    "CertificateCreate", "CertificateGet", "CertificateImport", "CertificatePendingGet", "CertificatePolicyGet",
    "TokenIssue",
}  # fmt: skip


def check_session_audit_log(binary: str, path: Path, canaries: tuple[str, ...] = (), whole_suite: bool = False) -> None:
    """`whole_suite`: the session ran every test (scripts/test.sh without PYTEST_ARGS), so every operation of
    EXPECTED_OPERATIONS must have its line; a selection of tests checks the rest only."""
    verified = subprocess.run([binary, "audit", "verify", str(path)], capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, f"the session's audit log does not verify: {verified.stdout}{verified.stderr}"
    text = path.read_text()
    for canary in canaries:
        assert canary not in text, "a secret value reached the audit log"
    events = [json.loads(line) for line in text.splitlines()]
    assert events, "the session's audit log is empty"
    operations: set[str] = set()
    for number, event in enumerate(events, start=1):
        missing = FIELDS - set(event)
        assert not missing, f"audit line {number} lacks {sorted(missing)}: {event}"
        assert event["category"] == "AuditEvent"
        status = event["properties"].get("httpStatusCode", 200)
        assert event["resultType"] == ("Success" if 200 <= status < 300 else "Failure"), event
        if event["resourceId"].count("/VAULTS/") == 1 and status not in (400, 401):
            # An authenticated vault request names its caller and its object.
            assert event["identity"]["claim"]["appid"], event
            assert event["properties"]["id"].startswith("https://"), event
        operations.add(event["operationName"])
    if not whole_suite:
        return
    missing_operations = EXPECTED_OPERATIONS - operations
    assert not missing_operations, f"no audit line for {sorted(missing_operations)}"
