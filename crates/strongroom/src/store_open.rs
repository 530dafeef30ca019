//! Opens the store `--store` names: the embedded SQLite file in the data directory, or a
//! PostgreSQL database that several nodes share.

use std::sync::Arc;

use anyhow::Context as _;
use strongroom_store::{PostgresStore, SqliteStore, Store};

use crate::config::StoreLocation;
use crate::data_dir::{self, DataDir};

/// Reads a connection pool's (size, idle, waiting) for the metrics.
pub(crate) type PoolReading = Arc<dyn Fn() -> (u64, u64, u64) + Send + Sync>;

/// The store, and (PostgreSQL) a reading of its connection pool.
pub(crate) struct OpenedStore {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) pool: Option<PoolReading>,
}

/// The deployment's store, migrated to this build's schema.
pub(crate) async fn open(dir: &DataDir, location: &StoreLocation) -> anyhow::Result<OpenedStore> {
    match location {
        StoreLocation::Embedded => Ok(OpenedStore {
            store: Arc::new(
                SqliteStore::open(&dir.path(data_dir::DATABASE_FILE))
                    .context("opening the database")?,
            ),
            pool: None,
        }),
        StoreLocation::Postgres(url) => {
            let store = Arc::new(
                PostgresStore::connect(url)
                    .await
                    .context("connecting to the PostgreSQL store")?,
            );
            let pooled = Arc::clone(&store);
            let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            Ok(OpenedStore {
                store,
                pool: Some(Arc::new(move || {
                    let pool = pooled.pool_status();
                    (count(pool.size), count(pool.available), count(pool.waiting))
                })),
            })
        }
    }
}
