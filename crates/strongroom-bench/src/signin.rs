//! `strongroom-bench signin`: interactive sign-in (issue 12) against the real release server
//! over HTTPS, next to what the stack and Argon2id allow on this machine, in one run.
//!
//! 1. Argon2id in this process, before any server runs: one password check on one thread
//!    (`strongroom_crypto::verify_password` on a hash made by `hash_password`, the call and
//!    parameters of the crypto table's "password verify" row), and checks on as many threads
//!    as the server lets run at once (`SERVER_PASSWORD_CHECKS`). `SERVER_PASSWORD_CHECKS` /
//!    one-thread cost is the sign-in ceiling.
//! 2. `strongroom serve` on a fresh data directory; vault `bench` and `bench-secret` (the
//!    administrator's client-credentials token, as `http` does); one user
//!    (`strongroom user create`); one sign-in per connection through the console client's
//!    authorization-code flow with PKCE (`GET` the form for its CSRF cookie and field, `POST`
//!    it, redeem the code), which leaves one refresh token per connection.
//! 3. The bare endpoint (`bare.rs`) answering the refresh grant's response bytes, then the
//!    `refresh_token` grant itself (`load::run_phase`): the same POST to the token endpoint
//!    from every connection, each with its own refresh token (they are reusable until they
//!    expire).
//! 4. Password sign-in: the form POST with the right password, closed loop on
//!    `--signin-connections` connections (each reuses the CSRF pair it got with `GET`, as a
//!    browser tab does); a 303 with `code=` is a success. `drive` below is the load loop for
//!    answers `load.rs` would count as errors (303) or cannot tell apart (a 200 page saying
//!    "wrong password", "locked" or "busy").
//! 5. Secret GET alone, then the same GET load while `--flood-connections` connections post
//!    the sign-in form with a wrong password, a new unknown user name each time (so no name
//!    reaches the per-name lockout; an unknown name costs the same Argon2id run, against the
//!    decoy hash), and one connection signs the real user in twice a second. Every answer is
//!    timestamped, and the process CPU of the server, of this process and of the machine is
//!    sampled every `CPU_SAMPLE` ms, so the flood splits into what happened before the
//!    sign-in guard's global limit (1000 failures a minute) refused unproven names and
//!    after.
//!
//! The report (`signin_report.rs`) replaces its own section of BENCHMARKS.md.

use crate::bare;
use crate::disk;
use crate::http::{StartedServer, admin_credential, cli, expect_ok, fetch_token, start_server};
use crate::load::{self, MakeRequest, Phase, PhaseResult, Target};
use crate::stats::{self, Latencies};
use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const VAULT: &str = "bench";
const SECRET: &str = "bench-secret";
const API_VERSION: &str = "2025-07-01";
/// The value `http` seeds too.
const SECRET_VALUE: &str = "bench-value-7f3a9c2e41d84b6f9a0e5c1d2b3f4a5e";
/// The console's client id (docs/CONTRACTS.md, "Interactive sign-in"); its redirect URI is
/// the deployment's origin with `/`.
pub(crate) const CONSOLE: &str = "3331b43c-9750-4aad-bfea-85b7bf2f071f";
const USER: &str = "signin-bench@contoso.com";
const PASSWORD: &str = "Corr3ct-horse-battery";
const WRONG_PASSWORD: &str = "Wr0ng-horse-battery";
/// Password checks the server runs at once (`PASSWORD_CHECKS` in
/// `crates/strongroom-api/src/state.rs`); a sign-in waits at most 5 s for a turn.
pub(crate) const SERVER_PASSWORD_CHECKS: usize = 2;
/// Failures a minute after which the sign-in guard refuses names that have not signed in
/// lately (`GLOBAL_FAILURES` in `crates/strongroom-api/src/throttle.rs`).
pub(crate) const GLOBAL_FAILURES: u64 = 1_000;
/// The longest phase accepted.
const MAX_PHASE: Duration = Duration::from_secs(600);
/// No single request may take longer than this; a slower one counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Hard bound on requests per connection per phase.
const MAX_REQUESTS_PER_CONNECTION: u64 = 5_000_000;
/// How often the CPU of the server, this process and the machine is read during `drive`.
const CPU_SAMPLE: Duration = Duration::from_millis(100);
/// The real user's sign-in during the flood: one attempt this often.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// After the guard trips and the last queued guess is answered, this much of the flood is
/// left out (the switch-over).
const SETTLE: Duration = Duration::from_millis(500);
/// Guesses admitted before the guard tripped are answered within this (5 s wait for a turn
/// at most, then the check).
const DRAIN: Duration = Duration::from_secs(8);

/// Flags of `strongroom-bench signin`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SigninArgs {
    /// The `strongroom` binary.
    #[arg(long, default_value = "target/release/strongroom")]
    pub(crate) server_bin: PathBuf,
    /// Measured time of the bare, refresh, sign-in and GET-alone phases.
    #[arg(long, default_value = "5s", value_parser = crate::parse_duration)]
    pub(crate) duration: Duration,
    /// Warm-up before each phase, not measured.
    #[arg(long, default_value = "1s", value_parser = crate::parse_duration)]
    pub(crate) warmup: Duration,
    /// Keep-alive connections of the bare endpoint, the refresh grant and secret GET (one
    /// refresh token each).
    #[arg(long, default_value_t = 32)]
    pub(crate) connections: usize,
    /// Connections posting the sign-in form with the right password.
    #[arg(long, default_value_t = 16)]
    pub(crate) signin_connections: usize,
    /// Connections posting it with a wrong password during the flood.
    #[arg(long, default_value_t = 64)]
    pub(crate) flood_connections: usize,
    /// Measured time of the flood (long enough for the guard's global limit to trip).
    #[arg(long, default_value = "60s", value_parser = crate::parse_duration)]
    pub(crate) flood_duration: Duration,
    /// Time spent on the in-process Argon2id figures (one thread, then several).
    #[arg(long, default_value = "2s", value_parser = crate::parse_duration)]
    pub(crate) argon2_time: Duration,
    /// Tokio worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    pub(crate) client_threads: usize,
    /// Where the data directory goes (a real disk).
    #[arg(long, default_value = "target/bench-work")]
    pub(crate) work_dir: PathBuf,
    /// Add (or replace) the "Interactive sign-in" section of this Markdown file.
    #[arg(long)]
    pub(crate) append_markdown: Option<PathBuf>,
}

/// Argon2id in this process, no server running.
#[derive(Debug, Clone)]
pub(crate) struct Argon2Cost {
    /// One check on one thread (median sample; fastest).
    pub(crate) single: crate::timing::Timing,
    pub(crate) threads: usize,
    /// Checks per second on `threads` threads at once.
    pub(crate) parallel_per_second: f64,
    /// CPUs the rest of the machine kept busy meanwhile.
    pub(crate) other_cpus: Option<f64>,
    /// The stored hash's parameters (`m=…,t=…,p=…`).
    pub(crate) params: String,
}

impl Argon2Cost {
    /// `SERVER_PASSWORD_CHECKS` checks at a time, each costing the one-thread time.
    pub(crate) fn ceiling(&self) -> f64 {
        SERVER_PASSWORD_CHECKS as f64 * 1e9 / self.single.ns_per_op.max(1.0)
    }
}

/// What one answer of `drive` was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The answer hoped for: a GET's 200, a sign-in's 303 with a code.
    Ok,
    /// The sign-in page again, "wrong name or password" (`AADSTS50126`): Argon2id ran.
    Wrong,
    /// "Locked" (`AADSTS50053`): the guard refused before any password check.
    Locked,
    /// "Try again" (`AADSTS90033`): no turn for a password check within 5 s.
    Busy,
    /// Anything else, transport errors included.
    Other,
}

/// One answer: when it arrived (since the phase began), how long it took, what it was.
#[derive(Debug, Clone, Copy)]
struct Event {
    at_us: u32,
    latency_us: u32,
    class: Class,
}

/// Everything one stream of `drive` saw.
#[derive(Debug, Default)]
struct Driven {
    events: Vec<Event>,
    first_other: Option<String>,
}

impl Driven {
    fn count(&self, from: Duration, to: Duration, class: Class) -> u64 {
        self.in_range(from, to).filter(|e| e.class == class).count() as u64
    }

    fn latencies(&self, from: Duration, to: Duration, class: Class) -> Latencies {
        Latencies::from_samples(
            self.in_range(from, to)
                .filter(|e| e.class == class)
                .map(|e| e.latency_us)
                .collect(),
        )
    }

    fn in_range(&self, from: Duration, to: Duration) -> impl Iterator<Item = &Event> {
        let (from, to) = (stats::micros_u32(from), stats::micros_u32(to));
        self.events
            .iter()
            .filter(move |e| e.at_us >= from && e.at_us < to)
    }

    /// When the first answer of `class` arrived.
    fn first(&self, class: Class) -> Option<Duration> {
        self.events
            .iter()
            .filter(|e| e.class == class)
            .map(|e| e.at_us)
            .min()
            .map(|us| Duration::from_micros(u64::from(us)))
    }
}

/// CPU time so far of the server, this process and the whole machine, at one moment.
#[derive(Debug, Clone, Copy)]
struct CpuSample {
    at: Duration,
    server: Option<Duration>,
    client: Option<Duration>,
    machine: Option<Duration>,
}

/// CPUs kept busy on average over a stretch of time.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuShare {
    pub(crate) server: Option<f64>,
    pub(crate) client: Option<f64>,
    /// The rest of the machine (busy time less server and this process).
    pub(crate) other: Option<f64>,
}

/// The average CPUs of each kind between the first sample at or after `from` and the last
/// at or before `to`.
fn cpu_share(samples: &[CpuSample], from: Duration, to: Duration) -> CpuShare {
    let first = samples.iter().find(|s| s.at >= from);
    let last = samples.iter().rev().find(|s| s.at <= to);
    let (Some(a), Some(b)) = (first, last) else {
        return CpuShare::default();
    };
    let span = b.at.saturating_sub(a.at).as_secs_f64();
    if span <= 0.0 {
        return CpuShare::default();
    }
    let rate =
        |x: Option<Duration>, y: Option<Duration>| Some(y?.saturating_sub(x?).as_secs_f64() / span);
    let server = rate(a.server, b.server);
    let client = rate(a.client, b.client);
    let machine = rate(a.machine, b.machine);
    CpuShare {
        server,
        client,
        other: (|| Some((machine? - server? - client?).max(0.0)))(),
    }
}

/// One stretch of time under a given load: what secret GET, the flood and the real user's
/// sign-ins got in it, and the CPU it took.
#[derive(Debug, Clone)]
pub(crate) struct Period {
    pub(crate) label: String,
    /// Since the start of the measured window.
    pub(crate) from: Duration,
    pub(crate) to: Duration,
    pub(crate) get_requests: u64,
    pub(crate) get_latencies: Latencies,
    pub(crate) get_errors: u64,
    /// Flood answers by kind: wrong password (Argon2id ran), locked, busy, other.
    pub(crate) flood_wrong: u64,
    pub(crate) flood_locked: u64,
    pub(crate) flood_busy: u64,
    pub(crate) flood_other: u64,
    /// Latencies of the flood's wrong-password answers.
    pub(crate) flood_wrong_latencies: Latencies,
    /// The real user's sign-in attempts, successes, and the successes' latencies.
    pub(crate) probe_attempts: u64,
    pub(crate) probe_signed_in: u64,
    pub(crate) probe_latencies: Latencies,
    pub(crate) cpu: CpuShare,
}

impl Period {
    pub(crate) fn span(&self) -> Duration {
        self.to.saturating_sub(self.from)
    }

    pub(crate) fn rate(&self, count: u64) -> f64 {
        count as f64 / self.span().as_secs_f64().max(1e-9)
    }
}

/// The flood's figures.
#[derive(Debug, Clone)]
pub(crate) struct Flood {
    /// Secret GET alone, just before.
    pub(crate) alone: Period,
    /// The whole flood window, then before and after the guard tripped (when it did).
    pub(crate) whole: Period,
    pub(crate) before: Option<Period>,
    pub(crate) after: Option<Period>,
    /// When the first "locked" answer came, since the window began.
    pub(crate) tripped_at: Option<Duration>,
    /// When guesses were checked again (the guard's window closed), since the window began.
    pub(crate) reopened_at: Option<Duration>,
    /// Wrong-password answers from the flood's start (warm-up included) until then.
    pub(crate) failures_before_trip: u64,
    pub(crate) first_other: Option<String>,
}

/// Password sign-in with the right password.
#[derive(Debug, Clone)]
pub(crate) struct SignIns {
    pub(crate) connections: usize,
    pub(crate) window: Duration,
    pub(crate) signed_in: u64,
    pub(crate) latencies: Latencies,
    /// Answers other than a code (busy, wrong, anything else), warm-up included.
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    pub(crate) cpu: CpuShare,
}

impl SignIns {
    pub(crate) fn per_second(&self) -> f64 {
        self.signed_in as f64 / self.window.as_secs_f64().max(1e-9)
    }

    pub(crate) fn server_cpu_per_request(&self) -> Option<Duration> {
        let cpus = self.cpu.server?;
        load::per_request(Some(self.window.mul_f64(cpus)), self.signed_in)
    }
}

/// Everything `signin` measured.
#[derive(Debug, Clone)]
pub(crate) struct SigninResults {
    pub(crate) connections: usize,
    pub(crate) flood_connections: usize,
    pub(crate) client_threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) flood_duration: Duration,
    pub(crate) server_bin: PathBuf,
    /// `/proc/loadavg`'s first three fields before the run and after it.
    pub(crate) load_before: String,
    pub(crate) load_after: String,
    pub(crate) argon2: Argon2Cost,
    pub(crate) bare: PhaseResult,
    pub(crate) refresh: PhaseResult,
    /// Bytes of the refresh grant's request body (its answer's: `refresh.response_bytes`).
    pub(crate) refresh_request_bytes: usize,
    pub(crate) signin: SignIns,
    pub(crate) flood: Flood,
}

/// `/proc/loadavg`'s 1, 5 and 15 minute figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(crate) fn run(args: &SigninArgs) -> anyhow::Result<SigninResults> {
    for (count, name) in [
        (args.connections, "--connections"),
        (args.signin_connections, "--signin-connections"),
        (args.flood_connections, "--flood-connections"),
    ] {
        anyhow::ensure!((1..=1024).contains(&count), "{name} must be 1 to 1024");
    }
    anyhow::ensure!(
        (1..=64).contains(&args.client_threads),
        "--client-threads must be 1 to 64"
    );
    for duration in [args.duration, args.flood_duration, args.argon2_time] {
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
    disk::require_disk(&args.work_dir)?;
    let work = tempfile::Builder::new()
        .prefix("strongroom-signin-")
        .tempdir_in(&args.work_dir)
        .context("creating the work directory")?;
    let work = work.path();
    let load_before = load_average();
    eprintln!("load average before: {load_before}");

    let argon2 = argon2_cost(args.argon2_time)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("starting the client runtime")?;
    let StartedServer {
        server,
        data_dir,
        port,
        tenant,
    } = start_server(&server_bin, work)?;
    let authority = server
        .ready
        .get("authorityHost")
        .and_then(serde_json::Value::as_str)
        .context("the readiness line has no authorityHost")?
        .trim_end_matches('/')
        .to_owned();
    cli(
        &server_bin,
        &data_dir,
        &["keyvault", "create", "--name", VAULT],
    )?;
    cli(
        &server_bin,
        &data_dir,
        &[
            "user",
            "create",
            "--display-name",
            "Sign-in bench",
            "--user-principal-name",
            USER,
            "--password",
            PASSWORD,
        ],
    )?;
    let (client_id, client_secret) = admin_credential(&data_dir)?;
    let ca_pem = data_dir.join("ca.pem");
    let identity = Arc::new(Target::new(port, "localhost", &ca_pem)?);
    let vault = Arc::new(Target::new(
        port,
        &format!("{VAULT}.vault.localhost"),
        &ca_pem,
    )?);
    let flow = Flow {
        tenant: tenant.clone(),
        redirect_uri: format!("{authority}/"),
        scope: format!("https://vault.localhost:{port}/.default"),
    };
    let phase = Phase {
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
    };

    let (bare, refresh, refresh_request_bytes, signin, flood) = runtime.block_on(async {
        let token = fetch_token(&identity, &tenant, port, &client_id, &client_secret, None).await?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))?;
        let secret_path = format!("/secrets/{SECRET}?api-version={API_VERSION}");
        let seed = load::request(
            Method::PUT,
            &secret_path,
            vault.host_header(),
            Some(&bearer),
            Some(Bytes::from(
                serde_json::json!({ "value": SECRET_VALUE }).to_string(),
            )),
        );
        expect_ok("seeding the secret", vault.request_once(seed).await?)?;

        // One refresh token per connection, each from a sign-in of its own.
        let mut sender = identity.connect().await?;
        let mut refresh_tokens = Vec::with_capacity(args.connections);
        for _ in 0..args.connections {
            refresh_tokens.push(flow.sign_in_and_redeem(&identity, &mut sender).await?);
        }
        eprintln!(
            "{} sign-ins redeemed for refresh tokens",
            refresh_tokens.len()
        );
        let forms: Arc<Vec<Bytes>> = Arc::new(
            refresh_tokens
                .iter()
                .map(|token| flow.refresh_form(token))
                .collect(),
        );
        let refresh_request_bytes = forms[0].len();
        let token_path = format!("/{tenant}/oauth2/v2.0/token");
        let make_refresh = |host: HeaderValue| -> MakeRequest {
            let forms = Arc::clone(&forms);
            let path = token_path.clone();
            Arc::new(move |connection, _| {
                form_request(&path, &host, forms[connection % forms.len()].clone())
            })
        };
        // The refresh grant's answer, for the bare endpoint to send back.
        let (status, headers, body) = exchange(
            &mut sender,
            form_request(&token_path, identity.host_header(), forms[0].clone()),
        )
        .await?;
        anyhow::ensure!(
            status == StatusCode::OK && body.starts_with(b"{"),
            "the refresh grant answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        drop(sender);

        let bare::BareEndpoint {
            server: bare_server,
            target: bare_target,
        } = bare::spawn(work, "bare", &body, &headers, None)?;
        let bare = load::run_phase(
            bare_target.clone(),
            phase,
            make_refresh(bare_target.host_header().clone()),
            bare_server.pid(),
        )
        .await?;
        progress(&format!("bare, {} connections", args.connections), &bare);
        drop(bare_server);

        let refresh = load::run_phase(
            identity.clone(),
            phase,
            make_refresh(identity.host_header().clone()),
            server.pid(),
        )
        .await?;
        progress(
            &format!("refresh_token grant, {} connections", args.connections),
            &refresh,
        );

        let signin = sign_ins(&flow, &identity, args, server.pid()).await?;
        eprintln!(
            "password sign-in, {} connections: {:.1}/s, p50 {:.0} ms, p99 {:.0} ms, {} errors{}",
            signin.connections,
            signin.per_second(),
            signin.latencies.percentile(50.0).as_secs_f64() * 1000.0,
            signin.latencies.percentile(99.0).as_secs_f64() * 1000.0,
            signin.errors,
            signin
                .first_error
                .as_deref()
                .map(|e| format!(" (first: {})", crate::process::tail(e, 300)))
                .unwrap_or_default()
        );

        let host = vault.host_header().clone();
        let make_get: MakeRequest = Arc::new(move |_, _| {
            load::request(Method::GET, &secret_path, &host, Some(&bearer), None)
        });
        let flood = flood(&flow, &identity, &vault, make_get, args, server.pid()).await?;
        anyhow::Ok((bare, refresh, refresh_request_bytes, signin, flood))
    })?;
    drop(server);
    let load_after = load_average();
    eprintln!("load average after: {load_after}");

    Ok(SigninResults {
        connections: args.connections,
        flood_connections: args.flood_connections,
        client_threads: args.client_threads,
        warmup: args.warmup,
        duration: args.duration,
        flood_duration: args.flood_duration,
        server_bin,
        load_before,
        load_after,
        argon2,
        bare,
        refresh,
        refresh_request_bytes,
        signin,
        flood,
    })
}

/// The one-thread cost of a password check, and the rate on `SERVER_PASSWORD_CHECKS` threads.
fn argon2_cost(total: Duration) -> anyhow::Result<Argon2Cost> {
    let hash = strongroom_crypto::hash_password(PASSWORD)
        .map_err(|err| anyhow::anyhow!("hashing a password: {err:?}"))?;
    anyhow::ensure!(
        strongroom_crypto::verify_password(&hash, PASSWORD),
        "the password does not verify against its own hash"
    );
    let params = hash.split('$').nth(3).unwrap_or("unknown").to_owned();
    let single = crate::timing::time(total / 2, || {
        strongroom_crypto::verify_password(&hash, std::hint::black_box(PASSWORD))
    });
    eprintln!(
        "Argon2id verify ({params}), one thread: {:.1} ms",
        single.ns_per_op / 1e6
    );
    let threads = SERVER_PASSWORD_CHECKS;
    let window = total / 2;
    let before = (stats::own_cpu(), stats::machine_busy());
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = 0u64;
                    while started.elapsed() < window {
                        std::hint::black_box(strongroom_crypto::verify_password(&hash, PASSWORD));
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or(0))
            .collect()
    });
    let elapsed = started.elapsed();
    let after = (stats::own_cpu(), stats::machine_busy());
    let other_cpus = (|| {
        let own = after.0?.saturating_sub(before.0?);
        let machine = after.1?.saturating_sub(before.1?);
        Some(machine.saturating_sub(own).as_secs_f64() / elapsed.as_secs_f64())
    })();
    let parallel_per_second = counts.iter().sum::<u64>() as f64 / elapsed.as_secs_f64();
    eprintln!(
        "Argon2id verify on {threads} threads: {parallel_per_second:.1}/s (other load {:.2} CPUs)",
        other_cpus.unwrap_or(f64::NAN)
    );
    Ok(Argon2Cost {
        single,
        threads,
        parallel_per_second,
        other_cpus,
        params,
    })
}

/// The console's authorization-code flow against this deployment.
struct Flow {
    tenant: String,
    redirect_uri: String,
    /// What the sign-in and the refresh grant ask for: the data plane.
    scope: String,
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> anyhow::Result<(String, String)> {
    let mut random = [0u8; 32];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let verifier = URL_SAFE_NO_PAD.encode(random);
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    Ok((verifier, challenge))
}

/// A sign-in form's CSRF pair: the `Cookie` header value and the form field.
#[derive(Debug, Clone)]
struct Csrf {
    cookie: HeaderValue,
    field: String,
}

impl Flow {
    /// `/organizations/oauth2/v2.0/authorize?…` for the console with `challenge`.
    fn authorize_path(&self, challenge: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CONSOLE)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &format!("{} openid offline_access", self.scope))
            .append_pair("state", "bench")
            .append_pair("nonce", "bench")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("/organizations/oauth2/v2.0/authorize?{query}")
    }

    /// `GET` of the sign-in page: its CSRF cookie and field.
    async fn csrf(
        &self,
        target: &Target,
        sender: &mut SendRequest<Full<Bytes>>,
        path: &str,
    ) -> anyhow::Result<Csrf> {
        let request = load::request(Method::GET, path, target.host_header(), None, None);
        let (status, headers, body) = exchange(sender, request).await?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "the sign-in page answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        let cookie = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| {
                let pair = value.split(';').next()?;
                pair.starts_with("__Host-strongroom-csrf=")
                    .then(|| pair.to_owned())
            })
            .context("the sign-in page set no CSRF cookie")?;
        let html = String::from_utf8_lossy(&body);
        let marker = "name=\"csrf\" value=\"";
        let start = html
            .find(marker)
            .context("the sign-in page has no csrf field")?
            + marker.len();
        let end = html[start..]
            .find('"')
            .context("the csrf field is not closed")?;
        Ok(Csrf {
            cookie: HeaderValue::from_str(&cookie)?,
            field: html[start..start + end].to_owned(),
        })
    }

    /// The sign-in form's POST, as a browser sends it after `GET` gave it `csrf`.
    fn sign_in_request(
        path: &str,
        host: &HeaderValue,
        csrf: &Csrf,
        username: &str,
        password: &str,
    ) -> Request<Full<Bytes>> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", &csrf.field)
            .append_pair("step", "signin")
            .append_pair("username", username)
            .append_pair("password", password)
            .finish();
        let mut request = form_request(path, host, Bytes::from(form));
        request
            .headers_mut()
            .insert(header::COOKIE, csrf.cookie.clone());
        request
    }

    /// Signs the user in and redeems the code; the refresh token.
    async fn sign_in_and_redeem(
        &self,
        identity: &Target,
        sender: &mut SendRequest<Full<Bytes>>,
    ) -> anyhow::Result<String> {
        let (verifier, challenge) = pkce()?;
        let path = self.authorize_path(&challenge);
        let csrf = self.csrf(identity, sender, &path).await?;
        let post = Self::sign_in_request(&path, identity.host_header(), &csrf, USER, PASSWORD);
        let (status, headers, body) = exchange(sender, post).await?;
        if classify_sign_in(status, &headers, &body) != Class::Ok {
            bail!(
                "signing in answered {status}: {}",
                crate::process::tail(&String::from_utf8_lossy(&body), 600)
            );
        }
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("no Location")?;
        let code = form_urlencoded::parse(
            location
                .split_once('?')
                .context("no query in the Location")?
                .1
                .as_bytes(),
        )
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .context("no code in the Location")?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("client_id", CONSOLE)
            .append_pair("code", &code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_verifier", &verifier)
            .append_pair("scope", &self.scope)
            .finish();
        let request = form_request(
            &format!("/{}/oauth2/v2.0/token", self.tenant),
            identity.host_header(),
            Bytes::from(form),
        );
        let (status, _, body) = exchange(sender, request).await?;
        let body = expect_ok("redeeming the code", (status, body))?;
        let json: serde_json::Value = serde_json::from_slice(&body)?;
        json.get("refresh_token")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .context("the code's answer has no refresh_token")
    }

    fn refresh_form(&self, refresh_token: &str) -> Bytes {
        Bytes::from(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "refresh_token")
                .append_pair("client_id", CONSOLE)
                .append_pair("refresh_token", refresh_token)
                .append_pair("scope", &self.scope)
                .finish(),
        )
    }
}

/// A form POST with the target's `Host`.
fn form_request(path: &str, host: &HeaderValue, form: Bytes) -> Request<Full<Bytes>> {
    let mut request = load::request(Method::POST, path, host, None, Some(form));
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
}

/// One request on an open connection: status, headers, body.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, HeaderMap, Bytes)> {
    let exchange = async {
        sender.ready().await.context("connection closed")?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        anyhow::Ok((parts.status, parts.headers, body))
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => bail!("no response within {REQUEST_TIMEOUT:?}"),
    }
}

/// What a sign-in form POST's answer says.
fn classify_sign_in(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Class {
    if status == StatusCode::SEE_OTHER {
        let has_code = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|location| location.contains("code="));
        return if has_code { Class::Ok } else { Class::Other };
    }
    if status != StatusCode::OK {
        return Class::Other;
    }
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    if contains(b"AADSTS50126") {
        Class::Wrong
    } else if contains(b"AADSTS50053") {
        Class::Locked
    } else if contains(b"AADSTS90033") {
        Class::Busy
    } else {
        Class::Other
    }
}

fn classify_get(status: StatusCode, _: &HeaderMap, _: &[u8]) -> Class {
    if status.is_success() {
        Class::Ok
    } else {
        Class::Other
    }
}

type Classify = fn(StatusCode, &HeaderMap, &[u8]) -> Class;

/// One stream of `drive`: its connections, requests, and how to read the answers.
struct Stream {
    target: Arc<Target>,
    senders: Vec<SendRequest<Full<Bytes>>>,
    make: MakeRequest,
    classify: Classify,
    /// At most one request per connection this often (`None`: closed loop).
    pace: Option<Duration>,
}

impl Stream {
    async fn open(
        target: &Arc<Target>,
        connections: usize,
        make: MakeRequest,
        classify: Classify,
        pace: Option<Duration>,
    ) -> anyhow::Result<Self> {
        let mut senders = Vec::with_capacity(connections);
        for _ in 0..connections {
            senders.push(target.connect().await?);
        }
        Ok(Self {
            target: Arc::clone(target),
            senders,
            make,
            classify,
            pace,
        })
    }
}

/// Runs `streams` at once, every connection a loop of requests, from now until `length`
/// has passed (requests sent before then are awaited); every answer is timestamped from the
/// start, and the CPU of `server_pid`, this process and the machine is sampled every
/// `CPU_SAMPLE`. A connection that fails is opened again.
async fn drive(
    streams: Vec<Stream>,
    length: Duration,
    server_pid: u32,
) -> anyhow::Result<(Vec<Driven>, Vec<CpuSample>)> {
    let start = Instant::now();
    let end = start + length;
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut next = start;
        loop {
            tokio::time::sleep_until(next.into()).await;
            samples.push(CpuSample {
                at: next.saturating_duration_since(start),
                server: stats::process_cpu(server_pid),
                client: stats::own_cpu(),
                machine: stats::machine_busy(),
            });
            if next >= end {
                break;
            }
            next = (next + CPU_SAMPLE).min(end);
        }
        samples
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (stream_index, stream) in streams.into_iter().enumerate() {
        for (index, mut sender) in stream.senders.into_iter().enumerate() {
            let (make, classify, target) = (
                stream.make.clone(),
                stream.classify,
                Arc::clone(&stream.target),
            );
            let pace = stream.pace;
            tasks.spawn(async move {
                let mut driven = Driven::default();
                let mut seq = 0u64;
                let mut broken = false;
                while seq < MAX_REQUESTS_PER_CONNECTION {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    if broken {
                        match target.connect().await {
                            Ok(fresh) => sender = fresh,
                            Err(err) => {
                                driven.first_other.get_or_insert(format!("{err:#}"));
                                break;
                            }
                        }
                    }
                    let request = make(index, seq);
                    seq += 1;
                    let result = exchange(&mut sender, request).await;
                    let done = Instant::now();
                    let class = match &result {
                        Ok((status, headers, body)) => classify(*status, headers, body),
                        Err(_) => Class::Other,
                    };
                    if class == Class::Other && driven.first_other.is_none() {
                        driven.first_other = Some(match &result {
                            Ok((status, _, body)) => format!(
                                "{status}: {}",
                                crate::process::tail(&String::from_utf8_lossy(body), 300)
                            ),
                            Err(err) => format!("{err:#}"),
                        });
                    }
                    broken = result.is_err();
                    driven.events.push(Event {
                        at_us: stats::micros_u32(done - start),
                        latency_us: stats::micros_u32(done - sent),
                        class,
                    });
                    if let Some(pace) = pace {
                        tokio::time::sleep_until((sent + pace).into()).await;
                    }
                }
                (stream_index, driven)
            });
        }
    }
    let mut merged: Vec<Driven> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (stream_index, driven) = joined.context("a load connection task failed")?;
        if merged.len() <= stream_index {
            merged.resize_with(stream_index + 1, Driven::default);
        }
        let into = &mut merged[stream_index];
        into.events.extend(driven.events);
        if into.first_other.is_none() {
            into.first_other = driven.first_other;
        }
    }
    let samples = sampler.await.context("the CPU sampler failed")?;
    Ok((merged, samples))
}

/// The sign-in form's POST with the right password on `--signin-connections` connections.
async fn sign_ins(
    flow: &Flow,
    identity: &Arc<Target>,
    args: &SigninArgs,
    server_pid: u32,
) -> anyhow::Result<SignIns> {
    let make = signin_requests(flow, identity, args.signin_connections, |_, _| {
        (USER.to_owned(), PASSWORD)
    })
    .await?;
    let stream = Stream::open(
        identity,
        args.signin_connections,
        make,
        classify_sign_in,
        None,
    )
    .await?;
    let (driven, samples) = drive(vec![stream], args.warmup + args.duration, server_pid).await?;
    let driven = driven.into_iter().next().unwrap_or_default();
    let (from, to) = (args.warmup, args.warmup + args.duration);
    let errors = driven
        .events
        .iter()
        .filter(|e| e.class != Class::Ok)
        .count() as u64;
    Ok(SignIns {
        connections: args.signin_connections,
        window: args.duration,
        signed_in: driven.count(from, to, Class::Ok),
        latencies: driven.latencies(from, to, Class::Ok),
        errors,
        first_error: driven.first_other,
        cpu: cpu_share(&samples, from, to),
    })
}

/// Requests posting the sign-in form: connection `c`'s request `n` signs in as
/// `who(c, n)`; each connection has its own authorization URL and the CSRF pair its `GET`
/// of the page gave it.
async fn signin_requests(
    flow: &Flow,
    identity: &Arc<Target>,
    connections: usize,
    who: fn(usize, u64) -> (String, &'static str),
) -> anyhow::Result<MakeRequest> {
    let mut pages = Vec::with_capacity(connections);
    let mut sender = identity.connect().await?;
    for _ in 0..connections {
        let (_, challenge) = pkce()?;
        let path = flow.authorize_path(&challenge);
        let csrf = flow.csrf(identity, &mut sender, &path).await?;
        pages.push((path, csrf));
    }
    let host = identity.host_header().clone();
    Ok(Arc::new(move |connection, seq| {
        let (path, csrf) = &pages[connection % pages.len()];
        let (username, password) = who(connection, seq);
        Flow::sign_in_request(path, &host, csrf, &username, password)
    }))
}

/// Secret GET alone, then the same GET during a wrong-password flood with the real user
/// signing in now and then.
async fn flood(
    flow: &Flow,
    identity: &Arc<Target>,
    vault: &Arc<Target>,
    make_get: MakeRequest,
    args: &SigninArgs,
    server_pid: u32,
) -> anyhow::Result<Flood> {
    let (from, to) = (args.warmup, args.warmup + args.duration);
    let get = Stream::open(
        vault,
        args.connections,
        make_get.clone(),
        classify_get,
        None,
    )
    .await?;
    let (driven, samples) = drive(vec![get], to, server_pid).await?;
    let alone = period("secret GET alone", &driven, &samples, from, to, args.warmup);
    eprintln!(
        "secret GET alone, {} connections: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        args.connections,
        alone.rate(alone.get_requests),
        alone.get_latencies.percentile(50.0).as_secs_f64() * 1000.0,
        alone.get_latencies.percentile(99.0).as_secs_f64() * 1000.0,
    );

    // A fresh unknown name for every guess: no name gets near the per-name lockout.
    let guesses = signin_requests(flow, identity, args.flood_connections, |c, n| {
        (format!("guess-{c}-{n}@contoso.com"), WRONG_PASSWORD)
    })
    .await?;
    let probe = signin_requests(flow, identity, 1, |_, _| (USER.to_owned(), PASSWORD)).await?;
    let streams = vec![
        Stream::open(vault, args.connections, make_get, classify_get, None).await?,
        Stream::open(
            identity,
            args.flood_connections,
            guesses,
            classify_sign_in,
            None,
        )
        .await?,
        Stream::open(identity, 1, probe, classify_sign_in, Some(PROBE_INTERVAL)).await?,
    ];
    let (from, to) = (args.warmup, args.warmup + args.flood_duration);
    let (driven, samples) = drive(streams, to, server_pid).await?;
    let whole = period("whole flood", &driven, &samples, from, to, args.warmup);
    let tripped = driven.get(1).and_then(|flood| flood.first(Class::Locked));
    let failures_before_trip = driven.get(1).map_or(0, |flood| {
        flood.count(Duration::ZERO, tripped.unwrap_or(to), Class::Wrong)
    });
    // The guard counts failures in a fixed window opened by the first one: when it closes,
    // guesses are checked again. Wrong answers later than `DRAIN` after the trip are that.
    let wrong_times: Vec<Duration> = driven.get(1).map_or_else(Vec::new, |flood| {
        let mut times: Vec<Duration> = flood
            .events
            .iter()
            .filter(|e| e.class == Class::Wrong)
            .map(|e| Duration::from_micros(u64::from(e.at_us)))
            .collect();
        times.sort();
        times
    });
    let reopened = tripped.and_then(|at| wrong_times.iter().copied().find(|t| *t > at + DRAIN));
    let (before, after) = match tripped {
        Some(at) => {
            let before = (at > from).then(|| {
                period(
                    "flood, before the guard's global limit",
                    &driven,
                    &samples,
                    from,
                    at.min(to),
                    args.warmup,
                )
            });
            // Guesses already past the guard when it tripped still wait for their turn at
            // Argon2id: "after" starts once the last of them is answered.
            let drained = wrong_times
                .iter()
                .copied()
                .filter(|t| *t >= at && *t <= at + DRAIN)
                .max()
                .unwrap_or(at);
            let settled = (drained.max(at) + SETTLE).max(from);
            let until = reopened.unwrap_or(to).min(to);
            let after = (settled + Duration::from_secs(1) < until).then(|| {
                period(
                    "flood, after it",
                    &driven,
                    &samples,
                    settled,
                    until,
                    args.warmup,
                )
            });
            (before, after)
        }
        None => (None, None),
    };
    for p in std::iter::once(&whole).chain(&before).chain(&after) {
        eprintln!(
            "{} ({:.1}–{:.1} s): GET {:.0} req/s p50 {:.2} ms p99 {:.2} ms; flood: wrong {:.1}/s, \
             locked {:.1}/s, busy {:.1}/s, other {}; real user {}/{} signed in, p50 {:.0} ms; \
             server {:.2} CPUs, other load {:.2} CPUs",
            p.label,
            p.from.as_secs_f64(),
            p.to.as_secs_f64(),
            p.rate(p.get_requests),
            p.get_latencies.percentile(50.0).as_secs_f64() * 1000.0,
            p.get_latencies.percentile(99.0).as_secs_f64() * 1000.0,
            p.rate(p.flood_wrong),
            p.rate(p.flood_locked),
            p.rate(p.flood_busy),
            p.flood_other,
            p.probe_signed_in,
            p.probe_attempts,
            p.probe_latencies.percentile(50.0).as_secs_f64() * 1000.0,
            p.cpu.server.unwrap_or(f64::NAN),
            p.cpu.other.unwrap_or(f64::NAN),
        );
    }
    let first_other = driven.iter().find_map(|d| d.first_other.clone());
    Ok(Flood {
        alone,
        whole,
        before,
        after,
        tripped_at: tripped.map(|at| at.saturating_sub(args.warmup)),
        reopened_at: reopened.map(|at| at.saturating_sub(args.warmup)),
        failures_before_trip,
        first_other,
    })
}

/// The figures of `[from, to)` (since the phase began) from the streams GET, flood, probe
/// (the last two may be absent); `warmup` is where the measured window starts, for labels.
fn period(
    label: &str,
    driven: &[Driven],
    samples: &[CpuSample],
    from: Duration,
    to: Duration,
    warmup: Duration,
) -> Period {
    let empty = Driven::default();
    let get = driven.first().unwrap_or(&empty);
    let flood = driven.get(1).unwrap_or(&empty);
    let probe = driven.get(2).unwrap_or(&empty);
    let classes = [
        Class::Ok,
        Class::Wrong,
        Class::Locked,
        Class::Busy,
        Class::Other,
    ];
    let probe_attempts = classes.iter().map(|c| probe.count(from, to, *c)).sum();
    Period {
        label: label.to_owned(),
        from: from.saturating_sub(warmup),
        to: to.saturating_sub(warmup),
        get_requests: get.count(from, to, Class::Ok),
        get_latencies: get.latencies(from, to, Class::Ok),
        get_errors: get.count(from, to, Class::Other),
        flood_wrong: flood.count(from, to, Class::Wrong),
        flood_locked: flood.count(from, to, Class::Locked),
        flood_busy: flood.count(from, to, Class::Busy),
        flood_other: flood.count(from, to, Class::Other) + flood.count(from, to, Class::Ok),
        flood_wrong_latencies: flood.latencies(from, to, Class::Wrong),
        probe_attempts,
        probe_signed_in: probe.count(from, to, Class::Ok),
        probe_latencies: probe.latencies(from, to, Class::Ok),
        cpu: cpu_share(samples, from, to),
    }
}

fn progress(label: &str, result: &PhaseResult) {
    eprintln!(
        "{label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.1} µs/req, other load \
         {:.2} CPUs, {} errors{}",
        result.per_second(),
        result.latencies.percentile(50.0).as_secs_f64() * 1000.0,
        result.latencies.percentile(99.0).as_secs_f64() * 1000.0,
        result
            .server_cpu_per_request()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e6),
        result.other_cpus().unwrap_or(f64::NAN),
        result.errors,
        result
            .first_error
            .as_deref()
            .map(|err| format!(" (first: {})", crate::process::tail(err, 300)))
            .unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_answers_are_told_apart() {
        let mut redirect = HeaderMap::new();
        redirect.insert(
            header::LOCATION,
            HeaderValue::from_static("https://localhost:1/?code=abc&state=s"),
        );
        assert_eq!(
            classify_sign_in(StatusCode::SEE_OTHER, &redirect, b""),
            Class::Ok
        );
        assert_eq!(
            classify_sign_in(StatusCode::SEE_OTHER, &HeaderMap::new(), b""),
            Class::Other
        );
        let page =
            |text: &str| classify_sign_in(StatusCode::OK, &HeaderMap::new(), text.as_bytes());
        assert_eq!(
            page("<p id=error>incorrect. (AADSTS50126)</p>"),
            Class::Wrong
        );
        assert_eq!(
            page("locked. Try again later. (AADSTS50053)"),
            Class::Locked
        );
        assert_eq!(page("Please try again. (AADSTS90033)"), Class::Busy);
        assert_eq!(page("<form>"), Class::Other);
        assert_eq!(
            classify_sign_in(StatusCode::BAD_REQUEST, &HeaderMap::new(), b"AADSTS50126"),
            Class::Other
        );
    }

    #[test]
    fn cpu_share_uses_the_samples_inside_the_range() {
        let sample = |at_ms: u64, server_ms: u64, client_ms: u64, machine_ms: u64| CpuSample {
            at: Duration::from_millis(at_ms),
            server: Some(Duration::from_millis(server_ms)),
            client: Some(Duration::from_millis(client_ms)),
            machine: Some(Duration::from_millis(machine_ms)),
        };
        let samples = [
            sample(0, 0, 0, 0),
            sample(1000, 1500, 200, 1900),
            sample(2000, 3000, 400, 3800),
        ];
        let share = cpu_share(&samples, Duration::from_millis(500), Duration::from_secs(2));
        assert_eq!(share.server, Some(1.5));
        assert_eq!(share.client, Some(0.2));
        assert!((share.other.unwrap() - 0.2).abs() < 1e-9);
        let none = cpu_share(
            &samples,
            Duration::from_millis(1500),
            Duration::from_millis(1900),
        );
        assert!(none.server.is_none());
    }

    #[test]
    fn periods_count_what_arrived_inside_them() {
        let event = |at_ms: u32, class| Event {
            at_us: at_ms * 1000,
            latency_us: 5_000,
            class,
        };
        let flood = Driven {
            events: vec![
                event(100, Class::Wrong),
                event(1500, Class::Wrong),
                event(2500, Class::Locked),
                event(2600, Class::Locked),
            ],
            first_other: None,
        };
        assert_eq!(
            flood.first(Class::Locked),
            Some(Duration::from_millis(2500))
        );
        let driven = [Driven::default(), flood];
        let p = period(
            "p",
            &driven,
            &[],
            Duration::from_secs(1),
            Duration::from_secs(3),
            Duration::from_secs(1),
        );
        assert_eq!((p.flood_wrong, p.flood_locked), (1, 2));
        assert_eq!((p.from, p.to), (Duration::ZERO, Duration::from_secs(2)));
        assert!((p.rate(p.flood_locked) - 1.0).abs() < 1e-9);
    }
}
