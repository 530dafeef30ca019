"use strict";
// KeyClient and CryptographyClient: create an RSA and an EC key, sign in the vault and verify with node:crypto
// (and with the SDK), encrypt with node:crypto and decrypt in the vault, list the keys. Every check compares the
// vault's result with an independent local computation on the public key the vault returned.
//
// usage: node keys.js <credential> [vault-url]   (vault URL default: $AZURE_KEYVAULT_URL)

const crypto = require("node:crypto");
const { CryptographyClient, KeyClient } = require("@azure/keyvault-keys");
const { credentialFor, runMain } = require("./common.js");

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

/** The vault's public JWK as a node:crypto KeyObject. */
function publicKey(jwk) {
  if (jwk.kty.startsWith("EC")) {
    return crypto.createPublicKey({ format: "jwk", key: { kty: "EC", crv: jwk.crv, x: b64url(jwk.x), y: b64url(jwk.y) } });
  }
  return crypto.createPublicKey({ format: "jwk", key: { kty: "RSA", n: b64url(jwk.n), e: b64url(jwk.e) } });
}

async function main() {
  const [kind, vaultUrl = process.env.AZURE_KEYVAULT_URL] = process.argv.slice(2);
  const credential = credentialFor(kind);
  const client = new KeyClient(vaultUrl, credential);
  const report = {};
  const message = Buffer.from("Strongroom signs this for the JavaScript SDK");
  const digest = crypto.createHash("sha256").update(message).digest();

  // RSA: sign RS256 in the vault, verify locally; encrypt locally (RSA-OAEP and RSA-OAEP-256), decrypt in the vault.
  const rsa = await client.createRsaKey("js-rsa", { keySize: 2048 });
  report.rsa = {
    name: rsa.name,
    keyType: rsa.keyType,
    modulusBits: rsa.key.n.length * 8,
    exponent: b64url(rsa.key.e),
    keyOps: [...rsa.keyOperations].sort(),
    id: rsa.id,
  };
  const rsaCrypto = new CryptographyClient(rsa.id, credential);
  const rsaPublic = publicKey(rsa.key);
  const rs256 = await rsaCrypto.sign("RS256", digest);
  report.rsa.signatureBytes = rs256.result.length;
  report.rsa.signedWithKid = rs256.keyID;
  report.rsa.verifiedLocally = crypto.verify("sha256", message, rsaPublic, Buffer.from(rs256.result));
  report.rsa.verifiedBySdk = (await rsaCrypto.verify("RS256", digest, rs256.result)).result;
  const secret = crypto.randomBytes(32);
  const oaep = crypto.publicEncrypt({ key: rsaPublic, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, secret);
  const oaep256 = crypto.publicEncrypt({ key: rsaPublic, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, secret);
  const decrypted = await rsaCrypto.decrypt({ algorithm: "RSA-OAEP", ciphertext: oaep });
  const decrypted256 = await rsaCrypto.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: oaep256 });
  report.rsa.decryptedOaep = Buffer.from(decrypted.result).equals(secret);
  report.rsa.decryptedOaep256 = Buffer.from(decrypted256.result).equals(secret);
  // And the other way round: the SDK encrypts, the vault decrypts.
  const encrypted = await rsaCrypto.encrypt({ algorithm: "RSA-OAEP-256", plaintext: secret });
  const roundTrip = await rsaCrypto.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: encrypted.result });
  report.rsa.sdkRoundTrip = Buffer.from(roundTrip.result).equals(secret);

  // EC P-256: sign ES256 in the vault (raw r||s), verify locally and with the SDK; a tampered digest fails.
  const ec = await client.createEcKey("js-ec", { curve: "P-256" });
  report.ec = { name: ec.name, keyType: ec.keyType, curve: ec.key.crv, xBytes: ec.key.x.length, id: ec.id };
  const ecCrypto = new CryptographyClient(ec, credential);
  const es256 = await new CryptographyClient(ec.id, credential).sign("ES256", digest);
  report.ec.signatureBytes = es256.result.length;
  report.ec.verifiedLocally = crypto.verify(
    "sha256",
    message,
    { key: publicKey(ec.key), dsaEncoding: "ieee-p1363" },
    Buffer.from(es256.result),
  );
  report.ec.verifiedBySdk = (await ecCrypto.verify("ES256", digest, es256.result)).result;
  const tampered = Buffer.from(digest);
  tampered[0] ^= 0xff;
  report.ec.tamperedVerifies = (await ecCrypto.verify("ES256", tampered, es256.result)).result;

  // Both keys are listed; getKey returns the same public key.
  const listed = [];
  for await (const properties of client.listPropertiesOfKeys()) listed.push(properties.name);
  report.listed = listed.sort();
  report.getKeySameModulus = Buffer.from((await client.getKey("js-rsa")).key.n).equals(Buffer.from(rsa.key.n));
  return report;
}

runMain(main);
