//! `strongroom master-key rotate`, inside the running server (so there is no downtime): a new
//! master key (or, for a passphrase deployment, a new passphrase's key and parameters) is
//! written beside the current one as `….next` and made durable; the database is re-sealed
//! under it in one transaction (`strongroom_vault::master_key::rotate`); then `….next` is
//! renamed over the current file. Start-up's `master_key::settle` finishes or discards a
//! rotation a crash interrupted, by which key the database opens with.
//!
//! One rotation at a time (a mutex). The old key file is overwritten with zeros before the
//! rename (best effort: a copy-on-write or journaling file system may keep the old blocks).

use std::fs;
use std::path::Path;

use strongroom_api::{MasterKeyRotated, MasterKeyRotationError, MasterKeyRotator, RotationFuture};
use strongroom_crypto::MasterKey;
use strongroom_identity::SIGNING_KEY_META;
use strongroom_vault::VaultCtx;
use zeroize::Zeroizing;

use crate::master_key::{self, KeyHome, KeyHomeKind};

pub(crate) struct Rotator {
    home: KeyHome,
    /// Held for a whole rotation. `true` while a rotation has re-sealed the database but its
    /// `….next` file could not be renamed: the next rotation renames it first (it is the key
    /// in use), instead of overwriting it.
    unpromoted: tokio::sync::Mutex<bool>,
}

impl Rotator {
    pub(crate) fn new(home: KeyHome) -> Self {
        Self {
            home,
            unpromoted: tokio::sync::Mutex::new(false),
        }
    }

    async fn run(
        &self,
        vaults: &VaultCtx,
        new_passphrase: Option<Zeroizing<String>>,
    ) -> Result<MasterKeyRotated, MasterKeyRotationError> {
        let mut unpromoted = self.unpromoted.lock().await;
        let path = self.home.path.clone();
        let next = self.home.next_path();
        if *unpromoted {
            master_key::promote(&next, &path).map_err(failed)?;
            *unpromoted = false;
        }
        let (key, file) = self.new_key(new_passphrase).await?;
        let written = {
            let next = next.clone();
            tokio::task::spawn_blocking(move || master_key::write_durably(&next, &file))
                .await
                .map_err(|err| failed(anyhow::anyhow!(err)))?
        };
        written
            .map_err(|err| failed(err.context("writing the new master key; nothing changed")))?;
        let rotation = match strongroom_vault::master_key::rotate(vaults, key, &[SIGNING_KEY_META])
            .await
        {
            Ok(rotation) => rotation,
            Err(err) => {
                let _ = fs::remove_file(&next);
                return Err(MasterKeyRotationError::Failed(format!(
                    "re-sealing the database failed, nothing changed and the old key stays in use: {err}"
                )));
            }
        };
        if self.home.kind == KeyHomeKind::File {
            wipe(&path);
        }
        if let Err(err) = master_key::promote(&next, &path) {
            *unpromoted = true;
            return Err(MasterKeyRotationError::Failed(format!(
                "the database is re-sealed under the new master key and the server uses it, but it is still in {}: {err:#}. The next rotation or start-up moves it into place",
                next.display()
            )));
        }
        tracing::info!(
            vaults = rotation.vaults,
            file = %path.display(),
            "rotated the master key"
        );
        Ok(MasterKeyRotated {
            vaults: rotation.vaults,
            deployment_values: rotation.deployment_values,
            key_source: match self.home.kind {
                KeyHomeKind::File => "file",
                KeyHomeKind::Passphrase => "passphrase",
            },
            location: path.display().to_string(),
        })
    }

    /// The new key and the file that keeps it: 32 random bytes, or the parameters that derive
    /// it from the new passphrase (Argon2id, off the async workers).
    async fn new_key(
        &self,
        new_passphrase: Option<Zeroizing<String>>,
    ) -> Result<(MasterKey, Zeroizing<Vec<u8>>), MasterKeyRotationError> {
        match (self.home.kind, new_passphrase) {
            (KeyHomeKind::File, None) => {
                let key = MasterKey::generate().map_err(|err| failed(err.into()))?;
                let bytes = Zeroizing::new(key.expose_bytes().to_vec());
                Ok((key, bytes))
            }
            (KeyHomeKind::File, Some(_)) => Err(MasterKeyRotationError::Invalid(
                "this deployment's master key is a key file, not derived from a passphrase: rotate it without a new passphrase".to_owned(),
            )),
            (KeyHomeKind::Passphrase, None) => Err(MasterKeyRotationError::Invalid(
                "this deployment's master key is derived from a passphrase: give the new passphrase (newPassphrase)".to_owned(),
            )),
            (KeyHomeKind::Passphrase, Some(passphrase)) => {
                master_key::check_passphrase(&passphrase)
                    .map_err(|err| MasterKeyRotationError::Invalid(err.to_string()))?;
                let (key, params) =
                    tokio::task::spawn_blocking(move || master_key::new_params(&passphrase))
                        .await
                        .map_err(|err| failed(anyhow::anyhow!(err)))?
                        .map_err(failed)?;
                Ok((key, Zeroizing::new(params)))
            }
        }
    }
}

impl MasterKeyRotator for Rotator {
    fn rotate<'a>(
        &'a self,
        vaults: &'a VaultCtx,
        new_passphrase: Option<Zeroizing<String>>,
    ) -> RotationFuture<'a> {
        Box::pin(self.run(vaults, new_passphrase))
    }
}

fn failed(err: anyhow::Error) -> MasterKeyRotationError {
    MasterKeyRotationError::Failed(format!("{err:#}"))
}

/// Overwrites the retired key file with zeros, so its bytes do not outlive the rename in
/// the file's old blocks where the file system writes in place.
fn wipe(path: &Path) {
    let wiped = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| {
            let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
            std::io::Write::write_all(&mut file, &vec![0u8; len])?;
            file.sync_all()
        });
    if let Err(err) = wiped {
        tracing::warn!(file = %path.display(), %err, "could not overwrite the retired master key");
    }
}
