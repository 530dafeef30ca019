//! `strongroom-bench http`: the real server against the bare endpoint, in one run.
//!
//! 1. Refuse a work directory on tmpfs (the commit figures need a real disk) and record its
//!    filesystem. Start `strongroom serve` in a fresh data directory there on 127.0.0.1:0
//!    and wait for its readiness line; create the vault `bench` with the CLI
//!    (`strongroom keyvault create`), which gives the administrator every secret and key
//!    permission.
//! 2. Get a real token: client credentials from `admin.json` POSTed to the token endpoint with
//!    `scope=https://vault.localhost:PORT/.default`. Seed `bench-secret`.
//! 3. Start the bare endpoint (`bare-serve`) answering with the very bytes (body and headers)
//!    the real GET returned, so both move the same payload; the client sends both the same
//!    request bytes (path, query, real bearer token).
//! 4. For each connection count, alternate bare and GET phases for `rounds` rounds
//!    (alternating spreads any drift of the machine over both).
//! 5. oha (a load generator we did not write) against both, if it is installed, in
//!    alternating rounds too.
//! 6. GET over many secrets in many vaults with many tokens, so the caches are not all hot.
//! 7. The key operations over REST next to raw aws-lc-rs (`keyops.rs`).
//! 8. SET with all connections and with one.
//! 9. Stop both servers and measure the durable-write ceilings on the same disk: SQLite as
//!    the store configures it, and `strongroom-store`'s `put_version` itself.

use crate::HttpArgs;
use crate::bare;
use crate::commit::{self, CommitResult, StoreResult};
use crate::disk::{self, Filesystem};
use crate::keyops::{self, KeyOpResult};
use crate::load::{self, MakeRequest, Phase, PhaseResult, Target};
use crate::oha::{self, OhaResult};
use crate::process::ChildServer;
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderValue, Method};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const VAULT: &str = "bench";
const SECRET: &str = "bench-secret";
const API_VERSION: &str = "2025-07-01";
/// A secret value of a typical size (a generated password or a connection string's key).
const SECRET_VALUE: &str = "bench-value-7f3a9c2e41d84b6f9a0e5c1d2b3f4a5e";
/// The longest measured phase we accept, so a typo cannot hold the machine for hours.
const MAX_PHASE: Duration = Duration::from_secs(600);
/// The many-secrets phase: vaults (besides `bench`), secrets in each, and how long we keep
/// asking for tokens (each distinct `iat` second and audience gives a distinct token).
pub(crate) const MANY_VAULTS: usize = 16;
pub(crate) const SECRETS_PER_VAULT: usize = 64;
const TOKEN_SECONDS: u64 = 2;

/// Bare and GET rounds at one connection count.
#[derive(Debug)]
pub(crate) struct GetComparison {
    pub(crate) connections: usize,
    pub(crate) bare_rounds: Vec<PhaseResult>,
    pub(crate) get_rounds: Vec<PhaseResult>,
}

impl GetComparison {
    /// Median GET throughput over median bare throughput.
    pub(crate) fn throughput_ratio(&self) -> Option<f64> {
        let get = HttpResults::median(&self.get_rounds)?.per_second();
        let bare = HttpResults::median(&self.bare_rounds)?.per_second();
        (bare > 0.0).then(|| get / bare)
    }

    /// Bare's server CPU per request over GET's (medians over rounds): the share of the
    /// stack's per-request efficiency that survives Strongroom's work. The headline.
    pub(crate) fn cpu_ratio(&self) -> Option<f64> {
        let get = median_cpu(&self.get_rounds)?;
        let bare = median_cpu(&self.bare_rounds)?;
        (get > 0.0).then(|| bare / get)
    }
}

fn micros(duration: Option<Duration>) -> f64 {
    duration.map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

/// Median server CPU per request over rounds, in seconds.
pub(crate) fn median_cpu(rounds: &[PhaseResult]) -> Option<f64> {
    let mut cpus: Vec<f64> = rounds
        .iter()
        .filter_map(PhaseResult::server_cpu_per_request)
        .map(|d| d.as_secs_f64())
        .collect();
    cpus.sort_by(f64::total_cmp);
    cpus.get(cpus.len() / 2).copied()
}

/// oha against both servers, or why it did not run.
#[derive(Debug)]
pub(crate) struct OhaComparison {
    pub(crate) version: String,
    pub(crate) connections: usize,
    /// Alternating runs, bare first; never empty.
    pub(crate) bare_rounds: Vec<OhaResult>,
    pub(crate) get_rounds: Vec<OhaResult>,
}

impl OhaComparison {
    /// The bare run with the median server CPU per request.
    pub(crate) fn bare(&self) -> &OhaResult {
        median_oha(&self.bare_rounds)
    }

    /// The GET run with the median server CPU per request.
    pub(crate) fn get(&self) -> &OhaResult {
        median_oha(&self.get_rounds)
    }
}

/// The run with the median server CPU per request (runs without a CPU figure sort last).
fn median_oha(rounds: &[OhaResult]) -> &OhaResult {
    let mut sorted: Vec<&OhaResult> = rounds.iter().collect();
    sorted.sort_by(|a, b| {
        let cpu = |r: &OhaResult| {
            r.server_cpu_per_request()
                .map_or(f64::INFINITY, |d| d.as_secs_f64())
        };
        cpu(a).total_cmp(&cpu(b))
    });
    sorted[sorted.len() / 2]
}

/// The many-secrets GET phase and what it spread over.
#[derive(Debug)]
pub(crate) struct ManySecrets {
    pub(crate) vaults: usize,
    pub(crate) secrets: usize,
    pub(crate) tokens: usize,
    pub(crate) result: PhaseResult,
}

/// Everything `http` measured, for the report.
#[derive(Debug)]
pub(crate) struct HttpResults {
    pub(crate) connections: usize,
    pub(crate) client_threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) server_bin: PathBuf,
    /// Length of the `Authorization` header value (`Bearer ` and the token).
    pub(crate) bearer_len: usize,
    pub(crate) work_dir: PathBuf,
    pub(crate) filesystem: Filesystem,
    /// The first entry is at `connections`.
    pub(crate) comparisons: Vec<GetComparison>,
    pub(crate) oha: Result<OhaComparison, String>,
    pub(crate) many: ManySecrets,
    pub(crate) key_ops: Vec<KeyOpResult>,
    pub(crate) key_duration: Duration,
    pub(crate) set_concurrent: PhaseResult,
    pub(crate) set_single: PhaseResult,
    pub(crate) commit_sequential: CommitResult,
    pub(crate) commit_batched: CommitResult,
    pub(crate) store_single: StoreResult,
    pub(crate) store_concurrent: StoreResult,
}

impl HttpResults {
    /// The median round of a list of phase results, by throughput.
    pub(crate) fn median(rounds: &[PhaseResult]) -> Option<&PhaseResult> {
        let mut sorted: Vec<&PhaseResult> = rounds.iter().collect();
        sorted.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        sorted.get(sorted.len() / 2).copied()
    }

    /// Every phase of our generator, for the disturbance check and first error.
    pub(crate) fn phases(&self) -> Vec<&PhaseResult> {
        let mut all: Vec<&PhaseResult> = self
            .comparisons
            .iter()
            .flat_map(|c| c.bare_rounds.iter().chain(&c.get_rounds))
            .collect();
        all.push(&self.many.result);
        all.extend(self.key_ops.iter().flat_map(|k| [&k.rest, &k.bare]));
        all.push(&self.set_concurrent);
        all.push(&self.set_single);
        all
    }
}

pub(crate) fn run(args: &HttpArgs) -> anyhow::Result<HttpResults> {
    anyhow::ensure!(
        !args.connections.is_empty() && args.connections.iter().all(|c| (1..=1024).contains(c)),
        "--connections must be 1 to 1024 each"
    );
    let connections = args.connections[0];
    anyhow::ensure!(
        (1..=64).contains(&args.client_threads),
        "--client-threads must be 1 to 64"
    );
    anyhow::ensure!((1..=20).contains(&args.rounds), "--rounds must be 1 to 20");
    for duration in [args.duration, args.key_duration, args.oha_duration] {
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
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("creating {}", args.work_dir.display()))?;
    let filesystem = disk::require_disk(&args.work_dir)?;
    let work_dir = std::fs::canonicalize(&args.work_dir)?;
    eprintln!(
        "work directory {} on {} ({}, mounted at {})",
        work_dir.display(),
        filesystem.fs_type,
        filesystem.device,
        filesystem.mount_point
    );
    let work = tempfile::Builder::new()
        .prefix("strongroom-bench-")
        .tempdir_in(&work_dir)
        .context("creating the work directory")?;
    let work = work.path();
    let oha_bin = oha::locate(args.oha.as_deref());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("starting the client runtime")?;
    let phase = Phase {
        connections,
        warmup: args.warmup,
        duration: args.duration,
    };

    let StartedServer {
        server,
        data_dir,
        port,
        tenant,
    } = start_server(&server_bin, work)?;
    cli(
        &server_bin,
        &data_dir,
        &["keyvault", "create", "--name", VAULT],
    )?;
    let many_vaults: Vec<String> = (0..MANY_VAULTS)
        .map(|i| format!("bench-many-{i:02}"))
        .collect();
    for name in &many_vaults {
        cli(
            &server_bin,
            &data_dir,
            &["keyvault", "create", "--name", name],
        )?;
    }
    let (client_id, client_secret) = admin_credential(&data_dir)?;
    let ca_pem = data_dir.join("ca.pem");
    let identity = Target::new(port, "localhost", &ca_pem)?;
    let vault = Arc::new(Target::new(
        port,
        &format!("{VAULT}.vault.localhost"),
        &ca_pem,
    )?);
    let raw_threads = std::thread::available_parallelism().map_or(1, usize::from);

    let (bearer_len, comparisons, oha, many, key_ops, set_concurrent, set_single) = runtime
        .block_on(async {
            let token =
                fetch_token(&identity, &tenant, port, &client_id, &client_secret, None).await?;
            let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
                .context("the token is not a header value")?;
            let secret_path = format!("/secrets/{SECRET}?api-version={API_VERSION}");
            let set_body = Bytes::from(serde_json::json!({ "value": SECRET_VALUE }).to_string());
            let seed = load::request(
                Method::PUT,
                &secret_path,
                vault.host_header(),
                Some(&bearer),
                Some(set_body.clone()),
            );
            expect_ok("seeding the secret", vault.request_once(seed).await?)?;
            let get_once = load::request(
                Method::GET,
                &secret_path,
                vault.host_header(),
                Some(&bearer),
                None,
            );
            let (status, get_headers, get_body) = vault.request_once_with_headers(get_once).await?;
            let get_body = expect_ok("reading the secret", (status, get_body))?;
            anyhow::ensure!(
                String::from_utf8_lossy(&get_body).contains(SECRET_VALUE),
                "GET did not return the seeded value: {}",
                String::from_utf8_lossy(&get_body)
            );

            // The bare endpoint answers with the same bytes: body and headers.
            let bare::BareEndpoint {
                server: bare_server,
                target: bare_target,
            } = bare::spawn(work, "bare", &get_body, &get_headers, None)?;
            let bare_port = bare_server.port()?;

            // The same request bytes as the real GET, token included; the bare endpoint ignores them.
            let bare_host = bare_target.host_header().clone();
            let bare_bearer = bearer.clone();
            let bare_path = secret_path.clone();
            let make_bare: MakeRequest = Arc::new(move |_, _| {
                load::request(
                    Method::GET,
                    &bare_path,
                    &bare_host,
                    Some(&bare_bearer),
                    None,
                )
            });
            let vault_host = vault.host_header().clone();
            let get_bearer = bearer.clone();
            let get_path = secret_path.clone();
            let make_get: MakeRequest = Arc::new(move |_, _| {
                load::request(Method::GET, &get_path, &vault_host, Some(&get_bearer), None)
            });

            let mut comparisons = Vec::new();
            for &count in &args.connections {
                let at = Phase {
                    connections: count,
                    ..phase
                };
                let mut comparison = GetComparison {
                    connections: count,
                    bare_rounds: Vec::new(),
                    get_rounds: Vec::new(),
                };
                for round in 1..=args.rounds {
                    let bare_result = load::run_phase(
                        bare_target.clone(),
                        at,
                        make_bare.clone(),
                        bare_server.pid(),
                    )
                    .await?;
                    progress(&format!("{count} conns, round {round}: bare"), &bare_result);
                    comparison.bare_rounds.push(bare_result);
                    let get_result =
                        load::run_phase(vault.clone(), at, make_get.clone(), server.pid()).await?;
                    progress(
                        &format!("{count} conns, round {round}: secret GET"),
                        &get_result,
                    );
                    comparison.get_rounds.push(get_result);
                }
                comparisons.push(comparison);
            }

            // oha: same path, Host and token, against both.
            let oha = match &oha_bin {
                Err(why) => Err(why.clone()),
                Ok(oha_bin) => {
                    let authorization = bearer.to_str()?.to_owned();
                    let run_oha = |port: u16, host: String, pid: u32| {
                        let oha_bin = oha_bin.clone();
                        let path = secret_path.clone();
                        let authorization = authorization.clone();
                        let duration = args.oha_duration;
                        tokio::task::spawn_blocking(move || {
                            oha::run(
                                &oha_bin,
                                port,
                                &path,
                                &host,
                                &authorization,
                                connections,
                                duration,
                                pid,
                            )
                        })
                    };
                    let bare_host = bare_target.host_header().to_str()?.to_owned();
                    let vault_host = vault.host_header().to_str()?.to_owned();
                    let outcome = async {
                        let mut bare_rounds = Vec::new();
                        let mut get_rounds = Vec::new();
                        // Alternating, like our generator's rounds: the machine's slow and
                        // fast spells then fall on both servers.
                        for round in 1..=args.oha_rounds.max(1) {
                            let bare =
                                run_oha(bare_port, bare_host.clone(), bare_server.pid()).await??;
                            eprintln!(
                                "oha round {round}: bare: {:.0} req/s, server CPU {:.1} µs/req, {} errors",
                                bare.per_second(),
                                micros(bare.server_cpu_per_request()),
                                bare.errors
                            );
                            bare_rounds.push(bare);
                            let get = run_oha(port, vault_host.clone(), server.pid()).await??;
                            eprintln!(
                                "oha round {round}: GET: {:.0} req/s, server CPU {:.1} µs/req, {} errors",
                                get.per_second(),
                                micros(get.server_cpu_per_request()),
                                get.errors
                            );
                            get_rounds.push(get);
                        }
                        anyhow::Ok(OhaComparison {
                            version: oha::version(oha_bin),
                            connections,
                            bare_rounds,
                            get_rounds,
                        })
                    }
                    .await;
                    outcome.map_err(|err| format!("oha failed: {err:#}"))
                }
            };
            drop(bare_server);

            let many = many_secrets(
                &identity,
                &vault,
                &many_vaults,
                (&tenant, port, &client_id, &client_secret),
                &bearer,
                phase,
                server.pid(),
            )
            .await?;

            let key_phase = Phase {
                duration: args.key_duration,
                ..phase
            };
            let key_ops = keyops::run(
                &vault,
                &bearer,
                work,
                key_phase,
                server.pid(),
                raw_threads,
                &progress,
            )
            .await?;

            let make_set = |prefix: &'static str| -> MakeRequest {
                let host = vault.host_header().clone();
                let bearer = bearer.clone();
                let body = set_body.clone();
                Arc::new(move |connection, seq| {
                    let path =
                        format!("/secrets/{prefix}-{connection}-{seq}?api-version={API_VERSION}");
                    load::request(Method::PUT, &path, &host, Some(&bearer), Some(body.clone()))
                })
            };
            let set_concurrent =
                load::run_phase(vault.clone(), phase, make_set("bench-set"), server.pid()).await?;
            progress(
                &format!("secret SET, {connections} connections"),
                &set_concurrent,
            );
            let single = Phase {
                connections: 1,
                ..phase
            };
            let set_single = load::run_phase(
                vault.clone(),
                single,
                make_set("bench-set-single"),
                server.pid(),
            )
            .await?;
            progress("secret SET, 1 connection", &set_single);
            anyhow::Ok((
                bearer.len(),
                comparisons,
                oha,
                many,
                key_ops,
                set_concurrent,
                set_single,
            ))
        })?;
    drop(server);

    let commit_sequential =
        commit::measure(&work.join("commit-1.db"), 1, args.warmup, args.duration)?;
    eprintln!(
        "commit ceiling, 1 row per transaction: {:.0} commits/s",
        commit_sequential.transactions_per_second()
    );
    let commit_batched = commit::measure(
        &work.join("commit-n.db"),
        connections,
        args.warmup,
        args.duration,
    )?;
    eprintln!(
        "commit ceiling, {} rows per transaction: {:.0} rows/s",
        connections,
        commit_batched.rows_per_second()
    );

    let store_single =
        commit::measure_store(&work.join("store-1.db"), 1, args.warmup, args.duration)?;
    eprintln!(
        "store put_version, 1 writer: {:.0} puts/s",
        store_single.puts_per_second()
    );
    let store_concurrent = commit::measure_store(
        &work.join("store-n.db"),
        connections,
        args.warmup,
        args.duration,
    )?;
    eprintln!(
        "store put_version, {} writers: {:.0} puts/s in {:.0} commits/s",
        connections,
        store_concurrent.puts_per_second(),
        store_concurrent.commits_per_second()
    );

    Ok(HttpResults {
        connections,
        client_threads: args.client_threads,
        warmup: args.warmup,
        duration: args.duration,
        server_bin,
        bearer_len,
        work_dir,
        filesystem,
        comparisons,
        oha,
        many,
        key_ops,
        key_duration: args.key_duration,
        set_concurrent,
        set_single,
        commit_sequential,
        commit_batched,
        store_single,
        store_concurrent,
    })
}

/// Seeds `SECRETS_PER_VAULT` secrets in each of `vaults`, gathers distinct tokens (every
/// audience the vaults accept, over `TOKEN_SECONDS` seconds of `iat`), then GETs them with
/// each request picking a (vault, secret, token) triple of its own.
async fn many_secrets(
    identity: &Target,
    vault: &Arc<Target>,
    vaults: &[String],
    (tenant, port, client_id, client_secret): (&str, u16, &str, &str),
    bearer: &HeaderValue,
    phase: Phase,
    server_pid: u32,
) -> anyhow::Result<ManySecrets> {
    let audiences = [
        format!("https://vault.localhost:{port}"),
        "https://vault.localhost".to_owned(),
        "https://vault.azure.net".to_owned(),
        "https://vault.azure.cn".to_owned(),
        "https://vault.usgovcloudapi.net".to_owned(),
        "https://vault.microsoftazure.de".to_owned(),
    ];
    let mut tokens: Vec<HeaderValue> = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(TOKEN_SECONDS);
    while std::time::Instant::now() < until {
        for audience in &audiences {
            let token = fetch_token(
                identity,
                tenant,
                port,
                client_id,
                client_secret,
                Some(audience),
            )
            .await?;
            let value = HeaderValue::from_str(&format!("Bearer {token}"))?;
            if !tokens.contains(&value) {
                tokens.push(value);
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // (Host, path) of every secret; seeded over one connection with the first token.
    let mut secrets: Vec<(HeaderValue, String)> = Vec::new();
    let mut sender = vault.connect().await?;
    for name in vaults {
        let host = HeaderValue::from_str(&format!("{name}.vault.localhost:{port}"))?;
        for i in 0..SECRETS_PER_VAULT {
            let path = format!("/secrets/many-{i:03}?api-version={API_VERSION}");
            let body = serde_json::json!({ "value": format!("{SECRET_VALUE}-{name}-{i}") });
            let put = load::request(
                Method::PUT,
                &path,
                &host,
                Some(bearer),
                Some(Bytes::from(body.to_string())),
            );
            expect_ok(
                "seeding many secrets",
                load::send_on(&mut sender, put).await?,
            )?;
            secrets.push((host.clone(), path));
        }
    }
    let secret_count = secrets.len();
    let token_count = tokens.len();
    let secrets = Arc::new(secrets);
    let tokens = Arc::new(tokens);
    // Strides co-prime with both counts' usual sizes spread consecutive requests of one
    // connection, and the connections among themselves, over secrets and tokens.
    let make: MakeRequest = Arc::new(move |connection, seq| {
        let pick = (connection as u64)
            .wrapping_mul(7_919)
            .wrapping_add(seq.wrapping_mul(104_729));
        let (host, path) = &secrets[(pick % secrets.len() as u64) as usize];
        let token = &tokens[((pick / 3) % tokens.len() as u64) as usize];
        load::request(Method::GET, path, host, Some(token), None)
    });
    let result = load::run_phase(vault.clone(), phase, make, server_pid).await?;
    progress(
        &format!(
            "GET over {secret_count} secrets, {} vaults, {token_count} tokens",
            vaults.len()
        ),
        &result,
    );
    Ok(ManySecrets {
        vaults: vaults.len(),
        secrets: secret_count,
        tokens: token_count,
        result,
    })
}

fn progress(label: &str, result: &PhaseResult) {
    eprintln!(
        "{label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.1} µs/req, other load {:.2} CPUs, {} errors{}",
        result.per_second(),
        result.latencies.percentile(50.0).as_secs_f64() * 1000.0,
        result.latencies.percentile(99.0).as_secs_f64() * 1000.0,
        micros(result.server_cpu_per_request()),
        result.other_cpus().unwrap_or(f64::NAN),
        result.errors,
        result
            .first_error
            .as_deref()
            .map(|err| format!(" (first: {})", crate::process::tail(err, 300)))
            .unwrap_or_default()
    );
}

/// Runs `strongroom --data-dir D ARGS…`, failing with its stderr unless it exits 0.
/// A real server on a fresh data directory under `work`, and what the benchmarks need of it.
pub(crate) struct StartedServer {
    pub(crate) server: ChildServer,
    pub(crate) data_dir: PathBuf,
    /// The port it listens on.
    pub(crate) port: u16,
    pub(crate) tenant: String,
}

/// Starts `strongroom serve` on `WORK/data` (log in `WORK/server.log`) and waits for it.
pub(crate) fn start_server(server_bin: &Path, work: &Path) -> anyhow::Result<StartedServer> {
    start_server_with(server_bin, work, &[])
}

/// `start_server` with more `serve` flags (`--store URL`, `--public-port P`, `--audit-log
/// FILE`); `WORK/data` may already hold a deployment's files (another node's copy).
pub(crate) fn start_server_with(
    server_bin: &Path,
    work: &Path,
    serve_args: &[std::ffi::OsString],
) -> anyhow::Result<StartedServer> {
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir)?;
    eprintln!(
        "starting {} in {}",
        server_bin.display(),
        data_dir.display()
    );
    let mut serve = Command::new(server_bin);
    serve
        .arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(serve_args);
    let server = ChildServer::spawn(
        "strongroom",
        serve,
        "strongroom ready: ",
        &work.join("server.log"),
    )?;
    // `port` is the public port (`--public-port`, a load balancer's); `listen` is where this
    // node listens.
    let port = match server
        .ready
        .get("listen")
        .and_then(serde_json::Value::as_str)
        .and_then(|listen| listen.parse::<std::net::SocketAddr>().ok())
    {
        Some(listen) => listen.port(),
        None => server.port()?,
    };
    let tenant = server
        .ready
        .get("tenantId")
        .and_then(serde_json::Value::as_str)
        .context("the readiness line has no tenantId")?
        .to_owned();
    Ok(StartedServer {
        server,
        data_dir,
        port,
        tenant,
    })
}

pub(crate) fn cli(server_bin: &Path, data_dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(server_bin)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .with_context(|| format!("running strongroom {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "strongroom {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `(clientId, clientSecret)` from `admin.json`.
pub(crate) fn admin_credential(data_dir: &Path) -> anyhow::Result<(String, String)> {
    let path = data_dir.join("admin.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).context("admin.json is not JSON")?;
    let field = |name: &str| {
        json.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("admin.json has no {name}"))
    };
    Ok((field("clientId")?, field("clientSecret")?))
}

/// A data-plane token by client credentials.
pub(crate) async fn fetch_token(
    identity: &Target,
    tenant: &str,
    port: u16,
    client_id: &str,
    client_secret: &str,
    audience: Option<&str>,
) -> anyhow::Result<String> {
    let default_audience = format!("https://vault.localhost:{port}");
    let audience = audience.unwrap_or(&default_audience);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret)
        .append_pair("scope", &format!("{audience}/.default"))
        .finish();
    let mut request = load::request(
        Method::POST,
        &format!("/{tenant}/oauth2/v2.0/token"),
        identity.host_header(),
        None,
        Some(Bytes::from(form)),
    );
    request.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let body = expect_ok("getting a token", identity.request_once(request).await?)?;
    let json: serde_json::Value =
        serde_json::from_slice(&body).context("the token response is not JSON")?;
    json.get("access_token")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .context("the token response has no access_token")
}

pub(crate) fn expect_ok(
    what: &str,
    (status, body): (http::StatusCode, Bytes),
) -> anyhow::Result<Bytes> {
    if !status.is_success() {
        bail!("{what}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ok: u64, server_cpu_ms: Option<u64>) -> OhaResult {
        OhaResult {
            ok,
            errors: 0,
            window: Duration::from_secs(1),
            p50: Duration::ZERO,
            p99: Duration::ZERO,
            server_cpu: server_cpu_ms.map(Duration::from_millis),
            other_cpu: None,
            client_cpu: None,
        }
    }

    #[test]
    fn oha_rows_are_the_median_runs_by_server_cpu() {
        let comparison = OhaComparison {
            version: "oha 1".to_owned(),
            connections: 64,
            // 20, 40 and 25 µs per request: the median is the 25 µs run, not the middle one.
            bare_rounds: vec![
                run(1000, Some(20)),
                run(1000, Some(40)),
                run(1000, Some(25)),
            ],
            // A run without a CPU figure sorts last instead of being taken as the cheapest.
            get_rounds: vec![run(500, None), run(700, Some(21)), run(900, Some(18))],
        };
        assert_eq!(
            comparison.bare().server_cpu_per_request(),
            Some(Duration::from_micros(25))
        );
        assert_eq!(comparison.get().ok, 700);
    }
}
