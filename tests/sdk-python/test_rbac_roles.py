"""Azure RBAC on the data plane, role by role and scope by scope, through Microsoft's Python SDKs (issue 10).

What is checked:
- The 11 built-in Key Vault roles, with Azure's role-definition GUIDs and `dataActions` / `notDataActions`, are
  written down here from Azure's built-in-roles reference (docs/reference/azure-rbac.md section 1, [BIR-SEC]), and
  every data-plane operation the Python SDKs expose for secrets, keys (with the cryptography client's operations,
  rotation, rotation policies, release, attestation, backup/restore, random bytes) and certificates (with contacts,
  issuers, policy, import, the pending operation and merge) is written down with the data action Azure checks for
  it (section 3). Nothing is imported from the server: a wrong server table fails here.
- For each role, one principal holds the role at one scope at a time: the subscription, a resource group, a vault,
  or single objects (`…/vaults/V/secrets/NAME`, `/keys/NAME`, `/certificates/NAME`). Every operation of the table
  is then called through the SDK, and the expectation is computed from the two tables: the call is allowed when an
  assignment's scope covers the resource (the vault, or for an operation on one object that object: lists, restores,
  contacts, issuers and random bytes are vault-level, so an object-scope assignment does not reach them) and the
  role's `dataActions` match the action (`*` as Azure matches it, any case) and its `notDataActions` do not.
- Allowed: the call succeeds, or fails for a reason that is not authorisation, asserted exactly (a Standard vault's
  400 for key attestation, a non-exportable key's 400 for release). Denied: `HttpResponseError` 403, `Forbidden`
  with inner `ForbiddenByRbac`, whose message names the action and the resource Azure names (section 4).
- Each assignment grants nothing outside its scope: the same principal is refused everything in another vault of
  the group (vault scope), in a vault of another group (group scope), on other objects and on the same names in
  another vault (object scope).
- A custom role made through ARM with `notDataActions` (every secrets action but getSecret), and a second role that
  gives getSecret back (`notDataActions` is not a deny).

Vaults, groups, roles and assignments are made through the server's own management API (ARM's shapes, direct mode);
the management SDKs' run through transparent mode is test_management_sdk.py. The deployment administrator, who
prepares the objects each allowed call needs, holds Key Vault Administrator on the subscription: on an RBAC vault an
administrator of the deployment has no data-plane access of its own.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContact,
    CertificatePolicy,
    KeyCurveName as CertificateKeyCurve,
    KeyType as CertificateKeyType,
)
from azure.keyvault.keys import (
    KeyClient,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
)
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from strongroom_server import (
    StrongroomServer,
    jwk_from_private_key,
    principal_maker,
    remote_crypto_maker,
    running_server,
    unique_name,
)

# ==============================================================================================================
# Azure's tables, written from its documentation (docs/reference/azure-rbac.md, which names the sources).

V = "Microsoft.KeyVault/vaults/"


def action_matches(pattern: str, action: str) -> bool:
    """Azure's action matching ([ROLEDEF]): `*` stands for any run of characters (`…/vaults/*`, `…/vaults/*/read`),
    and action strings compare without regard to case."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class Role:
    name: str
    guid: str
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...] = ()

    def allows(self, action: str) -> bool:
        """`DataActions - NotDataActions = effective data-plane permissions` ([ROLEDEF])."""
        return any(action_matches(p, action) for p in self.data_actions) and not any(
            action_matches(p, action) for p in self.not_data_actions
        )


# [BIR-SEC]: the JSON of each role on Azure's built-in-roles page (Security category). `notDataActions` is empty for
# all of them; Key Vault Data Access Administrator has no data actions at all (it manages role assignments).
BUILTIN_ROLES: tuple[Role, ...] = (
    Role("Key Vault Administrator", "00482a5a-887f-4fb3-b363-3b7fe8e74483", (V + "*",)),
    Role("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2", (V + "*/read", V + "secrets/readMetadata/action")),
    Role("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", (V + "secrets/*",)),
    Role(
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
        (V + "secrets/getSecret/action", V + "secrets/readMetadata/action"),
    ),
    Role(
        "Key Vault Crypto Officer",
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        (V + "keys/*", V + "keyrotationpolicies/*"),
    ),
    Role(
        "Key Vault Crypto User",
        "12338af0-0e69-4776-bea7-57ae8d297424",
        tuple(
            V + "keys/" + a
            for a in (
                "read", "update/action", "backup/action", "encrypt/action", "decrypt/action", "wrap/action",
                "unwrap/action", "sign/action", "verify/action",
            )
        ),  # fmt: skip
    ),
    Role(
        "Key Vault Crypto Service Encryption User",
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        (V + "keys/read", V + "keys/wrap/action", V + "keys/unwrap/action"),
    ),
    Role("Key Vault Crypto Service Release User", "08bbd89e-9f13-488c-ac41-acfcb10c90ab", (V + "keys/release/action",)),
    Role(
        "Key Vault Certificates Officer",
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        (V + "certificatecas/*", V + "certificates/*", V + "certificatecontacts/write"),
    ),
    Role(
        "Key Vault Certificate User",
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        (
            V + "certificates/read",
            V + "secrets/getSecret/action",
            V + "secrets/readMetadata/action",
            V + "keys/read",
        ),
    ),
    Role("Key Vault Data Access Administrator", "8b54135c-b56d-4d72-a534-26097cfdc8d8", ()),
)
ROLES_BY_NAME = {role.name: role for role in BUILTIN_ROLES}

# The custom role of test_custom_role_*: every secrets action but reading a value.
CUSTOM_ROLE = Role(
    "Strongroom test: secrets without getSecret",
    "",  # made per run
    (V + "secrets/*",),
    (V + "secrets/getSecret/action",),
)

# --------------------------------------------------------------------------------------------------------------
# The operations. `kind` is the object of the subject whose state the call needs (secret, key, certificate, issuer,
# contacts); `on_object` says whether the RBAC resource is that object (`…/secrets/NAME`) or the vault.
# `needs`: the states, in order of preference, the object must be in for the allowed call; `after`: its state after
# an allowed call. The data actions are section 3's (secrets: [ABAC]; keys and certificates: Microsoft's
# access-policy-to-RBAC mapping [CMP-CSV] applied to the operation's documented access-policy permission [SPEC]);
# the inferred ones say why.

EXISTS = ("exists",)
ANY = ()


@dataclass(frozen=True)
class Operation:
    name: str
    action: str
    kind: str
    on_object: bool
    needs: tuple[str, ...]
    after: str | None
    call: Callable[["Actor", "Subject"], Any]
    # Allowed, the call still fails after authorisation: (status, error code), asserted exactly.
    fails_after_authorization: tuple[int, str] | None = None


def op(name, action, kind, on_object, needs, after, call, fails_after_authorization=None) -> Operation:  # noqa: ANN001
    return Operation(name, V + action, kind, on_object, needs, after, call, fails_after_authorization)


PLAINTEXT = b"the plaintext of the rbac table"
DIGEST = hashlib.sha256(b"the message of the rbac table").digest()
KEY_TO_WRAP = bytes(range(32))
ISSUER_PROVIDER = "Strongroom"
CONTACTS = [CertificateContact(email="rbac@example.com", name="RBAC table")]


def _rotation_policy() -> KeyRotationPolicy:
    return KeyRotationPolicy(
        expires_in="P90D",
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")],
    )


def _ec_policy(issuer: str, subject: str) -> CertificatePolicy:
    # EC keys: the server generates one per create, and P-256 is cheap.
    return CertificatePolicy(
        issuer_name=issuer,
        subject=subject,
        key_type=CertificateKeyType.ec,
        key_curve_name=CertificateKeyCurve.p_256,
    )


SECRET_OPERATIONS: tuple[Operation, ...] = (
    op("SecretClient.get_secret", "secrets/getSecret/action", "secret", True, EXISTS, None,
       lambda a, s: a.secrets.get_secret(s.secret)),
    op("SecretClient.set_secret", "secrets/setSecret/action", "secret", True, ("exists", "absent"), "exists",
       lambda a, s: a.secrets.set_secret(s.secret, "set by the role")),
    op("SecretClient.update_secret_properties", "secrets/update/action", "secret", True, EXISTS, None,
       lambda a, s: a.secrets.update_secret_properties(s.secret, tags={"by": "role"})),
    # Listing one secret's versions names the secret, so its resource is the secret (INFERRED: only the vault-level
    # list is stated to be evaluated at the vault).
    op("SecretClient.list_properties_of_secret_versions", "secrets/readMetadata/action", "secret", True, EXISTS,
       None, lambda a, s: list(a.secrets.list_properties_of_secret_versions(s.secret))),
    op("SecretClient.list_properties_of_secrets", "secrets/readMetadata/action", "secret", False, ANY, None,
       lambda a, s: list(a.secrets.list_properties_of_secrets())),
    op("SecretClient.backup_secret", "secrets/backup/action", "secret", True, EXISTS, None,
       lambda a, s: a.secrets.backup_secret(s.secret)),
    op("SecretClient.begin_delete_secret", "secrets/delete", "secret", True, EXISTS, "deleted",
       lambda a, s: a.secrets.begin_delete_secret(s.secret).result()),
    op("SecretClient.list_deleted_secrets", "secrets/readMetadata/action", "secret", False, ANY, None,
       lambda a, s: list(a.secrets.list_deleted_secrets())),
    # A deleted secret's answer carries its properties, never its value: readMetadata ("List or view the properties
    # of a secret, but not its value", [PERM-SEC]). Section 3.1 marks this row UNVERIFIED (the mechanical map of
    # its access-policy permission `get` would say getSecret).
    op("SecretClient.get_deleted_secret", "secrets/readMetadata/action", "secret", True, ("deleted",), None,
       lambda a, s: a.secrets.get_deleted_secret(s.secret)),
    op("SecretClient.begin_recover_deleted_secret", "secrets/recover/action", "secret", True, ("deleted",),
       "exists", lambda a, s: a.secrets.begin_recover_deleted_secret(s.secret).result()),
    op("SecretClient.purge_deleted_secret", "secrets/purge/action", "secret", True, ("deleted",), "absent",
       lambda a, s: a.secrets.purge_deleted_secret(s.secret)),
    # A restore names no object in its path: the vault (the name is a request attribute, [ABAC]).
    op("SecretClient.restore_secret_backup", "secrets/restore/action", "secret", False, ("absent",), "exists",
       lambda a, s: a.secrets.restore_secret_backup(s.secret_backup)),
)  # fmt: skip

KEY_OPERATIONS: tuple[Operation, ...] = (
    op("KeyClient.get_key", "keys/read", "key", True, EXISTS, None, lambda a, s: a.keys.get_key(s.key)),
    op("KeyClient.import_key", "keys/import/action", "key", True, ("exists", "absent"), "exists",
       lambda a, s: a.keys.import_key(s.key, s.world.rsa_jwk)),
    op("KeyClient.create_ec_key", "keys/create/action", "key", True, ("exists", "absent"), "exists",
       lambda a, s: a.keys.create_ec_key(s.key, curve="P-256")),
    op("KeyClient.rotate_key", "keys/rotate/action", "key", True, EXISTS, None, lambda a, s: a.keys.rotate_key(s.key)),
    op("KeyClient.update_key_properties", "keys/update/action", "key", True, EXISTS, None,
       lambda a, s: a.keys.update_key_properties(s.key, tags={"by": "role"})),
    op("KeyClient.list_properties_of_key_versions", "keys/read", "key", True, EXISTS, None,
       lambda a, s: list(a.keys.list_properties_of_key_versions(s.key))),
    op("KeyClient.list_properties_of_keys", "keys/read", "key", False, ANY, None,
       lambda a, s: list(a.keys.list_properties_of_keys())),
    # [CMP-CSV] "Key GetRotationPolicy" / "Key SetRotationPolicy"; the resource is the key.
    op("KeyClient.get_key_rotation_policy", "keyrotationpolicies/read", "key", True, EXISTS, None,
       lambda a, s: a.keys.get_key_rotation_policy(s.key)),
    op("KeyClient.update_key_rotation_policy", "keyrotationpolicies/write", "key", True, EXISTS, None,
       lambda a, s: a.keys.update_key_rotation_policy(s.key, _rotation_policy())),
    op("KeyClient.backup_key", "keys/backup/action", "key", True, EXISTS, None, lambda a, s: a.keys.backup_key(s.key)),
    # INFERRED: no vault data action is documented for `POST /rng` (Managed HSM has its own `rng/action`); access
    # policies have no `rng` permission, and reading key material is `keys get`, mapped to keys/read. Vault-level.
    op("KeyClient.get_random_bytes", "keys/read", "key", False, ANY, None, lambda a, s: a.keys.get_random_bytes(16)),
    # Attestation is `keys get` ([SPEC]) → keys/read; a Standard vault then refuses it (no HSM).
    op("KeyClient.get_key_attestation", "keys/read", "key", True, EXISTS, None,
       lambda a, s: a.keys.get_key_attestation(s.key), fails_after_authorization=(400, "BadParameter")),
    # The subject's key is not exportable: release is refused after authorisation.
    op("KeyClient.release_key", "keys/release/action", "key", True, EXISTS, None,
       lambda a, s: a.keys.release_key(s.key, "not-an-attestation-token"),
       fails_after_authorization=(400, "BadParameter")),
    op("CryptographyClient.encrypt", "keys/encrypt/action", "key", True, EXISTS, None,
       lambda a, s: a.crypto(s).encrypt(EncryptionAlgorithm.rsa_oaep, PLAINTEXT)),
    op("CryptographyClient.decrypt", "keys/decrypt/action", "key", True, EXISTS, None,
       lambda a, s: _expect(a.crypto(s).decrypt(EncryptionAlgorithm.rsa_oaep, s.world.ciphertext).plaintext,
                            PLAINTEXT)),
    op("CryptographyClient.sign", "keys/sign/action", "key", True, EXISTS, None,
       lambda a, s: a.crypto(s).sign(SignatureAlgorithm.rs256, DIGEST)),
    op("CryptographyClient.verify", "keys/verify/action", "key", True, EXISTS, None,
       lambda a, s: _expect(a.crypto(s).verify(SignatureAlgorithm.rs256, DIGEST, s.world.signature).is_valid, True)),
    op("CryptographyClient.wrap_key", "keys/wrap/action", "key", True, EXISTS, None,
       lambda a, s: a.crypto(s).wrap_key(KeyWrapAlgorithm.rsa_oaep, KEY_TO_WRAP)),
    op("CryptographyClient.unwrap_key", "keys/unwrap/action", "key", True, EXISTS, None,
       lambda a, s: _expect(a.crypto(s).unwrap_key(KeyWrapAlgorithm.rsa_oaep, s.world.wrapped_key).key,
                            KEY_TO_WRAP)),
    op("KeyClient.begin_delete_key", "keys/delete", "key", True, EXISTS, "deleted",
       lambda a, s: a.keys.begin_delete_key(s.key).result()),
    op("KeyClient.list_deleted_keys", "keys/read", "key", False, ANY, None,
       lambda a, s: list(a.keys.list_deleted_keys())),
    op("KeyClient.get_deleted_key", "keys/read", "key", True, ("deleted",), None,
       lambda a, s: a.keys.get_deleted_key(s.key)),
    op("KeyClient.begin_recover_deleted_key", "keys/recover/action", "key", True, ("deleted",), "exists",
       lambda a, s: a.keys.begin_recover_deleted_key(s.key).result()),
    op("KeyClient.purge_deleted_key", "keys/purge/action", "key", True, ("deleted",), "absent",
       lambda a, s: a.keys.purge_deleted_key(s.key)),
    op("KeyClient.restore_key_backup", "keys/restore/action", "key", False, ("absent",), "exists",
       lambda a, s: a.keys.restore_key_backup(s.key_backup)),
)  # fmt: skip

CERTIFICATE_OPERATIONS: tuple[Operation, ...] = (
    op("CertificateClient.get_certificate", "certificates/read", "certificate", True, EXISTS, None,
       lambda a, s: a.certs.get_certificate(s.cert)),
    op("CertificateClient.get_certificate_version", "certificates/read", "certificate", True, EXISTS, None,
       lambda a, s: a.certs.get_certificate_version(s.cert, s.cert_version)),
    op("CertificateClient.get_certificate_operation", "certificates/read", "certificate", True, EXISTS, None,
       lambda a, s: a.certs.get_certificate_operation(s.cert)),
    op("CertificateClient.list_properties_of_certificate_versions", "certificates/read", "certificate", True, EXISTS,
       None, lambda a, s: list(a.certs.list_properties_of_certificate_versions(s.cert))),
    op("CertificateClient.list_properties_of_certificates", "certificates/read", "certificate", False, ANY, None,
       lambda a, s: list(a.certs.list_properties_of_certificates())),
    op("CertificateClient.get_certificate_policy", "certificates/read", "certificate", True, EXISTS, None,
       lambda a, s: a.certs.get_certificate_policy(s.cert)),
    op("CertificateClient.update_certificate_policy", "certificates/update/action", "certificate", True, EXISTS,
       None, lambda a, s: a.certs.update_certificate_policy(s.cert, _ec_policy("Self", f"CN={s.cert}"))),
    op("CertificateClient.update_certificate_properties", "certificates/update/action", "certificate", True, EXISTS,
       None, lambda a, s: a.certs.update_certificate_properties(s.cert, tags={"by": "role"})),
    op("CertificateClient.backup_certificate", "certificates/backup/action", "certificate", True, EXISTS, None,
       lambda a, s: a.certs.backup_certificate(s.cert)),
    op("CertificateClient.begin_create_certificate", "certificates/create/action", "certificate", True,
       ("exists", "absent"), "exists",
       lambda a, s: a.certs.begin_create_certificate(s.cert, _ec_policy("Self", f"CN={s.cert}"),
                                                     _polling_interval=0.05).result()),
    op("CertificateClient.import_certificate", "certificates/import/action", "certificate", True,
       ("exists", "absent"), "exists", lambda a, s: a.certs.import_certificate(s.cert, s.world.pfx)),
    # The pending operation: cancelling or deleting it updates the certificate ([SPEC] certificates/update),
    # merging completes a create ([SPEC] certificates/create).
    op("CertificateClient.cancel_certificate_operation", "certificates/update/action", "certificate", True,
       ("pending",), "exists", lambda a, s: a.certs.cancel_certificate_operation(s.cert)),
    op("CertificateClient.delete_certificate_operation", "certificates/update/action", "certificate", True,
       ("pending",), "exists", lambda a, s: a.certs.delete_certificate_operation(s.cert)),
    op("CertificateClient.merge_certificate", "certificates/create/action", "certificate", True, ("pending",),
       "exists", lambda a, s: a.certs.merge_certificate(s.cert, s.merge_chain())),
    op("CertificateClient.begin_delete_certificate", "certificates/delete", "certificate", True, EXISTS, "deleted",
       lambda a, s: a.certs.begin_delete_certificate(s.cert).result()),
    op("CertificateClient.list_deleted_certificates", "certificates/read", "certificate", False, ANY, None,
       lambda a, s: list(a.certs.list_deleted_certificates())),
    op("CertificateClient.get_deleted_certificate", "certificates/read", "certificate", True, ("deleted",), None,
       lambda a, s: a.certs.get_deleted_certificate(s.cert)),
    op("CertificateClient.begin_recover_deleted_certificate", "certificates/recover/action", "certificate", True,
       ("deleted",), "exists", lambda a, s: a.certs.begin_recover_deleted_certificate(s.cert).result()),
    op("CertificateClient.purge_deleted_certificate", "certificates/purge/action", "certificate", True,
       ("deleted",), "absent", lambda a, s: a.certs.purge_deleted_certificate(s.cert)),
    op("CertificateClient.restore_certificate_backup", "certificates/restore/action", "certificate", False,
       ("absent",), "exists", lambda a, s: a.certs.restore_certificate_backup(s.cert_backup)),
    # Contacts are the vault's. There is no certificatecontacts/read data action ([PERM-SEC]); reading them is
    # `managecontacts` by access policy ([SPEC]), whose mapping is certificatecontacts/write ([CMP-CSV]): INFERRED.
    op("CertificateClient.set_contacts", "certificatecontacts/write", "contacts", False, ANY, "set",
       lambda a, s: a.certs.set_contacts(CONTACTS)),
    op("CertificateClient.get_contacts", "certificatecontacts/write", "contacts", False, ("set",), None,
       lambda a, s: a.certs.get_contacts()),
    op("CertificateClient.delete_contacts", "certificatecontacts/write", "contacts", False, ("set",), "unset",
       lambda a, s: a.certs.delete_contacts()),
    # Issuers are the vault's too (`/certificates/issuers/NAME` is not a certificate).
    op("CertificateClient.create_issuer", "certificatecas/write", "issuer", False, ANY, "exists",
       lambda a, s: a.certs.create_issuer(s.issuer, ISSUER_PROVIDER)),
    op("CertificateClient.get_issuer", "certificatecas/read", "issuer", False, EXISTS, None,
       lambda a, s: a.certs.get_issuer(s.issuer)),
    op("CertificateClient.list_properties_of_issuers", "certificatecas/read", "issuer", False, ANY, None,
       lambda a, s: list(a.certs.list_properties_of_issuers())),
    op("CertificateClient.update_issuer", "certificatecas/write", "issuer", False, EXISTS, None,
       lambda a, s: a.certs.update_issuer(s.issuer, enabled=True)),
    op("CertificateClient.delete_issuer", "certificatecas/delete", "issuer", False, EXISTS, "absent",
       lambda a, s: a.certs.delete_issuer(s.issuer)),
)  # fmt: skip

OPERATIONS: tuple[Operation, ...] = SECRET_OPERATIONS + KEY_OPERATIONS + CERTIFICATE_OPERATIONS

COLLECTIONS = {"secret": "secrets", "key": "keys", "certificate": "certificates"}


def _expect(got: Any, want: Any) -> Any:
    assert got == want, f"the call answered {got!r}, want {want!r}"
    return got


def scope_covers(scope: str, resource: str) -> bool:
    """An assignment at `scope` covers `resource` when it is the scope or below it, at a segment boundary, in any
    case ([RBAC-GUIDE]: an assignment at a scope applies to everything under it)."""
    scope, resource = scope.rstrip("/").lower(), resource.rstrip("/").lower()
    return resource == scope or resource.startswith(scope + "/")


# ==============================================================================================================
# The world: one server, resource groups and RBAC vaults, the administrator, one principal per role.


class Arm:
    """The server's own management API (ARM's paths and bodies), as the deployment administrator."""

    def __init__(self, server: StrongroomServer, client_id: str, client_secret: str):
        self.server = server
        self.base = server.authority_host
        self.token = server.token(client_id, client_secret, "https://management.azure.com/.default")
        self.graph_token = server.token(client_id, client_secret, "https://graph.microsoft.com/.default")

    def call(self, method: str, path: str, api_version: str, body: Any = None, ok: tuple[int, ...] = (200, 201)):
        res = requests.request(
            method,
            self.base + path,
            params={"api-version": api_version},
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=self.server.ca_file,
            timeout=30,
        )
        assert res.status_code in ok, f"{method} {path}: {res.status_code} {res.text}"
        return res.json() if res.content else None

    def object_id(self, app_id: str) -> str:
        res = requests.get(
            f"{self.base}/v1.0/servicePrincipals(appId='{app_id}')",
            headers={"Authorization": f"Bearer {self.graph_token}"},
            verify=self.server.ca_file,
            timeout=30,
        )
        assert res.status_code == 200, res.text
        return str(res.json()["id"])

    def assign(self, role_guid: str, principal_id: str, scope: str) -> str:
        """`PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}` as az sends it; its id."""
        sub = self.server.subscription_id
        body = {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                + role_guid,
                "principalId": principal_id,
                "principalType": "ServicePrincipal",
            }
        }
        path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        created = self.call("PUT", path, "2022-04-01", body, ok=(201,))
        assert created["properties"]["scope"].lower() == scope.lower(), created
        return str(created["id"])

    def unassign(self, assignment_id: str) -> None:
        self.call("DELETE", assignment_id, "2022-04-01")


@dataclass
class Vault:
    name: str
    group: str
    id: str
    url: str

    def resource(self, subscription: str) -> str:
        """The vault as Azure's 403 names it (section 4: `resourcegroups`, `microsoft.keyvault` lower-cased)."""
        group = f"/subscriptions/{subscription}/resourcegroups/{self.group}"
        return f"{group}/providers/microsoft.keyvault/vaults/{self.name}"


@dataclass
class Principal:
    role: Role
    app_id: str
    object_id: str
    credential: ClientSecretCredential


class World:
    """Everything the tests share: the server, its administrator (who prepares objects through `admin_clients`),
    two resource groups with three RBAC vaults (A and B in the first, C in the second), and one principal per role."""

    def __init__(self, server: StrongroomServer):
        self.server = server
        self.subscription = server.subscription_id
        admin = server.env()
        self.admin_credential = ClientSecretCredential(
            "adfs", admin["AZURE_CLIENT_ID"], admin["AZURE_CLIENT_SECRET"], authority=server.authority_host
        )
        self.arm = Arm(server, admin["AZURE_CLIENT_ID"], admin["AZURE_CLIENT_SECRET"])
        # Local key material: every subject imports the same RSA key, so the ciphertext, signature and wrapped key
        # made here with its public half are valid for every subject's key.
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_jwk = jwk_from_private_key(rsa_key)
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        self.ciphertext = rsa_key.public_key().encrypt(PLAINTEXT, oaep)
        self.wrapped_key = rsa_key.public_key().encrypt(KEY_TO_WRAP, oaep)
        # The vault signs a digest: Prehashed.
        self.signature = rsa_key.sign(DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        self.pfx, self.merge_ca_key, self.merge_ca = _certificate_material()
        self.dummy_certificate = self.merge_ca.public_bytes(serialization.Encoding.DER)

        # Two groups; A and B in the first, C in the second.
        self.groups = [unique_name("rg-rbac"), unique_name("rg-rbac")]
        for group in self.groups:
            self.arm.call("PUT", f"/subscriptions/{self.subscription}/resourceGroups/{group}", "2025-04-01",
                          {"location": "westeurope"})  # fmt: skip
        self.vault_a = self.make_vault(self.groups[0])
        self.vault_b = self.make_vault(self.groups[0])
        self.vault_c = self.make_vault(self.groups[1])
        self.contacts: dict[str, str] = {v.name: "unset" for v in (self.vault_a, self.vault_b, self.vault_c)}

        admin_object_id = self.arm.object_id(admin["AZURE_CLIENT_ID"])
        administrator = ROLES_BY_NAME["Key Vault Administrator"].guid
        self.arm.assign(administrator, admin_object_id, f"/subscriptions/{self.subscription}")
        self._admin_clients: dict[str, tuple[SecretClient, KeyClient, CertificateClient]] = {}

        make = principal_maker(server)
        self.principals: dict[str, Principal] = {}
        for role in (*BUILTIN_ROLES, CUSTOM_ROLE):
            sp = make("rbac-role")
            self.principals[role.name] = Principal(role, sp.app_id, self.arm.object_id(sp.app_id), sp.credential)

    def make_vault(self, group: str) -> Vault:
        name = unique_name("rbac")
        path = f"/subscriptions/{self.subscription}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"
        body = {
            "location": "westeurope",
            "properties": {
                "tenantId": self.server.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "accessPolicies": [],
            },
        }
        created = self.arm.call("PUT", path, "2026-02-01", body, ok=(201,))
        assert created["properties"]["enableRbacAuthorization"] is True, created
        return Vault(name, group, str(created["id"]), str(created["properties"]["vaultUri"]))

    def admin_clients(self, vault: Vault) -> tuple[SecretClient, KeyClient, CertificateClient]:
        if vault.name not in self._admin_clients:
            cred = self.admin_credential
            self._admin_clients[vault.name] = (
                SecretClient(vault.url, cred), KeyClient(vault.url, cred), CertificateClient(vault.url, cred)
            )  # fmt: skip
        return self._admin_clients[vault.name]


def _certificate_material() -> tuple[bytes, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A PFX to import (EC P-256, self-signed, no password), and a CA that signs the CSRs of pending certificates."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )
        if ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        return builder.sign(issuer_key, hashes.SHA256())

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = build("imported.rbac.example", leaf_key, "imported.rbac.example", leaf_key, ca=False)
    pfx = pkcs12.serialize_key_and_certificates(None, leaf_key, leaf, None, serialization.NoEncryption())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("RBAC Merge CA", ca_key, "RBAC Merge CA", ca_key, ca=True)
    return pfx, ca_key, ca


# --------------------------------------------------------------------------------------------------------------
# A subject: the objects one run works on (a secret, a key, a certificate, an issuer, and the vault's contacts),
# with their states, which the administrator moves to what each allowed call needs.

# A subject's objects are named `{prefix}-{tag}`.
OBJECT_PREFIXES = {"secret": "s", "key": "k", "certificate": "c"}


class Subject:
    """Made with its secret, key and certificate existing, and their backups taken; its issuer does not exist."""

    def __init__(self, world: World, vault: Vault, tag: str):
        self.world = world
        self.vault = vault
        self.secret = f"{OBJECT_PREFIXES['secret']}-{tag}"
        self.key = f"{OBJECT_PREFIXES['key']}-{tag}"
        self.cert = f"{OBJECT_PREFIXES['certificate']}-{tag}"
        self.issuer = f"i-{tag}"
        self.state: dict[str, str] = {"secret": "absent", "key": "absent", "certificate": "absent", "issuer": "absent"}
        self.crypto_key_id = ""  # the imported RSA version's id
        self.cert_version = ""
        secrets, keys, certs = self.admin
        self._create("secret")
        self.secret_backup = secrets.backup_secret(self.secret)
        self._create("key")
        self.key_backup = keys.backup_key(self.key)
        self._create("certificate")
        self.cert_backup = certs.backup_certificate(self.cert)

    @property
    def admin(self) -> tuple[SecretClient, KeyClient, CertificateClient]:
        return self.world.admin_clients(self.vault)

    def resource(self, operation: Operation) -> str:
        vault = self.vault.resource(self.world.subscription)
        if not operation.on_object:
            return vault
        name = {"secret": self.secret, "key": self.key, "certificate": self.cert}[operation.kind]
        return f"{vault}/{COLLECTIONS[operation.kind]}/{name}"

    def merge_chain(self) -> list[bytes]:
        """The pending certificate's CSR signed by the test CA (any certificate when nothing is pending: a refused
        merge is not read)."""
        if self.state["certificate"] != "pending":
            return [self.world.dummy_certificate]
        csr = x509.load_der_x509_csr(bytes(self.admin[2].get_certificate_operation(self.cert).csr))
        now = datetime.datetime.now(datetime.timezone.utc)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.world.merge_ca.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self.world.merge_ca_key, hashes.SHA256())
        )
        return [leaf.public_bytes(serialization.Encoding.DER), self.world.dummy_certificate]

    # -- the administrator's moves ---------------------------------------------------------------------------------

    def _create(self, kind: str) -> None:
        secrets, keys, certs = self.admin
        if kind == "secret":
            secrets.set_secret(self.secret, "set by the administrator")
        elif kind == "key":
            imported = keys.import_key(self.key, self.world.rsa_jwk)
            self.crypto_key_id = str(imported.id)
        elif kind == "certificate":
            created = certs.begin_create_certificate(
                self.cert, _ec_policy("Self", f"CN={self.cert}"), _polling_interval=0.05
            ).result()
            self.cert_version = str(created.properties.version)
        elif kind == "issuer":
            certs.create_issuer(self.issuer, ISSUER_PROVIDER)
        self.state[kind] = "exists"

    def _lifecycle(self, kind: str) -> tuple[str, Any, Any, Any]:
        """The object's name and the administrator's begin_delete, purge and begin_recover for its kind."""
        secrets, keys, certs = self.admin
        if kind == "secret":
            s = secrets
            return self.secret, s.begin_delete_secret, s.purge_deleted_secret, s.begin_recover_deleted_secret
        if kind == "key":
            return self.key, keys.begin_delete_key, keys.purge_deleted_key, keys.begin_recover_deleted_key
        c = certs
        return self.cert, c.begin_delete_certificate, c.purge_deleted_certificate, c.begin_recover_deleted_certificate

    def _delete(self, kind: str) -> None:
        name, delete, _purge, _recover = self._lifecycle(kind)
        delete(name).wait()
        self.state[kind] = "deleted"

    def _purge(self, kind: str) -> None:
        name, _delete, purge, _recover = self._lifecycle(kind)
        purge(name)
        self.state[kind] = "absent"

    def _recover(self, kind: str) -> None:
        name, _delete, _purge, recover = self._lifecycle(kind)
        recover(name).wait()
        self.state[kind] = "exists"

    def ensure(self, operation: Operation) -> None:
        """Moves the object the operation needs into the first state of `needs` (unless it is in one already)."""
        kind, needs = operation.kind, operation.needs
        if not needs:
            return
        if kind == "contacts":
            if self.world.contacts[self.vault.name] not in needs:
                self.admin[2].set_contacts(CONTACTS)
                self.world.contacts[self.vault.name] = "set"
            return
        if self.state[kind] == "unknown":
            self.probe(kind)
        current, target = self.state[kind], needs[0]
        if current in needs:
            return
        if kind == "issuer":
            if target == "exists":
                self._create("issuer")
            else:
                self.admin[2].delete_issuer(self.issuer)
                self.state["issuer"] = "absent"
            return
        if current == "pending":
            # A pending create is removed with its operation; the certificate's completed versions stay.
            self.admin[2].delete_certificate_operation(self.cert)
            current = self.state[kind] = "exists"
            if current in needs:
                return
        if target == "exists":
            self._recover(kind) if current == "deleted" else self._create(kind)
        elif target == "deleted":
            if current == "absent":
                self._create(kind)
            self._delete(kind)
        elif target == "absent":
            if current == "exists":
                self._delete(kind)
            self._purge(kind)
        elif target == "pending":
            if current == "deleted":
                self._recover(kind)
            self.admin[2].begin_create_certificate(self.cert, _ec_policy("Unknown", f"CN={self.cert}"))
            self.state[kind] = "pending"
        else:
            raise AssertionError(f"no move to {target}")

    def probe(self, kind: str) -> None:
        """Finds out the state of an object after a call that did something unexpected."""
        secrets, keys, certs = self.admin
        if kind == "issuer":
            try:
                certs.get_issuer(self.issuer)
                self.state[kind] = "exists"
            except ResourceNotFoundError:
                self.state[kind] = "absent"
            return
        get, get_deleted = {
            "secret": (secrets.get_secret, secrets.get_deleted_secret),
            "key": (keys.get_key, keys.get_deleted_key),
            "certificate": (certs.get_certificate, certs.get_deleted_certificate),
        }[kind]
        name = self._lifecycle(kind)[0]
        try:
            get(name)
            self.state[kind] = "exists"
            if kind == "certificate":
                try:
                    if certs.get_certificate_operation(name).status == "inProgress":
                        self.state[kind] = "pending"
                except ResourceNotFoundError:
                    pass
            return
        except ResourceNotFoundError:
            pass
        try:
            get_deleted(name)
            self.state[kind] = "deleted"
        except ResourceNotFoundError:
            self.state[kind] = "absent"


class Actor:
    """One principal's SDK clients on one vault."""

    def __init__(self, principal: Principal, vault: Vault):
        self.secrets = SecretClient(vault.url, principal.credential)
        self.keys = KeyClient(vault.url, principal.credential)
        self.certs = CertificateClient(vault.url, principal.credential)
        self._crypto = remote_crypto_maker(principal.credential)

    def crypto(self, subject: Subject):
        # Every operation goes to the vault (no local public-key shortcut): see remote_crypto_maker.
        client, _wire = self._crypto(subject.crypto_key_id)
        return client


# --------------------------------------------------------------------------------------------------------------
# The run: every operation, with the expectation computed from the tables; mismatches are collected, not raised.


@dataclass
class Assignment:
    role: Role
    scope: str


@dataclass
class Tally:
    allowed: int = 0
    denied: int = 0
    mismatches: list[str] = field(default_factory=list)

    def check(self) -> None:
        total = self.allowed + self.denied + len(self.mismatches)
        summary = f"{len(self.mismatches)} of {total} checks disagree with Azure's tables:\n"
        assert not self.mismatches, summary + "\n".join(self.mismatches)


def expected_allowed(operation: Operation, subject: Subject, assignments: list[Assignment]) -> bool:
    resource = subject.resource(operation)
    return any(a.role.allows(operation.action) and scope_covers(a.scope, resource) for a in assignments)


def run_table(
    tally: Tally, principal: Principal, subject: Subject, assignments: list[Assignment], label: str
) -> None:
    actor = Actor(principal, subject.vault)
    for operation in OPERATIONS:
        allowed = expected_allowed(operation, subject, assignments)
        on = f"{operation.action} on {subject.resource(operation)}"
        where = f"[{label}] {principal.role.name}: {operation.name} ({on})"
        if allowed:
            subject.ensure(operation)
        try:
            operation.call(actor, subject)
            outcome: HttpResponseError | None = None
        except HttpResponseError as err:
            outcome = err
        except AssertionError as err:
            tally.mismatches.append(f"{where}: allowed, but {err}")
            subject.state[operation.kind] = "unknown"
            continue
        problem = _judge(operation, subject, allowed, outcome)
        if problem:
            tally.mismatches.append(f"{where}: {problem}")
            # Whatever the call did, the administrator finds out before the next call that needs the object.
            if operation.kind == "contacts":
                subject.world.contacts[subject.vault.name] = "unknown"
            else:
                subject.state[operation.kind] = "unknown"
            continue
        if allowed:
            tally.allowed += 1
            if operation.after:
                if operation.kind == "contacts":
                    subject.world.contacts[subject.vault.name] = operation.after
                else:
                    subject.state[operation.kind] = operation.after
        else:
            tally.denied += 1


def _judge(operation: Operation, subject: Subject, allowed: bool, outcome: HttpResponseError | None) -> str | None:
    """None when the outcome is what the tables say; else what is wrong."""
    if allowed:
        want = operation.fails_after_authorization
        if want is None:
            return None if outcome is None else f"allowed, but refused: {_describe(outcome)}"
        if outcome is None:
            return f"want the refusal {want} after authorisation, got success"
        got = (outcome.status_code, outcome.error.code if outcome.error else None)
        return None if got == want else f"want {want} after authorisation, got {_describe(outcome)}"
    if outcome is None:
        return "denied by the tables, but the call succeeded"
    body = outcome.error
    message = (body.message if body else "") or ""
    inner = dict(body.innererror or {}) if body else {}
    if outcome.status_code != 403 or body is None or body.code != "Forbidden" or inner != {"code": "ForbiddenByRbac"}:
        return f"want 403 Forbidden/ForbiddenByRbac, got {_describe(outcome)}"
    if f"Action: '{operation.action}'" not in message:
        return f"the 403 names another action: {message!r}"
    if f"Resource: '{subject.resource(operation)}'" not in message:
        return f"the 403 names another resource: {message!r}"
    return None


def _describe(err: HttpResponseError) -> str:
    body = err.error
    if body is None:
        return f"{err.status_code} (no error body)"
    return f"{err.status_code} {body.code} {dict(body.innererror or {})} {(body.message or '')[:200]!r}"


# ==============================================================================================================
# Fixtures and tests.


@pytest.fixture(scope="module")
def world(strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-rbac")) as server:
        with pytest.MonkeyPatch.context() as env:
            # The CA variables `strongroom env` prints, for this server (restored afterwards).
            env.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
            env.setenv("SSL_CERT_FILE", server.ca_file)
            yield World(server)


def test_the_tables_name_every_role_and_operation_once():
    assert len(BUILTIN_ROLES) == 11 and len(ROLES_BY_NAME) == 11
    assert len({role.guid for role in BUILTIN_ROLES}) == 11
    names = [operation.name for operation in OPERATIONS]
    assert len(names) == len(set(names))
    # Every data action named is one of Azure's ([PERM-SEC]) and granted by Key Vault Administrator.
    administrator = ROLES_BY_NAME["Key Vault Administrator"]
    assert all(administrator.allows(operation.action) for operation in OPERATIONS)
    # The wildcard rules the tables rely on.
    assert action_matches(V + "*/read", V + "keyrotationpolicies/read")
    assert not action_matches(V + "*/read", V + "secrets/readMetadata/action")
    assert action_matches("microsoft.keyvault/VAULTS/secrets/*", V + "secrets/getSecret/action")
    assert scope_covers("/subscriptions/s/resourceGroups/RG", "/subscriptions/s/resourcegroups/rg/providers/x")
    assert not scope_covers("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourcegroups/rg2")


def test_the_server_serves_azures_built_in_roles(world: World):
    """Each role read back through ARM: its name, GUID and permissions are Azure's (the server's table is code)."""
    sub = world.subscription
    for role in BUILTIN_ROLES:
        path = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}"
        served = world.arm.call("GET", path, "2022-05-01-preview")
        assert served["id"] == path and served["name"] == role.guid, served
        properties = served["properties"]
        assert properties["roleName"] == role.name and properties["type"] == "BuiltInRole", properties
        (permissions,) = properties["permissions"]
        assert sorted(permissions["dataActions"]) == sorted(role.data_actions), role.name
        assert permissions["notDataActions"] == list(role.not_data_actions), role.name


SCOPES = ("subscription", "resource-group", "vault", "object")


@dataclass
class ScopePhase:
    """Every built-in role's principal holding its role at one kind of scope, all assigned at once."""

    name: str
    runs: dict[str, list[tuple[Subject, list[Assignment], str]]]


@pytest.fixture(scope="module", params=SCOPES)
def phase(request: pytest.FixtureRequest, world: World) -> Iterator[ScopePhase]:
    scope_kind: str = request.param
    sub = f"/subscriptions/{world.subscription}"
    a, b, c = world.vault_a, world.vault_b, world.vault_c
    runs: dict[str, list[tuple[Subject, list[Assignment], str]]] = {}
    made: list[str] = []
    try:
        for index, role in enumerate(BUILTIN_ROLES):
            principal = world.principals[role.name]
            tag = f"{scope_kind[:3]}{index}"
            if scope_kind == "subscription":
                # Covers every vault of every group.
                scopes = [sub]
                plan = [(a, tag, "vault A, group 1"), (c, tag, "vault C, group 2")]
            elif scope_kind == "resource-group":
                scopes = [f"{sub}/resourceGroups/{b.group}"]
                plan = [(b, tag, "vault B in the group"), (c, tag, "vault C, another group")]
            elif scope_kind == "vault":
                scopes = [a.id]
                plan = [(a, tag, "the vault"), (b, tag, "vault B, same group")]
            else:
                scopes = [f"{a.id}/{COLLECTIONS[kind]}/{prefix}-{tag}" for kind, prefix in OBJECT_PREFIXES.items()]
                plan = [(a, tag, "its objects"), (a, f"{tag}x", "other objects, same vault"),
                        (b, tag, "the same names in vault B")]  # fmt: skip
            # The objects first (an object-scope assignment names one that exists), then the assignments.
            assignments = [Assignment(role, scope) for scope in scopes]
            runs[role.name] = [
                (Subject(world, vault, subject_tag), assignments, f"{scope_kind} scope, {label}")
                for vault, subject_tag, label in plan
            ]
            for scope in scopes:
                made.append(world.arm.assign(role.guid, principal.object_id, scope))
        yield ScopePhase(scope_kind, runs)
    finally:
        for assignment_id in made:
            world.arm.unassign(assignment_id)


@pytest.mark.parametrize("role_name", [role.name for role in BUILTIN_ROLES])
def test_role_table_at_each_scope(world: World, phase: ScopePhase, role_name: str):
    """Every operation, for one role at one kind of scope: allowed where the tables say, 403 elsewhere."""
    principal = world.principals[role_name]
    tally = Tally()
    for subject, assignments, label in phase.runs[role_name]:
        run_table(tally, principal, subject, assignments, label)
    tally.check()
    assert tally.allowed + tally.denied == len(OPERATIONS) * len(phase.runs[role_name])
    # Roles with data actions are allowed something where they are assigned.
    assert (tally.allowed > 0) == bool(ROLES_BY_NAME[role_name].data_actions)


def test_a_custom_role_with_not_data_actions(world: World):
    """A custom role made through ARM (`Microsoft.KeyVault/vaults/secrets/*` less getSecret) allows every secrets
    operation but reading a value; a second assignment that grants getSecret gives it back, since `notDataActions`
    only subtracts from its own role ([ROLEDEF]: "NotDataActions is not a deny rule")."""
    sub = f"/subscriptions/{world.subscription}"
    guid = str(uuid.uuid4())
    path = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    body = {
        "properties": {
            "roleName": CUSTOM_ROLE.name,
            "description": "every secrets data action but getSecret",
            "type": "CustomRole",
            "assignableScopes": [sub],
            "permissions": [
                {
                    "actions": [],
                    "notActions": [],
                    "dataActions": list(CUSTOM_ROLE.data_actions),
                    "notDataActions": list(CUSTOM_ROLE.not_data_actions),
                }
            ],
        }
    }
    created = world.arm.call("PUT", path, "2022-05-01-preview", body, ok=(201,))
    assert created["properties"]["type"] == "CustomRole", created
    (permissions,) = world.arm.call("GET", path, "2022-05-01-preview")["properties"]["permissions"]
    assert permissions["notDataActions"] == list(CUSTOM_ROLE.not_data_actions)

    principal = world.principals[CUSTOM_ROLE.name]
    vault = world.vault_a
    made = [world.arm.assign(guid, principal.object_id, vault.id)]
    try:
        custom = Role(CUSTOM_ROLE.name, guid, CUSTOM_ROLE.data_actions, CUSTOM_ROLE.not_data_actions)
        assignments = [Assignment(custom, vault.id)]
        tally = Tally()
        run_table(tally, principal, Subject(world, vault, "cus0"), assignments, "custom role, vault scope")
        run_table(tally, principal, Subject(world, world.vault_b, "cus0"), assignments, "custom role, vault B")
        get_secret = next(o for o in OPERATIONS if o.name == "SecretClient.get_secret")
        assert not custom.allows(get_secret.action) and custom.allows(V + "secrets/setSecret/action")

        user = ROLES_BY_NAME["Key Vault Secrets User"]
        made.append(world.arm.assign(user.guid, principal.object_id, vault.id))
        assignments.append(Assignment(user, vault.id))
        run_table(tally, principal, Subject(world, vault, "cus1"), assignments, "custom role + Secrets User")
        tally.check()
        assert tally.allowed > 0 and tally.denied > 0
    finally:
        for assignment_id in made:
            world.arm.unassign(assignment_id)
    # Unassigned, the role can be deleted (ARM answers 200 with the definition).
    deleted = world.arm.call("DELETE", path, "2022-05-01-preview")
    assert deleted["name"] == guid
