//! The one writer thread, which owns the read-write connection and commits in groups.
//!
//! Callers send a write (a closure) over a channel and await a oneshot reply. The thread
//! takes the first queued write, opens a transaction, runs it and then every write that has
//! queued meanwhile (up to `MAX_BATCH`), each inside its own SAVEPOINT so a failing write
//! rolls back alone, commits once and only then replies to each: one fsync serves the group,
//! and no write is acknowledged before the COMMIT that made it durable has returned.
//!
//! A write that destroys data (a purge, a vault's deletion) is queued with `write_and_scrub`:
//! after its batch commits, and before anyone in the batch hears back, the writer checkpoints
//! the WAL into the database file and truncates it (`wal_checkpoint(TRUNCATE)`). With
//! `secure_delete` (`schema.rs`) the checkpoint writes the zeroed pages over the old ones, and
//! the truncation drops the older frames that still held the deleted rows, so an acknowledged
//! purge has left no trace in the database file or its WAL.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::StoreError;

/// The most writes one transaction takes before it commits; bounds the first one's wait.
const MAX_BATCH: usize = 256;

/// A queued write, its result type erased so one channel carries every kind of write.
trait Job: Send {
    /// Runs the write inside the open transaction; `true` if it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Sends the result; `failure` says why the whole batch did not commit, if it did not.
    fn reply(self: Box<Self>, failure: Option<&str>);
    /// Whether this write destroyed data whose old pages the WAL must be rid of once it
    /// committed.
    fn scrubs(&self) -> bool;
}

struct TypedJob<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    /// For a destroying write: whether its result says it destroyed something.
    scrub: Option<fn(&T) -> bool>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A panicking write must not take the writer thread (and every later write) down.
        match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(outcome) => {
                let succeeded = outcome.is_ok();
                self.outcome = Some(outcome);
                succeeded
            }
            Err(_) => false,
        }
    }

    fn reply(self: Box<Self>, failure: Option<&str>) {
        let result = match (self.outcome, failure) {
            // Its own error stands whether or not the batch committed: nothing of it was kept.
            (Some(Err(err)), _) => Err(err),
            (_, Some(failure)) => Err(StoreError::Unavailable(failure.to_owned())),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::Unavailable(
                "the write did not complete".to_owned(),
            )),
        };
        // An error here means the caller stopped waiting; the write stands regardless.
        let _ = self.reply.send(result);
    }

    fn scrubs(&self) -> bool {
        match (&self.outcome, self.scrub) {
            (Some(Ok(value)), Some(destroyed)) => destroyed(value),
            _ => false,
        }
    }
}

/// Handle to the writer thread. Dropping it lets the thread finish the queued writes, close
/// the connection (checkpointing the WAL) and exit, and waits for that.
pub(super) struct Writer {
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    pub(super) fn spawn(conn: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let commits = Arc::new(AtomicU64::new(0));
        let thread_commits = Arc::clone(&commits);
        let thread = std::thread::Builder::new()
            .name("strongroom-store-writer".to_owned())
            .spawn(move || run(&conn, &queue, &thread_commits))
            .map_err(|err| {
                StoreError::Unavailable(format!("cannot start the writer thread: {err}"))
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            commits,
        })
    }

    /// Runs `work` in the next group transaction; resolves once it is committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit(work)?.await.map_err(|_| writer_stopped())?
    }

    /// As `write`, for a write that deletes data: when `destroyed` says of its result that it
    /// deleted something, it resolves only once the WAL has been checkpointed and truncated
    /// after the commit (see the module doc).
    pub(super) async fn write_and_scrub<T, F>(
        &self,
        work: F,
        destroyed: fn(&T) -> bool,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.enqueue(work, Some(destroyed))?
            .await
            .map_err(|_| writer_stopped())?
    }

    /// Queues `work` and returns the receiver of its result.
    pub(super) fn submit<T, F>(
        &self,
        work: F,
    ) -> Result<oneshot::Receiver<Result<T, StoreError>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.enqueue(work, None)
    }

    fn enqueue<T, F>(
        &self,
        work: F,
        scrub: Option<fn(&T) -> bool>,
    ) -> Result<oneshot::Receiver<Result<T, StoreError>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, receiver) = oneshot::channel();
        let job = Box::new(TypedJob {
            work: Some(work),
            outcome: None,
            reply,
            scrub,
        });
        let jobs = self.jobs.as_ref().ok_or_else(writer_stopped)?;
        jobs.send(job).map_err(|_| writer_stopped())?;
        Ok(receiver)
    }

    /// Transactions committed since the store was opened.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the store writer thread panicked");
        }
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the store writer has stopped".to_owned())
}

fn run(conn: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, commits: &AtomicU64) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        let failure = run_batch(conn, queue, &mut batch);
        match &failure {
            None => {
                commits.fetch_add(1, Ordering::Relaxed);
                if batch.iter().any(|job| job.scrubs()) {
                    scrub_wal(conn);
                }
            }
            Some(failure) => {
                tracing::error!(n_writes = batch.len(), %failure, "store write batch failed");
            }
        }
        for job in batch.drain(..) {
            job.reply(failure.as_deref());
        }
    }
}

/// Runs the batch (taking more queued writes as it goes) in one transaction and commits.
/// Returns why the transaction did not commit, if it did not.
fn run_batch(
    conn: &Connection,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    batch: &mut Vec<Box<dyn Job>>,
) -> Option<String> {
    if !conn.is_autocommit() {
        // A previous failure left a transaction open; never build on top of it.
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        return Some(format!("cannot begin a transaction: {err}"));
    }
    let mut n_run = 0;
    loop {
        while let Some(job) = batch.get_mut(n_run) {
            if let Err(err) = run_one(conn, job.as_mut()) {
                let _ = conn.execute_batch("ROLLBACK");
                return Some(format!("savepoint failed: {err}"));
            }
            n_run += 1;
        }
        if batch.len() >= MAX_BATCH {
            break;
        }
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => None,
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Some(format!("commit failed: {err}"))
        }
    }
}

/// Checkpoints every WAL frame into the database file and truncates the WAL to nothing.
/// Waits (the busy timeout) for readers still on an older snapshot. A failure is logged and
/// not the writes' failure: they committed, and the next checkpoint (at the latest when the
/// store closes) overwrites what this one could not.
fn scrub_wal(conn: &Connection) {
    let outcome = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    match outcome {
        Ok(0) => {}
        Ok(_) => tracing::warn!("the WAL could not be truncated after a purge: a reader was busy"),
        Err(err) => tracing::warn!(%err, "the WAL could not be truncated after a purge"),
    }
}

/// Runs one write in its own savepoint, keeping its changes only if it succeeded.
fn run_one(conn: &Connection, job: &mut dyn Job) -> Result<(), rusqlite::Error> {
    conn.prepare_cached("SAVEPOINT write")?.execute([])?;
    if !job.run(conn) {
        conn.prepare_cached("ROLLBACK TO write")?.execute([])?;
    }
    conn.prepare_cached("RELEASE write")?.execute([])?;
    Ok(())
}
