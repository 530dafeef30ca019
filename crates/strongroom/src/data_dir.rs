//! The data directory: created on first start (CAs, master key, admin credential), reused
//! after. See docs/CONTRACTS.md for its layout. Secret files are written 0600 from the start
//! (never chmod-ed after the fact), so there is no window in which they are readable.
//!
//! Two CAs live here. `ca.pem` is what TLS clients trust, so it carries name constraints
//! covering exactly the names this deployment serves (`served_names`): a stored one without
//! them (made by an older build) or made for another domain is replaced at start, with a
//! warning, and clients read the new `ca.pem`. `certificate-ca.pem` signs the Key Vault
//! certificates a vault issues under the `Strongroom` issuer, whose subjects are the users'
//! own names; it is never a TLS trust root of ours.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strongroom_crypto::{LocalCa, MasterKey, NameScope};

pub(crate) const MASTER_KEY_FILE: &str = "master.key";
/// Held (an exclusive advisory lock) by the one `serve` process using the directory.
pub(crate) const LOCK_FILE: &str = "serve.lock";
pub(crate) const CA_CERT_FILE: &str = "ca.pem";
pub(crate) const CA_KEY_FILE: &str = "ca-key.pem";
pub(crate) const CERTIFICATE_CA_CERT_FILE: &str = "certificate-ca.pem";
pub(crate) const CERTIFICATE_CA_KEY_FILE: &str = "certificate-ca-key.pem";
const TLS_CA_NAME: &str = "Strongroom Local CA";
const CERTIFICATE_CA_NAME: &str = "Strongroom Certificate CA";
pub(crate) const SERVER_CERT_FILE: &str = "server.pem";
pub(crate) const SERVER_KEY_FILE: &str = "server-key.pem";
pub(crate) const DATABASE_FILE: &str = "strongroom.db";
pub(crate) const ADMIN_FILE: &str = "admin.json";
pub(crate) const SERVER_INFO_FILE: &str = "server.json";

/// The administrator credential the CLI uses (`admin.json`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminCredential {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub object_id: String,
}

impl std::fmt::Debug for AdminCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredential")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the directory (0700) if needed and makes its path absolute.
    pub(crate) fn open(root: &Path) -> anyhow::Result<Self> {
        if !root.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(root)
                .with_context(|| format!("creating data directory {}", root.display()))?;
        }
        let root = fs::canonicalize(root)
            .with_context(|| format!("resolving data directory {}", root.display()))?;
        Ok(Self { root })
    }

    /// Takes the directory for this `serve` process until the returned file is dropped (the
    /// process ends): a second server on the same directory would race the first to create
    /// the master key, CA and admin credential, and SQLite's single-writer design assumes one
    /// process. Several nodes share a PostgreSQL store instead (issue 11).
    pub(crate) fn lock_for_serve(&self) -> anyhow::Result<fs::File> {
        let path = self.path(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another `strongroom serve` is using the data directory {}: one server per data directory",
                self.root.display()
            ),
            Err(fs::TryLockError::Error(err)) => {
                Err(err).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Refuses a directory or `master.key` that other users can reach: the directory holds
    /// the master key and every secret's ciphertext, so either would let them read it all.
    /// A directory without a master key yet (a first start) is only tightened to 0700:
    /// nothing has been exposed.
    pub(crate) fn check_private(&self) -> anyhow::Result<()> {
        let mode_of = |path: &Path| -> anyhow::Result<u32> {
            Ok(fs::metadata(path)
                .with_context(|| format!("reading the permissions of {}", path.display()))?
                .permissions()
                .mode()
                & 0o777)
        };
        let key = self.path(MASTER_KEY_FILE);
        let dir_mode = mode_of(&self.root)?;
        if !key.exists() {
            if dir_mode & 0o077 != 0 {
                tracing::warn!(dir = %self.root.display(), "making the new data directory private (0700)");
                fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("making {} private", self.root.display()))?;
            }
            return Ok(());
        }
        if dir_mode & 0o077 != 0 {
            anyhow::bail!(
                "the data directory {dir} is open to other users (mode {dir_mode:03o}), and it holds the master key and every secret's ciphertext. Make it private and start again: chmod 700 {dir}",
                dir = self.root.display()
            );
        }
        let key_mode = mode_of(&key)?;
        if key_mode & 0o077 != 0 {
            anyhow::bail!(
                "{key} is readable by other users (mode {key_mode:03o}); it unlocks every secret. Make it private and start again: chmod 600 {key}",
                key = key.display()
            );
        }
        Ok(())
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// Writes a file readable only by its owner, atomically (temp file + rename).
    pub(crate) fn write_private(&self, file: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.write_with_mode(file, bytes, 0o600)
    }

    pub(crate) fn write_public(&self, file: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.write_with_mode(file, bytes, 0o644)
    }

    fn write_with_mode(&self, file: &str, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
        let target = self.path(file);
        let temp = self.path(&format!(".{file}.tmp"));
        let _ = fs::remove_file(&temp);
        let mut handle = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .with_context(|| format!("writing {}", temp.display()))?;
        handle.write_all(bytes)?;
        handle.sync_all()?;
        fs::rename(&temp, &target).with_context(|| format!("writing {}", target.display()))?;
        Ok(())
    }

    fn read(&self, file: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match fs::read(self.path(file)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", self.path(file).display())),
        }
    }

    /// The master key: loaded, or generated on first start.
    pub(crate) fn master_key(&self) -> anyhow::Result<MasterKey> {
        if let Some(bytes) = self.read(MASTER_KEY_FILE)? {
            return MasterKey::from_bytes(&bytes)
                .context("master.key is not a 32-byte key (is the data directory damaged?)");
        }
        if self.path(DATABASE_FILE).exists() {
            bail!(
                "master.key is missing but a database exists in {}: without the master key the data cannot be opened",
                self.root.display()
            );
        }
        let key = MasterKey::generate().context("generating the master key")?;
        self.write_private(MASTER_KEY_FILE, key.expose_bytes())?;
        Ok(key)
    }

    /// The CA that TLS clients trust (`ca.pem`), constrained to the names served for
    /// `domain`: loaded, or made on first start, or made anew (with a warning that says why)
    /// when the stored one is not constrained to exactly those names.
    pub(crate) fn tls_ca(&self, domain: &str) -> anyhow::Result<LocalCa> {
        let scope = served_names(domain);
        let replacing = match self.load_ca(CA_CERT_FILE, CA_KEY_FILE)? {
            Some(ca) if ca.is_constrained_to(&scope) => return Ok(ca),
            stored => stored.is_some(),
        };
        let ca = LocalCa::generate_constrained(TLS_CA_NAME, &scope)
            .context("generating the local CA")?;
        self.write_private(CA_KEY_FILE, ca.key_pem().expose().as_bytes())?;
        self.write_public(CA_CERT_FILE, ca.cert_pem().as_bytes())?;
        if replacing {
            tracing::warn!(
                ca = %self.path(CA_CERT_FILE).display(),
                domain,
                "replaced the local CA: its name constraints were not exactly the names this deployment serves (none, another domain's, or an older build's list); clients that copied the old ca.pem into a trust store must trust the new one instead and remove the old"
            );
        }
        Ok(ca)
    }

    /// The CA that signs Key Vault certificates issued under the `Strongroom` issuer
    /// (`certificate-ca.pem`): loaded, or made on first use. No name constraints (a user's
    /// certificate names what the user chooses) and therefore never a TLS trust root.
    pub(crate) fn certificate_ca(&self) -> anyhow::Result<LocalCa> {
        if let Some(ca) = self.load_ca(CERTIFICATE_CA_CERT_FILE, CERTIFICATE_CA_KEY_FILE)? {
            return Ok(ca);
        }
        let ca = LocalCa::generate(CERTIFICATE_CA_NAME)
            .context("generating the certificate-issuing CA")?;
        self.write_private(CERTIFICATE_CA_KEY_FILE, ca.key_pem().expose().as_bytes())?;
        self.write_public(CERTIFICATE_CA_CERT_FILE, ca.cert_pem().as_bytes())?;
        Ok(ca)
    }

    /// A CA from its certificate and key files; `None` if either is missing.
    fn load_ca(&self, cert_file: &str, key_file: &str) -> anyhow::Result<Option<LocalCa>> {
        let (Some(cert), Some(key)) = (self.read(cert_file)?, self.read(key_file)?) else {
            return Ok(None);
        };
        let cert = String::from_utf8(cert).with_context(|| format!("{cert_file} is not text"))?;
        let key = strongroom_model::SecretValue::new(
            String::from_utf8(key).with_context(|| format!("{key_file} is not text"))?,
        );
        LocalCa::from_pem(&cert, key.expose())
            .map(Some)
            .with_context(|| format!("loading the CA in {cert_file}"))
    }

    pub(crate) fn admin_credential(&self) -> anyhow::Result<Option<AdminCredential>> {
        match self.read(ADMIN_FILE)? {
            Some(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).context("admin.json is malformed")?,
            )),
            None => Ok(None),
        }
    }

    pub(crate) fn write_admin_credential(&self, admin: &AdminCredential) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(admin)?;
        self.write_private(ADMIN_FILE, &bytes)
    }
}

/// The names this deployment serves over TLS, which `ca.pem` may vouch for and nothing else:
/// the deployment domain and every name under it (vault hosts, the identity host), `localhost`
/// (the server leaf always names it), Azure's names that transparent mode intercepts (each
/// cloud's vault suffix with the vaults under it, each cloud's login hosts) and the loopback
/// addresses. Derived from the same table as `strongroom_api::intercepts`, so a name the proxy
/// mints a leaf for is always inside.
pub(crate) fn served_names(domain: &str) -> NameScope {
    let mut dns_subtrees = vec![domain.to_owned()];
    let azure = strongroom_api::AZURE_CLOUDS
        .iter()
        .flat_map(|cloud| std::iter::once(cloud.vault_suffix).chain(cloud.served_hosts()));
    for name in std::iter::once("localhost").chain(azure) {
        if !dns_subtrees.iter().any(|known| known == name) {
            dns_subtrees.push(name.to_owned());
        }
    }
    NameScope {
        dns_subtrees,
        addresses: vec![
            std::net::IpAddr::from([127, 0, 0, 1]),
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ],
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test fixtures"
)]
mod tests {
    use super::*;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use std::sync::Arc;

    fn data_dir() -> (tempfile::TempDir, DataDir) {
        let temp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(temp.path()).unwrap();
        (temp, dir)
    }

    /// Whether a leaf that `ca` mints for `name` verifies for `name` under webpki, trusting
    /// only `ca`.
    fn vouches_for(ca: &LocalCa, name: &str) -> Result<(), String> {
        let leaf = ca.issue_server_cert(&[name.to_owned()], &[]).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca.cert_der().to_vec()))
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        verifier
            .verify_server_cert(
                &CertificateDer::from(leaf.cert_der),
                &[],
                &ServerName::try_from(name.to_owned()).unwrap(),
                &[],
                UnixTime::now(),
            )
            .map(drop)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn the_tls_ca_vouches_for_every_name_the_proxy_intercepts_and_no_other() {
        for domain in ["localhost", "strongroom.example"] {
            let (_temp, dir) = data_dir();
            let ca = dir.tls_ca(domain).unwrap();
            let mut served: Vec<String> = vec![
                domain.to_owned(),
                format!("vault.{domain}"),
                format!("myvault.vault.{domain}"),
                "localhost".to_owned(),
            ];
            for cloud in &strongroom_api::AZURE_CLOUDS {
                served.push(format!("myvault.{}", cloud.vault_suffix));
                served.extend(cloud.served_hosts().map(str::to_owned));
            }
            for name in &served {
                assert!(strongroom_api::intercepts(domain, name), "{name}");
                vouches_for(&ca, name).unwrap_or_else(|err| panic!("{domain}: {name}: {err}"));
            }
            for name in ["www.example.com", "example.com", "portal.azure.com"] {
                assert!(!strongroom_api::intercepts(domain, name), "{name}");
                let err = vouches_for(&ca, name).expect_err(name);
                assert!(err.contains("NameConstraintViolation"), "{name}: {err}");
            }
        }
    }

    #[test]
    fn an_unconstrained_or_foreign_ca_is_replaced_and_a_fitting_one_kept() {
        let (_temp, dir) = data_dir();
        // What an older build left: a CA without name constraints.
        let old = LocalCa::generate(TLS_CA_NAME).unwrap();
        dir.write_private(CA_KEY_FILE, old.key_pem().expose().as_bytes())
            .unwrap();
        dir.write_public(CA_CERT_FILE, old.cert_pem().as_bytes())
            .unwrap();

        let ca = dir.tls_ca("localhost").unwrap();
        assert_ne!(ca.cert_der(), old.cert_der(), "the old CA is replaced");
        assert!(ca.is_constrained_to(&served_names("localhost")));
        let on_disk = std::fs::read_to_string(dir.path(CA_CERT_FILE)).unwrap();
        assert_eq!(on_disk, ca.cert_pem(), "clients read the new one");
        let key_mode = fs::metadata(dir.path(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600);

        // The next start keeps it.
        let again = dir.tls_ca("localhost").unwrap();
        assert_eq!(again.cert_der(), ca.cert_der());
        // Another domain needs another CA.
        let moved = dir.tls_ca("strongroom.example").unwrap();
        assert_ne!(moved.cert_der(), ca.cert_der());
        assert!(vouches_for(&moved, "v.vault.strongroom.example").is_ok());
        assert!(
            vouches_for(&moved, "v.vault.localhost").is_ok(),
            "localhost stays"
        );
    }

    #[test]
    fn the_certificate_ca_is_separate_unconstrained_and_stable() {
        let (_temp, dir) = data_dir();
        let tls = dir.tls_ca("localhost").unwrap();
        let issuing = dir.certificate_ca().unwrap();
        assert_ne!(issuing.cert_der(), tls.cert_der());
        assert!(!issuing.is_constrained_to(&served_names("localhost")));
        assert!(vouches_for(&issuing, "service.internal").is_ok());
        assert_eq!(
            dir.certificate_ca().unwrap().cert_der(),
            issuing.cert_der(),
            "loaded, not made again"
        );
        assert_eq!(
            dir.tls_ca("localhost").unwrap().cert_der(),
            tls.cert_der(),
            "the TLS CA is untouched by it"
        );
    }
}
