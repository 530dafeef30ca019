//! The directory a backup or a restore writes: new or empty, never one with anything in it.
//!
//! Files are made in a staging directory inside the target and moved into place at the end,
//! in an order that keeps a half-moved target harmless: the database first, the key material
//! next to last, the manifest last. A backup without its manifest is refused by restore; a
//! data directory holding a database without its key material is refused by `serve` (it
//! never makes a new key beside existing data). A failure before or during the move removes
//! what this command made, including the target directory if it made it.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::manifest::MANIFEST_FILE;
use crate::data_dir;
use crate::master_key::PARAMS_FILE;

/// A target directory being filled.
pub(super) struct Target {
    root: PathBuf,
    staging: PathBuf,
    /// Whether this command made `root` (it is removed again on failure).
    created: bool,
    /// Names already moved into `root` (removed again if the move fails half-way).
    moved: Vec<OsString>,
    committed: bool,
}

impl Target {
    /// Takes `path` for `command` (`backup`, `restore`): refuses an existing file or a
    /// directory with anything in it; makes the directory (0700, its parent must exist) or
    /// makes an empty one private, and a staging directory inside it.
    pub(super) fn prepare(path: &Path, command: &str) -> anyhow::Result<Self> {
        let created = match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut entries = fs::read_dir(path)
                    .with_context(|| format!("reading the directory {}", path.display()))?;
                if entries.next().is_some() {
                    bail!(
                        "{} is not empty: {command} writes only into a new or empty directory, never over what is there (it may be a live deployment or another backup)",
                        path.display()
                    );
                }
                false
            }
            Ok(_) => bail!("{} exists and is not a directory", path.display()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(path)
                    .with_context(|| format!("creating the directory {}", path.display()))?;
                true
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", path.display()));
            }
        };
        let root = fs::canonicalize(path)
            .with_context(|| format!("resolving the directory {}", path.display()))?;
        let mut target = Self {
            staging: root.join(format!(".{command}-in-progress")),
            root,
            created,
            moved: Vec::new(),
            committed: false,
        };
        fs::set_permissions(&target.root, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", target.root.display()))?;
        if let Err(err) = fs::DirBuilder::new().mode(0o700).create(&target.staging) {
            // Not ours to remove: someone else made it between the check and now.
            target.committed = !created;
            return Err(err)
                .with_context(|| format!("creating the directory {}", target.staging.display()));
        }
        Ok(target)
    }

    /// Where files are made until `commit`.
    pub(super) fn staging(&self) -> &Path {
        &self.staging
    }

    /// Moves everything staged into the target, database first and manifest last, and
    /// makes the moves durable.
    pub(super) fn commit(mut self) -> anyhow::Result<PathBuf> {
        let mut names = fs::read_dir(&self.staging)
            .and_then(|entries| {
                entries
                    .map(|entry| entry.map(|entry| entry.file_name()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .with_context(|| format!("reading {}", self.staging.display()))?;
        names.sort_by_key(|name| (move_rank(name), name.clone()));
        sync_dir(&self.staging)?;
        for name in names {
            fs::rename(self.staging.join(&name), self.root.join(&name)).with_context(|| {
                format!(
                    "moving {} into {}",
                    Path::new(&name).display(),
                    self.root.display()
                )
            })?;
            self.moved.push(name);
        }
        fs::remove_dir(&self.staging)
            .with_context(|| format!("removing {}", self.staging.display()))?;
        sync_dir(&self.root)?;
        self.committed = true;
        Ok(self.root.clone())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let _ = fs::remove_dir_all(&self.staging);
        for name in &self.moved {
            let path = self.root.join(name);
            let _ = fs::remove_file(&path).or_else(|_| fs::remove_dir_all(&path));
        }
        if self.created {
            let _ = fs::remove_dir(&self.root);
        }
    }
}

/// When a staged name moves: the database (and a WAL left beside it) first, then the
/// other files, then the key material, then the manifest.
fn move_rank(name: &OsString) -> u8 {
    let name = name.to_string_lossy();
    if name.starts_with(data_dir::DATABASE_FILE) {
        0
    } else if name == data_dir::MASTER_KEY_FILE || name == PARAMS_FILE {
        2
    } else if name == MANIFEST_FILE {
        3
    } else {
        1
    }
}

/// Makes the creations and renames in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .with_context(|| format!("syncing the directory {}", dir.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test fixtures")]
mod tests {
    use super::*;

    #[test]
    fn a_directory_with_anything_in_it_is_refused_and_left_alone() {
        let parent = tempfile::tempdir().unwrap();
        let full = parent.path().join("full");
        fs::create_dir(&full).unwrap();
        fs::write(full.join("strongroom.db"), b"live").unwrap();
        let refused = Target::prepare(&full, "restore").err().unwrap();
        assert!(
            format!("{refused:#}").contains("is not empty"),
            "{refused:#}"
        );
        assert_eq!(fs::read(full.join("strongroom.db")).unwrap(), b"live");
        assert_eq!(fs::read_dir(&full).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_leaves_nothing_and_a_commit_moves_the_manifest_last() {
        let parent = tempfile::tempdir().unwrap();
        let new = parent.path().join("new");
        let target = Target::prepare(&new, "backup").unwrap();
        fs::write(target.staging().join("ca.pem"), b"x").unwrap();
        drop(target);
        assert!(!new.exists(), "a target this command made is removed");

        let empty = parent.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let target = Target::prepare(&empty, "backup").unwrap();
        assert_eq!(
            fs::metadata(&empty).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::write(target.staging().join("ca.pem"), b"x").unwrap();
        drop(target);
        assert!(empty.exists(), "an empty directory it was given stays");
        assert_eq!(fs::read_dir(&empty).unwrap().count(), 0);

        let mut names: Vec<OsString> = ["manifest.json", "master.key", "ca.pem", "strongroom.db"]
            .iter()
            .map(OsString::from)
            .collect();
        names.sort_by_key(|name| (move_rank(name), name.clone()));
        assert_eq!(
            names,
            ["strongroom.db", "ca.pem", "master.key", "manifest.json"].map(OsString::from)
        );
        let target = Target::prepare(&empty, "backup").unwrap();
        fs::write(target.staging().join("manifest.json"), b"{}").unwrap();
        let root = target.commit().unwrap();
        assert!(root.join("manifest.json").exists());
        assert!(!root.join(".backup-in-progress").exists());
    }
}
