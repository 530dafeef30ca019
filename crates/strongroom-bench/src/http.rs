//! `strongroom-bench http`: the real server against the bare endpoint, in one run.
//!
//! 1. Start `strongroom serve` in a fresh data directory on 127.0.0.1:0 and wait for its
//!    readiness line; create the vault `bench` with the CLI (`strongroom keyvault create`),
//!    which gives the administrator every secret permission.
//! 2. Get a real token: client credentials from `admin.json` POSTed to the token endpoint with
//!    `scope=https://vault.localhost:PORT/.default`. Seed `bench-secret`.
//! 3. Start the bare endpoint (`bare-serve`) answering with the very bytes the real GET
//!    returned, so both move the same payload.
//! 4. Alternate bare and GET phases for `rounds` rounds (alternating spreads any drift of the
//!    machine over both), then SET with all connections and with one.
//! 5. Stop both servers and measure the durable-write ceilings on the same disk: SQLite as
//!    the store configures it, and `strongroom-store`'s `put_version` itself.

use crate::HttpArgs;
use crate::bare;
use crate::commit::{self, CommitResult, StoreResult};
use crate::load::{self, MakeRequest, Phase, PhaseResult, Target};
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

/// Everything `http` measured, for the report.
#[derive(Debug)]
pub(crate) struct HttpResults {
    pub(crate) connections: usize,
    pub(crate) client_threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) server_bin: PathBuf,
    pub(crate) bare_rounds: Vec<PhaseResult>,
    pub(crate) get_rounds: Vec<PhaseResult>,
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

    /// Median GET throughput over median bare throughput.
    pub(crate) fn get_ratio(&self) -> Option<f64> {
        let get = Self::median(&self.get_rounds)?.per_second();
        let bare = Self::median(&self.bare_rounds)?.per_second();
        (bare > 0.0).then(|| get / bare)
    }
}

pub(crate) fn run(args: &HttpArgs) -> anyhow::Result<HttpResults> {
    anyhow::ensure!(
        (1..=1024).contains(&args.connections),
        "--connections must be 1 to 1024"
    );
    anyhow::ensure!(
        (1..=64).contains(&args.client_threads),
        "--client-threads must be 1 to 64"
    );
    anyhow::ensure!((1..=20).contains(&args.rounds), "--rounds must be 1 to 20");
    anyhow::ensure!(
        args.duration > Duration::ZERO && args.duration <= MAX_PHASE && args.warmup <= MAX_PHASE,
        "--duration must be above zero and, like --warmup, at most {MAX_PHASE:?}"
    );
    let server_bin = std::fs::canonicalize(&args.server_bin).with_context(|| {
        format!(
            "{} not found: build it with `cargo build --release -p strongroom`",
            args.server_bin.display()
        )
    })?;
    let work = match &args.work_dir {
        Some(dir) => tempfile::Builder::new()
            .prefix("strongroom-bench-")
            .tempdir_in(dir),
        None => tempfile::Builder::new()
            .prefix("strongroom-bench-")
            .tempdir(),
    }
    .context("creating the work directory")?;
    let work = work.path();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("starting the client runtime")?;
    let phase = Phase {
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
    };

    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir)?;
    eprintln!(
        "starting {} in {}",
        server_bin.display(),
        data_dir.display()
    );
    let mut serve = Command::new(&server_bin);
    serve
        .arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--listen", "127.0.0.1:0"]);
    let server = ChildServer::spawn(
        "strongroom",
        serve,
        "strongroom ready: ",
        &work.join("server.log"),
    )?;
    let port = server.port()?;
    let tenant = server
        .ready
        .get("tenantId")
        .and_then(serde_json::Value::as_str)
        .context("the readiness line has no tenantId")?
        .to_owned();
    cli(
        &server_bin,
        &data_dir,
        &["keyvault", "create", "--name", VAULT],
    )?;
    let (client_id, client_secret) = admin_credential(&data_dir)?;
    let ca_pem = data_dir.join("ca.pem");
    let identity = Target::new(port, "localhost", &ca_pem)?;
    let vault = Arc::new(Target::new(
        port,
        &format!("{VAULT}.vault.localhost"),
        &ca_pem,
    )?);

    let (bare_rounds, get_rounds, set_concurrent, set_single) = runtime.block_on(async {
        let token = fetch_token(&identity, &tenant, port, &client_id, &client_secret).await?;
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
        let get_body = expect_ok("reading the secret", vault.request_once(get_once).await?)?;
        anyhow::ensure!(
            String::from_utf8_lossy(&get_body).contains(SECRET_VALUE),
            "GET did not return the seeded value: {}",
            String::from_utf8_lossy(&get_body)
        );

        // The bare endpoint answers with the same bytes.
        let bare_dir = work.join("bare");
        std::fs::create_dir_all(&bare_dir)?;
        let body_file = work.join("bare-body.json");
        std::fs::write(&body_file, &get_body)?;
        let mut bare_command = Command::new(std::env::current_exe()?);
        bare_command
            .arg("bare-serve")
            .arg("--dir")
            .arg(&bare_dir)
            .arg("--body-file")
            .arg(&body_file);
        let bare_server = ChildServer::spawn(
            "bare endpoint",
            bare_command,
            bare::READY_PREFIX,
            &work.join("bare.log"),
        )?;
        let bare_target = Arc::new(Target::new(
            bare_server.port()?,
            bare::HOST,
            &bare_dir.join("ca.pem"),
        )?);

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

        let mut bare_rounds = Vec::new();
        let mut get_rounds = Vec::new();
        for round in 1..=args.rounds {
            let bare_result = load::run_phase(
                bare_target.clone(),
                phase,
                make_bare.clone(),
                bare_server.pid(),
            )
            .await?;
            progress(&format!("round {round}: bare endpoint"), &bare_result);
            bare_rounds.push(bare_result);
            let get_result =
                load::run_phase(vault.clone(), phase, make_get.clone(), server.pid()).await?;
            progress(&format!("round {round}: secret GET"), &get_result);
            get_rounds.push(get_result);
        }
        drop(bare_server);

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
            &format!("secret SET, {} connections", args.connections),
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
        anyhow::Ok((bare_rounds, get_rounds, set_concurrent, set_single))
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
        args.connections,
        args.warmup,
        args.duration,
    )?;
    eprintln!(
        "commit ceiling, {} rows per transaction: {:.0} rows/s",
        args.connections,
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
        args.connections,
        args.warmup,
        args.duration,
    )?;
    eprintln!(
        "store put_version, {} writers: {:.0} puts/s in {:.0} commits/s",
        args.connections,
        store_concurrent.puts_per_second(),
        store_concurrent.commits_per_second()
    );

    Ok(HttpResults {
        connections: args.connections,
        client_threads: args.client_threads,
        warmup: args.warmup,
        duration: args.duration,
        server_bin,
        bare_rounds,
        get_rounds,
        set_concurrent,
        set_single,
        commit_sequential,
        commit_batched,
        store_single,
        store_concurrent,
    })
}

fn progress(label: &str, result: &PhaseResult) {
    eprintln!(
        "{label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.1} µs/req, other load {:.2} CPUs, {} errors{}",
        result.per_second(),
        result.latencies.percentile(50.0).as_secs_f64() * 1000.0,
        result.latencies.percentile(99.0).as_secs_f64() * 1000.0,
        result
            .server_cpu_per_request()
            .map_or(f64::NAN, |cpu| cpu.as_secs_f64() * 1e6),
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
fn cli(server_bin: &Path, data_dir: &Path, args: &[&str]) -> anyhow::Result<String> {
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
fn admin_credential(data_dir: &Path) -> anyhow::Result<(String, String)> {
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
async fn fetch_token(
    identity: &Target,
    tenant: &str,
    port: u16,
    client_id: &str,
    client_secret: &str,
) -> anyhow::Result<String> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret)
        .append_pair("scope", &format!("https://vault.localhost:{port}/.default"))
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

fn expect_ok(what: &str, (status, body): (http::StatusCode, Bytes)) -> anyhow::Result<Bytes> {
    if !status.is_success() {
        bail!("{what}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}
