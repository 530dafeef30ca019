//! The TLS server configurations: rustls on aws-lc-rs, HTTP/2 and HTTP/1.1 by ALPN. Direct
//! connections get the server leaf; proxy tunnels get a leaf for the name they asked for.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

pub(crate) fn server_config(
    leaf_pem: &str,
    ca_pem: &str,
    key_pem: &str,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(leaf_pem.as_bytes())
            .collect::<Result<_, _>>()
            .context("server certificate PEM")?;
    chain.extend(
        CertificateDer::pem_slice_iter(ca_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .context("CA certificate PEM")?,
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).context("server key PEM")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("server certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Most leaves minted for intercepted names kept at once; the cache starts over when full
/// (vault labels are unbounded, memory is not).
const MINTED_CACHE_CAPACITY: usize = 1024;

/// The TLS configuration inside a proxy tunnel (transparent mode): the certificate is chosen
/// by SNI, minted on demand by the local CA for an intercepted name (`x.vault.azure.net`,
/// `login.microsoftonline.com`), or the server leaf for our own names and for no SNI.
pub(crate) fn intercept_config(
    resolver: Arc<MintingResolver>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Chooses the certificate for a tunnelled handshake; see `intercept_config`.
pub(crate) struct MintingResolver {
    ca: strongroom_crypto::LocalCa,
    domain: String,
    server_leaf: Arc<CertifiedKey>,
    minted: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for MintingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintingResolver")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl MintingResolver {
    /// `leaf_pem`/`key_pem`: the server leaf, which covers our own names.
    pub(crate) fn new(
        ca: strongroom_crypto::LocalCa,
        domain: String,
        leaf_pem: &str,
        key_pem: &str,
    ) -> anyhow::Result<Self> {
        let mut chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(leaf_pem.as_bytes())
                .collect::<Result<_, _>>()
                .context("server certificate PEM")?;
        chain.push(CertificateDer::from(ca.cert_der().to_vec()));
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).context("server key PEM")?;
        let server_leaf = Arc::new(certified_key(chain, key)?);
        Ok(Self {
            ca,
            domain,
            server_leaf,
            minted: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the server leaf (`*.vault.{domain}`, `vault.{domain}`, `{domain}`,
    /// `localhost`) already names `name`.
    fn covered_by_server_leaf(&self, name: &str) -> bool {
        let vault_zone = format!("vault.{}", self.domain);
        name == self.domain
            || name == "localhost"
            || name == vault_zone
            || name
                .strip_suffix(&vault_zone)
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.'))
    }

    fn mint(&self, name: &str) -> anyhow::Result<Arc<CertifiedKey>> {
        let issued = self
            .ca
            .issue_server_cert(&[name.to_owned()], &[])
            .context("minting a leaf")?;
        let chain = vec![
            CertificateDer::from(issued.cert_der),
            CertificateDer::from(self.ca.cert_der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issued.key_der.expose().to_vec()));
        Ok(Arc::new(certified_key(chain, key)?))
    }
}

impl ResolvesServerCert for MintingResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = client_hello.server_name() else {
            return Some(self.server_leaf.clone());
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if self.covered_by_server_leaf(&name) {
            return Some(self.server_leaf.clone());
        }
        if !strongroom_api::intercepts(&self.domain, &name) {
            return None;
        }
        let mut minted = self.minted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = minted.get(&name) {
            return Some(key.clone());
        }
        match self.mint(&name) {
            Ok(key) => {
                if minted.len() >= MINTED_CACHE_CAPACITY {
                    minted.clear();
                }
                minted.insert(name, key.clone());
                Some(key)
            }
            Err(err) => {
                tracing::error!(error = %err, "minting a certificate for {name} failed");
                None
            }
        }
    }
}

fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<CertifiedKey> {
    let signing_key = rustls::crypto::aws_lc_rs::default_provider()
        .key_provider
        .load_private_key(key)
        .context("loading a TLS private key")?;
    Ok(CertifiedKey::new(chain, signing_key))
}
