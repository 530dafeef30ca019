//! Direct mode inside the test process: what `strongroom env --vault V` prints, as SDK options.
//!
//! A program started with those variables exported gets everything from the SDK itself:
//! - `AZURE_TENANT_ID=adfs`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`: the arguments of
//!   `ClientSecretCredential::new` (azure_identity has no EnvironmentCredential; programs read
//!   the three variables themselves).
//! - `AZURE_AUTHORITY_HOST`: azure_identity's `get_authority_host` reads it whenever
//!   `ClientOptions::cloud` is `None`; the credential then posts to
//!   `{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token`, with no discovery.
//! - `SSL_CERT_FILE`: azure_core's default transport is reqwest 0.13 with rustls and
//!   rustls-platform-verifier, which on Linux loads its roots with rustls-native-certs, which reads
//!   only `SSL_CERT_FILE` (and `SSL_CERT_DIR`) when it is set.
//!
//! The tests run as threads of one process, where changing the process environment races
//! (`std::env::set_var` is `unsafe` in edition 2024), so each variable becomes its option here:
//! `ClientOptions::cloud` = a custom cloud whose `authority_host` is `AZURE_AUTHORITY_HOST`, and
//! `ClientOptions::transport` = the SDK's own HTTP stack (a `reqwest::Client`, configured as
//! azure_core configures its default one) trusting only the CA in `SSL_CERT_FILE`. That client
//! also resolves `V.vault.localhost` and `localhost` to the server's 127.0.0.1 listener, which
//! no variable can do: a plain Debian resolver does not know `*.localhost` (the Python suite
//! patches `getaddrinfo` for the same reason). Transparent mode needs none of this: it runs a
//! separate program with only the variables (`tests/it/transparent.rs`).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::Secret;
use azure_core::http::{ClientOptions, Transport, Url};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use azure_security_keyvault_certificates::{CertificateClient, CertificateClientOptions};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};

/// `strongroom env --vault V` (or `--admin --vault V`) for one server, ready to build clients.
#[derive(Clone)]
pub struct DirectEnv {
    vars: BTreeMap<String, String>,
    transport: Transport,
}

impl DirectEnv {
    /// `vars` as `strongroom env` printed them; `port` is the server's (from `server.json`).
    pub fn new(vars: BTreeMap<String, String>, port: u16) -> Self {
        let listener = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let ca_pem = std::fs::read(required(&vars, "SSL_CERT_FILE")).expect("read SSL_CERT_FILE");
        let ca = reqwest::Certificate::from_pem(&ca_pem).expect("SSL_CERT_FILE holds a PEM CA");
        let mut builder = reqwest::Client::builder()
            // As azure_core's `new_reqwest_client`: its timeouts, and no redirects.
            .connect_timeout(Duration::from_secs(20))
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_only([ca])
            .no_proxy();
        for url in [
            required(&vars, "AZURE_KEYVAULT_URL"),
            required(&vars, "AZURE_AUTHORITY_HOST"),
        ] {
            let url = Url::parse(url).expect("an absolute URL");
            builder = builder.resolve(url.host_str().expect("a host"), listener);
        }
        let client = builder.build().expect("build the reqwest client");
        Self {
            vars,
            transport: Transport::new(Arc::new(client)),
        }
    }

    /// The same server and vault with another principal's client id and secret.
    pub fn with_credential(&self, client_id: &str, client_secret: &str) -> Self {
        let mut other = self.clone();
        other
            .vars
            .insert("AZURE_CLIENT_ID".into(), client_id.into());
        other
            .vars
            .insert("AZURE_CLIENT_SECRET".into(), client_secret.into());
        other
    }

    pub fn var(&self, name: &str) -> &str {
        required(&self.vars, name)
    }

    /// `AZURE_KEYVAULT_URL`: `https://V.vault.localhost:PORT`.
    pub fn vault_url(&self) -> &str {
        self.var("AZURE_KEYVAULT_URL")
    }

    /// The transport every client and credential here uses.
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            transport: Some(self.transport.clone()),
            ..Default::default()
        }
    }

    /// `ClientSecretCredential::new(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)` at
    /// `AZURE_AUTHORITY_HOST`.
    pub fn credential(&self) -> Arc<ClientSecretCredential> {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.var("AZURE_AUTHORITY_HOST").to_owned();
        let options = ClientSecretCredentialOptions {
            client_options: ClientOptions {
                cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
                ..self.client_options()
            },
        };
        ClientSecretCredential::new(
            self.var("AZURE_TENANT_ID"),
            self.var("AZURE_CLIENT_ID").to_owned(),
            Secret::new(self.var("AZURE_CLIENT_SECRET").to_owned()),
            Some(options),
        )
        .expect("ClientSecretCredential::new")
    }

    pub fn secret_client(&self) -> SecretClient {
        let options = SecretClientOptions {
            client_options: self.client_options(),
            ..Default::default()
        };
        SecretClient::new(self.vault_url(), self.credential(), Some(options))
            .expect("SecretClient::new")
    }

    pub fn key_client(&self) -> KeyClient {
        let options = KeyClientOptions {
            client_options: self.client_options(),
            ..Default::default()
        };
        KeyClient::new(self.vault_url(), self.credential(), Some(options)).expect("KeyClient::new")
    }

    pub fn certificate_client(&self) -> CertificateClient {
        let options = CertificateClientOptions {
            client_options: self.client_options(),
            ..Default::default()
        };
        CertificateClient::new(self.vault_url(), self.credential(), Some(options))
            .expect("CertificateClient::new")
    }
}

fn required<'a>(vars: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    vars.get(name)
        .unwrap_or_else(|| panic!("`strongroom env` printed no {name}, only {:?}", vars.keys()))
}
