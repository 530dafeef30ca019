//! `strongroom --data-dir NEW restore --from DIR`: a new data directory from a backup.
//!
//! In order, and nothing is in place under NEW until the last step: the manifest is read and
//! checked, the flags are checked against how the backup holds the master key, every listed
//! file is found with its size, NEW is taken (it must not exist or be empty), each file is
//! copied into the staging directory only if its SHA-256 matches, the key is put where the
//! deployment will read it, the database's schema version is checked, and the master key is
//! loaded exactly as `serve` loads it (`master_key::load` and `settle`) and proved against the
//! restored database (`prove_master_key`). Only then are the files moved into NEW.

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::json;
use strongroom_store::SqliteStore;
use zeroize::Zeroizing;

use super::manifest::{self, APPS_DIR, KeySource, Manifest, MasterKeyEntry, StoreKind};
use super::target::Target;
use super::{Report, RestoreArgs, postgres, prove_master_key};
use crate::config::StoreLocation;
use crate::data_dir::{self, DataDir};
use crate::master_key::MasterKeyArgs;

/// Where the restored deployment's master key comes from, decided before anything is written.
enum KeyPlan {
    /// `master.key` or `master.params` is in the backup and goes into NEW.
    InBackup,
    /// The key kept apart from a backup of a deployment that keeps it in its data directory:
    /// copied from this file into `NEW/master.key`.
    CopyIntoDataDir(PathBuf),
    /// The backup holds a key that lives outside the data directory: written to this file
    /// (it must not exist, or hold the same key).
    WriteExternal(PathBuf),
    /// The key lives outside the data directory, in this file, and is not in the backup.
    UseExternal(PathBuf),
}

/// `strongroom --data-dir NEW restore --from DIR`.
pub(crate) async fn restore(data_dir: &Path, args: &RestoreArgs) -> anyhow::Result<Report> {
    let location = args.store.location()?;
    let from = fs::canonicalize(&args.from)
        .with_context(|| format!("the backup {} cannot be read", args.from.display()))?;
    let manifest = Manifest::read(&from)?;
    let embedded = match (manifest.store.kind, &location) {
        (StoreKind::Sqlite, StoreLocation::Embedded) => true,
        (StoreKind::Postgresql, StoreLocation::Postgres(_)) => false,
        (StoreKind::Sqlite, StoreLocation::Postgres(_)) => {
            bail!("this backup holds an embedded SQLite database; restore it without --store")
        }
        (StoreKind::Postgresql, StoreLocation::Embedded) => bail!(
            "this backup is of a PostgreSQL deployment: restore it with --store URL, the database its dump is loaded into"
        ),
    };
    let plan = key_plan(&manifest.master_key, &args.master_key)?;
    for entry in &manifest.files {
        let path = from.join(&entry.path);
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "the backup is incomplete: {} is missing (the manifest lists it); nothing was restored",
                path.display()
            ),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        if metadata.len() != entry.bytes {
            bail!(
                "{} has {} bytes where the manifest says {}: the backup is damaged or was changed; nothing was restored",
                path.display(),
                metadata.len(),
                entry.bytes
            );
        }
    }

    let target = Target::prepare(data_dir, "restore")?;
    let staging = target.staging().to_path_buf();
    let mut external_key = None;
    for entry in &manifest.files {
        let bytes = manifest::read_file(&from.join(&entry.path))?;
        if manifest::sha256_hex(&bytes) != entry.sha256 {
            bail!(
                "{} does not match the manifest (SHA-256): the backup is damaged or was edited; nothing was restored",
                from.join(&entry.path).display()
            );
        }
        let Some(role) = manifest::role_of(&entry.path) else {
            bail!("the manifest lists {:?}, which no backup holds", entry.path);
        };
        if entry.path == data_dir::MASTER_KEY_FILE
            && manifest.master_key.source == KeySource::ExternalFile
        {
            external_key = Some(bytes);
            continue;
        }
        if entry.path.starts_with(&format!("{APPS_DIR}/")) && !staging.join(APPS_DIR).exists() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(staging.join(APPS_DIR))
                .with_context(|| format!("creating {}", staging.join(APPS_DIR).display()))?;
        }
        manifest::write_new(&staging.join(&entry.path), &bytes, role.mode())?;
    }

    let mut written_key = WrittenKey(None);
    let load_args = match &plan {
        KeyPlan::InBackup => args.master_key.clone(),
        KeyPlan::CopyIntoDataDir(path) => {
            let bytes = manifest::read_file(path)?;
            check_key(path, &bytes)?;
            manifest::write_new(&staging.join(data_dir::MASTER_KEY_FILE), &bytes, 0o600)?;
            no_key_flags()
        }
        KeyPlan::WriteExternal(path) => {
            let bytes = external_key.context("the backup's master.key was not read")?;
            written_key = place_external_key(path, &bytes)?;
            args.master_key.clone()
        }
        KeyPlan::UseExternal(path) => {
            // `serve` would make a new key at a path that does not exist.
            if !path.is_file() {
                bail!(
                    "{} is not a file: this backup does not hold the master key, so --master-key-file must name the key the deployment ran with",
                    path.display()
                );
            }
            args.master_key.clone()
        }
    };

    let schema = if embedded {
        let database = staging.join(data_dir::DATABASE_FILE);
        let schema =
            strongroom_store::schema_version(&database).context("reading the restored database")?;
        if Some(schema.file) != manifest.store.schema_version {
            bail!(
                "the database has schema version {} where the manifest says {:?}: the backup is inconsistent",
                schema.file,
                manifest.store.schema_version
            );
        }
        if schema.file > schema.build {
            bail!(
                "the backup's database has schema version {}, newer than this build knows ({}): restore it with Strongroom {} (which made it) or newer",
                schema.file,
                schema.build,
                manifest.strongroom_version
            );
        }
        Some(schema.file)
    } else {
        None
    };
    let proof = prove(&staging, &load_args, embedded).await?;
    let restored = target.commit()?;
    written_key.keep();

    let mut serve = format!("strongroom --data-dir {} serve", restored.display());
    if let Some(path) = &load_args.master_key_file {
        serve.push_str(&format!(" --master-key-file {}", path.display()));
    }
    if manifest.master_key.source == KeySource::Passphrase {
        serve.push_str(" --master-passphrase-file PATH");
    }
    let mut warnings = Vec::new();
    let mut answer = json!({
        "restored": restored.display().to_string(),
        "from": from.display().to_string(),
        "backupCreated": manifest.created,
        "backupStrongroomVersion": manifest.strongroom_version,
        "store": {"kind": manifest.store.kind, "schemaVersion": schema},
        "files": manifest.files.iter().map(|entry| entry.path.as_str()).collect::<Vec<_>>(),
        "masterKey": {
            "source": manifest.master_key.source,
            "keyFile": load_args.master_key_file.as_ref().map(|path| path.display().to_string()),
            "proof": proof,
        },
    });
    if let StoreLocation::Postgres(url) = &location {
        let recipe = postgres::restore_recipe(url, &from);
        warnings.push(format!(
            "the files are restored; load the database with pg_restore into a new, empty database, then start serve --store URL (it checks the master key against the database): {recipe}"
        ));
        answer["pgRestore"] = json!(recipe);
        serve.push_str(" --store URL");
    }
    answer["serve"] = json!(serve);
    Ok(Report { answer, warnings })
}

/// What the flags must say for a backup whose key is held as `entry` says; refused before
/// anything is written.
fn key_plan(entry: &MasterKeyEntry, args: &MasterKeyArgs) -> anyhow::Result<KeyPlan> {
    let passphrase = args.master_passphrase_file.is_some() || args.master_passphrase_stdin;
    let file = args.master_key_file.clone();
    match (entry.source, entry.included, file) {
        (KeySource::Passphrase, _, None) if passphrase => Ok(KeyPlan::InBackup),
        (KeySource::Passphrase, _, _) => bail!(
            "this backup's master key is derived from a passphrase: restore needs it (--master-passphrase-file PATH or --master-passphrase-stdin) to prove it opens the database"
        ),
        (_, _, _) if passphrase => bail!(
            "this backup's master key is a key file, not a passphrase: restore without --master-passphrase-*"
        ),
        (KeySource::DataDirectory, true, None) => Ok(KeyPlan::InBackup),
        (KeySource::DataDirectory, true, Some(_)) => bail!(
            "this backup holds its master key (master.key goes into the new data directory): restore without --master-key-file"
        ),
        (KeySource::DataDirectory, false, Some(path)) => Ok(KeyPlan::CopyIntoDataDir(path)),
        (KeySource::ExternalFile, true, Some(path)) => Ok(KeyPlan::WriteExternal(path)),
        (KeySource::ExternalFile, false, Some(path)) => Ok(KeyPlan::UseExternal(path)),
        (KeySource::DataDirectory | KeySource::ExternalFile, _, None) => {
            bail!(
                "this backup needs --master-key-file PATH: {}",
                entry.restore_needs
            )
        }
    }
}

/// Flags that name no key source: `serve` reads `DATA_DIR/master.key`.
fn no_key_flags() -> MasterKeyArgs {
    MasterKeyArgs {
        master_key_file: None,
        master_passphrase_file: None,
        master_passphrase_stdin: false,
    }
}

fn check_key(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    strongroom_crypto::MasterKey::from_bytes(bytes)
        .map(drop)
        .with_context(|| format!("{} is not a 32-byte master key", path.display()))
}

/// A key file this restore wrote outside the data directory: removed again unless the
/// restore completes.
struct WrittenKey(Option<PathBuf>);

impl WrittenKey {
    fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for WrittenKey {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Writes the backup's key to `path` (0600, durably), or accepts the same key found there.
fn place_external_key(path: &Path, bytes: &Zeroizing<Vec<u8>>) -> anyhow::Result<WrittenKey> {
    check_key(path, bytes)?;
    match fs::read(path) {
        Ok(found) => {
            let found = Zeroizing::new(found);
            if found.as_slice() == bytes.as_slice() {
                return Ok(WrittenKey(None));
            }
            bail!(
                "{} exists and holds another key: restore never overwrites a key file; name a new path with --master-key-file",
                path.display()
            );
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    }
    manifest::write_new(path, bytes, 0o600)?;
    let written = WrittenKey(Some(path.to_path_buf()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::target::sync_dir(parent)?;
    }
    Ok(written)
}

/// Loads the master key from the staged data directory as `serve` would, and proves it
/// opens the restored database.
async fn prove(
    staging: &Path,
    load_args: &MasterKeyArgs,
    embedded: bool,
) -> anyhow::Result<serde_json::Value> {
    let dir = DataDir::open(staging)?;
    dir.check_private()?;
    let unsettled = crate::master_key::load(&dir, load_args)?;
    if !embedded {
        return Ok(json!({
            "checked": false,
            "why": "the key is loaded (a passphrase is checked against master.params), but the PostgreSQL database is restored separately: `serve --store URL` refuses a master key that does not open it",
        }));
    }
    let store = SqliteStore::open(&dir.path(data_dir::DATABASE_FILE))
        .context("opening the restored database")?;
    let proved = async {
        let (key, _home) = crate::master_key::settle(unsettled, &store).await?;
        prove_master_key(&store, &key).await
    }
    .await;
    drop(store);
    let vaults = proved.context("proving the master key against the restored database")?;
    Ok(json!({
        "checked": true,
        "opens": format!("the token-signing key and the data keys of {vaults} vaults"),
    }))
}
