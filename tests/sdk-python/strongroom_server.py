"""The `strongroom` process and its CLI, as the official-SDK suite drives them (fixtures live in conftest.py).

- `StrongroomServer` starts `strongroom serve --data-dir <tmp> --listen 127.0.0.1:0 --dev-clock`, reads its stdout
  until the `strongroom ready: {json}` line (CONTRACTS.md "Start-up and readiness"), keeps draining stdout and
  stderr into log files (test_no_leaks greps them), and stops the process at the end.
- `StrongroomServer.cli` runs `strongroom --data-dir <tmp> …` and parses the JSON it prints.
- `StrongroomServer.activated_env` exports `strongroom env --vault V` into `os.environ` (overriding any CA
  variables the machine presets, CLIENT-PROTOCOL.md section 7.3) and restores the old values afterwards.
- `jwk_from_private_key` / `public_key_from_jwk` convert between `cryptography` keys and the SDK's `JsonWebKey`
  (for the Keys suite: importing locally made keys, checking the vault's results locally).
- `StrongroomDeployment` (`running_deployment`): several nodes on one fresh PostgreSQL database behind a
  `Balancer` (balancer.py), behaving towards the tests as one `StrongroomServer` (STRONGROOM_SDK_NODES, conftest.py).
- `vault_maker`, `key_vault_maker`, `principal_maker`, `remote_crypto_maker` (and `WireLog`): what conftest.py's
  session fixtures hand out, for any server (test_no_leaks.py runs one of its own at trace level).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse, urlsplit, urlunsplit

import requests
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import JsonWebKey, KeyClient
from azure.keyvault.keys.crypto import CryptographyClient
from azure.keyvault.keys.crypto._providers import NoLocalCryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from azure.keyvault.secrets import SecretClient

from balancer import Balancer

READY_PREFIX = b"strongroom ready: "
READY_TIMEOUT_S = 60.0
CLI_TIMEOUT_S = 60.0

# Variables that could steer DefaultAzureCredential away from the EnvironmentCredential that `strongroom env`
# configures. A developer machine may have them set; the suite must not depend on that.
_FOREIGN_AZURE_VARIABLES = (
    "AZURE_TOKEN_CREDENTIALS",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
)


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class CliError(AssertionError):
    pass


def assert_az_json(res: CliResult) -> Any:
    """Exit 0, JSON on stdout, indented by two spaces like `az`."""
    assert res.returncode == 0, res.stderr
    parsed = res.json
    lines = res.stdout.splitlines()
    if len(lines) > 1:
        assert lines[1].startswith('  "') or lines[1].startswith("  {"), f"not 2-space indented: {lines[:3]}"
    return parsed


def assert_cli_error(res: CliResult, *fragments: str) -> str:
    """Exit 1, exactly one `ERROR: …` line on stderr holding every fragment, nothing on stdout, no panic."""
    assert res.returncode == 1, f"exit {res.returncode}, stdout {res.stdout!r}, stderr {res.stderr!r}"
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"want one error line on stderr, got {lines}"
    line = lines[0]
    assert line.startswith("ERROR: "), line
    for bad in ("Traceback", "panicked", "RUST_BACKTRACE", "stack backtrace"):
        assert bad not in res.stderr
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert res.stdout.strip() == "", f"stdout on failure: {res.stdout!r}"
    return line


def parse_env_exports(text: str) -> dict[str, str]:
    """Parse `export NAME='value'` lines (shell-quoted) into a dict."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert line.startswith("export "), f"unexpected line in `strongroom env` output: {line!r}"
        words = shlex.split(line[len("export ") :])
        assert len(words) == 1 and "=" in words[0], f"not one NAME=value assignment: {line!r}"
        name, value = words[0].split("=", 1)
        env[name] = value
    return env


def unique_name(prefix: str) -> str:
    """A vault or secret name that is unique in this run: letters first, then hex (valid for both)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class StrongroomServer:
    """One `strongroom serve` process on a fresh data directory, plus the CLI pointed at it."""

    def __init__(
        self,
        binary: str,
        data_dir: Path,
        log_dir: Path,
        extra_args: tuple[str, ...] = (),
        log_filter: str | None = None,
        listen: str = "127.0.0.1:0",
    ):
        self.binary = binary
        self.listen = listen
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.extra_args = extra_args
        # `STRONGROOM_LOG` for this process; None: the environment's, else "info,strongroom=debug".
        self.log_filter = log_filter
        self.stdout_log = log_dir / "server-stdout.log"
        self.stderr_log = log_dir / "server-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._ready: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Log verbosely, so that what debug logging would print is in the logs a failure shows.
        if self.log_filter is not None:
            env["STRONGROOM_LOG"] = self.log_filter
        else:
            env.setdefault("STRONGROOM_LOG", "info,strongroom=debug")
        env.pop("STRONGROOM_DATA_DIR", None)
        return env

    def start(self) -> "StrongroomServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            self.listen,
            *self.extra_args,
        ]
        stderr_file = open(self.stderr_log, "wb")
        try:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                env=self._process_env(),
            )
        finally:
            stderr_file.close()
        self._reader = threading.Thread(target=self._drain_stdout, name="strongroom-stdout", daemon=True)
        self._reader.start()
        try:
            info = self._ready.get(timeout=READY_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"strongroom printed no `strongroom ready:` line within {READY_TIMEOUT_S:.0f} s\n{self.log_tail()}"
            ) from None
        if info is None:
            self.stop()
            raise RuntimeError(f"strongroom exited before it was ready\n{self.log_tail()}")
        self.info = info
        return self

    def _drain_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        announced = False
        with open(self.stdout_log, "wb") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if not announced and line.startswith(READY_PREFIX):
                    announced = True
                    try:
                        self._ready.put(json.loads(line[len(READY_PREFIX) :]))
                    except json.JSONDecodeError as err:
                        log.write(f"\n[test harness] readiness line is not JSON: {err}\n".encode())
                        self._ready.put(None)
        if not announced:
            self._ready.put(None)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)

    def assert_running(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, (
            f"strongroom is not running (exit code {self.proc.poll() if self.proc else None})\n{self.log_tail()}"
        )

    def log_tail(self, n_bytes: int = 4000) -> str:
        parts = []
        for path in (self.stdout_log, self.stderr_log):
            if path.exists():
                data = path.read_bytes()[-n_bytes:]
                parts.append(f"--- {path.name} (tail) ---\n{data.decode('utf-8', 'replace')}")
        return "\n".join(parts)

    def log_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in (self.stdout_log, self.stderr_log) if p.exists())

    # -- facts from server.json -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def domain(self) -> str:
        return str(self.info.get("domain", "localhost"))

    @property
    def authority_host(self) -> str:
        return str(self.info["authorityHost"])

    @property
    def tenant_id(self) -> str:
        return str(self.info["tenantId"])

    @property
    def subscription_id(self) -> str:
        """The deployment's one Azure subscription (what `az account show` prints as `id`)."""
        return str(self.info["subscriptionId"])

    @property
    def ca_file(self) -> str:
        return str(self.info["caFile"])

    @property
    def certificate_ca_file(self) -> str:
        """The CA that signs certificates of the `Strongroom` issuer (not the TLS trust root)."""
        return str(self.info["certificateCaFile"])

    def vault_url(self, vault: str) -> str:
        return f"https://{vault}.vault.{self.domain}:{self.port}"

    @property
    def vault_audience(self) -> str:
        return f"https://vault.{self.domain}:{self.port}"

    # -- the CLI ----------------------------------------------------------------------------------------------

    def cli(self, *args: str, check: bool = True, data_dir: Path | str | None = None) -> CliResult:
        data_dir = str(data_dir if data_dir is not None else self.data_dir)
        argv = [self.binary, "--data-dir", data_dir, *args]
        env = dict(os.environ)
        env["STRONGROOM_DATA_DIR"] = data_dir
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=CLI_TIMEOUT_S,
        )
        res = CliResult(
            argv,
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
        if check and res.returncode != 0:
            raise CliError(
                f"`strongroom {' '.join(args)}` exited {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}"
            )
        return res

    def cli_json(self, *args: str) -> Any:
        res = self.cli(*args)
        try:
            return res.json
        except json.JSONDecodeError as err:
            raise CliError(f"`strongroom {' '.join(args)}` printed no JSON ({err}): {res.stdout!r}") from None

    def env(self, vault: str | None = None) -> dict[str, str]:
        """`strongroom env --admin [--vault V]`: the suite acts as the deployment administrator."""
        args = ["env", "--admin"] + (["--vault", vault] if vault else [])
        return parse_env_exports(self.cli(*args).stdout)

    def create_vault(self, prefix: str = "vault", *extra: str) -> dict[str, Any]:
        return self.cli_json("keyvault", "create", "--name", unique_name(prefix), *extra)

    @contextlib.contextmanager
    def activated_env(self, vault: str) -> Iterator[dict[str, str]]:
        """Put this server's `strongroom env --admin --vault` into os.environ, restoring the previous values after."""
        env = self.env(vault)
        saved = {name: os.environ.get(name) for name in (*env, *_FOREIGN_AZURE_VARIABLES)}
        for name in _FOREIGN_AZURE_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(env)
        try:
            yield env
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    # -- raw helpers ------------------------------------------------------------------------------------------

    def token(self, client_id: str, client_secret: str, scope: str) -> str:
        """A token straight from the v2 token endpoint (for raw HTTP tests and the dev clock)."""
        res = requests.post(
            f"{self.authority_host}/{self.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": scope,
            },
            verify=self.ca_file,
            timeout=30,
        )
        assert res.status_code == 200, f"token request failed: {res.status_code} {res.text}"
        return str(res.json()["access_token"])

    def advance_clock(self, admin_token: str, seconds: int) -> dict[str, Any]:
        res = requests.post(
            f"{self.authority_host}/strongroom/dev/clock",
            params={"advanceSeconds": str(seconds)},
            headers={"Authorization": f"Bearer {admin_token}"},
            verify=self.ca_file,
            timeout=30,
        )
        assert res.status_code == 200, f"dev clock: {res.status_code} {res.text}"
        return res.json()


@contextlib.contextmanager
def running_server(
    binary: str,
    root: Path,
    extra_args: tuple[str, ...] = ("--dev-clock",),
    log_filter: str | None = None,
    listen: str = "127.0.0.1:0",
) -> Iterator[StrongroomServer]:
    """A server on `root/data`, logging to `root/logs`; `root` comes from pytest's tmp_path_factory, which keeps
    the directories of the last three runs for a look after a failure. `log_filter` sets its `STRONGROOM_LOG`."""
    server = StrongroomServer(binary, root / "data", root / "logs", extra_args, log_filter, listen).start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------------------------
# Several nodes of one deployment on one PostgreSQL database, behind a load balancer (issue 11), as an operator runs
# them (crates/strongroom/tests/it/multinode.rs does the same in Rust).


def _postgres_client(bin_dir: str | None) -> str:
    """`psql`: from `STRONGROOM_TEST_POSTGRES_BIN`, else from the directory its `postgres` links to (scripts/
    with-postgres.sh may find the server through /usr/local/bin links to it, which hold no client), else PATH."""
    candidates: list[Path] = []
    if bin_dir:
        candidates.append(Path(bin_dir) / "psql")
        candidates.append(Path(os.path.realpath(Path(bin_dir) / "postgres")).parent / "psql")
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("psql")
    if found is None:
        raise RuntimeError(f"no psql in {[str(c) for c in candidates]} nor on PATH: cannot create the test database")
    return found


class PostgresDatabase:
    """A new database of the session's own on the test server (`STRONGROOM_TEST_POSTGRES_URL`, whose user may
    create databases), so that a run starts from an empty store and leaves nothing behind: made with `psql`, dropped
    by `drop()` (with FORCE, in case a node still holds a connection)."""

    def __init__(self, server_url: str, bin_dir: str | None, prefix: str = "strongroom_sdk"):
        self.server_url = server_url
        self.psql = _postgres_client(bin_dir)
        self.name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(server_url)
        assert parts.scheme in ("postgres", "postgresql"), f"not a postgres:// URL: {server_url}"
        # The same server, user and options; only the database differs.
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.created = False

    def _run(self, sql: str) -> None:
        done = subprocess.run(
            [self.psql, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", self.server_url, "-c", sql],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} exited {done.returncode}: {done.stderr.strip()}")

    def create(self) -> "PostgresDatabase":
        self._run(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return self

    def drop(self) -> None:
        if self.created:
            self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


def copy_node_data_dir(source: Path, target: Path) -> None:
    """Another node's data directory: the first node's, without what belongs to one process (its lock, its SQLite
    file, its server.json), private as `serve` requires (harness.rs `copy_deployment_files`)."""

    def node_local(_directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in ("serve.lock", "server.json") or n.startswith("strongroom.db")}

    shutil.copytree(source, target, ignore=node_local)
    target.chmod(0o700)


class StrongroomDeployment(StrongroomServer):
    """Several `strongroom serve` nodes on one PostgreSQL database, behind a `Balancer` whose port is every node's
    `--public-port`. It is node A itself (its data directory, its server.json, the CLI pointed at it), so the tests
    get what a single server gives them: vault URLs, audience and authority name the balancer's port (node A's
    server.json says so), and the CLI reaches node A at its `listen` address. The other nodes start from copies of
    A's data directory with the same flags; each node writes its own audit log (`audit_logs`). `stop()` stops every
    node and the balancer, and drops the database."""

    def __init__(
        self,
        binary: str,
        root: Path,
        database: PostgresDatabase,
        node_count: int = 2,
        extra_args: tuple[str, ...] = ("--dev-clock",),
        audit_log: bool = True,
        log_filter: str | None = None,
    ):
        assert node_count >= 2, "a deployment of one node is a StrongroomServer"
        self.database = database
        self.balancer = Balancer()
        self.node_roots = [root / f"node-{chr(ord('a') + i)}" for i in range(node_count)]
        self.audit_logs = [node_root / "audit.log" for node_root in self.node_roots] if audit_log else []
        common = (*extra_args, "--store", database.url, "--public-port", str(self.balancer.port))

        def node_args(index: int) -> tuple[str, ...]:
            return (*common, "--audit-log", str(self.audit_logs[index])) if audit_log else common

        super().__init__(binary, self.node_roots[0] / "data", self.node_roots[0] / "logs", node_args(0), log_filter)
        self.other_nodes = [
            StrongroomServer(binary, node_root / "data", node_root / "logs", node_args(i), log_filter)
            for i, node_root in enumerate(self.node_roots[1:], start=1)
        ]

    @property
    def nodes(self) -> list[StrongroomServer]:
        return [self, *self.other_nodes]

    def start(self) -> "StrongroomDeployment":
        try:
            self.database.create()
            # Node A makes the deployment in the database (tenant, administrator, signing key); the others join it.
            super().start()
            assert self.port == self.balancer.port, f"node A announces port {self.port}, not the public port"
            for node in self.other_nodes:
                copy_node_data_dir(self.data_dir, node.data_dir)
                node.start()
            self.balancer.start([str(node.info["listen"]) for node in self.nodes])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # Every step runs even if one before it fails: the other nodes, node A, the balancer, then the database.
        with contextlib.ExitStack() as steps:
            steps.callback(self.database.drop)
            steps.callback(self.balancer.stop)
            steps.callback(super().stop)
            for node in self.other_nodes:
                steps.callback(node.stop)

    def assert_running(self) -> None:
        for node in self.other_nodes:
            node.assert_running()
        super().assert_running()

    def log_tail(self, n_bytes: int = 4000) -> str:
        return "\n".join(
            f"=== node {chr(ord('a') + i)} ===\n{StrongroomServer.log_tail(node, n_bytes)}"
            for i, node in enumerate(self.nodes)
        )

    def log_bytes(self) -> bytes:
        return b"".join(StrongroomServer.log_bytes(node) for node in self.nodes)


@contextlib.contextmanager
def running_deployment(
    binary: str,
    root: Path,
    database: PostgresDatabase,
    node_count: int = 2,
    extra_args: tuple[str, ...] = ("--dev-clock",),
    audit_log: bool = True,
) -> Iterator[StrongroomDeployment]:
    """`running_server` for a deployment of `node_count` nodes on `database` (created here, dropped at the end)."""
    deployment = StrongroomDeployment(binary, root, database, node_count, extra_args, audit_log).start()
    try:
        yield deployment
    finally:
        deployment.stop()


@dataclass
class Vault:
    name: str
    url: str
    client: SecretClient
    resource: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------------
# Key material: `cryptography` keys <-> the SDK's JsonWebKey (big-endian bytes, as JWK base64url carries them).

# The hash each JWS signature algorithm signs (the digest a client computes before `sign`).
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
    "PS256": hashes.SHA256,
    "PS384": hashes.SHA384,
    "PS512": hashes.SHA512,
    "ES256": hashes.SHA256,
    "ES384": hashes.SHA384,
    "ES512": hashes.SHA512,
    "ES256K": hashes.SHA256,
}

EC_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "P-256K": ec.SECP256K1(),
}


def _int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")


def ec_coordinate_size(curve: str) -> int:
    return (EC_CURVES[curve].key_size + 7) // 8


def jwk_from_private_key(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, key_ops: list[str] | None = None, hsm: bool = False
) -> JsonWebKey:
    """The JWK of a locally generated private key, ready for `KeyClient.import_key`."""
    if isinstance(key, rsa.RSAPrivateKey):
        priv = key.private_numbers()
        pub = priv.public_numbers
        return JsonWebKey(
            kty="RSA-HSM" if hsm else "RSA",
            key_ops=key_ops,
            n=_int_bytes(pub.n),
            e=_int_bytes(pub.e),
            d=_int_bytes(priv.d),
            p=_int_bytes(priv.p),
            q=_int_bytes(priv.q),
            dp=_int_bytes(priv.dmp1),
            dq=_int_bytes(priv.dmq1),
            qi=_int_bytes(priv.iqmp),
        )
    crv = next(name for name, curve in EC_CURVES.items() if curve.name == key.curve.name)
    size = ec_coordinate_size(crv)
    priv_ec = key.private_numbers()
    return JsonWebKey(
        kty="EC-HSM" if hsm else "EC",
        key_ops=key_ops,
        crv=crv,
        x=_int_bytes(priv_ec.public_numbers.x, size),
        y=_int_bytes(priv_ec.public_numbers.y, size),
        d=_int_bytes(priv_ec.private_value, size),
    )


def enum_text(value: Any) -> str:
    """An SDK enum member (`KeyType.rsa`) or plain string as its wire text (`"RSA"`)."""
    return str(getattr(value, "value", value))


def public_key_from_jwk(jwk: JsonWebKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """The public key a vault returned (`KeyVaultKey.key`), as a `cryptography` key."""
    if enum_text(jwk.kty).startswith("RSA"):
        assert jwk.n and jwk.e, f"RSA JWK without n/e: {jwk}"
        return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()
    assert enum_text(jwk.kty).startswith("EC") and jwk.x and jwk.y, f"not an EC JWK with x/y: {jwk}"
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big"), EC_CURVES[enum_text(jwk.crv)]
    )
    return numbers.public_key()


@dataclass
class KeyVault:
    """A vault made for the Keys API: its name, URL, an admin `KeyClient` and the CLI's resource JSON."""

    name: str
    url: str
    client: KeyClient
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def sku(self) -> str:
        return str(self.resource["properties"]["sku"]["name"])


@dataclass
class Principal:
    app_id: str
    password: str
    tenant: str
    display_name: str
    credential: ClientSecretCredential

    def client(self, vault_url: str) -> SecretClient:
        return SecretClient(vault_url, self.credential)

    def key_client(self, vault_url: str) -> KeyClient:
        return KeyClient(vault_url, self.credential)

    def certificate_client(self, vault_url: str) -> "CertificateClient":
        from azure.keyvault.certificates import CertificateClient

        return CertificateClient(vault_url, self.credential)


# --------------------------------------------------------------------------------------------------------------
# What the session fixtures in conftest.py hand out, as plain functions, so that a module with a server of its own
# (test_no_leaks.py) builds the same things for it.


def vault_maker(server: StrongroomServer, credential: Any) -> Callable[..., Vault]:
    """`make(prefix="vault", *cli_flags) -> Vault`: a fresh vault made with the CLI, with an admin SecretClient."""

    def make(prefix: str = "vault", *extra: str) -> Vault:
        resource = server.create_vault(prefix, *extra)
        url = str(resource["properties"]["vaultUri"])
        return Vault(str(resource["name"]), url, SecretClient(url, credential), resource)

    return make


def key_vault_maker(server: StrongroomServer, credential: Any) -> Callable[..., KeyVault]:
    """`make(prefix="keys", sku=None, *cli_flags) -> KeyVault` (`--sku` when given), with an admin KeyClient."""

    def make(prefix: str = "keys", sku: str | None = None, *extra: str) -> KeyVault:
        args = (*(("--sku", sku) if sku else ()), *extra)
        resource = server.create_vault(prefix, *args)
        url = str(resource["properties"]["vaultUri"])
        return KeyVault(str(resource["name"]), url, KeyClient(url, credential), resource)

    return make


def principal_maker(server: StrongroomServer) -> Callable[..., Principal]:
    """`make(prefix, vault=None, secret_permissions=None, key_permissions=None, certificate_permissions=None)`:
    `ad sp create-for-rbac`, then `keyvault set-policy --spn …` with whichever permission lists are given."""

    def make(
        prefix: str,
        vault: str | None = None,
        secret_permissions: list[str] | None = None,
        key_permissions: list[str] | None = None,
        certificate_permissions: list[str] | None = None,
    ) -> Principal:
        sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name(prefix))
        lists = (secret_permissions, key_permissions, certificate_permissions)
        if vault is not None and any(given is not None for given in lists):
            permissions: list[str] = []
            if secret_permissions is not None:
                permissions += ["--secret-permissions", *secret_permissions]
            if key_permissions is not None:
                permissions += ["--key-permissions", *key_permissions]
            if certificate_permissions is not None:
                permissions += ["--certificate-permissions", *certificate_permissions]
            server.cli_json("keyvault", "set-policy", "--name", vault, "--spn", sp["appId"], *permissions)
        credential = ClientSecretCredential("adfs", sp["appId"], sp["password"], authority=server.authority_host)
        return Principal(sp["appId"], sp["password"], sp["tenant"], sp["displayName"], credential)

    return make


class WireLog:
    """A `raw_response_hook`: every response a client received, as (method, path, status)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def __call__(self, response: Any) -> None:
        request = response.http_request
        self.calls.append((request.method, urlparse(request.url).path, response.http_response.status_code))

    def served(self, operation: str) -> bool:
        """Whether the vault answered `POST …/{operation}` (the last answer, after any 401 challenge)."""
        answered = [c for c in self.calls if c[2] != 401]
        return bool(answered) and answered[-1][0] == "POST" and answered[-1][1].endswith("/" + operation.lower())

    def assert_served(self, operation: str) -> None:
        assert self.served(operation), f"the vault did not answer POST …/{operation.lower()}; responses: {self.calls}"


def remote_crypto_maker(credential: Any) -> Callable[..., tuple[CryptographyClient, WireLog]]:
    """`make(key_id, cred=None) -> (CryptographyClient, WireLog)`: every operation goes to the vault.

    A `CryptographyClient` first GETs the key and then encrypts, verifies and wraps locally with the public key
    (CLIENT-PROTOCOL.md section 8.7); for oct keys, whose material the vault never returns, it would even use a
    random local key. To prove what the *server* does, the client is put in the state the SDK enters by itself
    when that GET answers 403 (`_initialized` with no local provider), so every call is a request; the WireLog
    (`raw_response_hook`) lets each test check that the vault answered it.
    """

    def make(key_id: str, cred: Any = None) -> tuple[CryptographyClient, WireLog]:
        wire = WireLog()
        client = CryptographyClient(key_id, cred or credential, raw_response_hook=wire)
        client._initialized = True
        client._local_provider = NoLocalCryptography()
        return client, wire

    return make
