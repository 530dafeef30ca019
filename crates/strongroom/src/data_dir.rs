//! The data directory: created on first start (CA, master key, admin credential), reused
//! after. See docs/CONTRACTS.md for its layout. Secret files are written 0600 from the start
//! (never chmod-ed after the fact), so there is no window in which they are readable.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strongroom_crypto::{LocalCa, MasterKey};

pub(crate) const MASTER_KEY_FILE: &str = "master.key";
/// Held (an exclusive advisory lock) by the one `serve` process using the directory.
pub(crate) const LOCK_FILE: &str = "serve.lock";
pub(crate) const CA_CERT_FILE: &str = "ca.pem";
pub(crate) const CA_KEY_FILE: &str = "ca-key.pem";
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

    /// The local CA: loaded, or generated on first start.
    pub(crate) fn local_ca(&self) -> anyhow::Result<LocalCa> {
        match (self.read(CA_CERT_FILE)?, self.read(CA_KEY_FILE)?) {
            (Some(cert), Some(key)) => {
                let cert = String::from_utf8(cert).context("ca.pem is not text")?;
                let key = String::from_utf8(key).context("ca-key.pem is not text")?;
                LocalCa::from_pem(&cert, &key).context("loading the local CA")
            }
            _ => {
                let ca =
                    LocalCa::generate("Strongroom Local CA").context("generating the local CA")?;
                self.write_private(CA_KEY_FILE, ca.key_pem().expose().as_bytes())?;
                self.write_public(CA_CERT_FILE, ca.cert_pem().as_bytes())?;
                Ok(ca)
            }
        }
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
