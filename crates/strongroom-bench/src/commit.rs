//! The store's durable-commit ceiling: how many transactions per second SQLite can make
//! durable on this disk, configured as `strongroom-store` configures it (WAL,
//! `synchronous=FULL`, so every COMMIT syncs the WAL).
//!
//! Two figures: sequential single-row transactions (one fsync each, the rate a single client
//! writing one secret after another could reach), and transactions of `batch` rows (what the
//! store's group commit can reach when that many writes are queued: one fsync per group). A
//! secret SET is one row in a few tables plus sealing, so concurrent SETs can exceed the
//! sequential figure only through group commit.
//!
//! A third figure goes through `strongroom-store` itself: `put_version` from one task and
//! from N concurrent tasks, the store's own durable-write rate with its group commit and its
//! real schema, which is what a secret SET ends in.

use crate::stats::{self, Latencies};
use anyhow::Context;
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};
use strongroom_store::{NewVault, NewVersion, SqliteStore, Store, VersionAttributes};

/// Hard bound on transactions per measurement, whatever the duration.
const MAX_TRANSACTIONS: u64 = 1_000_000;
/// A payload about the size of a sealed small secret plus its row.
const PAYLOAD_LEN: usize = 128;
/// A sealed 45-byte secret value: version byte, nonce, ciphertext, tag.
const SEALED_LEN: usize = 1 + 12 + 45 + 16;

#[derive(Debug, Clone)]
pub(crate) struct CommitResult {
    /// Rows per transaction.
    pub(crate) batch: usize,
    pub(crate) transactions: u64,
    pub(crate) elapsed: Duration,
    /// Per-transaction latency (BEGIN to COMMIT returned).
    pub(crate) latencies: Latencies,
}

impl CommitResult {
    pub(crate) fn transactions_per_second(&self) -> f64 {
        self.transactions as f64 / self.elapsed.as_secs_f64()
    }

    pub(crate) fn rows_per_second(&self) -> f64 {
        self.transactions_per_second() * self.batch as f64
    }
}

/// Opens a fresh database at `path` like the store's writer connection.
fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "WAL refused: {mode}");
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS bench_rows (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             payload BLOB NOT NULL
         );",
    )?;
    Ok(conn)
}

/// Grows the WAL past the auto-checkpoint threshold (1000 pages) in one transaction, so the
/// checkpoint runs and later commits overwrite WAL frames in place, as in a server that has
/// been running a while. (Commits that extend the file also sync its size, which is slower and
/// would understate the steady state.)
fn grow_wal(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
         INSERT INTO bench_rows (name, payload) SELECT 'wal-filler-' || i, zeroblob(4000) FROM n;
         DELETE FROM bench_rows;
         COMMIT;",
    )?;
    Ok(())
}

/// After a warm-up, commits transactions of `batch` single-row INSERTs one after another for
/// `duration`.
pub(crate) fn measure(
    path: &Path,
    batch: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<CommitResult> {
    let mut conn = open(path)?;
    grow_wal(&conn)?;
    let payload = vec![0x5au8; PAYLOAD_LEN];
    let mut samples = Vec::new();
    let mut transactions = 0u64;
    let mut total = 0u64;
    let mut row = 0u64;
    let window_start = Instant::now() + warmup;
    let end = window_start + duration;
    while total < MAX_TRANSACTIONS && Instant::now() < end {
        let begun = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO bench_rows (name, payload) VALUES (?1, ?2)")?;
            for _ in 0..batch {
                insert.execute(rusqlite::params![format!("bench-row-{row}"), payload])?;
                row += 1;
            }
        }
        tx.commit()?;
        total += 1;
        if begun >= window_start {
            samples.push(stats::micros_u32(begun.elapsed()));
            transactions += 1;
        }
    }
    Ok(CommitResult {
        batch,
        transactions,
        elapsed: Instant::now().saturating_duration_since(window_start),
        latencies: Latencies::from_samples(samples),
    })
}

/// What `measure_store` measured: durable `put_version` calls through the store itself.
#[derive(Debug, Clone)]
pub(crate) struct StoreResult {
    /// Concurrent writers (tasks each awaiting its own put before the next).
    pub(crate) writers: usize,
    pub(crate) puts: u64,
    pub(crate) window: Duration,
    /// Per-put latency (call to durable acknowledgement).
    pub(crate) latencies: Latencies,
    /// Group transactions the writer committed in the window (one fsync each).
    pub(crate) commits: u64,
}

impl StoreResult {
    pub(crate) fn puts_per_second(&self) -> f64 {
        self.puts as f64 / self.window.as_secs_f64()
    }

    pub(crate) fn commits_per_second(&self) -> f64 {
        self.commits as f64 / self.window.as_secs_f64()
    }
}

/// `writers` tasks each adding new secret versions through `SqliteStore::put_version`, the
/// call a secret SET ends in, with a sealed-sized payload: the store's own durable-write rate
/// with its group commit, without HTTP, authentication or sealing. Runs on a multi-thread
/// runtime like the server's.
pub(crate) fn measure_store(
    path: &Path,
    writers: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<StoreResult> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the store runtime")?;
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(path)?);
        let vault = store
            .create_vault(NewVault {
                name: VaultName::parse("bench")?,
                tenant_id: "bench".to_owned(),
                retention_days: 90,
                created: UnixTime(0),
                sku: "standard".to_owned(),
                sealed_data_key: Sealed::from(vec![0; 61]),
                access_policies: Vec::new(),
                rbac_authorization: false,
                resource_group: None,
            })
            .await?;
        let window_start = Instant::now() + warmup;
        let end = window_start + duration;
        let probe_store = Arc::clone(&store);
        let commit_probe = tokio::spawn(async move {
            tokio::time::sleep_until(window_start.into()).await;
            let before = probe_store.transactions_committed();
            tokio::time::sleep_until(end.into()).await;
            probe_store.transactions_committed().saturating_sub(before)
        });
        let mut tasks = tokio::task::JoinSet::new();
        for writer in 0..writers {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                let mut samples = Vec::new();
                let mut seq = 0u64;
                while seq < MAX_TRANSACTIONS && Instant::now() < end {
                    let row = NewVersion {
                        name: ObjectName::parse(&format!("store-{writer}-{seq}"))?,
                        version: Version::new_random(),
                        attributes: VersionAttributes {
                            enabled: true,
                            not_before: None,
                            expires: None,
                            created: UnixTime(0),
                            updated: UnixTime(0),
                        },
                        tags: BTreeMap::new(),
                        meta: Vec::new(),
                        payload: Sealed::from(vec![0xa5; SEALED_LEN]),
                    };
                    seq += 1;
                    let begun = Instant::now();
                    store.put_version(vault.id, ObjectKind::Secret, row).await?;
                    let done = Instant::now();
                    if begun >= window_start && done < end {
                        samples.push(stats::micros_u32(done - begun));
                    }
                }
                anyhow::Ok(samples)
            });
        }
        let mut samples = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            samples.extend(joined.context("a store writer task failed")??);
        }
        let commits = commit_probe.await.context("the commit probe failed")?;
        Ok(StoreResult {
            writers,
            puts: samples.len() as u64,
            window: duration,
            latencies: Latencies::from_samples(samples),
            commits,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_and_counts_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commit.db");
        let result = measure(
            &path,
            4,
            Duration::from_millis(10),
            Duration::from_millis(50),
        )
        .unwrap();
        assert!(result.transactions > 0);
        assert_eq!(result.latencies.count() as u64, result.transactions);
        let conn = Connection::open(&path).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM bench_rows", [], |r| r.get(0))
            .unwrap();
        let rows = u64::try_from(rows).unwrap();
        // Warm-up transactions are committed too, just not counted.
        assert!(rows >= result.transactions * 4);
        assert_eq!(rows % 4, 0);
    }

    #[test]
    fn store_puts_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let result = measure_store(
            &dir.path().join("store.db"),
            4,
            Duration::from_millis(10),
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(result.writers, 4);
        assert!(result.puts > 0);
        assert_eq!(result.latencies.count() as u64, result.puts);
        assert!(result.commits > 0 && result.commits <= result.puts + 4);
    }
}
