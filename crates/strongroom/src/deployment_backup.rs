//! `strongroom backup` and `strongroom restore`: a whole deployment, copied while `serve`
//! runs, and brought back in a new data directory.
//!
//! A backup is a directory (0700, every file 0600) holding:
//! - `strongroom.db`: the embedded database as of one commit, copied with SQLite's online
//!   backup API from a read-only connection while the server keeps serving and writing
//!   (`strongroom_store::online_backup`). With a PostgreSQL store (`--store`) it is absent:
//!   the operator dumps the database with `pg_dump`, whose recipe the command prints
//!   (`postgres.rs`);
//! - what the data directory needs to come back (`manifest::role_of` names every file a
//!   backup may hold): `ca.pem` and `ca-key.pem` (the TLS root clients trust),
//!   `certificate-ca.pem` and `certificate-ca-key.pem`, `admin.json`, `apps/*.json`;
//! - the master key's material: `master.key` when it lives in the data directory,
//!   `master.params` (salt, parameters, check value; no key) for a passphrase. A key kept
//!   outside the directory (`serve --master-key-file`) is never left out silently: backup
//!   refuses until told either to copy it in (`backup --master-key-file PATH`) or to leave
//!   it out (`--exclude-master-key`, the same for a key in the directory), and the manifest
//!   then says restore needs it (`restore --master-key-file PATH`);
//! - `manifest.json` (`manifest.rs`), written last: format version, time, Strongroom and
//!   schema versions, how the master key is held, and every file with its size and SHA-256.
//!
//! Not in a backup: `serve.lock` (the running server's lock), `server.pem`/`server-key.pem`
//! and `server.json` (made anew at every start), an audit log wherever it is written (a
//! record of requests, hash-chained in files of its own, not deployment state: ship and keep
//! it apart), `agent/` (a workload host's agent state, made again when the agent starts).
//! The files are named, never found by listing the directory, so nothing else there can slip
//! in. A master-key rotation in progress (a `….next` key file) stops a backup, and so does a
//! change of the key material while the backup runs.
//!
//! Restore (`restore.rs`) writes only into a new or empty directory, checks every file's
//! size and SHA-256 against the manifest before anything counts as restored, and proves the
//! master key opens the restored database (the sealed token-signing key, as `serve` checks at
//! start, and every vault's data key) before it reports success. Both commands fill the
//! target through a staging directory inside it (`target.rs`), moving the database first
//! and the key material and manifest last, so a failure or crash never leaves something that
//! passes for a complete backup or a startable deployment.

mod manifest;
mod postgres;
mod restore;
mod take;
mod target;

use std::path::PathBuf;

use anyhow::anyhow;
use strongroom_crypto::{Aad, MasterKey};
use strongroom_identity::SIGNING_KEY_META;
use strongroom_model::Sealed;
use strongroom_store::Store;

pub(crate) use restore::restore;
pub(crate) use take::backup;

/// Flags of `strongroom backup`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BackupArgs {
    /// The directory to write the backup to: it must not exist or be empty (made 0700)
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// The deployment's master key when it lives outside the data directory (`serve
    /// --master-key-file`): copy it into the backup, which then opens without anything else
    #[arg(long, value_name = "PATH", conflicts_with = "exclude_master_key")]
    pub master_key_file: Option<PathBuf>,
    /// Leave the master key out of the backup, deliberately: restore then needs a copy of it,
    /// kept apart (`restore --master-key-file PATH`)
    #[arg(long)]
    pub exclude_master_key: bool,
    #[command(flatten)]
    pub store: crate::config::StoreArgs,
}

/// Flags of `strongroom restore`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RestoreArgs {
    /// The backup directory (`backup --to`)
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    #[command(flatten)]
    pub store: crate::config::StoreArgs,
    #[command(flatten)]
    pub master_key: crate::master_key::MasterKeyArgs,
}

/// What a command answers: JSON for standard output, and warnings for standard error.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) answer: serde_json::Value,
    pub(crate) warnings: Vec<String>,
}

/// Proves `key` is the master key of the database in `store`: it opens the sealed
/// token-signing key (what `serve` checks at start; every started deployment has one, so the
/// proof is never vacuous) and every vault's data key, soft-deleted vaults included. Returns
/// how many vaults it checked.
async fn prove_master_key(store: &dyn Store, key: &MasterKey) -> anyhow::Result<usize> {
    let not_this_key = |what: &str| {
        anyhow!(
            "the master key does not open {what} in the database: it is not the key this data was sealed with"
        )
    };
    let sealed = store.get_meta(SIGNING_KEY_META).await?.ok_or_else(|| {
        anyhow!(
            "the database holds no token-signing key, which `serve` makes at its first start: it is not a started deployment's database, and nothing in it proves the master key"
        )
    })?;
    key.open(&Aad::deployment(SIGNING_KEY_META), &Sealed::from(sealed))
        .map_err(|_| not_this_key("the token-signing key"))?;
    let vaults = store.list_vaults().await?;
    for vault in &vaults {
        let aad = Aad::data_key(vault.name.as_str(), vault.created.seconds());
        key.open_data_key(&aad, &vault.sealed_data_key)
            .map_err(|_| not_this_key(&format!("the data key of vault {}", vault.name.as_str())))?;
    }
    Ok(vaults.len())
}
