"""A schema-driven fuzz of the whole Key Vault data-plane OpenAPI spec against the real binary: no 5xx, no panic.

Schemathesis (pinned in requirements.txt) reads the vendored Azure specs, `spec/keyvault/2026-04-01/*.json`
(secrets, keys, certificates and the Managed HSM administration spec, whose routes a vault does not serve, so
they fuzz the router), and for every operation sends the spec's coverage cases (boundary values, missing and
wrong-typed fields) and Hypothesis-generated requests, valid ("positive") and invalid ("negative") ones, to a
vault of a server of this module's own, with a valid administrator token. Every response must be below 500
(schemathesis's `not_a_server_error` check, and our own assertion with the server log in the message), the
server must keep running, and its log must never say `panicked` (the panic guard turns a panic into a logged
500, so the log is where a caught one shows).

- `api-version` is pinned to 2026-04-01 in the spec copy the fuzzer reads, so that positive requests get past
  the version check; negative ones still send other values.
- Random object names almost always miss, so half of the cases (chosen by a hash of the generated request,
  so reproducibly) name objects that exist: per operation, a fresh secret, RSA, EC and oct-HSM keys (the
  vault is premium), a self-signed certificate and an issuer, and for the `deleted*` routes deleted ones.
  Key operations then reach the crypto with generated bodies.
- A request that gets no answer at all (a reset, a timeout) fails too: this fuzz found early 4xx answers
  lost to a reset when the request's body was still arriving (strongroom-api `unread_body.rs`).
- Bounds: `FUZZ_MAX_EXAMPLES` generated requests per operation (plus the coverage cases, most of the
  ~6,800 requests), no shrinking, Hypothesis's database off and a fixed seed, so a CI run is reproducible
  and takes about 80 s on 2 cores; `STRONGROOM_FUZZ_SEED` picks another seed and `STRONGROOM_FUZZ_EXAMPLES`
  another bound for a longer exploration by hand.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error

from strongroom_server import StrongroomServer, running_server, unique_name

API_VERSION = "2026-04-01"
SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "keyvault" / API_VERSION
SPECS = ("secrets", "keys", "certificates", "administration")
FUZZ_MAX_EXAMPLES = int(os.environ.get("STRONGROOM_FUZZ_EXAMPLES", "12"))
FUZZ_SEED = int(os.environ.get("STRONGROOM_FUZZ_SEED", "20260401"))
REQUEST_TIMEOUT_S = 30

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": FUZZ_SEED,
        # Generation speed depends on the machine's load; only the server's answers are judged.
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": FUZZ_MAX_EXAMPLES,
            "no-shrink": True,
            "database": "none",
        },
        # Only the status matters here; the other checks judge conformance, which other tests cover.
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": REQUEST_TIMEOUT_S,
    }
)


def _load(name: str) -> Any:
    spec = json.loads((SPEC_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for parameter in spec.get("parameters", {}).values():
        if parameter.get("name") == "api-version" and parameter.get("in") == "query":
            parameter["enum"] = [API_VERSION]
    # `x-ms-examples` point at files (`./examples/...`) that schemathesis neither needs nor reads.
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("x-ms-examples", None)
    return schemathesis.openapi.from_dict(spec, config=CONFIG)


SCHEMAS = {name: _load(name) for name in SPECS}


# --------------------------------------------------------------------------------------------------------------
# The server, its vault and the objects the fuzzer's requests are steered to.


class Target:
    """The fuzzed vault: URL, token, CA, and per-operation objects that exist."""

    def __init__(self, server: StrongroomServer, vault: str, token: str):
        self.server = server
        self.vault = vault
        self.url = server.vault_url(vault)
        self.token = token
        self.session = requests.Session()
        self.session.trust_env = False
        self.statuses: Counter[int] = Counter()
        self._objects: dict[str, dict[str, tuple[str, str]]] = {}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        res = self.session.request(
            method,
            f"{self.url}{path}",
            params={"api-version": API_VERSION},
            json=body,
            headers=self.headers(),
            verify=self.server.ca_file,
            timeout=REQUEST_TIMEOUT_S,
        )
        assert res.status_code < 300, f"seeding: {method} {path} -> {res.status_code} {res.text[:500]}"
        return res.json() if res.content else {}

    @staticmethod
    def _name_version(object_id: str) -> tuple[str, str]:
        # https://host/{kind}/{name}/{version}
        parts = object_id.rstrip("/").split("/")
        return parts[-2], parts[-1]

    def objects_for(self, operation_label: str, path: str) -> dict[str, tuple[str, str]]:
        """Existing objects for one operation, made on its first case: `{kind: (name, version)}`."""
        if operation_label in self._objects:
            return self._objects[operation_label]
        objects: dict[str, tuple[str, str]] = {}
        deleted = path.startswith("/deleted")
        if "secret" in path:
            name = unique_name("fz-s")
            objects["secret"] = self._name_version(self._call("PUT", f"/secrets/{name}", {"value": "fuzz"})["id"])
            if deleted:
                self._call("DELETE", f"/secrets/{name}")
        if "key" in path and "certificate" not in path:
            made = [
                ("rsa", {"kty": "RSA", "key_size": 2048}),
                ("ec", {"kty": "EC", "crv": "P-256"}),
                ("oct", {"kty": "oct-HSM", "key_size": 256}),
            ]
            for kind, body in made:
                name = unique_name(f"fz-{kind}")
                objects[kind] = self._name_version(self._call("POST", f"/keys/{name}/create", body)["key"]["kid"])
                if deleted:
                    self._call("DELETE", f"/keys/{name}")
        if "certificate" in path:
            name = unique_name("fz-c")
            policy = {"x509_props": {"subject": "CN=fuzz"}, "issuer": {"name": "Self"}}
            self._call("POST", f"/certificates/{name}/create", {"policy": policy})
            bundle = self._call("GET", f"/certificates/{name}/")
            objects["certificate"] = self._name_version(bundle["id"])
            issuer = unique_name("fz-i")
            self._call("PUT", f"/certificates/issuers/{issuer}", {"provider": "Test"})
            objects["issuer"] = (issuer, "")
            if deleted:
                self._call("DELETE", f"/certificates/{name}")
        self._objects[operation_label] = objects
        return objects


@pytest.fixture(scope="module")
def target(strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-fuzz")) as server:
        vault = str(server.create_vault("fuzz", "--sku", "premium")["name"])
        env = server.env(vault)
        token = server.token(env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"], f"{server.vault_audience}/.default")
        target = Target(server, vault, token)
        yield target
        print(f"\nfuzz: responses by status: {dict(sorted(target.statuses.items()))}")


# Path parameter -> which seeded object it names, and whether it is the name or the version.
_STEERED = {
    "secret-name": ("secret", 0),
    "secret-version": ("secret", 1),
    "certificate-name": ("certificate", 0),
    "certificate-version": ("certificate", 1),
    "issuer-name": ("issuer", 0),
}
_KEY_KINDS = ("rsa", "ec", "oct")


def _steer(case: Any, target: Target) -> None:
    """For half of the cases, replace generated names (and versions) with objects that exist."""
    parameters = case.path_parameters
    if not parameters:
        return
    # The coverage phase varies bodies and queries under fixed path parameters: hash them all.
    drawn = repr((parameters, case.query, case.body)).encode("utf-8", "replace")
    digest = zlib.crc32(drawn)
    if digest % 2:
        return
    names = set(parameters) & ({*_STEERED, "key-name", "key-version"})
    if not names:
        return
    objects = target.objects_for(case.operation.label, case.operation.path)
    for parameter in names:
        if parameter.startswith("key-"):
            kind, index = _KEY_KINDS[(digest >> 1) % len(_KEY_KINDS)], int(parameter == "key-version")
        else:
            kind, index = _STEERED[parameter]
        if kind in objects:
            parameters[parameter] = objects[kind][index]


def _log_tail(target: Target) -> str:
    return target.server.log_tail(3000)


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_no_server_error(case: Any, target: Target) -> None:
    _steer(case, target)
    try:
        response = case.call(
            base_url=target.url,
            session=target.session,
            headers=target.headers(),
            verify=target.server.ca_file,
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as err:
        # A reset or a timeout is a failure too: the server must answer every request.
        target.server.assert_running()
        raise AssertionError(
            f"{case.method} {case.formatted_path} query={case.query}: no answer ({err})\n{_log_tail(target)}"
        ) from None
    target.statuses[response.status_code] += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}\n"
        f"-> {response.status_code} {response.content[:500]!r}\n{_log_tail(target)}"
    )
    case.validate_response(response, checks=[not_a_server_error])


def test_server_never_panicked(target: Target) -> None:
    """Runs after the fuzz (file order): the server is still up, answers, and its log holds no panic."""
    target.server.assert_running()
    res = requests.get(
        f"https://localhost:{target.server.port}/healthz", verify=target.server.ca_file, timeout=REQUEST_TIMEOUT_S
    )
    assert res.status_code == 200, res.text
    assert sum(target.statuses.values()) > 0, "the fuzz sent no request"
    log = target.server.log_bytes().decode("utf-8", "replace")
    panics = [line for line in log.splitlines() if "panicked" in line]
    assert not panics, "the server panicked during the fuzz:\n" + "\n".join(panics[:20])
