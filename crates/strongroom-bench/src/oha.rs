//! A second load generator: `oha` (crates.io, `cargo install oha --locked --root
//! target/tools`), run as its own process against the real server and the bare endpoint with
//! the same request (path, `Host`, real bearer token), so our generator's figures can be
//! checked against a tool we did not write.
//!
//! oha connects to `https://127.0.0.1:PORT` with `--insecure` (its TLS stack, not ours, and no
//! SNI: both servers then present their default certificate) and the `Host` header of the
//! target, HTTP/1.1 keep-alive, `-c` connections for `-z` seconds, and prints JSON. The
//! server's CPU is sampled from procfs just before oha starts and just after it exits (so
//! oha's 64 TLS handshakes are inside the window: a few milliseconds of 10 s).

use crate::stats;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One oha run.
#[derive(Debug, Clone)]
pub(crate) struct OhaResult {
    /// Responses with a 2xx status.
    pub(crate) ok: u64,
    /// Other statuses and transport errors.
    pub(crate) errors: u64,
    pub(crate) window: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) server_cpu: Option<Duration>,
    pub(crate) other_cpu: Option<Duration>,
    /// oha's own CPU, the last procfs sample before it exited (a lower bound).
    pub(crate) client_cpu: Option<Duration>,
}

impl OhaResult {
    pub(crate) fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    pub(crate) fn server_cpu_per_request(&self) -> Option<Duration> {
        let ok = u32::try_from(self.ok).ok().filter(|n| *n > 0)?;
        self.server_cpu.map(|cpu| cpu / ok)
    }

    pub(crate) fn client_cpu_per_request(&self) -> Option<Duration> {
        let ok = u32::try_from(self.ok).ok().filter(|n| *n > 0)?;
        self.client_cpu.map(|cpu| cpu / ok)
    }

    pub(crate) fn other_cpus(&self) -> Option<f64> {
        self.other_cpu
            .map(|cpu| cpu.as_secs_f64() / self.window.as_secs_f64())
    }
}

/// The oha binary: `--oha PATH`, else `target/tools/bin/oha`, else `oha` on `PATH`.
pub(crate) fn locate(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("{} does not exist", path.display()))
        };
    }
    let local = PathBuf::from("target/tools/bin/oha");
    if local.is_file() {
        return Ok(local);
    }
    match Command::new("oha").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(PathBuf::from("oha")),
        _ => Err(
            "oha is neither at target/tools/bin/oha nor on PATH (build it with \
             `cargo install oha --locked --root target/tools`)"
                .to_owned(),
        ),
    }
}

/// `oha --version`, for the report.
pub(crate) fn version(oha: &Path) -> String {
    Command::new(oha)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |out| String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
}

/// Runs oha against `https://127.0.0.1:{port}{path}` for `duration`.
#[allow(
    clippy::too_many_arguments,
    reason = "the binary, where to, the request's three parts, the load, and whose CPU to count"
)]
pub(crate) fn run(
    oha: &Path,
    port: u16,
    path: &str,
    host_header: &str,
    authorization: &str,
    connections: usize,
    duration: Duration,
    server_pid: u32,
) -> anyhow::Result<OhaResult> {
    let seconds = duration.as_secs().max(1);
    let mut child = Command::new(oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--http-version",
            "1.1",
        ])
        .args(["-c", &connections.to_string(), "-z", &format!("{seconds}s")])
        .args(["--insecure", "-H", &format!("Host: {host_header}")])
        .args(["-H", &format!("Authorization: {authorization}")])
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", oha.display()))?;
    let started = Instant::now();
    let server_before = stats::process_cpu(server_pid);
    let machine_before = stats::machine_busy();
    // Sample oha's CPU until it exits; the last sample is the closest we get to its total.
    let oha_pid = child.id();
    let mut client_cpu = None;
    let deadline = started + duration + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("oha did not finish within a minute of its duration");
        }
        if let Some(cpu) = stats::process_cpu(oha_pid) {
            client_cpu = Some(cpu);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let server_after = stats::process_cpu(server_pid);
    let machine_after = stats::machine_busy();
    let output = child.wait_with_output()?;
    if !status.success() {
        bail!(
            "oha failed ({status}): {}",
            crate::process::tail(&String::from_utf8_lossy(&output.stderr), 1000)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "oha's output is not JSON: {}",
            crate::process::tail(&String::from_utf8_lossy(&output.stdout), 500)
        )
    })?;
    let delta = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
    let server_cpu = delta(server_before, server_after);
    let machine = delta(machine_before, machine_after);
    let mut result = parse(&json)?;
    result.server_cpu = server_cpu;
    result.client_cpu = client_cpu;
    result.other_cpu = (|| Some(machine?.saturating_sub(server_cpu? + client_cpu?)))();
    Ok(result)
}

fn seconds(value: Option<&serde_json::Value>) -> Duration {
    value
        .and_then(serde_json::Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::ZERO, Duration::from_secs_f64)
}

/// The figures we use from oha's JSON (`summary.total`, `latencyPercentiles`,
/// `statusCodeDistribution`, `errorDistribution`).
fn parse(json: &serde_json::Value) -> anyhow::Result<OhaResult> {
    let window = seconds(json.pointer("/summary/total"));
    anyhow::ensure!(window > Duration::ZERO, "oha reported no duration: {json}");
    let mut ok = 0;
    let mut errors = 0;
    if let Some(codes) = json
        .get("statusCodeDistribution")
        .and_then(serde_json::Value::as_object)
    {
        for (code, count) in codes {
            let count = count.as_u64().unwrap_or(0);
            if code.starts_with('2') {
                ok += count;
            } else {
                errors += count;
            }
        }
    }
    if let Some(kinds) = json
        .get("errorDistribution")
        .and_then(serde_json::Value::as_object)
    {
        // In `-z` mode oha cuts the requests in flight at the deadline and files them under
        // "aborted due to deadline": the end of the window, not failures.
        errors += kinds
            .iter()
            .filter(|(kind, _)| !kind.contains("deadline"))
            .filter_map(|(_, count)| count.as_u64())
            .sum::<u64>();
    }
    Ok(OhaResult {
        ok,
        errors,
        window,
        p50: seconds(json.pointer("/latencyPercentiles/p50")),
        p99: seconds(json.pointer("/latencyPercentiles/p99")),
        server_cpu: None,
        other_cpu: None,
        client_cpu: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_oha_json() {
        let json = serde_json::json!({
            "summary": {"successRate": 1.0, "total": 10.0, "requestsPerSec": 1000.0},
            "latencyPercentiles": {"p50": 0.0005, "p99": 0.002},
            "statusCodeDistribution": {"200": 9990, "401": 10},
            "errorDistribution": {"aborted due to deadline": 64}
        });
        let result = parse(&json).unwrap();
        assert_eq!(result.ok, 9990);
        assert_eq!(result.errors, 10);
        assert_eq!(result.p50, Duration::from_micros(500));
        assert!((result.per_second() - 999.0).abs() < 1e-9);
    }
}
