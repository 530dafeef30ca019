//! A bounded soak: the real server under a steady GET and SET load for minutes, its resident
//! memory and open file descriptors sampled after every slice, next to the idle figures taken
//! before any load. A leak shows as a rising line; the report gives first, last and peak, and
//! says whether the end stayed within 10 % (+ 4 MiB / + 16 descriptors) of the first loaded
//! sample.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Method};

use crate::http::{StartedServer, admin_credential, cli, expect_ok, fetch_token, start_server};
use crate::load::{self, MakeRequest, Phase, Target};

const VAULT: &str = "soak";
const API_VERSION: &str = "2025-07-01";
/// Names the SET half cycles through: each write makes a new version of one of them.
const SET_NAMES: u64 = 64;
/// How far the end may drift above the first loaded sample and still count as flat.
const FLAT_RATIO: f64 = 1.10;
const FLAT_RSS_SLACK_KIB: u64 = 4 * 1024;
const FLAT_FD_SLACK: u64 = 16;

/// Flags of `strongroom-bench soak`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SoakArgs {
    /// The `strongroom` binary.
    #[arg(long, default_value = "target/release/strongroom")]
    pub(crate) server_bin: PathBuf,
    /// How long the load runs in total.
    #[arg(long, default_value = "3m", value_parser = crate::parse_duration)]
    pub(crate) soak_duration: Duration,
    /// One sample per slice (half GET, half SET).
    #[arg(long, default_value = "20s", value_parser = crate::parse_duration)]
    pub(crate) slice: Duration,
    /// Keep-alive connections of the load.
    #[arg(long, default_value_t = 32)]
    pub(crate) soak_connections: usize,
    /// Where the data directory goes (a real disk).
    #[arg(long, default_value = "target/bench-work")]
    pub(crate) work_dir: PathBuf,
    /// Add (or replace) the "Soak" section of this Markdown file.
    #[arg(long)]
    pub(crate) append_markdown: Option<PathBuf>,
}

/// One sample of the server process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    elapsed: Duration,
    rss_kib: u64,
    fds: u64,
    requests: u64,
    errors: u64,
}

pub(crate) fn run(args: &SoakArgs) -> anyhow::Result<String> {
    let server_bin = std::fs::canonicalize(&args.server_bin)
        .with_context(|| format!("{} not found", args.server_bin.display()))?;
    std::fs::create_dir_all(&args.work_dir)?;
    crate::disk::require_disk(&args.work_dir)?;
    let work = tempfile::Builder::new()
        .prefix("strongroom-soak-")
        .tempdir_in(&args.work_dir)?;
    let StartedServer {
        server,
        data_dir,
        port,
        tenant,
    } = start_server(&server_bin, work.path())?;
    let pid = server.pid();
    cli(
        &server_bin,
        &data_dir,
        &["keyvault", "create", "--name", VAULT],
    )?;
    // Idle: started, one vault, no load yet.
    std::thread::sleep(Duration::from_secs(2));
    let idle = (rss_kib(pid)?, open_fds(pid)?);
    eprintln!("soak: idle RSS {} KiB, {} fds", idle.0, idle.1);

    let (client_id, client_secret) = admin_credential(&data_dir)?;
    let ca_pem = data_dir.join("ca.pem");
    let identity = Target::new(port, "localhost", &ca_pem)?;
    let vault = Arc::new(Target::new(
        port,
        &format!("{VAULT}.vault.localhost"),
        &ca_pem,
    )?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let half = Phase {
        connections: args.soak_connections,
        warmup: Duration::ZERO,
        duration: args.slice / 2,
    };
    let samples = runtime.block_on(async {
        let token = fetch_token(&identity, &tenant, port, &client_id, &client_secret, None).await?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))?;
        let value = Bytes::from(r#"{"value":"soak-value-0123456789abcdef"}"#);
        for n in 0..SET_NAMES {
            let seed = load::request(
                Method::PUT,
                &format!("/secrets/s{n}?api-version={API_VERSION}"),
                vault.host_header(),
                Some(&bearer),
                Some(value.clone()),
            );
            expect_ok("seeding", vault.request_once(seed).await?)?;
        }
        let host = vault.host_header().clone();
        let get_bearer = bearer.clone();
        let get_host = host.clone();
        let get: MakeRequest = Arc::new(move |connection, seq| {
            let n = (connection as u64 + seq) % SET_NAMES;
            load::request(
                Method::GET,
                &format!("/secrets/s{n}?api-version={API_VERSION}"),
                &get_host,
                Some(&get_bearer),
                None,
            )
        });
        let set: MakeRequest = Arc::new(move |connection, seq| {
            let n = (connection as u64 * 7 + seq) % SET_NAMES;
            load::request(
                Method::PUT,
                &format!("/secrets/s{n}?api-version={API_VERSION}"),
                &host,
                Some(&bearer),
                Some(value.clone()),
            )
        });
        let started = std::time::Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < args.soak_duration {
            let reads = load::run_phase(vault.clone(), half, get.clone(), pid).await?;
            let writes = load::run_phase(vault.clone(), half, set.clone(), pid).await?;
            let sample = Sample {
                elapsed: started.elapsed(),
                rss_kib: rss_kib(pid)?,
                fds: open_fds(pid)?,
                requests: reads.requests + writes.requests,
                errors: reads.errors + writes.errors,
            };
            eprintln!(
                "soak: {:>4.0} s  RSS {} KiB  {} fds  {} requests  {} errors",
                sample.elapsed.as_secs_f64(),
                sample.rss_kib,
                sample.fds,
                sample.requests,
                sample.errors
            );
            samples.push(sample);
        }
        anyhow::Ok(samples)
    })?;
    drop(server);
    let markdown = markdown(args, idle, &samples);
    if let Some(path) = &args.append_markdown {
        write_section(path, &markdown)?;
        eprintln!("soak: wrote its section of {}", path.display());
    } else {
        println!("{markdown}");
    }
    Ok(markdown)
}

fn markdown(args: &SoakArgs, idle: (u64, u64), samples: &[Sample]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Soak\n");
    let _ = writeln!(
        out,
        "`strongroom-bench soak --soak-duration {}s --slice {}s --soak-connections {}`: the release \
         server under a steady load (each slice: half GET over {SET_NAMES} secrets, half SET making \
         new versions of them), sampled after every slice from `/proc/PID/status` (VmRSS) and \
         `/proc/PID/fd`. Goal: idle RSS under 50 MB; RSS and descriptors flat under load.\n",
        args.soak_duration.as_secs(),
        args.slice.as_secs(),
        args.soak_connections
    );
    let _ = writeln!(
        out,
        "| | RSS (MiB) | open fds | requests | errors |\n|---|---:|---:|---:|---:|"
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "| idle (started, one vault) | {:.1} | {} | | |",
        mib(idle.0),
        idle.1
    );
    for sample in samples {
        let _ = writeln!(
            out,
            "| after {:.0} s | {:.1} | {} | {} | {} |",
            sample.elapsed.as_secs_f64(),
            mib(sample.rss_kib),
            sample.fds,
            sample.requests,
            sample.errors
        );
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let peak = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        let rss_flat = (last.rss_kib as f64) <= first.rss_kib as f64 * FLAT_RATIO
            || last.rss_kib <= first.rss_kib + FLAT_RSS_SLACK_KIB;
        let fds_flat = last.fds <= first.fds + FLAT_FD_SLACK;
        let total: u64 = samples.iter().map(|s| s.requests).sum();
        let _ = writeln!(
            out,
            "\nIdle RSS {:.1} MiB ({}). Under load: RSS {:.1} MiB at the first sample, {:.1} MiB at \
             the last, peak {:.1} MiB: {}. Open descriptors {} → {}: {}. {total} requests in all.",
            mib(idle.0),
            if idle.0 < 50 * 1024 {
                "under the 50 MB goal"
            } else {
                "over the 50 MB goal"
            },
            mib(first.rss_kib),
            mib(last.rss_kib),
            mib(peak),
            if rss_flat { "flat" } else { "RISING" },
            first.fds,
            last.fds,
            if fds_flat { "flat" } else { "RISING" },
        );
    }
    out
}

/// Replaces the `## Soak` section of `path` (to the next `## ` heading or the end), or
/// appends it.
fn write_section(path: &Path, section: &str) -> anyhow::Result<()> {
    crate::report::replace_section(path, "## Soak", section)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

fn open_fds(pid: u32) -> anyhow::Result<u64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soak_section_is_replaced_in_place_or_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        std::fs::write(&path, "# Bench\n\n## A\na\n").unwrap();
        write_section(&path, "## Soak\n\none\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# Bench\n\n## A\na\n\n## Soak\n\none\n"
        );
        std::fs::write(&path, "# Bench\n\n## Soak\n\nold\n\n## Z\nz\n").unwrap();
        write_section(&path, "## Soak\n\nnew\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# Bench\n\n## Soak\n\nnew\n\n## Z\nz\n"
        );
    }
}
