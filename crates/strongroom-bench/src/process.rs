//! Child servers: spawn, wait for the readiness line on stdout, stop on drop.
//!
//! Both the real server (`strongroom ready: {json}`) and the bare endpoint
//! (`bare ready: {json}`) announce themselves with one line; we read stdout on a thread (which
//! keeps draining it afterwards, so the child never blocks on a full pipe) and give up after a
//! timeout. Stopping sends SIGTERM to the child's own pid, then kills it if it lingers.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running child server; stopped when dropped.
pub(crate) struct ChildServer {
    name: String,
    child: Child,
    /// The JSON after the readiness prefix.
    pub(crate) ready: serde_json::Value,
}

impl ChildServer {
    /// Spawns `command` (stderr to `stderr_log`) and waits for the stdout line starting with
    /// `ready_prefix`.
    pub(crate) fn spawn(
        name: &str,
        mut command: Command,
        ready_prefix: &'static str,
        stderr_log: &Path,
    ) -> anyhow::Result<Self> {
        let log = std::fs::File::create(stderr_log)
            .with_context(|| format!("creating {}", stderr_log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        let stdout = child
            .stdout
            .take()
            .context("the child's stdout is not piped")?;
        let (ready_tx, ready_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(json) = line.strip_prefix(ready_prefix)
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(json.to_owned());
                }
            }
        });
        let mut server = Self {
            name: name.to_owned(),
            child,
            ready: serde_json::Value::Null,
        };
        let json = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(json) => json,
            Err(_) => {
                let log = std::fs::read_to_string(stderr_log).unwrap_or_default();
                bail!(
                    "{name} did not print {ready_prefix:?} within {READY_TIMEOUT:?}; its stderr:\n{}",
                    tail(&log, 2000)
                );
            }
        };
        server.ready = serde_json::from_str(&json)
            .with_context(|| format!("{name}'s readiness line is not JSON: {json}"))?;
        Ok(server)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `port` field of the readiness JSON.
    pub(crate) fn port(&self) -> anyhow::Result<u16> {
        self.ready
            .get("port")
            .and_then(serde_json::Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .with_context(|| format!("{} announced no port: {}", self.name, self.ready))
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `max` bytes of `text`, on a character boundary.
pub(crate) fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
