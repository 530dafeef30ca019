//! A cache of current versions (ciphertext rows, never plaintext) in front of the readers.
//!
//! Why: a secret GET is usually a read of the current version of a hot name, and starting a
//! WAL read transaction costs SQLite several `fcntl` lock calls, about a tenth of a secret
//! GET's CPU (perf, cpu-clock). Every write to objects goes through this process's single
//! writer, so the store knows exactly when an entry goes stale.
//!
//! Correctness: one mutex guards the map and a generation number. A writer, after its commit
//! and before it acknowledges, bumps the generation and removes the key (or everything). A
//! reader that missed notes the generation before reading SQLite and inserts its row only if
//! the generation is unchanged, so a row read before a commit can never be cached after it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use strongroom_model::{ObjectKind, ObjectName, VaultId};

use crate::VersionRow;

/// Enough for every hot secret of a large deployment; when full the cache starts over.
const MAX_ENTRIES: usize = 16_384;

/// Per vault and kind, rows by lower-cased name (names are case-insensitive: the schema
/// compares them NOCASE, i.e. ASCII). Two levels so a lookup borrows the name instead of
/// building a key: most names have no upper-case letter to fold.
type Rows = HashMap<(VaultId, ObjectKind), HashMap<Box<str>, VersionRow>>;

#[derive(Default)]
struct Inner {
    generation: u64,
    rows: Rows,
    len: usize,
}

impl Inner {
    fn remove(&mut self, vault: VaultId, kind: ObjectKind, name: &ObjectName) {
        if let Some(names) = self.rows.get_mut(&(vault, kind))
            && names.remove(&*name.folded()).is_some()
        {
            self.len -= 1;
        }
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.len = 0;
    }
}

#[derive(Default)]
pub(super) struct CurrentVersions {
    inner: Mutex<Inner>,
}

impl CurrentVersions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached current version, or the generation to pass to `insert` after a read.
    pub(super) fn get(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<VersionRow, u64> {
        let inner = self.lock();
        let row = inner
            .rows
            .get(&(vault, kind))
            .and_then(|names| names.get(&*name.folded()));
        match row {
            Some(row) => Ok(row.clone()),
            None => Err(inner.generation),
        }
    }

    /// Caches a row read from SQLite, unless a write finished since `generation` was taken.
    pub(super) fn insert(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        row: &VersionRow,
        generation: u64,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.len >= MAX_ENTRIES {
            inner.clear();
        }
        let name: Box<str> = row.name.folded().into();
        let replaced = inner
            .rows
            .entry((vault, kind))
            .or_default()
            .insert(name, row.clone());
        if replaced.is_none() {
            inner.len += 1;
        }
    }

    /// After a write to one name: call once it committed (or failed), before acknowledging.
    pub(super) fn invalidate(&self, vault: VaultId, kind: ObjectKind, name: &ObjectName) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.remove(vault, kind, name);
    }

    /// After a write that may touch many names (janitor purges, vault deletion).
    pub(super) fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VersionAttributes;
    use std::collections::BTreeMap;
    use strongroom_model::{Sealed, UnixTime, Version};

    fn row(name: &str) -> VersionRow {
        VersionRow {
            name: ObjectName::parse(name).unwrap(),
            version: Version::new_random(),
            attributes: VersionAttributes {
                enabled: true,
                not_before: None,
                expires: None,
                created: UnixTime(1),
                updated: UnixTime(1),
            },
            tags: BTreeMap::new(),
            meta: std::sync::Arc::from(&[][..]),
            payload: Sealed::from(vec![1, 2, 3]),
        }
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_cached() {
        let cache = CurrentVersions::default();
        let (vault, kind) = (VaultId(1), ObjectKind::Secret);
        let name = ObjectName::parse("Hot").unwrap();
        let generation = cache.get(vault, kind, &name).unwrap_err();
        cache.invalidate(vault, kind, &name); // a write committed meanwhile
        cache.insert(vault, kind, &row("Hot"), generation);
        assert!(
            cache.get(vault, kind, &name).is_err(),
            "stale row must not be cached"
        );

        let generation = cache.get(vault, kind, &name).unwrap_err();
        cache.insert(vault, kind, &row("Hot"), generation);
        let lower = ObjectName::parse("hot").unwrap();
        assert!(
            cache.get(vault, kind, &lower).is_ok(),
            "case-insensitive hit"
        );
        assert!(cache.get(VaultId(2), kind, &name).is_err(), "per vault");
        cache.invalidate(vault, kind, &lower);
        assert!(cache.get(vault, kind, &name).is_err(), "invalidated");

        let generation = cache.get(vault, kind, &name).unwrap_err();
        cache.insert(vault, kind, &row("Hot"), generation);
        cache.invalidate_all();
        assert!(cache.get(vault, kind, &name).is_err(), "cleared");
    }

    #[test]
    fn counts_names_once_whatever_their_case() {
        let cache = CurrentVersions::default();
        let (vault, kind) = (VaultId(1), ObjectKind::Secret);
        for name in ["Hot", "hot", "HOT"] {
            let generation = cache.get(vault, kind, &ObjectName::parse(name).unwrap());
            let generation = generation.map_or_else(|g| g, |_| cache.lock().generation);
            cache.insert(vault, kind, &row(name), generation);
        }
        let generation = cache.lock().generation;
        cache.insert(VaultId(2), kind, &row("hot"), generation);
        cache.insert(vault, ObjectKind::Key, &row("hot"), generation);
        assert_eq!(
            cache.lock().len,
            3,
            "one entry per vault, kind and folded name"
        );
        cache.invalidate(vault, kind, &ObjectName::parse("hOt").unwrap());
        assert_eq!(cache.lock().len, 2);
        assert!(
            cache
                .get(VaultId(2), kind, &ObjectName::parse("Hot").unwrap())
                .is_ok()
        );
    }
}
