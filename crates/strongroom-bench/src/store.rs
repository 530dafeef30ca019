//! `strongroom-bench store`: secret GET and SET on SQLite and on PostgreSQL (one node, and
//! two nodes of one deployment), with and without the audit log, next to the bare TLS
//! endpoint, in one run.
//!
//! 1. A PostgreSQL server (`postgres.rs`: a private cluster with `pg_stat_statements`, or
//!    `--postgres URL`) and one fresh database per PostgreSQL deployment.
//! 2. Five targets, all started before any load (idle ones cost nothing):
//!    - SQLite, one node (`strongroom serve`, the embedded store);
//!    - SQLite with `--audit-log FILE` (one hash-chained JSON line per request);
//!    - PostgreSQL, one node (`--store URL`);
//!    - PostgreSQL, two nodes: the first started with `--store URL --public-port P` (P a
//!      port no one listens on: the load balancer's, and the port in the token audience), the
//!      second on a copy of the first's data directory (less `serve.lock`, `strongroom.db*`,
//!      `server.json`; mode 0700) with the same flags, as `tests/it/multinode.rs` runs them;
//!      the load generator opens its connections alternately to the two listeners;
//!    - the bare endpoint, answering the SQLite GET's bytes (the stack's ceiling).
//!
//!    Each deployment gets vault `bench` (CLI), a real token, and `bench-secret`.
//! 3. A `CHECKPOINT`, then GET rounds: in each, every
//!    target takes one phase in turn; then the store calls (4.); then SET rounds (a PUT of a
//!    new secret per request) over the four deployments. Every phase samples the CPU of each
//!    node and of the whole PostgreSQL server (postmaster and children) at the window's edges,
//!    and for a PostgreSQL deployment reads `pg_stat_statements` of its database before and
//!    after, so statements per request are counted, not guessed.
//! 4. The consistency check's own price: the store calls it makes, timed in this process
//!    through `PostgresStore` itself (`cache_generation`, and the GET's `get_version` for
//!    comparison), one caller and as many callers as the pool has connections, with this
//!    process's CPU, the server's CPU, and the statement's execution time per call.
//! 5. Stop everything, drop the databases, measure the audit log's lines.
//!
//! The report (`store_report.rs`) replaces its own section of BENCHMARKS.md.

use crate::bare;
use crate::disk::{self, Filesystem};
use crate::http::{
    StartedServer, admin_credential, cli, expect_ok, fetch_token, start_server_with,
};
use crate::load::{self, CpuSampler, MakeRequest, Phase, PhaseResult, Target};
use crate::postgres::{PgInfo, PgServer, Tally};
use crate::process::ChildServer;
use crate::stats::{self, Latencies};
use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Method};
use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strongroom_model::{ObjectKind, ObjectName, VaultName};
use strongroom_store::{PostgresStore, Store};

const VAULT: &str = "bench";
const SECRET: &str = "bench-secret";
const API_VERSION: &str = "2025-07-01";
/// The value `http` seeds too.
const SECRET_VALUE: &str = "bench-value-7f3a9c2e41d84b6f9a0e5c1d2b3f4a5e";
/// The longest phase accepted.
const MAX_PHASE: Duration = Duration::from_secs(600);
/// The store's default pool size (`pool_size` absent from the URL): the most statements one
/// node has in flight.
pub(crate) const POOL_SIZE: usize = 16;
/// Hard bound on calls per caller per store-call phase.
const MAX_CALLS: u64 = 50_000_000;

/// Flags of `strongroom-bench store`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The `strongroom` binary.
    #[arg(long, default_value = "target/release/strongroom")]
    pub(crate) server_bin: PathBuf,
    /// A PostgreSQL server whose user may CREATE DATABASE (`postgres://…`); without it a
    /// private cluster is started from the local binaries, with `pg_stat_statements`.
    #[arg(long, value_name = "URL")]
    pub(crate) postgres: Option<String>,
    /// Measured time of each load phase.
    #[arg(long, default_value = "5s", value_parser = crate::parse_duration)]
    pub(crate) duration: Duration,
    /// Warm-up before each phase, not measured.
    #[arg(long, default_value = "1s", value_parser = crate::parse_duration)]
    pub(crate) warmup: Duration,
    /// Keep-alive connections per phase (spread over the nodes of a deployment).
    #[arg(long, default_value_t = 64)]
    pub(crate) connections: usize,
    /// Tokio worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    pub(crate) client_threads: usize,
    /// Rounds of GET (and of SET) phases; in each, the targets take turns.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    /// Measured time of each store-call phase (the consistency check's price).
    #[arg(long, default_value = "3s", value_parser = crate::parse_duration)]
    pub(crate) call_duration: Duration,
    /// Where the data directories and the audit log go (a real disk).
    #[arg(long, default_value = "target/bench-work")]
    pub(crate) work_dir: PathBuf,
    /// Add (or replace) this run's section of this Markdown file (BENCHMARKS.md); the other
    /// sections are kept as they are.
    #[arg(long)]
    pub(crate) append_markdown: Option<PathBuf>,
}

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    Get,
    Set,
}

/// The targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setup {
    Bare,
    Sqlite,
    SqliteAudit,
    Postgres1,
    Postgres2,
}

impl Setup {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Setup::Bare => "bare TLS endpoint",
            Setup::Sqlite => "SQLite, 1 node",
            Setup::SqliteAudit => "SQLite, 1 node, `--audit-log`",
            Setup::Postgres1 => "PostgreSQL, 1 node",
            Setup::Postgres2 => "PostgreSQL, 2 nodes",
        }
    }

    pub(crate) fn is_postgres(self) -> bool {
        matches!(self, Setup::Postgres1 | Setup::Postgres2)
    }
}

/// One phase's figures.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) result: PhaseResult,
    /// CPU of each node in the window.
    pub(crate) node_cpu: Vec<Option<Duration>>,
    /// Requests each node completed in the window.
    pub(crate) node_requests: Vec<u64>,
    /// CPU of the PostgreSQL server in the window (also during SQLite phases: it idles).
    pub(crate) db_cpu: Option<Duration>,
}

impl Run {
    /// Every node's CPU over every request.
    pub(crate) fn node_cpu_per_request(&self) -> Option<Duration> {
        let total = self
            .node_cpu
            .iter()
            .try_fold(Duration::ZERO, |sum, cpu| Some(sum + (*cpu)?))?;
        load::per_request(Some(total), self.result.requests)
    }

    /// Each node's CPU over the requests it served.
    pub(crate) fn per_node(&self) -> Vec<Option<Duration>> {
        self.node_cpu
            .iter()
            .zip(&self.node_requests)
            .map(|(cpu, requests)| load::per_request(*cpu, *requests))
            .collect()
    }

    pub(crate) fn db_cpu_per_request(&self) -> Option<Duration> {
        load::per_request(self.db_cpu, self.result.requests)
    }
}

/// The rounds of one target and workload.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) setup: Setup,
    pub(crate) workload: Workload,
    pub(crate) rounds: Vec<Run>,
    /// Statements its database ran over every phase (PostgreSQL with pg_stat_statements).
    pub(crate) statements: Option<Tally>,
    /// Requests completed over those phases, warm-up and all (the divisor for statements).
    pub(crate) completed: u64,
}

impl Series {
    /// The round with the median node CPU per request (rounds without one sort last).
    pub(crate) fn median(&self) -> Option<&Run> {
        let mut sorted: Vec<&Run> = self.rounds.iter().collect();
        sorted.sort_by(|a, b| {
            let cpu = |r: &Run| {
                r.node_cpu_per_request()
                    .map_or(f64::INFINITY, |d| d.as_secs_f64())
            };
            cpu(a).total_cmp(&cpu(b))
        });
        sorted.get(sorted.len() / 2).copied()
    }
}

/// A store call timed in this process.
#[derive(Debug, Clone)]
pub(crate) struct CallResult {
    /// What was called (`PostgresStore::cache_generation()`, …).
    pub(crate) call: &'static str,
    pub(crate) callers: usize,
    /// Calls completed in the window.
    pub(crate) calls: u64,
    pub(crate) window: Duration,
    pub(crate) latencies: Latencies,
    /// This process's CPU in the window (the caller's side: pool, encoding, decoding, tasks).
    pub(crate) caller_cpu: Option<Duration>,
    pub(crate) db_cpu: Option<Duration>,
    /// The statement it ran and its execution time per call, from pg_stat_statements.
    pub(crate) statement: Option<(String, Duration)>,
}

impl CallResult {
    pub(crate) fn per_second(&self) -> f64 {
        self.calls as f64 / self.window.as_secs_f64()
    }

    pub(crate) fn caller_cpu_per_call(&self) -> Option<Duration> {
        load::per_request(self.caller_cpu, self.calls)
    }

    pub(crate) fn db_cpu_per_call(&self) -> Option<Duration> {
        load::per_request(self.db_cpu, self.calls)
    }
}

/// The audit log after the run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditFacts {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    /// Files (live and rotated).
    pub(crate) files: usize,
}

/// Everything `store` measured.
#[derive(Debug, Clone)]
pub(crate) struct StoreResults {
    pub(crate) connections: usize,
    pub(crate) client_threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) call_duration: Duration,
    pub(crate) work_filesystem: Filesystem,
    pub(crate) pg: PgInfo,
    pub(crate) bearer_len: usize,
    pub(crate) series: Vec<Series>,
    pub(crate) calls: Vec<CallResult>,
    pub(crate) audit: Option<AuditFacts>,
}

impl StoreResults {
    pub(crate) fn series(&self, setup: Setup, workload: Workload) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.setup == setup && s.workload == workload)
    }
}

/// A deployment under load.
struct Deployment {
    setup: Setup,
    nodes: Vec<ChildServer>,
    targets: Vec<Arc<Target>>,
    /// Its PostgreSQL database.
    database: Option<String>,
    bearer: HeaderValue,
}

impl Deployment {
    fn cpu_groups(&self, db: Option<&CpuSampler>) -> Vec<CpuSampler> {
        let mut groups: Vec<CpuSampler> = self
            .nodes
            .iter()
            .map(|node| load::process_sampler(node.pid()))
            .collect();
        groups.push(db.cloned().unwrap_or_else(|| Arc::new(|| None)));
        groups
    }
}

pub(crate) fn run(args: &StoreArgs) -> anyhow::Result<StoreResults> {
    anyhow::ensure!(
        (2..=1024).contains(&args.connections),
        "--connections must be 2 to 1024"
    );
    anyhow::ensure!(
        (1..=64).contains(&args.client_threads),
        "--client-threads must be 1 to 64"
    );
    anyhow::ensure!((1..=20).contains(&args.rounds), "--rounds must be 1 to 20");
    for duration in [args.duration, args.call_duration] {
        anyhow::ensure!(
            duration > Duration::ZERO && duration <= MAX_PHASE && args.warmup <= MAX_PHASE,
            "durations must be above zero and, like --warmup, at most {MAX_PHASE:?}"
        );
    }
    let server_bin = std::fs::canonicalize(&args.server_bin).with_context(|| {
        format!(
            "{} not found: build it with `cargo build --release -p strongroom`",
            args.server_bin.display()
        )
    })?;
    std::fs::create_dir_all(&args.work_dir)?;
    let work_filesystem = disk::require_disk(&args.work_dir)?;
    let work = tempfile::Builder::new()
        .prefix("strongroom-store-")
        .tempdir_in(&args.work_dir)
        .context("creating the work directory")?;
    let work = work.path();

    let cluster = match &args.postgres {
        Some(_) => None,
        None => {
            eprintln!("starting a private PostgreSQL cluster with pg_stat_statements");
            Some(crate::postgres::start_private_cluster()?)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("starting the client runtime")?;
    let pg = runtime.block_on(PgServer::open(args.postgres.as_deref(), cluster))?;
    eprintln!(
        "PostgreSQL {} ({}); statements: {}; CPU: {}",
        pg.info.version,
        pg.info.origin,
        pg.info
            .statements
            .as_ref()
            .map_or_else(Clone::clone, |()| "pg_stat_statements".to_owned()),
        pg.info
            .cpu
            .as_ref()
            .map_or_else(Clone::clone, |pid| format!("postmaster {pid}")),
    );
    let databases = [
        format!("strongroom_bench_{}_one", std::process::id()),
        format!("strongroom_bench_{}_two", std::process::id()),
    ];
    let outcome = measure(args, &server_bin, work, &runtime, &pg, &databases);
    runtime.block_on(async {
        for name in &databases {
            pg.drop_database(name).await;
        }
    });
    let (bearer_len, series, calls) = outcome?;
    let audit = audit_facts(&work.join("sqlite-audit").join("audit.log"));
    Ok(StoreResults {
        connections: args.connections,
        client_threads: args.client_threads,
        warmup: args.warmup,
        duration: args.duration,
        call_duration: args.call_duration,
        work_filesystem,
        pg: pg.info.clone(),
        bearer_len,
        series,
        calls,
        audit,
    })
}

type Measured = (usize, Vec<Series>, Vec<CallResult>);

/// Starts the deployments, runs the phases and the store calls; every node is stopped when
/// this returns (before the databases are dropped).
fn measure(
    args: &StoreArgs,
    server_bin: &Path,
    work: &Path,
    runtime: &tokio::runtime::Runtime,
    pg: &PgServer,
    databases: &[String; 2],
) -> anyhow::Result<Measured> {
    let db_one = runtime.block_on(pg.create_database(&databases[0]))?;
    let db_two = runtime.block_on(pg.create_database(&databases[1]))?;
    let audit_log = work.join("sqlite-audit").join("audit.log");
    std::fs::create_dir_all(work.join("sqlite-audit"))?;

    let mut deployments = Vec::new();
    for (setup, flags, database) in [
        (Setup::Sqlite, Vec::new(), None),
        (
            Setup::SqliteAudit,
            vec![OsString::from("--audit-log"), audit_log.clone().into()],
            None,
        ),
        (
            Setup::Postgres1,
            vec![OsString::from("--store"), OsString::from(&db_one)],
            Some(databases[0].clone()),
        ),
        (
            Setup::Postgres2,
            vec![
                OsString::from("--store"),
                OsString::from(&db_two),
                OsString::from("--public-port"),
                OsString::from(unused_port()?.to_string()),
            ],
            Some(databases[1].clone()),
        ),
    ] {
        let deployment =
            runtime.block_on(start_deployment(setup, server_bin, work, &flags, database))?;
        deployments.push(deployment);
    }

    // The bare endpoint answers what the SQLite GET answers.
    let (get_headers, get_body) = runtime.block_on(async {
        let sqlite = &deployments[0];
        let get = load::request(
            Method::GET,
            &secret_path(SECRET),
            sqlite.targets[0].host_header(),
            Some(&sqlite.bearer),
            None,
        );
        let (status, headers, body) = sqlite.targets[0].request_once_with_headers(get).await?;
        expect_ok("reading the secret", (status, body.clone()))?;
        anyhow::Ok((headers, body))
    })?;
    let bare::BareEndpoint {
        server: bare_server,
        target: bare_target,
    } = bare::spawn(work, "bare", &get_body, &get_headers, None)?;
    let bare_deployment = Deployment {
        setup: Setup::Bare,
        nodes: vec![bare_server],
        targets: vec![bare_target],
        database: None,
        bearer: deployments[0].bearer.clone(),
    };
    let bearer_len = deployments[0].bearer.len();

    let db_cpu = pg.cpu_sampler();
    let phase = Phase {
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
    };
    let mut series: Vec<Series> = Vec::new();
    let get_order: Vec<&Deployment> = std::iter::once(&bare_deployment)
        .chain(&deployments)
        .collect();
    // A quiet database to start from: nothing left to write back.
    runtime.block_on(pg.settle());
    runtime.block_on(rounds(
        args,
        pg,
        &get_order,
        Workload::Get,
        phase,
        db_cpu.as_ref(),
        &mut series,
    ))?;
    drop(bare_deployment);
    // The store calls on the one-node deployment's database, its node idle; before the SETs,
    // whose aftermath (autovacuum, checkpoints) would land in them.
    let calls = store_calls(args, runtime, pg, &db_one, &databases[0])?;
    runtime.block_on(rounds(
        args,
        pg,
        &deployments.iter().collect::<Vec<_>>(),
        Workload::Set,
        phase,
        db_cpu.as_ref(),
        &mut series,
    ))?;
    drop(deployments);
    Ok((bearer_len, series, calls))
}

/// `args.rounds` rounds of `workload`, the deployments taking turns in each; appends to
/// `series`.
async fn rounds(
    args: &StoreArgs,
    pg: &PgServer,
    order: &[&Deployment],
    workload: Workload,
    phase: Phase,
    db_cpu: Option<&CpuSampler>,
    series: &mut Vec<Series>,
) -> anyhow::Result<()> {
    for round in 1..=args.rounds {
        for deployment in order {
            let (run, tally, completed) =
                run_phase(pg, deployment, workload, round, phase, db_cpu).await?;
            progress(deployment.setup, workload, round, &run);
            let index = match series
                .iter()
                .position(|s| s.setup == deployment.setup && s.workload == workload)
            {
                Some(index) => index,
                None => {
                    series.push(Series {
                        setup: deployment.setup,
                        workload,
                        rounds: Vec::new(),
                        statements: None,
                        completed: 0,
                    });
                    series.len() - 1
                }
            };
            let entry = &mut series[index];
            entry.rounds.push(run);
            entry.completed += completed;
            if let Some(tally) = tally {
                entry
                    .statements
                    .get_or_insert_with(Tally::default)
                    .add(&tally);
            }
        }
    }
    Ok(())
}

/// A port nothing listens on now (the deployment's public port, a load balancer's).
fn unused_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn secret_path(name: &str) -> String {
    format!("/secrets/{name}?api-version={API_VERSION}")
}

/// Starts a deployment's node(s), creates the vault, gets a token, seeds the secret, and
/// reads it back through every node.
async fn start_deployment(
    setup: Setup,
    server_bin: &Path,
    work: &Path,
    flags: &[OsString],
    database: Option<String>,
) -> anyhow::Result<Deployment> {
    let dir = work.join(match setup {
        Setup::Bare => "bare",
        Setup::Sqlite => "sqlite",
        Setup::SqliteAudit => "sqlite-audit",
        Setup::Postgres1 => "postgres-1",
        Setup::Postgres2 => "postgres-2a",
    });
    std::fs::create_dir_all(&dir)?;
    let StartedServer {
        server,
        data_dir,
        port,
        tenant,
    } = start_server_with(server_bin, &dir, flags)?;
    let mut nodes = vec![server];
    let mut ports = vec![port];
    if setup == Setup::Postgres2 {
        let second = work.join("postgres-2b");
        copy_deployment(&data_dir, &second.join("data"))?;
        let started = start_server_with(server_bin, &second, flags)?;
        anyhow::ensure!(
            started.tenant == tenant,
            "the second node serves another tenant"
        );
        nodes.push(started.server);
        ports.push(started.port);
    }
    cli(
        server_bin,
        &data_dir,
        &["keyvault", "create", "--name", VAULT],
    )?;
    let (client_id, client_secret) = admin_credential(&data_dir)?;
    let ca_pem = data_dir.join("ca.pem");
    // The audience names the public port where there is one.
    let public_port = flags
        .iter()
        .position(|f| f == "--public-port")
        .and_then(|i| flags.get(i + 1))
        .and_then(|p| p.to_str()?.parse::<u16>().ok())
        .unwrap_or(port);
    let identity = Target::new(port, "localhost", &ca_pem)?;
    let token = fetch_token(
        &identity,
        &tenant,
        public_port,
        &client_id,
        &client_secret,
        None,
    )
    .await?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))?;
    let targets = ports
        .iter()
        .map(|p| Target::new(*p, &format!("{VAULT}.vault.localhost"), &ca_pem).map(Arc::new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let seed = load::request(
        Method::PUT,
        &secret_path(SECRET),
        targets[0].host_header(),
        Some(&bearer),
        Some(Bytes::from(
            serde_json::json!({ "value": SECRET_VALUE }).to_string(),
        )),
    );
    expect_ok("seeding the secret", targets[0].request_once(seed).await?)?;
    for target in &targets {
        let get = load::request(
            Method::GET,
            &secret_path(SECRET),
            target.host_header(),
            Some(&bearer),
            None,
        );
        let body = expect_ok("reading the secret", target.request_once(get).await?)?;
        anyhow::ensure!(
            String::from_utf8_lossy(&body).contains(SECRET_VALUE),
            "{}: GET did not return the seeded value",
            setup.label()
        );
    }
    eprintln!("{}: ready on port(s) {ports:?}", setup.label());
    Ok(Deployment {
        setup,
        nodes,
        targets,
        database,
        bearer,
    })
}

/// Copies a node's data directory for another node of the deployment: everything but its
/// lock, its SQLite database and its `server.json`; the copy is 0700, as `serve` requires.
fn copy_deployment(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if text == "serve.lock" || text.starts_with("strongroom.db") || text == "server.json" {
                continue;
            }
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &to.join(&name))?;
            } else {
                std::fs::copy(entry.path(), to.join(&name))
                    .with_context(|| format!("copying {}", entry.path().display()))?;
            }
        }
        Ok(())
    }
    copy(from, to)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// One phase on one deployment; statements its database ran meanwhile, and the requests
/// completed over the whole phase.
async fn run_phase(
    pg: &PgServer,
    deployment: &Deployment,
    workload: Workload,
    round: usize,
    phase: Phase,
    db_cpu: Option<&CpuSampler>,
) -> anyhow::Result<(Run, Option<Tally>, u64)> {
    let host = deployment.targets[0].host_header().clone();
    let bearer = deployment.bearer.clone();
    let make: MakeRequest = match workload {
        Workload::Get => {
            let path = secret_path(SECRET);
            Arc::new(move |_, _| load::request(Method::GET, &path, &host, Some(&bearer), None))
        }
        Workload::Set => {
            let body = Bytes::from(serde_json::json!({ "value": SECRET_VALUE }).to_string());
            Arc::new(move |connection, seq| {
                load::request(
                    Method::PUT,
                    &secret_path(&format!("set-{round}-{connection}-{seq}")),
                    &host,
                    Some(&bearer),
                    Some(body.clone()),
                )
            })
        }
    };
    let before = match &deployment.database {
        Some(database) => pg.snapshot(database).await,
        None => None,
    };
    let spread = load::run_spread(
        &deployment.targets,
        phase,
        make,
        deployment.cpu_groups(db_cpu),
    )
    .await?;
    let tally = match (&deployment.database, before) {
        (Some(database), Some(before)) => pg
            .snapshot(database)
            .await
            .map(|after| after.since(&before)),
        _ => None,
    };
    let nodes = deployment.nodes.len();
    let run = Run {
        node_cpu: spread.group_cpu[..nodes].to_vec(),
        node_requests: spread.target_requests.clone(),
        db_cpu: spread.group_cpu.get(nodes).copied().flatten(),
        result: spread.result,
    };
    Ok((run, tally, spread.completed))
}

fn micros(duration: Option<Duration>) -> f64 {
    duration.map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

fn progress(setup: Setup, workload: Workload, round: usize, run: &Run) {
    let result = &run.result;
    eprintln!(
        "round {round}: {} {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, node CPU {:.1} µs/req, \
         database CPU {:.1} µs/req, other load {:.2} CPUs, {} errors{}",
        setup.label(),
        match workload {
            Workload::Get => "GET",
            Workload::Set => "SET",
        },
        result.per_second(),
        result.latencies.percentile(50.0).as_secs_f64() * 1000.0,
        result.latencies.percentile(99.0).as_secs_f64() * 1000.0,
        micros(run.node_cpu_per_request()),
        micros(run.db_cpu_per_request()),
        result.other_cpus().unwrap_or(f64::NAN),
        result.errors,
        result
            .first_error
            .as_deref()
            .map(|err| format!(" (first: {})", crate::process::tail(err, 300)))
            .unwrap_or_default()
    );
}

/// The store calls a GET makes on PostgreSQL, timed through `PostgresStore` in this process
/// on a runtime like the server's (multi-thread, default workers).
fn store_calls(
    args: &StoreArgs,
    client_runtime: &tokio::runtime::Runtime,
    pg: &PgServer,
    url: &str,
    database: &str,
) -> anyhow::Result<Vec<CallResult>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the store runtime")?;
    let store = Arc::new(runtime.block_on(PostgresStore::connect(url))?);
    let vault = runtime
        .block_on(store.get_vault(&VaultName::parse(VAULT)?))?
        .context("the bench vault is not in the database")?
        .id;
    let name = ObjectName::parse(SECRET)?;
    let mut results = Vec::new();
    for call in ["cache_generation", "get_version"] {
        for callers in [1, POOL_SIZE] {
            // Statement counters are read on the client runtime, where their connection runs.
            let before = client_runtime.block_on(pg.snapshot(database));
            let store = Arc::clone(&store);
            let name = name.clone();
            let db_cpu = pg.cpu_sampler();
            let (calls, latencies, caller_cpu, db_cpu) = runtime.block_on(async move {
                let window_start = Instant::now() + args.warmup;
                let end = window_start + args.call_duration;
                let probe = tokio::spawn(async move {
                    tokio::time::sleep_until(window_start.into()).await;
                    let db = || db_cpu.as_ref().and_then(|sample| sample());
                    let before = (stats::own_cpu(), db());
                    tokio::time::sleep_until(end.into()).await;
                    let after = (stats::own_cpu(), db());
                    let delta =
                        |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
                    (delta(before.0, after.0), delta(before.1, after.1))
                });
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..callers {
                    let store = Arc::clone(&store);
                    let name = name.clone();
                    tasks.spawn(async move {
                        let mut samples = Vec::new();
                        let mut total = 0u64;
                        while Instant::now() < end && total < MAX_CALLS {
                            let begun = Instant::now();
                            if call == "cache_generation" {
                                store.cache_generation().await?;
                            } else {
                                store
                                    .get_version(vault, ObjectKind::Secret, &name, None)
                                    .await?
                                    .context("the secret is missing")?;
                            }
                            let done = Instant::now();
                            total += 1;
                            if begun >= window_start && done < end {
                                samples.push(stats::micros_u32(done - begun));
                            }
                        }
                        anyhow::Ok(samples)
                    });
                }
                let mut samples = Vec::new();
                while let Some(joined) = tasks.join_next().await {
                    samples.extend(joined.context("a store caller failed")??);
                }
                let (caller_cpu, db_cpu) = probe.await.context("the CPU probe failed")?;
                anyhow::Ok((
                    samples.len() as u64,
                    Latencies::from_samples(samples),
                    caller_cpu,
                    db_cpu,
                ))
            })?;
            let after = client_runtime.block_on(pg.snapshot(database));
            let statement = match (before, after) {
                (Some(before), Some(after)) => after.since(&before).top().map(|top| {
                    let per_call = u32::try_from(top.calls)
                        .ok()
                        .filter(|n| *n > 0)
                        .map_or(Duration::ZERO, |n| top.exec / n);
                    (top.query, per_call)
                }),
                _ => None,
            };
            let result = CallResult {
                call: if call == "cache_generation" {
                    "`PostgresStore::cache_generation()` (the consistency check)"
                } else {
                    "`PostgresStore::get_version(current)` (the GET's own read)"
                },
                callers,
                calls,
                window: args.call_duration,
                latencies,
                caller_cpu,
                db_cpu,
                statement,
            };
            eprintln!(
                "{}, {callers} callers: {:.0} calls/s, p50 {:.3} ms, caller CPU {:.1} µs/call, \
                 database CPU {:.1} µs/call",
                result.call,
                result.per_second(),
                result.latencies.percentile(50.0).as_secs_f64() * 1000.0,
                micros(result.caller_cpu_per_call()),
                micros(result.db_cpu_per_call()),
            );
            results.push(result);
        }
    }
    drop(store);
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(results)
}

/// Lines, bytes and files of the audit log (live and rotated).
fn audit_facts(path: &Path) -> Option<AuditFacts> {
    let mut facts = AuditFacts {
        lines: 0,
        bytes: 0,
        files: 0,
    };
    let mut paths = vec![path.to_owned()];
    paths.extend((1..=100).map(|n| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }));
    for file in paths {
        use std::io::Read as _;
        let Ok(mut file) = std::fs::File::open(&file) else {
            continue;
        };
        facts.files += 1;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            facts.bytes += n as u64;
            facts.lines += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
        }
    }
    (facts.files > 0).then_some(facts)
}
