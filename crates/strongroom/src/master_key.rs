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

use std::fs;
use std::io::{BufRead, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use strongroom_crypto::{Aad, MasterKey};
use strongroom_model::Sealed;
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

/// The master key from the source the flags name, checked against how the data directory
/// was made.
pub(crate) fn load(dir: &DataDir, args: &MasterKeyArgs) -> anyhow::Result<MasterKey> {
    let in_dir = dir.path(data_dir::MASTER_KEY_FILE).exists();
    let params_path = dir.path(PARAMS_FILE);
    let has_params = params_path.exists();
    let passphrase = read_passphrase(args)?;
    match (passphrase, &args.master_key_file) {
        (Some(passphrase), _) => {
            if in_dir {
                bail!(
                    "this data directory keeps its master key in {} and cannot also use a passphrase; start without --master-passphrase-*",
                    dir.path(data_dir::MASTER_KEY_FILE).display()
                );
            }
            if has_params {
                return unlock(&params_path, &passphrase);
            }
            refuse_if_data_exists(dir, "a passphrase")?;
            create_params(dir, &params_path, &passphrase)
        }
        (None, Some(file)) => {
            if in_dir {
                bail!(
                    "this data directory keeps its master key in {}; moving it is an operator's step: move the file to {} and start again",
                    dir.path(data_dir::MASTER_KEY_FILE).display(),
                    file.display()
                );
            }
            if has_params {
                bail!(
                    "this data directory's master key is derived from a passphrase ({}); start with --master-passphrase-file or --master-passphrase-stdin",
                    params_path.display()
                );
            }
            key_file(dir, file)
        }
        (None, None) => {
            if has_params {
                bail!(
                    "this data directory's master key is derived from a passphrase ({}); start with --master-passphrase-file or --master-passphrase-stdin",
                    params_path.display()
                );
            }
            dir.master_key()
        }
    }
}

fn read_passphrase(args: &MasterKeyArgs) -> anyhow::Result<Option<Zeroizing<String>>> {
    let mut text = Zeroizing::new(String::new());
    if let Some(path) = &args.master_passphrase_file {
        fs::File::open(path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .with_context(|| format!("reading the master passphrase from {}", path.display()))?;
    } else if args.master_passphrase_stdin {
        std::io::stdin()
            .lock()
            .read_line(&mut text)
            .context("reading the master passphrase from stdin")?;
    } else {
        return Ok(None);
    }
    let passphrase = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("the master passphrase must have at least {MIN_PASSPHRASE_CHARS} characters");
    }
    Ok(Some(passphrase))
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

fn create_params(dir: &DataDir, params_path: &Path, passphrase: &str) -> anyhow::Result<MasterKey> {
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
    let text = serde_json::to_vec_pretty(&params)?;
    dir.write_private(PARAMS_FILE, &text)?;
    tracing::info!(file = %params_path.display(), "master key derived from a passphrase; keep the passphrase: without it the data cannot be opened");
    Ok(key)
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
    match fs::read(path) {
        Ok(bytes) => {
            let mode = fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "{path} is readable by other users (mode {mode:03o}); it unlocks every secret. Make it private and start again: chmod 600 {path}",
                    path = path.display()
                );
            }
            let bytes = Zeroizing::new(bytes);
            MasterKey::from_bytes(&bytes)
                .with_context(|| format!("{} is not a 32-byte master key", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            refuse_if_data_exists(dir, "--master-key-file")?;
            let key = MasterKey::generate()?;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating the master key file {}", path.display()))?;
            std::io::Write::write_all(&mut file, key.expose_bytes())?;
            file.sync_all()?;
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}
