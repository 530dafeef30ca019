//! Where the master key comes from. It seals every vault's data key and the token-signing
//! key, so whoever holds it and a copy of the database reads everything: keeping it beside the
//! database (`DATA_DIR/master.key`, the default) protects only against a leaked database file.
//! Two ways keep it elsewhere:
//!
//! - `--master-key-file PATH`: the 32-byte key in a file outside the data directory (another
//!   disk, a mounted secret, a systemd credential), made there on first start.
//! - `--master-passphrase-file PATH` or `--master-passphrase-stdin`: the key is derived at each
//!   start from a passphrase with Argon2id, as Vault's unseal step asks for its key shares. The
//!   data directory keeps only the salt, the parameters and a check value (`master.params`),
//!   so a wrong passphrase stops start-up with a clear message instead of failing later.
//!
//! A data directory's source is fixed when it is created: starting with another one is refused
//! with a message that names the one it was made with.
//!
//! `strongroom master-key rotate` (`master_key_rotation.rs`) writes the new key (or the new
//! passphrase's parameters) beside the current one as `….next`, re-seals the database in one
//! transaction, then renames `….next` over the current file. A crash between the two leaves
//! both files, and the database under one of them: start-up (`settle`) keeps the one that
//! opens the database and removes or promotes the other, so a rotation is never half-applied.

use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use strongroom_crypto::{Aad, MasterKey};
use strongroom_identity::SIGNING_KEY_META;
use strongroom_model::Sealed;
use strongroom_store::Store;
use zeroize::Zeroizing;

use crate::data_dir::{self, DataDir};

/// The passphrase parameters file in the data directory.
pub(crate) const PARAMS_FILE: &str = "master.params";
/// What the check value seals (with the derived key): opening it proves the passphrase.
const CHECK_PURPOSE: &str = "master-key-check";
const CHECK_PLAINTEXT: &[u8] = b"strongroom master key";
/// Argon2id cost: 64 MiB, 3 passes, one lane (OWASP's second recommended setting).
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2_PASSES: u32 = 3;
const ARGON2_LANES: u32 = 1;
const SALT_BYTES: usize = 16;
/// A passphrase shorter than this is refused: it would be guessed offline from a stolen
/// `master.params` and database.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// Flags of `serve` that choose the master key's source.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MasterKeyArgs {
    /// Keep the 32-byte master key in this file instead of DATA_DIR/master.key (made there on
    /// first start, 0600)
    #[arg(long, env = "STRONGROOM_MASTER_KEY_FILE", conflicts_with_all = ["master_passphrase_file", "master_passphrase_stdin"])]
    pub master_key_file: Option<PathBuf>,
    /// Derive the master key from the passphrase in this file (Argon2id); nothing that
    /// unlocks the data is stored in the data directory
    #[arg(
        long,
        env = "STRONGROOM_MASTER_PASSPHRASE_FILE",
        conflicts_with = "master_passphrase_stdin"
    )]
    pub master_passphrase_file: Option<PathBuf>,
    /// As --master-passphrase-file, reading the passphrase's first line from stdin
    #[arg(long)]
    pub master_passphrase_stdin: bool,
}

/// What `master.params` holds: how the key is derived and a value that proves it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PassphraseParams {
    kdf: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
    check: String,
}

/// Where the deployment's master key lives: a key file (in the data directory or not) or the
/// parameters of a passphrase. A rotation writes the next one at `next_path`.
#[derive(Debug, Clone)]
pub(crate) struct KeyHome {
    pub(crate) kind: KeyHomeKind,
    pub(crate) path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyHomeKind {
    /// 32 raw bytes.
    File,
    /// `master.params`: salt, Argon2 parameters and a check value.
    Passphrase,
}

impl KeyHome {
    pub(crate) fn next_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".next");
        PathBuf::from(name)
    }
}

/// The loaded key, and the next one if a rotation was interrupted; which of them opens the
/// database is decided by `settle`, once the store is open.
pub(crate) struct Unsettled {
    home: KeyHome,
    current: Option<MasterKey>,
    next: Option<MasterKey>,
    /// Why `current` did not load (a wrong passphrase), reported if `next` does not open the
    /// database either.
    current_error: Option<anyhow::Error>,
}

/// The master key from the source the flags name, checked against how the data directory
/// was made.
pub(crate) fn load(dir: &DataDir, args: &MasterKeyArgs) -> anyhow::Result<Unsettled> {
    let home = home(dir, args)?;
    let next_path = home.next_path();
    let has_next = next_path.exists();
    let (current, next, current_error) = match home.kind {
        KeyHomeKind::Passphrase => {
            let passphrase = read_passphrase(args)?.context("a passphrase is required")?;
            let current = if home.path.exists() {
                unlock(&home.path, &passphrase)
            } else {
                refuse_if_data_exists(dir, "a passphrase")?;
                let (key, params) = new_params(&passphrase)?;
                dir.write_private(PARAMS_FILE, &params)?;
                tracing::info!(file = %home.path.display(), "master key derived from a passphrase; keep the passphrase: without it the data cannot be opened");
                Ok(key)
            };
            // The next parameters may be for another passphrase (the old one given after
            // an interrupted rotation): then they simply do not unlock.
            let next = if has_next {
                unlock(&next_path, &passphrase).ok()
            } else {
                None
            };
            match current {
                Ok(key) => (Some(key), next, None),
                Err(err) if next.is_some() => (None, next, Some(err)),
                Err(err) => return Err(err),
            }
        }
        KeyHomeKind::File => {
            let current = if home.path == dir.path(data_dir::MASTER_KEY_FILE) {
                dir.master_key()?
            } else {
                key_file(dir, &home.path)?
            };
            // The database is re-sealed only after the next key is durable, so one that
            // does not read (a crash while it was written) is never the key in use: `settle`
            // removes it.
            let next = if has_next {
                read_key_file(&next_path)
                    .inspect_err(|err| tracing::warn!(file = %next_path.display(), "ignoring an unreadable next master key: {err:#}"))
                    .ok()
            } else {
                None
            };
            (Some(current), next, None)
        }
    };
    Ok(Unsettled {
        home,
        current,
        next,
        current_error,
    })
}

/// Chooses the key that opens the database (the one the token-signing key is sealed under)
/// and finishes what an interrupted rotation left: a next key that the database is not
/// sealed under is removed, one that it is sealed under replaces the current one.
pub(crate) async fn settle(
    unsettled: Unsettled,
    store: &dyn Store,
) -> anyhow::Result<(MasterKey, KeyHome)> {
    let Unsettled {
        home,
        current,
        next,
        current_error,
    } = unsettled;
    let sealed = store
        .get_meta(SIGNING_KEY_META)
        .await
        .context("reading the sealed token-signing key")?
        .map(Sealed::from);
    let opens = |key: &MasterKey| match &sealed {
        Some(sealed) => key.open(&Aad::deployment(SIGNING_KEY_META), sealed).is_ok(),
        None => true,
    };
    let next_path = home.next_path();
    if let Some(key) = current.filter(|key| opens(key)) {
        if next_path.exists() {
            tracing::warn!(file = %next_path.display(), "removing the key of a master-key rotation that did not complete (the database was not re-sealed under it)");
            fs::remove_file(&next_path)
                .with_context(|| format!("removing {}", next_path.display()))?;
            sync_parent(&next_path)?;
        }
        return Ok((key, home));
    }
    if let Some(key) = next.filter(|key| opens(key)) {
        tracing::warn!(file = %home.path.display(), "finishing an interrupted master-key rotation: the database is sealed under the next key, which now replaces the old one");
        promote(&next_path, &home.path)?;
        return Ok((key, home));
    }
    if let Some(err) = current_error {
        return Err(err);
    }
    match home.kind {
        KeyHomeKind::Passphrase => bail!("wrong master passphrase: it does not open this database"),
        KeyHomeKind::File => bail!(
            "the master key in {} does not open this database: it is not the key the data was sealed with",
            home.path.display()
        ),
    }
}

/// Where the flags and the data directory say the key lives.
fn home(dir: &DataDir, args: &MasterKeyArgs) -> anyhow::Result<KeyHome> {
    let in_dir = dir.path(data_dir::MASTER_KEY_FILE);
    let params_path = dir.path(PARAMS_FILE);
    let has_params = params_path.exists();
    let passphrase_given = args.master_passphrase_file.is_some() || args.master_passphrase_stdin;
    let passphrase_needed = || {
        anyhow::anyhow!(
            "this data directory's master key is derived from a passphrase ({}); start with --master-passphrase-file or --master-passphrase-stdin",
            params_path.display()
        )
    };
    match (passphrase_given, &args.master_key_file) {
        (true, _) => {
            if in_dir.exists() {
                bail!(
                    "this data directory keeps its master key in {} and cannot also use a passphrase; start without --master-passphrase-*",
                    in_dir.display()
                );
            }
            Ok(KeyHome {
                kind: KeyHomeKind::Passphrase,
                path: params_path,
            })
        }
        (false, Some(file)) => {
            if in_dir.exists() {
                bail!(
                    "this data directory keeps its master key in {}; moving it is an operator's step: move the file to {} and start again",
                    in_dir.display(),
                    file.display()
                );
            }
            if has_params {
                return Err(passphrase_needed());
            }
            Ok(KeyHome {
                kind: KeyHomeKind::File,
                path: file.clone(),
            })
        }
        (false, None) => {
            if has_params {
                return Err(passphrase_needed());
            }
            Ok(KeyHome {
                kind: KeyHomeKind::File,
                path: in_dir,
            })
        }
    }
}

fn read_passphrase(args: &MasterKeyArgs) -> anyhow::Result<Option<Zeroizing<String>>> {
    let file = args.master_passphrase_file.as_deref();
    let passphrase = strongroom_cli::read_passphrase(file, args.master_passphrase_stdin)
        .with_context(|| match file {
            Some(path) => format!("reading the master passphrase from {}", path.display()),
            None => "reading the master passphrase from stdin".to_owned(),
        })?;
    if let Some(passphrase) = &passphrase {
        check_passphrase(passphrase)?;
    }
    Ok(passphrase)
}

/// Refuses a passphrase too short to resist an offline guess.
pub(crate) fn check_passphrase(passphrase: &str) -> anyhow::Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("the master passphrase must have at least {MIN_PASSPHRASE_CHARS} characters");
    }
    Ok(())
}

/// A key made now would not open data sealed under the key that made it.
fn refuse_if_data_exists(dir: &DataDir, source: &str) -> anyhow::Result<()> {
    if dir.path(data_dir::DATABASE_FILE).exists() {
        bail!(
            "a database exists in the data directory but no master key for it: {source} cannot make a new key for existing data"
        );
    }
    Ok(())
}

fn derive(passphrase: &str, salt: &[u8], params: &PassphraseParams) -> anyhow::Result<MasterKey> {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(params.memory_kib, params.passes, params.lanes, Some(32)).map_err(
            |err| anyhow::anyhow!("master.params has unusable Argon2 parameters: {err}"),
        )?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|err| anyhow::anyhow!("deriving the master key: {err}"))?;
    Ok(MasterKey::from_bytes(key.as_ref())?)
}

/// A new key derived from `passphrase` with a fresh salt, and the `master.params` that
/// derives and checks it again.
pub(crate) fn new_params(passphrase: &str) -> anyhow::Result<(MasterKey, Vec<u8>)> {
    let salt = strongroom_crypto::random_bytes::<SALT_BYTES>()?;
    let mut params = PassphraseParams {
        kdf: "argon2id".to_owned(),
        memory_kib: ARGON2_MEMORY_KIB,
        passes: ARGON2_PASSES,
        lanes: ARGON2_LANES,
        salt: STANDARD.encode(salt),
        check: String::new(),
    };
    let key = derive(passphrase, &salt, &params)?;
    let check = key.seal(&Aad::deployment(CHECK_PURPOSE), CHECK_PLAINTEXT)?;
    params.check = STANDARD.encode(check.as_bytes());
    Ok((key, serde_json::to_vec_pretty(&params)?))
}

fn unlock(params_path: &Path, passphrase: &str) -> anyhow::Result<MasterKey> {
    let text =
        fs::read(params_path).with_context(|| format!("reading {}", params_path.display()))?;
    let params: PassphraseParams = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not valid", params_path.display()))?;
    if params.kdf != "argon2id" {
        bail!(
            "{} names an unknown KDF {:?}",
            params_path.display(),
            params.kdf
        );
    }
    let salt = STANDARD
        .decode(&params.salt)
        .with_context(|| format!("{}: the salt is not base64", params_path.display()))?;
    let check = STANDARD
        .decode(&params.check)
        .with_context(|| format!("{}: the check is not base64", params_path.display()))?;
    let key = derive(passphrase, &salt, &params)?;
    let opened = key.open(&Aad::deployment(CHECK_PURPOSE), &Sealed::from(check));
    match opened {
        Ok(plain) if plain.expose() == CHECK_PLAINTEXT => Ok(key),
        _ => bail!("wrong master passphrase: it does not open this data directory"),
    }
}

/// The key in `path` (outside the data directory), made there on first start.
fn key_file(dir: &DataDir, path: &Path) -> anyhow::Result<MasterKey> {
    match fs::metadata(path) {
        Ok(_) => read_key_file(path),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            refuse_if_data_exists(dir, "--master-key-file")?;
            let key = MasterKey::generate()?;
            create_private(path, key.expose_bytes())?;
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// A key file, refused if other users can read it.
fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let bytes =
        Zeroizing::new(fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{path} is readable by other users (mode {mode:03o}); it unlocks every secret. Make it private and start again: chmod 600 {path}",
            path = path.display()
        );
    }
    MasterKey::from_bytes(&bytes)
        .with_context(|| format!("{} is not a 32-byte master key", path.display()))
}

/// Writes `bytes` to a new private file at `path` (replacing one left there) and makes the
/// file and its directory entry durable before returning.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("removing {}", path.display())),
    }
    create_private(path, bytes)
}

/// Creates `path` (0600; it must not exist), writes `bytes` and makes the file and its
/// directory entry durable.
fn create_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    sync_parent(path)
}

/// Makes `next` the current key file (`path`), durably.
pub(crate) fn promote(next: &Path, path: &Path) -> anyhow::Result<()> {
    fs::rename(next, path)
        .with_context(|| format!("moving {} to {}", next.display(), path.display()))?;
    sync_parent(path)
}

/// Makes a rename or creation in `path`'s directory durable.
fn sync_parent(path: &Path) -> anyhow::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::File::open(parent)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("syncing the directory {}", parent.display()))
}
