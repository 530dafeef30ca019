"""Secure key release through `KeyClient.release_key`, against a server that trusts one attestation authority.

The test plays the attestation service: it writes the authority's JWKS, starts a dedicated server with
`--attestation-authority <URL>=<file>`, and mints the target's attestation token with PyJWT (RS256, `kid` from the
JWKS), carrying the target's RSA public key in `x-ms-runtime.keys` as Microsoft Azure Attestation does. The release
result is checked the way Microsoft's SKR client does (confidential-sidecar-containers `pkg/skr/akv.go`): the JWS
verifies with the leaf of its `x5c`, which the local CA issued for the vault hosts; `response.key.key.key_hsm` holds
the RSA-OAEP-wrapped AES key and the AES-KWP-wrapped PKCS#8 private key, which the target unwraps.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.keys import KeyClient, KeyExportEncryptionAlgorithm, KeyReleasePolicy
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding

from kv_errors import assert_http_error
from strongroom_server import StrongroomServer, running_server, unique_name

AUTHORITY = "https://attest.strongroom.test"
AUTHORITY_KID = "attest-key-1"
OAEP_HASHES = {
    "CKM_RSA_AES_KEY_WRAP": hashes.SHA1,
    "RSA_AES_KEY_WRAP_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_384": hashes.SHA384,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_b64url(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def release_policy(authority: str = AUTHORITY, attestation_type: str = "sevsnpvm") -> KeyReleasePolicy:
    document = {
        "version": "1.0.0",
        "anyOf": [
            {
                "authority": authority,
                "allOf": [
                    {"claim": "x-ms-attestation-type", "equals": attestation_type},
                    {"anyOf": [{"claim": "x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable", "equals": "false"}]},
                ],
            }
        ],
    }
    return KeyReleasePolicy(json.dumps(document).encode())


class Attestation:
    """The test's attestation authority and a target environment with its wrapping key."""

    def __init__(self, directory: Path) -> None:
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.signing_key.public_key().public_numbers()
        self.jwks_file = directory / "attest-jwks.json"
        jwk = {"kty": "RSA", "kid": AUTHORITY_KID, "use": "sig", "n": int_b64url(numbers.n), "e": int_b64url(numbers.e)}
        self.jwks_file.write_text(json.dumps({"keys": [jwk]}))
        self.target = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, **overrides: Any) -> str:
        target = self.target.public_key().public_numbers()
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": AUTHORITY,
            "iat": now,
            "nbf": now - 60,
            "exp": now + 600,
            "x-ms-attestation-type": "sevsnpvm",
            "x-ms-isolation-tee": {"x-ms-sevsnpvm-is-debuggable": False},
            "x-ms-runtime": {
                "keys": [
                    {
                        "kid": "TpmEphemeralEncryptionKey",
                        "kty": "RSA",
                        "key_ops": ["encrypt"],
                        "n": int_b64url(target.n),
                        "e": int_b64url(target.e),
                    }
                ]
            },
        }
        claims.update(overrides)
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": AUTHORITY_KID})


@pytest.fixture(scope="module")
def attestation(tmp_path_factory: pytest.TempPathFactory) -> Attestation:
    return Attestation(tmp_path_factory.mktemp("attestation"))


@pytest.fixture(scope="module")
def skr_server(
    resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory, attestation: Attestation
) -> Iterator[StrongroomServer]:
    extra = ("--attestation-authority", f"{AUTHORITY}/={attestation.jwks_file}")
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-skr"), extra) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(skr_server: StrongroomServer) -> Iterator[KeyClient]:
    vault = skr_server.cli_json("keyvault", "create", "--name", unique_name("skr"), "--sku", "premium")
    with skr_server.activated_env(vault["name"]) as env:
        yield KeyClient(env["AZURE_KEYVAULT_URL"], DefaultAzureCredential())


def verified_payload(jws: str, ca_file: str) -> dict[str, Any]:
    """The JWS payload, once its signature verifies with the `x5c` leaf and the leaf chains to the local CA."""
    header_b64, payload_b64, signature_b64 = jws.split(".")
    header = json.loads(unb64url(header_b64))
    assert header["alg"] == "RS256"
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    ca = x509.load_pem_x509_certificate(Path(ca_file).read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert base64.b64decode(header["x5c"][-1]) == ca.public_bytes(serialization.Encoding.DER)
    leaf_key = leaf.public_key()
    assert isinstance(leaf_key, rsa.RSAPublicKey)
    leaf_key.verify(
        unb64url(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return json.loads(unb64url(payload_b64))


def unwrap_key_hsm(key_hsm: str, enc: str, target: rsa.RSAPrivateKey) -> bytes:
    blob = json.loads(unb64url(key_hsm))
    assert blob["schema_version"] == "1.0"
    assert blob["header"] == {"kid": "TpmEphemeralEncryptionKey", "alg": "dir", "enc": enc}
    ciphertext = unb64url(blob["ciphertext"])
    modulus_len = target.key_size // 8
    oaep_hash = OAEP_HASHES[enc]
    kek = target.decrypt(
        ciphertext[:modulus_len], padding.OAEP(mgf=padding.MGF1(oaep_hash()), algorithm=oaep_hash(), label=None)
    )
    return aes_key_unwrap_with_padding(kek, ciphertext[modulus_len:])


@pytest.mark.parametrize("enc", [None, "RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384"])
def test_release_key_wraps_the_private_key_for_the_attested_target(
    client: KeyClient, skr_server: StrongroomServer, attestation: Attestation, enc: str | None
):
    name = unique_name("released")
    key = client.create_rsa_key(
        name, size=2048, hardware_protected=True, exportable=True, release_policy=release_policy()
    )
    algorithm = KeyExportEncryptionAlgorithm(enc) if enc else None
    result = client.release_key(
        name, attestation.token(), version=key.properties.version, algorithm=algorithm, nonce="n-1"
    )

    payload = verified_payload(result.value, skr_server.ca_file)
    wrapping = enc or "CKM_RSA_AES_KEY_WRAP"
    assert payload["request"]["enc"] == wrapping
    assert payload["request"]["kid"] == key.id
    assert payload["request"]["nonce"] == "n-1"
    assert payload["request"]["api-version"]
    released = payload["response"]["key"]
    assert released["key"]["kid"] == key.id
    assert released["key"]["kty"] == "RSA-HSM"
    assert released["attributes"]["exportable"] is True
    assert json.loads(unb64url(released["release_policy"]["data"])) == json.loads(
        key.properties.release_policy.encoded_policy
    )

    pkcs8 = unwrap_key_hsm(released["key"]["key_hsm"], wrapping, attestation.target)
    private = serialization.load_der_private_key(pkcs8, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    numbers = private.public_key().public_numbers()
    assert numbers.n == int.from_bytes(key.key.n, "big")
    assert numbers.e == int.from_bytes(key.key.e, "big")


def test_release_is_refused_unless_the_token_satisfies_a_trusted_policy(
    client: KeyClient, attestation: Attestation
):
    sgx_only = unique_name("sgxonly")
    client.create_rsa_key(
        sgx_only, size=2048, hardware_protected=True, exportable=True, release_policy=release_policy(attestation_type="sgx")
    )
    with pytest.raises(HttpResponseError) as err:
        client.release_key(sgx_only, attestation.token())
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1033")

    elsewhere = unique_name("elsewhere")
    client.create_rsa_key(
        elsewhere,
        size=2048,
        hardware_protected=True,
        exportable=True,
        release_policy=release_policy(authority="https://sharedeus.eus.attest.azure.net"),
    )
    with pytest.raises(HttpResponseError) as err:
        client.release_key(elsewhere, attestation.token())
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1032")

    good = unique_name("good")
    client.create_rsa_key(good, size=2048, hardware_protected=True, exportable=True, release_policy=release_policy())
    expired = attestation.token(exp=int(time.time()) - 10)
    with pytest.raises(HttpResponseError) as err:
        client.release_key(good, expired)
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1031")

    forged = jwt.encode(
        jwt.decode(attestation.token(), options={"verify_signature": False}),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": AUTHORITY_KID},
    )
    with pytest.raises(HttpResponseError) as err:
        client.release_key(good, forged)
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1030")

    with pytest.raises(HttpResponseError) as err:
        client.release_key(good, attestation.token(**{"x-ms-runtime": {"keys": []}}))
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1034")


def test_a_malformed_release_policy_is_refused_at_create(client: KeyClient):
    malformed = {"version": "1.0.0", "anyOf": [{"authority": AUTHORITY, "allOf": [{"claim": "x", "contains": "y"}]}]}
    with pytest.raises(HttpResponseError) as err:
        client.create_rsa_key(
            unique_name("malformed"),
            size=2048,
            hardware_protected=True,
            exportable=True,
            release_policy=KeyReleasePolicy(json.dumps(malformed).encode()),
        )
    assert_http_error(err.value, 400, "BadParameter", message_contains="AKV.SKR.1010")
