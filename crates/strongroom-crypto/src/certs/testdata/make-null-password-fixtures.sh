#!/usr/bin/env bash
# Regenerates the NULL-password PFX fixtures of `reads_pfx_whose_mac_is_under_the_null_password`
# (certs/tests/pfx.rs) in this directory. Needs the `openssl` command and Debian 12's
# /usr/bin/python3 with the distribution's python3-cryptography (38) and python3-openssl
# (pyOpenSSL): newer `cryptography` releases no longer write these files. See README.md.
#
#   null-password-key.pem    throwaway P-256 key (a test fixture, not a secret)
#   null-password-ca.pem     a CA certificate made by `openssl` (its key is thrown away)
#   null-password-leaf.pem   the key's certificate, signed by that CA
#   null-password-mac.pfx    cryptography 38's NoEncryption(): key, leaf and CA, no encryption,
#                            MAC under the NULL password
#   null-password-pyopenssl.pfx
#                            pyOpenSSL's export(passphrase=None): key and leaf, bags encrypted
#                            (3DES) and MAC'd under the NULL password
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
PYTHON="${DEBIAN_PYTHON:-/usr/bin/python3}"

version="$("$PYTHON" -c 'import cryptography, OpenSSL; print(cryptography.__version__)')"
if [[ "$version" != 38.* ]]; then
    echo "error: $PYTHON has cryptography $version; these fixtures need Debian 12's 38.x" >&2
    exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# The same material the test used to make at run time: OpenSSL's P-256 leaf under OpenSSL's CA.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out null-password-key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$scratch/ca.key" -out null-password-ca.pem -subj /CN=OpenSSL-Test-CA -days 3650
openssl req -new -key null-password-key.pem -out "$scratch/leaf.csr" -subj /CN=leaf.example
openssl x509 -req -in "$scratch/leaf.csr" -CA null-password-ca.pem -CAkey "$scratch/ca.key" \
    -CAcreateserial -CAserial "$scratch/ca.srl" -out null-password-leaf.pem -days 3650

"$PYTHON" -W ignore::DeprecationWarning - <<'PY'
from cryptography import x509
from cryptography.hazmat.primitives.serialization import NoEncryption, load_pem_private_key, pkcs12
from OpenSSL import crypto

key_pem = open("null-password-key.pem", "rb").read()
leaf_pem = open("null-password-leaf.pem", "rb").read()
ca_pem = open("null-password-ca.pem", "rb").read()

key = load_pem_private_key(key_pem, None)
leaf = x509.load_pem_x509_certificate(leaf_pem)
ca = x509.load_pem_x509_certificate(ca_pem)
data = pkcs12.serialize_key_and_certificates(b"x", key, leaf, [ca], NoEncryption())
open("null-password-mac.pfx", "wb").write(data)

p12 = crypto.PKCS12()
p12.set_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, key_pem))
p12.set_certificate(crypto.load_certificate(crypto.FILETYPE_PEM, leaf_pem))
open("null-password-pyopenssl.pfx", "wb").write(p12.export(passphrase=None))
PY

echo "cryptography $version, $("$PYTHON" -c 'import OpenSSL; print("pyOpenSSL", OpenSSL.__version__)'), $(openssl version)"
