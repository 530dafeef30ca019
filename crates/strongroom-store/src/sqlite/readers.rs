//! A small pool of read-only connections, used from tokio's blocking threads.
//!
//! WAL lets every reader see the last committed state while the writer works, so reads never
//! queue behind writes. A semaphore with one permit per connection bounds the reads in flight,
//! so a permit always finds an idle connection; each connection keeps its own cache of
//! prepared statements, which is what makes the hot path (the current version) cheap.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::StoreError;

pub(super) struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(super) fn open(path: &Path, n_connections: usize) -> Result<Self, StoreError> {
        let connections = (0..n_connections.max(1))
            .map(|_| super::schema::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(connections.len())),
            idle: Arc::new(Mutex::new(connections)),
        })
    }

    /// Runs `work` on an idle read connection, on a blocking thread.
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the reader pool is closed".to_owned()))?;
        let idle = Arc::clone(&self.idle);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()
                .ok_or_else(|| StoreError::Unavailable("no idle reader connection".to_owned()))?;
            let result = catch_unwind(AssertUnwindSafe(|| work(&conn)));
            idle.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
            result.unwrap_or_else(|_| Err(StoreError::Unavailable("a read panicked".to_owned())))
        })
        .await
        .map_err(|err| StoreError::Unavailable(format!("the read task failed: {err}")))?
    }
}
