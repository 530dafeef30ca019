//! The local CA (`ca.pem`, which clients trust for TLS) can vouch only for the names the
//! server serves, checked by X.509 verifiers that are not ours: webpki (what rustls clients
//! run) and `openssl verify`. With the CA key from the data directory, a leaf for a name
//! outside the constraints is refused by both, while the names Strongroom serves verify; a
//! CA left by an older build without constraints is replaced at start.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use http::StatusCode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use strongroom_crypto::{IssuedCert, LocalCa};

use crate::harness::TestServer;

/// The CA the server made, with its key, as an attacker holding `ca-key.pem` would have it.
fn stored_ca(data_dir: &Path) -> LocalCa {
    let read = |file: &str| {
        std::fs::read_to_string(data_dir.join(file))
            .unwrap_or_else(|err| panic!("reading {file}: {err}"))
    };
    LocalCa::from_pem(&read("ca.pem"), &read("ca-key.pem")).expect("the stored CA loads")
}

/// webpki's verdict on `leaf` for `name`, trusting only `ca.pem`.
fn webpki_verdict(data_dir: &Path, leaf: &[u8], name: &str) -> Result<(), String> {
    let pem = std::fs::read(data_dir.join("ca.pem")).expect("reading ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        roots
            .add(certificate.expect("PEM"))
            .expect("a trust anchor");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("a verifier");
    verifier
        .verify_server_cert(
            &CertificateDer::from(leaf.to_vec()),
            &[],
            &ServerName::try_from(name.to_owned()).expect("a server name"),
            &[],
            UnixTime::now(),
        )
        .map(drop)
        .map_err(|err| err.to_string())
}

/// `openssl verify -CAfile ca.pem -purpose sslserver` on a leaf (PEM); its output on failure.
fn openssl_verdict(data_dir: &Path, leaf_pem: &str) -> Result<(), String> {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let leaf_file = scratch.path().join("leaf.pem");
    std::fs::write(&leaf_file, leaf_pem).expect("writing the leaf");
    let output = Command::new("openssl")
        .args(["verify", "-purpose", "sslserver", "-CAfile"])
        .arg(data_dir.join("ca.pem"))
        .arg(&leaf_file)
        .output()
        .expect("running openssl (scripts/test.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

fn leaf(ca: &LocalCa, name: &str) -> IssuedCert {
    ca.issue_server_cert(&[name.to_owned()], &[])
        .unwrap_or_else(|err| panic!("minting a leaf for {name}: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_ca_cannot_vouch_for_a_name_strongroom_does_not_serve() {
    let server = TestServer::start();
    let data_dir = server.data_dir();
    let ca = stored_ca(data_dir);

    for name in [
        "www.example.com",
        "login.example.org",
        "vault.azure.net.example.com",
    ] {
        let outside = leaf(&ca, name);
        let webpki = webpki_verdict(data_dir, &outside.cert_der, name)
            .expect_err(&format!("webpki accepted a leaf for {name}"));
        assert!(
            webpki.contains("NameConstraintViolation"),
            "{name}: {webpki}"
        );
        let openssl = openssl_verdict(data_dir, &outside.cert_pem)
            .expect_err(&format!("openssl accepted a leaf for {name}"));
        assert!(
            openssl.contains("permitted subtree violation"),
            "{name}: {openssl}"
        );
    }

    for name in [
        "x.vault.localhost",
        "localhost",
        "myvault.vault.azure.net",
        "login.microsoftonline.com",
    ] {
        let inside = leaf(&ca, name);
        webpki_verdict(data_dir, &inside.cert_der, name)
            .unwrap_or_else(|err| panic!("webpki refused {name}: {err}"));
        openssl_verdict(data_dir, &inside.cert_pem)
            .unwrap_or_else(|err| panic!("openssl refused {name}: {err}"));
    }

    // What the server itself presents is inside: its leaf file, and a live handshake.
    let served = std::fs::read_to_string(data_dir.join("server.pem")).expect("server.pem");
    openssl_verdict(data_dir, &served).expect("openssl verifies the server leaf");
    let response = server
        .client()
        .request("GET", "v.vault.localhost", "/healthz")
        .send()
        .await
        .expect("a TLS handshake trusting only ca.pem");
    assert_eq!(response.status, StatusCode::OK, "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_without_name_constraints_is_replaced_at_start() {
    let mut server = TestServer::start();
    server.kill();
    // What an older build left in the data directory.
    let old = LocalCa::generate("Strongroom Local CA").expect("a CA");
    let data_dir = server.data_dir().to_owned();
    std::fs::write(data_dir.join("ca.pem"), old.cert_pem()).expect("writing ca.pem");
    std::fs::write(data_dir.join("ca-key.pem"), old.key_pem().expose()).expect("ca-key.pem");
    let outside = leaf(&old, "www.example.com");
    webpki_verdict(&data_dir, &outside.cert_der, "www.example.com")
        .expect("the old CA vouches for anything: the reason it must go");

    server.restart();
    let current = std::fs::read_to_string(data_dir.join("ca.pem")).expect("ca.pem");
    assert_ne!(current, old.cert_pem(), "ca.pem was replaced");
    assert!(
        server.stderr().contains("replaced the local CA"),
        "the replacement is logged:\n{}",
        server.stderr()
    );
    let ca = stored_ca(&data_dir);
    let outside = leaf(&ca, "www.example.com");
    assert!(webpki_verdict(&data_dir, &outside.cert_der, "www.example.com").is_err());
    // Clients that read ca.pem afresh keep working.
    let response = server
        .client()
        .request("GET", "localhost", "/healthz")
        .send()
        .await
        .expect("a TLS handshake trusting the new ca.pem");
    assert_eq!(response.status, StatusCode::OK, "{response}");
    // And the next start keeps the new CA.
    server.restart();
    assert_eq!(
        std::fs::read_to_string(data_dir.join("ca.pem")).expect("ca.pem"),
        current
    );
}
