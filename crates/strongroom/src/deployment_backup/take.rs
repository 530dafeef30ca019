//! `strongroom backup --to DIR`: the deployment's files, then the database as of one commit,
//! then a check that the master key did not change meanwhile, then the manifest.
//!
//! The files are copied before the database: a credential file (`admin.json`,
//! `apps/V.json`) is written only after its principal is committed, so every one copied
//! names a principal the later snapshot holds. The key material is read at the start and
//! compared at the end; a rotation that began or ended in between (its `….next` file, or new
//! content) makes the backup fail rather than pair a database with the wrong key. When the
//! backup holds the key, or is given it, the snapshot is opened with it to prove it.

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::json;
use strongroom_crypto::MasterKey;
use strongroom_store::SqliteStore;
use zeroize::Zeroizing;

use super::manifest::{
    self, APPS_DIR, FileEntry, KeySource, Manifest, MasterKeyEntry, StoreEntry, StoreKind,
};
use super::target::{Target, sync_dir};
use super::{BackupArgs, Report, postgres, prove_master_key};
use crate::config::StoreLocation;
use crate::data_dir;
use crate::master_key::PARAMS_FILE;

/// The files a data directory may hold besides the database, the key material and `apps/`.
const DEPLOYMENT_FILES: &[&str] = &[
    data_dir::CA_CERT_FILE,
    data_dir::CA_KEY_FILE,
    data_dir::CERTIFICATE_CA_CERT_FILE,
    data_dir::CERTIFICATE_CA_KEY_FILE,
    data_dir::ADMIN_FILE,
];

const NOT_INCLUDED: &[&str] = &[
    "serve.lock: the running server's lock; a restored deployment's server takes its own",
    "server.pem, server-key.pem, server.json: made anew from the CA and the flags at every start",
    "the audit log: a record of requests, hash-chained in files of its own, not deployment state; ship and keep it separately (strongroom audit verify checks it)",
    "agent/: a workload host's agent state, made again when the agent starts",
];

/// How the master key is held, read at the start of a backup.
struct KeyMaterial {
    source: KeySource,
    /// The files whose content must be the same at the end (the key file or `master.params`);
    /// their `….next` siblings must not appear.
    watched: Vec<(PathBuf, Zeroizing<Vec<u8>>)>,
    /// The key, when the backup can prove it opens the snapshot.
    key: Option<MasterKey>,
    /// What goes into the backup under which name.
    included: Option<(&'static str, Zeroizing<Vec<u8>>)>,
}

/// `strongroom --data-dir D backup --to DIR`.
pub(crate) async fn backup(data_dir: &Path, args: &BackupArgs) -> anyhow::Result<Report> {
    let location = args.store.location()?;
    let root = fs::canonicalize(data_dir)
        .with_context(|| format!("the data directory {} cannot be read", data_dir.display()))?;
    for needed in [data_dir::CA_CERT_FILE, data_dir::CA_KEY_FILE] {
        if !root.join(needed).is_file() {
            bail!(
                "{} has no {needed}: not a Strongroom data directory",
                root.display()
            );
        }
    }
    let embedded = location == StoreLocation::Embedded;
    if embedded && !root.join(data_dir::DATABASE_FILE).is_file() {
        bail!(
            "{} holds no database ({}): nothing to back up (a deployment on PostgreSQL is backed up with --store URL)",
            root.display(),
            data_dir::DATABASE_FILE
        );
    }
    let material = key_material(&root, args)?;
    let mut warnings = Vec::new();

    let target = Target::prepare(&args.to, "backup")?;
    let staging = target.staging().to_path_buf();
    let mut files = Vec::new();
    for name in DEPLOYMENT_FILES {
        let path = root.join(name);
        if path.is_file() {
            files.push(copy_in(&path, &staging, name)?);
        }
    }
    let apps = app_files(&root)?;
    if !apps.is_empty() {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(staging.join(APPS_DIR))
            .with_context(|| format!("creating {}", staging.join(APPS_DIR).display()))?;
        for name in apps {
            let relative = format!("{APPS_DIR}/{name}");
            files.push(copy_in(&root.join(&relative), &staging, &relative)?);
        }
        sync_dir(&staging.join(APPS_DIR))?;
    }
    if let Some((name, bytes)) = &material.included {
        manifest::write_new(&staging.join(name), bytes, 0o600)?;
        files.push(entry(name, bytes));
    }

    let (store, proof) = if embedded {
        let (store, proof) = snapshot(&root, &staging, &material).await?;
        let bytes = manifest::read_file(&staging.join(data_dir::DATABASE_FILE))?;
        files.push(entry(data_dir::DATABASE_FILE, &bytes));
        (store, proof)
    } else {
        let store = StoreEntry {
            kind: StoreKind::Postgresql,
            schema_version: None,
            how: format!(
                "not in this directory: dump it with pg_dump into {} (the recipe `strongroom backup` printed)",
                postgres::DUMP_FILE
            ),
        };
        let proof = json!({"checked": false, "why": "the PostgreSQL database is not in the backup; `serve --store URL` checks the key at start"});
        (store, proof)
    };
    material.check_unchanged()?;

    let master_key = master_key_entry(&material);
    if !master_key.included {
        warnings.push(format!(
            "the master key is NOT in this backup; restore needs it: {}",
            master_key.restore_needs
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let not_included = NOT_INCLUDED.iter().map(|note| (*note).to_owned()).collect();
    let manifest = Manifest::new(store, master_key, files, not_included);
    manifest.write(&staging)?;
    let root_of_backup = target.commit()?;

    let mut answer = json!({
        "backup": root_of_backup.display().to_string(),
        "created": manifest.created,
        "store": manifest.store,
        "masterKey": manifest.master_key,
        "masterKeyProof": proof,
        "files": manifest.files,
    });
    if let StoreLocation::Postgres(url) = &location {
        let recipe = postgres::dump_recipe(url, &root_of_backup);
        warnings.push(format!(
            "the PostgreSQL database is not in this backup: dump it now, before any master-key rotation: {recipe}"
        ));
        answer["pgDump"] = json!(recipe);
    }
    Ok(Report { answer, warnings })
}

/// Copies the database as of one commit into the staging directory and, when the key is at
/// hand and the copy is of this build's schema, proves the key opens it.
async fn snapshot(
    root: &Path,
    staging: &Path,
    material: &KeyMaterial,
) -> anyhow::Result<(StoreEntry, serde_json::Value)> {
    let live = root.join(data_dir::DATABASE_FILE);
    let copy = staging.join(data_dir::DATABASE_FILE);
    let (from, to) = (live.clone(), copy.clone());
    let copied = tokio::task::spawn_blocking(move || strongroom_store::online_backup(&from, &to))
        .await
        .context("the database copy stopped")?
        .with_context(|| format!("copying {} with SQLite's online backup", live.display()))?;
    let store = StoreEntry {
        kind: StoreKind::Sqlite,
        schema_version: Some(copied.schema.file),
        how: "SQLite online backup, one read transaction: the database as of one commit".to_owned(),
    };
    let proof = match &material.key {
        None => {
            json!({"checked": false, "why": "the key is not at hand (a passphrase, or left out); restore checks it"})
        }
        Some(_) if copied.schema.file != copied.schema.build => json!({
            "checked": false,
            "why": format!("the database has schema version {}, this build {}: opening it would migrate the copy; restore checks the key", copied.schema.file, copied.schema.build),
        }),
        Some(key) => {
            let store = SqliteStore::open(&copy).context("opening the copy of the database")?;
            let vaults = prove_master_key(&store, key).await;
            drop(store);
            let vaults =
                vaults.context("proving the master key against the copy of the database")?;
            json!({"checked": true, "vaults": vaults})
        }
    };
    Ok((store, proof))
}

/// Reads how the master key is held, and refuses what would make a backup that cannot be
/// opened without saying so.
fn key_material(root: &Path, args: &BackupArgs) -> anyhow::Result<KeyMaterial> {
    let in_dir = root.join(data_dir::MASTER_KEY_FILE);
    let params = root.join(PARAMS_FILE);
    let read = |path: &Path| -> anyhow::Result<(PathBuf, Zeroizing<Vec<u8>>)> {
        Ok((path.to_path_buf(), manifest::read_file(path)?))
    };
    let material = match (in_dir.is_file(), params.is_file(), &args.master_key_file) {
        (true, true, _) => bail!(
            "{} holds both master.key and master.params: which one the deployment uses is unclear; start `serve` once to find out",
            root.display()
        ),
        (false, true, _) if args.master_key_file.is_some() || args.exclude_master_key => bail!(
            "this deployment's master key is derived from a passphrase: the backup holds master.params (no key) and restore needs the passphrase; --master-key-file and --exclude-master-key do not apply"
        ),
        (false, true, _) => {
            let watched = read(&params)?;
            KeyMaterial {
                source: KeySource::Passphrase,
                included: Some((PARAMS_FILE, watched.1.clone())),
                watched: vec![watched],
                key: None,
            }
        }
        (true, false, Some(file)) => bail!(
            "this deployment keeps its master key in the data directory ({}); --master-key-file {} is not its key",
            in_dir.display(),
            file.display()
        ),
        (true, false, None) => {
            let watched = read(&in_dir)?;
            let key = parse_key(&in_dir, &watched.1)?;
            KeyMaterial {
                source: KeySource::DataDirectory,
                included: (!args.exclude_master_key)
                    .then(|| (data_dir::MASTER_KEY_FILE, watched.1.clone())),
                watched: vec![watched],
                key: Some(key),
            }
        }
        (false, false, Some(file)) => {
            let watched = read(file)?;
            let key = parse_key(file, &watched.1)?;
            KeyMaterial {
                source: KeySource::ExternalFile,
                included: Some((data_dir::MASTER_KEY_FILE, watched.1.clone())),
                watched: vec![watched],
                key: Some(key),
            }
        }
        (false, false, None) if args.exclude_master_key => KeyMaterial {
            source: KeySource::ExternalFile,
            included: None,
            watched: Vec::new(),
            key: None,
        },
        (false, false, None) => bail!(
            "the master key of {} is not in the data directory (the deployment runs with `serve --master-key-file PATH`), and a backup without it cannot be opened. Either copy it into the backup: `backup --master-key-file PATH`, or leave it out deliberately: `backup --exclude-master-key`, and keep the key file safe yourself: restore needs it (`restore --master-key-file PATH`)",
            root.display()
        ),
    };
    material.refuse_rotation()?;
    Ok(material)
}

fn parse_key(path: &Path, bytes: &[u8]) -> anyhow::Result<MasterKey> {
    MasterKey::from_bytes(bytes)
        .with_context(|| format!("{} is not a 32-byte master key", path.display()))
}

impl KeyMaterial {
    /// A `….next` file beside the key material: a rotation is running or was interrupted,
    /// and the database may be sealed under either key.
    fn refuse_rotation(&self) -> anyhow::Result<()> {
        for (path, _) in &self.watched {
            let mut next = path.as_os_str().to_owned();
            next.push(".next");
            if Path::new(&next).exists() {
                bail!(
                    "a master-key rotation is in progress or was interrupted ({} exists): let it finish (an interrupted one finishes when `serve` starts), then back up",
                    Path::new(&next).display()
                );
            }
        }
        Ok(())
    }

    /// After the snapshot: the key material is what it was at the start, so the snapshot is
    /// sealed under the key the backup holds.
    fn check_unchanged(&self) -> anyhow::Result<()> {
        self.refuse_rotation()?;
        for (path, before) in &self.watched {
            let now = manifest::read_file(path)?;
            if now.as_slice() != before.as_slice() {
                bail!(
                    "{} changed while the backup ran (a master-key rotation): run the backup again",
                    path.display()
                );
            }
        }
        Ok(())
    }
}

fn master_key_entry(material: &KeyMaterial) -> MasterKeyEntry {
    let restore_needs = match (material.source, material.included.is_some()) {
        (KeySource::Passphrase, _) => {
            "the passphrase: restore --master-passphrase-file PATH (or --master-passphrase-stdin)"
        }
        (KeySource::DataDirectory, true) => "nothing else: master.key is in the backup",
        (KeySource::DataDirectory, false) => {
            "the master key kept apart from this backup: restore --master-key-file PATH (it is copied into the new data directory)"
        }
        (KeySource::ExternalFile, true) => {
            "where the key is to live: restore --master-key-file PATH (written there from the backup; the deployment keeps running with serve --master-key-file PATH)"
        }
        (KeySource::ExternalFile, false) => {
            "the master key file the deployment runs with: restore --master-key-file PATH"
        }
    };
    MasterKeyEntry {
        source: material.source,
        included: material.included.is_some(),
        restore_needs: restore_needs.to_owned(),
    }
}

/// The application credential files in `DATA_DIR/apps` (`V.json`; temporary files skipped).
fn app_files(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = root.join(APPS_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if let Some(name) = entry.file_name().to_str()
            && is_file
            && manifest::is_app_file(name)
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Copies `source` to `staging/relative` (0600) and returns its manifest entry.
fn copy_in(source: &Path, staging: &Path, relative: &str) -> anyhow::Result<FileEntry> {
    let bytes = manifest::read_file(source)?;
    manifest::write_new(&staging.join(relative), &bytes, 0o600)?;
    Ok(entry(relative, &bytes))
}

fn entry(relative: &str, bytes: &[u8]) -> FileEntry {
    FileEntry {
        path: relative.to_owned(),
        bytes: bytes.len() as u64,
        sha256: manifest::sha256_hex(bytes),
    }
}
