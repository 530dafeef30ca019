"use strict";
// CertificateClient: beginCreateCertificate with a self-signed policy, poll until done, get the certificate and its
// policy and operation; the DER the vault returns is parsed with node:crypto and checked: subject, self-signature,
// validity, thumbprint, and that its public key is the certificate's Key Vault key.
//
// usage: node certificates.js <credential> <certificate-name> [vault-url]   (default: $AZURE_KEYVAULT_URL)

const crypto = require("node:crypto");
const { CertificateClient } = require("@azure/keyvault-certificates");
const { KeyClient } = require("@azure/keyvault-keys");
const { POLL, credentialFor, runMain } = require("./common.js");

const SUBJECT = "CN=js-sdk.strongroom.test";

async function main() {
  const [kind, name, vaultUrl = process.env.AZURE_KEYVAULT_URL] = process.argv.slice(2);
  const credential = credentialFor(kind);
  const client = new CertificateClient(vaultUrl, credential);
  const report = {};

  const poller = await client.beginCreateCertificate(
    name,
    {
      issuerName: "Self",
      subject: SUBJECT,
      subjectAlternativeNames: { dnsNames: ["js-sdk.strongroom.test"] },
      keyType: "RSA",
      keySize: 2048,
      validityInMonths: 12,
      contentType: "application/x-pkcs12",
    },
    POLL,
  );
  const created = await poller.pollUntilDone();
  report.created = { name: created.name, enabled: created.properties.enabled, issuer: created.policy?.issuerName };

  const certificate = await client.getCertificate(name);
  const x509 = new crypto.X509Certificate(Buffer.from(certificate.cer));
  const thumbprint = crypto.createHash("sha1").update(Buffer.from(certificate.cer)).digest();
  const validDays = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
  report.certificate = {
    name: certificate.name,
    subject: x509.subject,
    issuer: x509.issuer,
    subjectAltName: x509.subjectAltName,
    selfSigned: x509.verify(x509.publicKey),
    validDays,
    thumbprintMatches: Buffer.from(certificate.properties.x509Thumbprint).equals(thumbprint),
    keyId: certificate.keyId,
    secretId: certificate.secretId,
    policySubject: certificate.policy.subject,
    policyIssuer: certificate.policy.issuerName,
    policyKeySize: certificate.policy.keySize,
  };

  // The certificate's key in the Keys API has the certificate's public key.
  const key = await new KeyClient(vaultUrl, credential).getKey(name);
  const jwk = { kty: "RSA", n: Buffer.from(key.key.n).toString("base64url"), e: Buffer.from(key.key.e).toString("base64url") };
  report.keyMatchesCertificate = crypto
    .createPublicKey({ format: "jwk", key: jwk })
    .export({ format: "der", type: "spki" })
    .equals(x509.publicKey.export({ format: "der", type: "spki" }));

  const operation = await client.getCertificateOperation(name);
  report.operationStatus = operation.getOperationState().certificateOperation?.status ?? null;
  const policy = await client.getCertificatePolicy(name);
  report.policy = { subject: policy.subject, issuerName: policy.issuerName, validityInMonths: policy.validityInMonths };
  return report;
}

runMain(main);
