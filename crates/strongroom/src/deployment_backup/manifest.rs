//! `manifest.json`, the table of contents of a backup, and the names a backup may hold.
//!
//! The manifest lists every file with its size and SHA-256 (lower-case hex), so restore
//! refuses a backup with a file edited, truncated, missing or added under a name it would
//! copy. It is not signed: it guards against damage and partial copies, not against someone
//! who can rewrite both a file and the manifest (keep backups where only operators write).
//! Restore reads only names `role_of` knows, so a manifest cannot make it write outside the
//! target directory.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::data_dir;
use crate::master_key::PARAMS_FILE;

pub(super) const MANIFEST_FILE: &str = "manifest.json";
const FORMAT: &str = "strongroom-backup";
/// Bumped when a reader of the previous version would misread a backup.
const FORMAT_VERSION: u32 = 1;
/// Where `env --vault V` keeps vault V's application credential (strongroom-cli
/// `vault_app.rs`).
pub(super) const APPS_DIR: &str = "apps";

/// What `manifest.json` holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Manifest {
    pub(super) format: String,
    pub(super) format_version: u32,
    /// When the backup was taken (RFC 3339, UTC).
    pub(super) created: String,
    pub(super) strongroom_version: String,
    pub(super) store: StoreEntry,
    pub(super) master_key: MasterKeyEntry,
    pub(super) files: Vec<FileEntry>,
    /// What is deliberately not in the backup, and why (for the person reading it).
    pub(super) not_included: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct StoreEntry {
    pub(super) kind: StoreKind,
    /// The embedded database's schema version (`PRAGMA user_version`); `None` for PostgreSQL.
    pub(super) schema_version: Option<i64>,
    /// How the database was copied, or where it is to be found.
    pub(super) how: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum StoreKind {
    /// `strongroom.db` is in the backup.
    Sqlite,
    /// The database is dumped separately with `pg_dump`.
    Postgresql,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct MasterKeyEntry {
    pub(super) source: KeySource,
    /// Whether the backup holds what opens the data (`master.key`, or `master.params` for a
    /// passphrase, which also needs the passphrase).
    pub(super) included: bool,
    /// What restore needs besides this directory.
    pub(super) restore_needs: String,
}

/// Where the deployment's master key lives (`master_key.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum KeySource {
    /// `DATA_DIR/master.key`.
    DataDirectory,
    /// `serve --master-key-file PATH`, outside the data directory.
    ExternalFile,
    /// `serve --master-passphrase-*`; `master.params` in the data directory.
    Passphrase,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FileEntry {
    /// Relative to the backup (and data) directory, `/`-separated.
    pub(super) path: String,
    pub(super) bytes: u64,
    pub(super) sha256: String,
}

/// What a file of a backup is: whether a backup may hold it, its mode once restored, and
/// when it is moved into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileRole {
    Database,
    /// `master.key` or `master.params`.
    KeyMaterial,
    /// A CA certificate clients read (0644 in a data directory).
    Public,
    /// A private key or credential (0600).
    Private,
}

impl FileRole {
    /// The file's mode in a data directory (docs/CONTRACTS.md); a backup holds every file 0600.
    pub(super) fn mode(self) -> u32 {
        match self {
            Self::Public => 0o644,
            Self::Database | Self::KeyMaterial | Self::Private => 0o600,
        }
    }
}

/// The role of the file at `path` (relative, `/`-separated), or `None` for a name no backup
/// holds.
pub(super) fn role_of(path: &str) -> Option<FileRole> {
    match path {
        data_dir::DATABASE_FILE => Some(FileRole::Database),
        data_dir::MASTER_KEY_FILE | PARAMS_FILE => Some(FileRole::KeyMaterial),
        data_dir::CA_CERT_FILE | data_dir::CERTIFICATE_CA_CERT_FILE => Some(FileRole::Public),
        data_dir::CA_KEY_FILE | data_dir::CERTIFICATE_CA_KEY_FILE | data_dir::ADMIN_FILE => {
            Some(FileRole::Private)
        }
        _ => {
            let name = path.strip_prefix(APPS_DIR)?.strip_prefix('/')?;
            is_app_file(name).then_some(FileRole::Private)
        }
    }
}

/// `V.json` for a vault name `V` (letters, digits, hyphens): what `env --vault V` writes.
pub(super) fn is_app_file(name: &str) -> bool {
    name.strip_suffix(".json").is_some_and(|vault| {
        !vault.is_empty()
            && vault.len() <= 127
            && vault
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

impl Manifest {
    pub(super) fn new(
        store: StoreEntry,
        master_key: MasterKeyEntry,
        files: Vec<FileEntry>,
        not_included: Vec<String>,
    ) -> Self {
        use strongroom_model::Clock as _;
        Self {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            created: strongroom_model::SystemClock.now().rfc3339(),
            strongroom_version: env!("CARGO_PKG_VERSION").to_owned(),
            store,
            master_key,
            files,
            not_included,
        }
    }

    /// Reads `DIR/manifest.json` and checks it: a format this build reads, only names a
    /// backup holds, each once, and the files its store and master key need.
    pub(super) fn read(backup: &Path) -> anyhow::Result<Self> {
        let path = backup.join(MANIFEST_FILE);
        let text = fs::read(&path).with_context(|| {
            format!(
                "{} cannot be read: not a Strongroom backup, or an incomplete one (the manifest is written last)",
                path.display()
            )
        })?;
        let value: serde_json::Value = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        if value["format"] != FORMAT {
            bail!("{} is not a Strongroom backup manifest", path.display());
        }
        match value["formatVersion"].as_u64() {
            Some(version) if version == u64::from(FORMAT_VERSION) => {}
            found => bail!(
                "{} has backup format version {}; this build reads version {FORMAT_VERSION}",
                path.display(),
                found.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
            ),
        }
        let manifest: Self = serde_json::from_value(value)
            .with_context(|| format!("{} is not a valid manifest", path.display()))?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for entry in &self.files {
            if role_of(&entry.path).is_none() {
                bail!(
                    "the manifest lists {:?}, which no Strongroom backup holds",
                    entry.path
                );
            }
            if !seen.insert(entry.path.as_str()) {
                bail!("the manifest lists {} twice", entry.path);
            }
            if entry.sha256.len() != 64 || !entry.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!(
                    "the manifest's SHA-256 of {} is not 64 hex digits",
                    entry.path
                );
            }
        }
        let mut required = vec![data_dir::CA_CERT_FILE, data_dir::CA_KEY_FILE];
        if self.store.kind == StoreKind::Sqlite {
            required.push(data_dir::DATABASE_FILE);
        }
        match (self.master_key.source, self.master_key.included) {
            (KeySource::Passphrase, _) => required.push(PARAMS_FILE),
            (KeySource::DataDirectory | KeySource::ExternalFile, true) => {
                required.push(data_dir::MASTER_KEY_FILE);
            }
            (KeySource::DataDirectory | KeySource::ExternalFile, false) => {
                if seen.contains(data_dir::MASTER_KEY_FILE) {
                    bail!("the manifest says the master key is not included, yet lists master.key");
                }
            }
        }
        if let Some(missing) = required.iter().find(|name| !seen.contains(*name)) {
            bail!(
                "the manifest does not list {missing}, which every such backup holds: the backup is incomplete"
            );
        }
        Ok(())
    }

    /// Writes the manifest (0600) as the last file of a backup.
    pub(super) fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_vec_pretty(self)?;
        write_new(&dir.join(MANIFEST_FILE), &text, 0o600)
    }
}

/// The SHA-256 of `bytes`, lower-case hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    strongroom_crypto::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The whole file. Held in a buffer wiped on drop: some of these files are private keys.
// The database is read whole as well: `strongroom_crypto::sha256` hashes one buffer, and
// the binary has no streaming SHA-256 of its own.
pub(super) fn read_file(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    fs::read(path)
        .map(Zeroizing::new)
        .with_context(|| format!("reading {}", path.display()))
}

/// Creates `path` (it must not exist) with `mode`, writes `bytes` and syncs it.
pub(super) fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test fixtures")]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_a_deployment_needs_have_a_role() {
        for (path, role) in [
            ("strongroom.db", Some(FileRole::Database)),
            ("master.key", Some(FileRole::KeyMaterial)),
            ("master.params", Some(FileRole::KeyMaterial)),
            ("ca.pem", Some(FileRole::Public)),
            ("certificate-ca-key.pem", Some(FileRole::Private)),
            ("admin.json", Some(FileRole::Private)),
            ("apps/my-vault.json", Some(FileRole::Private)),
            ("apps/../admin.json", None),
            ("apps/.v.json.tmp", None),
            ("apps/v.json.tmp", None),
            ("/etc/passwd", None),
            ("../ca.pem", None),
            ("serve.lock", None),
            ("server.pem", None),
            ("server-key.pem", None),
            ("audit.log", None),
            ("master.key.next", None),
            ("strongroom.db-wal", None),
            ("agent/agent.json", None),
        ] {
            assert_eq!(role_of(path), role, "{path}");
        }
    }

    #[test]
    fn sha256_hex_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn sample(files: Vec<FileEntry>, included: bool) -> Manifest {
        Manifest::new(
            StoreEntry {
                kind: StoreKind::Sqlite,
                schema_version: Some(1),
                how: String::new(),
            },
            MasterKeyEntry {
                source: KeySource::DataDirectory,
                included,
                restore_needs: String::new(),
            },
            files,
            Vec::new(),
        )
    }

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            bytes: 1,
            sha256: "0".repeat(64),
        }
    }

    #[test]
    fn a_manifest_missing_a_needed_file_or_naming_a_stranger_is_refused() {
        let whole = ["strongroom.db", "ca.pem", "ca-key.pem", "master.key"];
        sample(whole.iter().map(|p| entry(p)).collect(), true)
            .check()
            .unwrap();
        let error = |files: Vec<FileEntry>, included| {
            format!("{:#}", sample(files, included).check().unwrap_err())
        };
        let without_key = whole[..3].iter().map(|p| entry(p)).collect();
        assert!(error(without_key, true).contains("master.key"));
        let mut stranger: Vec<FileEntry> = whole.iter().map(|p| entry(p)).collect();
        stranger.push(entry("../elsewhere"));
        assert!(error(stranger, true).contains("no Strongroom backup holds"));
        let mut twice: Vec<FileEntry> = whole.iter().map(|p| entry(p)).collect();
        twice.push(entry("ca.pem"));
        assert!(error(twice, true).contains("twice"));
        let excluded_yet_listed = whole.iter().map(|p| entry(p)).collect();
        assert!(error(excluded_yet_listed, false).contains("not included"));
    }
}
