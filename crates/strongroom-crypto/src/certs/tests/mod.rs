//! Tests of `certs`. Fixtures that must not come from our own code (OpenSSL's traditional
//! keys, legacy and modern PFX files, python `cryptography`'s password-less PFX) are made at
//! test time by the `openssl` command and python `cryptography` (see `Tools`; `scripts/test.sh`
//! provides both); the same tools read back the PFX we write. Files only old tools write
//! (Debian's `cryptography` 38 and pyOpenSSL) are committed under `certs/testdata/`.

mod issue;
mod key_encodings;
mod pem;
mod pfx;
mod subject;

use super::{CertBundle, CertificateRequestSpec, KeyUsage, issue_self_signed, issue_with_ca};
use crate::LocalCa;
use crate::keys::{Curve, PrivateKey};
use std::path::PathBuf;
use std::process::Command;
use strongroom_model::UnixTime;

/// 2026-01-31T12:00:00Z: the end of a month, so month arithmetic has to clamp.
const NOW: UnixTime = UnixTime(1_769_860_800);

const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";

fn spec(subject: &str) -> CertificateRequestSpec {
    CertificateRequestSpec {
        subject: subject.to_owned(),
        dns_names: vec!["example.com".to_owned(), "*.example.com".to_owned()],
        emails: vec!["admin@example.com".to_owned()],
        upns: vec!["alice@contoso.com".to_owned()],
        key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
        ekus: vec![SERVER_AUTH.to_owned(), CLIENT_AUTH.to_owned()],
        validity_months: 12,
        not_before: NOW,
    }
}

fn rsa_key() -> PrivateKey {
    PrivateKey::generate_rsa(2048, None).unwrap()
}

fn ec_key(curve: Curve) -> PrivateKey {
    PrivateKey::generate_ec(curve).unwrap()
}

fn ca() -> LocalCa {
    LocalCa::generate_at("Strongroom Local CA", NOW).unwrap()
}

/// A key with a CA-issued leaf and the CA as its chain.
fn bundle_for(key: PrivateKey, ca: &LocalCa) -> CertBundle {
    let leaf = issue_with_ca(&key, &spec("CN=example.com"), ca).unwrap();
    CertBundle {
        key: Some(key),
        leaf,
        chain: vec![ca.cert_der().to_vec()],
    }
}

fn self_signed_bundle(key: PrivateKey, subject: &str) -> CertBundle {
    let leaf = issue_self_signed(&key, &spec(subject)).unwrap();
    CertBundle {
        key: Some(key),
        leaf,
        chain: Vec::new(),
    }
}

/// A scratch directory where `openssl` and python run.
struct Tools {
    dir: tempfile::TempDir,
}

impl Tools {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.path(name), contents).unwrap();
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    fn read_text(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).unwrap()
    }

    /// Runs `openssl` with the whitespace-separated `line` and then `extra` (arguments that
    /// contain spaces) in the directory; stdout on success.
    fn try_openssl(&self, line: &str, extra: &[&str]) -> Result<Vec<u8>, String> {
        let mut command = Command::new("openssl");
        command.args(line.split_whitespace()).args(extra);
        run(&mut command, self, "openssl")
    }

    #[track_caller]
    fn openssl(&self, line: &str) -> Vec<u8> {
        self.openssl_with(line, &[])
    }

    #[track_caller]
    fn openssl_with(&self, line: &str, extra: &[&str]) -> Vec<u8> {
        self.try_openssl(line, extra)
            .unwrap_or_else(|err| panic!("openssl {line} {extra:?}: {err}"))
    }

    /// What `openssl pkcs12 -info` says about a PFX (it writes to stderr), opened with
    /// `password`; the legacy provider is loaded so that old ciphers can be described.
    #[track_caller]
    fn describe_pfx(&self, file: &str, password: &str) -> String {
        let pass = format!("pass:{password}");
        let output = Command::new("openssl")
            .args([
                "pkcs12", "-info", "-noout", "-legacy", "-in", file, "-passin", &pass,
            ])
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "openssl pkcs12 -info {file}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Runs a script with the python named by `STRONGROOM_TEST_PYTHON` (`scripts/test.sh` points
    /// it at its venv, which has `cryptography`), or else the `python3` on `PATH`, in the
    /// directory; stdout.
    #[track_caller]
    fn python(&self, script: &str) -> String {
        let interpreter =
            std::env::var_os("STRONGROOM_TEST_PYTHON").unwrap_or_else(|| "python3".into());
        let name = interpreter.to_string_lossy().into_owned();
        let out = run(Command::new(&interpreter).args(["-c", script]), self, &name)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        String::from_utf8(out).unwrap()
    }
}

fn run(command: &mut Command, tools: &Tools, name: &str) -> Result<Vec<u8>, String> {
    let output = command
        .current_dir(tools.dir.path())
        .output()
        .map_err(|err| {
            format!("cannot run {name} (scripts/test.sh installs what these tests need): {err}")
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// An OpenSSL CA (P-256) and a leaf it signed, both made by `openssl` alone: `ca.pem`,
/// `leaf.pem`, and the leaf's key as `key_file` (which the caller generated).
fn openssl_chain(tools: &Tools, key_file: &str) {
    tools.openssl(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
         -out ca.pem -subj /CN=OpenSSL-Test-CA -days 30",
    );
    tools.openssl(&format!(
        "req -new -key {key_file} -out leaf.csr -subj /CN=leaf.example"
    ));
    tools.openssl(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 30",
    );
}

/// The one certificate in a PEM file, as DER.
fn pem_cert_der(text: &str) -> Vec<u8> {
    crate::certificate_der_from_text(text).unwrap()
}
