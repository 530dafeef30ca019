//! The PostgreSQL server under `strongroom-bench store`, and what is read from it.
//!
//! - Which server: by default a private cluster started for the run
//!   (`strongroom_store::test_postgres::Cluster`: binaries from `STRONGROOM_TEST_POSTGRES_BIN`,
//!   `PATH` or `/usr/lib/postgresql/*/bin`, 127.0.0.1 only, fsync on, as `nobody` when we are
//!   root) with `pg_stat_statements` preloaded, so statements can be counted; or the server at
//!   `--postgres URL`, whose user may `CREATE DATABASE`, with statement counts only if that
//!   server preloads `pg_stat_statements` itself.
//! - Each deployment gets a fresh database (dropped at the end).
//! - CPU: the postmaster and its children, from `/proc` (`stats::process_tree_cpu`), found as
//!   the parent of our own connection's backend; so only for a server on this machine.
//! - Statements: `pg_stat_statements` rows of one database, snapshotted before and after a
//!   phase; the difference is what that phase ran (calls and execution time per statement).

use crate::disk::{self, Filesystem};
use crate::load::CpuSampler;
use crate::stats;
use anyhow::{Context, anyhow};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use strongroom_store::test_postgres::{Cluster, with_database};
use tokio_postgres::{Client, NoTls};

/// What the report says about the server.
#[derive(Debug, Clone)]
pub(crate) struct PgInfo {
    /// Where the server came from, in words.
    pub(crate) origin: String,
    pub(crate) version: String,
    /// `(name, value)` of the settings that decide a commit's and a read's cost.
    pub(crate) settings: Vec<(String, String)>,
    /// `Ok` if statements can be counted, else why not.
    pub(crate) statements: Result<(), String>,
    /// `Ok(postmaster pid)` if the server's CPU can be read here, else why not.
    pub(crate) cpu: Result<u32, String>,
    /// The filesystem of its data directory, if it could be read.
    pub(crate) filesystem: Option<Filesystem>,
}

/// A connected server: the stats connection, and the private cluster if we started it
/// (stopped and deleted when this is dropped).
pub(crate) struct PgServer {
    url: String,
    client: Client,
    pub(crate) info: PgInfo,
    _cluster: Option<Cluster>,
}

/// Starts the private cluster (blocking: initdb, start, restart with the library loaded).
pub(crate) fn start_private_cluster() -> anyhow::Result<Cluster> {
    let cluster = Cluster::start().map_err(|err| {
        anyhow!("{err}; install PostgreSQL (scripts/with-postgres.sh does) or pass --postgres URL")
    })?;
    cluster
        .configure(
            "shared_preload_libraries = 'pg_stat_statements'\n\
             pg_stat_statements.track = top\n\
             pg_stat_statements.max = 1000",
        )
        .map_err(|err| anyhow!("configuring the private cluster: {err}"))?;
    cluster
        .stop()
        .map_err(|err| anyhow!("stopping the private cluster: {err}"))?;
    cluster
        .restart()
        .map_err(|err| anyhow!("restarting the private cluster: {err}"))?;
    Ok(cluster)
}

async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .context("connecting to PostgreSQL (the URL is not repeated)")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl PgServer {
    /// Connects to `url`, or to `cluster` (which it then keeps), and reads what the report
    /// needs about the server.
    pub(crate) async fn open(url: Option<&str>, cluster: Option<Cluster>) -> anyhow::Result<Self> {
        let (url, origin) = match (url, &cluster) {
            (Some(url), _) => {
                anyhow::ensure!(
                    url.starts_with("postgres://") || url.starts_with("postgresql://"),
                    "--postgres must be a postgres:// URL"
                );
                (
                    url.to_owned(),
                    "the server given with `--postgres`".to_owned(),
                )
            }
            (None, Some(cluster)) => (
                cluster.url(),
                "a private cluster started for this run (initdb defaults, 127.0.0.1, \
                 `max_connections=400`, fsync on, `pg_stat_statements` preloaded)"
                    .to_owned(),
            ),
            (None, None) => anyhow::bail!("no PostgreSQL server"),
        };
        let client = connect(&url).await?;
        let version: String = client
            .query_one("SELECT current_setting('server_version')", &[])
            .await?
            .get(0);
        let mut settings = Vec::new();
        for name in [
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "shared_buffers",
            "max_connections",
        ] {
            if let Ok(row) = client
                .query_one("SELECT current_setting($1)", &[&name])
                .await
            {
                settings.push((name.to_owned(), row.get::<_, String>(0)));
            }
        }
        let statements = enable_statements(&client, cluster.is_some()).await;
        let cpu = postmaster(&client).await;
        let filesystem = match client
            .query_one("SELECT current_setting('data_directory')", &[])
            .await
        {
            Ok(row) => disk::filesystem_of(std::path::Path::new(&row.get::<_, String>(0))).ok(),
            Err(_) => None,
        };
        Ok(Self {
            url,
            client,
            info: PgInfo {
                origin,
                version,
                settings,
                statements,
                cpu,
                filesystem,
            },
            _cluster: cluster,
        })
    }

    /// A new empty database; its URL.
    pub(crate) async fn create_database(&self, name: &str) -> anyhow::Result<String> {
        self.client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .with_context(|| format!("dropping an old database {name}"))?;
        self.client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .with_context(|| format!("creating database {name}"))?;
        Ok(with_database(&self.url, name))
    }

    /// A `CHECKPOINT`, then a second's rest: what the setup wrote is flushed before anything
    /// is measured. No `ANALYZE`: statistics taken now, with a row or two per table, would
    /// make the planner's generic plans sequential scans until autovacuum analyses again
    /// (measured: `FIND_NAME` at 0.5 ms a call after a few thousand SETs); left alone,
    /// never-analysed tables get index scans, and autovacuum's own analyses come once the
    /// tables have grown. A failure (someone else's server may refuse) is only reported.
    pub(crate) async fn settle(&self) {
        if let Err(err) = self.client.batch_execute("CHECKPOINT").await {
            eprintln!("CHECKPOINT: {err}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    /// Drops a database made by `create_database` (its nodes must be stopped).
    pub(crate) async fn drop_database(&self, name: &str) {
        if let Err(err) = self
            .client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
        {
            eprintln!("could not drop benchmark database {name}: {err}");
        }
    }

    /// The CPU sampler of the whole server (postmaster and children), if it runs here.
    pub(crate) fn cpu_sampler(&self) -> Option<CpuSampler> {
        let postmaster = *self.info.cpu.as_ref().ok()?;
        Some(Arc::new(move || stats::process_tree_cpu(postmaster)))
    }

    /// The statement counters of `database` now, or `None` if they cannot be read.
    pub(crate) async fn snapshot(&self, database: &str) -> Option<Snapshot> {
        self.info.statements.as_ref().ok()?;
        let rows = self
            .client
            .query(
                "SELECT s.queryid, min(s.query), sum(s.calls)::bigint, sum(s.total_exec_time) \
                 FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
                 WHERE d.datname = $1 AND s.queryid IS NOT NULL GROUP BY s.queryid",
                &[&database],
            )
            .await
            .map_err(|err| eprintln!("reading pg_stat_statements: {err}"))
            .ok()?;
        let mut counters = BTreeMap::new();
        for row in rows {
            let id: i64 = row.get(0);
            counters.insert(
                id,
                Counter {
                    query: row.get(1),
                    calls: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    exec: Duration::from_secs_f64(row.get::<_, f64>(3).max(0.0) / 1000.0),
                },
            );
        }
        Some(Snapshot(counters))
    }
}

/// `pg_stat_statements` usable: `CREATE EXTENSION` where the library is loaded (always in
/// our own cluster; on another server only if its `shared_preload_libraries` has it).
async fn enable_statements(client: &Client, own_cluster: bool) -> Result<(), String> {
    let loaded = client
        .query_one("SELECT current_setting('shared_preload_libraries')", &[])
        .await
        .map(|row| row.get::<_, String>(0).contains("pg_stat_statements"))
        .map_err(|err| format!("reading shared_preload_libraries: {err}"))?;
    if !loaded {
        return Err(
            "the server does not preload pg_stat_statements (the private cluster, used \
             without --postgres, does)"
                .to_owned(),
        );
    }
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .map_err(|err| format!("CREATE EXTENSION pg_stat_statements: {err}"))?;
    if own_cluster {
        client
            .batch_execute("SELECT pg_stat_statements_reset()")
            .await
            .map_err(|err| format!("pg_stat_statements_reset: {err}"))?;
    }
    Ok(())
}

/// The postmaster's pid: the parent of our connection's backend, if both are PostgreSQL
/// processes on this machine.
async fn postmaster(client: &Client) -> Result<u32, String> {
    let backend: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|err| format!("pg_backend_pid(): {err}"))?
        .get(0);
    let backend = u32::try_from(backend).map_err(|_| "a negative backend pid".to_owned())?;
    let is_postgres = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "postgres")
    };
    let not_here = || {
        "the server's processes are not visible on this machine, so its CPU is not measured"
            .to_owned()
    };
    if !is_postgres(backend) {
        return Err(not_here());
    }
    let parent = stats::parent_pid(backend).ok_or_else(not_here)?;
    if !is_postgres(parent) {
        return Err(not_here());
    }
    Ok(parent)
}

/// One statement's counters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counter {
    /// The normalised text (`$1` for constants).
    pub(crate) query: String,
    pub(crate) calls: u64,
    /// Execution time inside the server (planning, parsing and the protocol not included).
    pub(crate) exec: Duration,
}

/// Every statement's counters in one database, by `queryid`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot(BTreeMap<i64, Counter>);

impl Snapshot {
    /// What ran between `before` and this snapshot.
    pub(crate) fn since(&self, before: &Snapshot) -> Tally {
        let mut tally = Tally::default();
        for (id, now) in &self.0 {
            let (calls, exec) = match before.0.get(id) {
                Some(then) => (
                    now.calls.saturating_sub(then.calls),
                    now.exec.saturating_sub(then.exec),
                ),
                None => (now.calls, now.exec),
            };
            if calls > 0 {
                tally.count(&Counter {
                    query: now.query.clone(),
                    calls,
                    exec,
                });
            }
        }
        tally
    }
}

/// Statements run over one or more phases, by their normalised text (a `queryid` differs
/// between databases, whose tables have different oids; the text does not).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally(BTreeMap<String, Counter>);

impl Tally {
    fn count(&mut self, counter: &Counter) {
        let entry = self
            .0
            .entry(counter.query.clone())
            .or_insert_with(|| Counter {
                query: counter.query.clone(),
                calls: 0,
                exec: Duration::ZERO,
            });
        entry.calls += counter.calls;
        entry.exec += counter.exec;
    }

    pub(crate) fn add(&mut self, other: &Tally) {
        for counter in other.0.values() {
            self.count(counter);
        }
    }

    /// Every statement, most calls first.
    pub(crate) fn statements(&self) -> Vec<Counter> {
        let mut all: Vec<Counter> = self.0.values().cloned().collect();
        all.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.query.cmp(&b.query)));
        all
    }

    /// The calls of one statement.
    pub(crate) fn calls_of(&self, query: &str) -> u64 {
        self.0.get(query).map_or(0, |c| c.calls)
    }

    pub(crate) fn total_calls(&self) -> u64 {
        self.0.values().map(|c| c.calls).sum()
    }

    /// The statement with the most calls.
    pub(crate) fn top(&self) -> Option<Counter> {
        self.statements().into_iter().next()
    }
}

/// Snapshots for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{BTreeMap, Counter, Duration, Snapshot};

    /// A snapshot of `(query, calls)`, one microsecond of execution per call.
    pub(crate) fn snapshot(statements: &[(&str, u64)]) -> Snapshot {
        let mut counters = BTreeMap::new();
        for (id, (query, calls)) in (0i64..).zip(statements) {
            counters.insert(
                id,
                Counter {
                    query: (*query).to_owned(),
                    calls: *calls,
                    exec: Duration::from_micros(*calls),
                },
            );
        }
        Snapshot(counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(query: &str, calls: u64, exec_ms: u64) -> Counter {
        Counter {
            query: query.to_owned(),
            calls,
            exec: Duration::from_millis(exec_ms),
        }
    }

    #[test]
    fn snapshots_subtract_and_tallies_add() {
        let before = Snapshot(BTreeMap::from([
            (1, counter("SELECT generation FROM cache_generation", 10, 1)),
            (2, counter("SELECT 1", 5, 1)),
        ]));
        let after = Snapshot(BTreeMap::from([
            (
                1,
                counter("SELECT generation FROM cache_generation", 110, 6),
            ),
            (2, counter("SELECT 1", 5, 1)),
            (3, counter("SELECT $1", 50, 2)),
        ]));
        let mut tally = after.since(&before);
        assert_eq!(tally.total_calls(), 150);
        assert_eq!(
            tally.statements(),
            vec![
                counter("SELECT generation FROM cache_generation", 100, 5),
                counter("SELECT $1", 50, 2),
            ]
        );
        tally.add(&after.since(&before));
        assert_eq!(tally.total_calls(), 300);
        assert_eq!(tally.top().map(|c| c.calls), Some(200));
        // The same text under another queryid (another database's tables) is one statement.
        let other_database = Snapshot(BTreeMap::from([(
            9,
            counter("SELECT generation FROM cache_generation", 7, 1),
        )]));
        tally.add(&other_database.since(&Snapshot::default()));
        assert_eq!(
            tally.calls_of("SELECT generation FROM cache_generation"),
            207
        );
        assert_eq!(tally.statements().len(), 2);
    }
}
