//! Opens the store `--store` names: the embedded SQLite file in the data directory, or a
//! PostgreSQL database that several nodes share.

use std::sync::Arc;

use anyhow::Context as _;
use strongroom_store::{SqliteStore, Store};

use crate::config::StoreLocation;
use crate::data_dir::{self, DataDir};

/// The deployment's store, migrated to this build's schema.
pub(crate) async fn open(
    dir: &DataDir,
    location: &StoreLocation,
) -> anyhow::Result<Arc<dyn Store>> {
    match location {
        StoreLocation::Embedded => Ok(Arc::new(
            SqliteStore::open(&dir.path(data_dir::DATABASE_FILE))
                .context("opening the database")?,
        )),
        StoreLocation::Postgres(_) => {
            anyhow::bail!("the PostgreSQL store is not built into this binary yet")
        }
    }
}
