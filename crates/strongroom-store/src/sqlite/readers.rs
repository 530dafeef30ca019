//! A small pool of read-only connections, used inline on the calling task's thread.
//!
//! WAL lets every reader see the last committed state while the writer works, so reads never
//! queue behind writes. A semaphore with one permit per connection bounds the reads in flight,
//! so a permit always finds an idle connection; each connection keeps its own cache of
//! prepared statements, which is what makes the hot path (the current version) cheap.
//!
//! Why inline and not `spawn_blocking`: a point read of a page-cached WAL database takes
//! ~3.5 us, while handing it to a blocking thread and back cost ~14 us of wake-ups (measured:
//! secret GET at 25 % of a bare TLS endpoint with the hand-off). The price is that a read which
//! must go to disk holds a runtime worker for that read; our reads are index lookups bounded by
//! a page of at most 25 rows.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::StoreError;

pub(super) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub(super) fn open(path: &Path, n_connections: usize) -> Result<Self, StoreError> {
        let connections = (0..n_connections.max(1))
            .map(|_| super::schema::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            permits: Semaphore::new(connections.len()),
            idle: Mutex::new(connections),
        })
    }

    /// Runs `work` on an idle read connection, inline (see the module doc for why).
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the reader pool is closed".to_owned()))?;
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .ok_or_else(|| StoreError::Unavailable("no idle reader connection".to_owned()))?;
        let result = catch_unwind(AssertUnwindSafe(|| work(&conn)));
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        result.unwrap_or_else(|_| Err(StoreError::Unavailable("a read panicked".to_owned())))
    }
}
