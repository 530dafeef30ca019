//! One `strongroom serve` process on a fresh data directory, plus the CLI pointed at it.
//!
//! The binary is `$STRONGROOM_BIN`, else the main workspace's `target/debug/strongroom`
//! (`cargo build -p strongroom`). `serve --listen 127.0.0.1:0` picks a free port; the server
//! prints `strongroom ready: {server.json}` once it answers (docs/CONTRACTS.md "Start-up and
//! readiness"), and every line of its stdout and stderr goes to log files that a failure shows.
//! The process is killed when the [`StrongroomServer`] is dropped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

const READY_PREFIX: &str = "strongroom ready: ";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables of the test runner's own environment that would steer the CLI or the SDK elsewhere.
pub(crate) const FOREIGN_VARIABLES: &[&str] = &[
    "STRONGROOM_DATA_DIR",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "https_proxy",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The facts of `server.json`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub port: u16,
    /// `https://localhost:PORT`: the identity provider and management API.
    pub authority_host: String,
    /// The deployment's tenant GUID (transparent mode's `AZURE_TENANT_ID`).
    pub tenant_id: String,
    /// `ca.pem`: the TLS trust root.
    pub ca_file: PathBuf,
}

/// What one CLI command did.
#[derive(Debug)]
pub struct CliOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

pub struct StrongroomServer {
    binary: PathBuf,
    root: TempDir,
    child: Child,
    pub info: ServerInfo,
}

/// Read `child`'s stdout until the line that starts with `prefix`, then keep draining it; every
/// line goes to `log`. The receiver gets what follows the prefix (the readiness JSON) once.
pub(crate) fn announce_ready(
    child: &mut Child,
    prefix: &'static str,
    log: PathBuf,
) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stdout_log = File::create(log).expect("stdout log");
    let (ready_tx, ready_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut ready_tx = Some(ready_tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(stdout_log, "{line}");
            if let Some(json) = line.strip_prefix(prefix)
                && let Some(tx) = ready_tx.take()
            {
                let _ = tx.send(json.to_owned());
            }
        }
    });
    ready_rx
}

/// `$STRONGROOM_BIN`, else `target/debug/strongroom` of the workspace this crate sits in.
pub fn strongroom_binary() -> PathBuf {
    let binary = match std::env::var_os("STRONGROOM_BIN") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/strongroom"),
    };
    assert!(
        binary.is_file(),
        "no strongroom binary at {} (build it with `cargo build -p strongroom`, or set STRONGROOM_BIN)",
        binary.display()
    );
    binary
}

impl StrongroomServer {
    /// Start `strongroom serve --data-dir <tmp>/data --listen 127.0.0.1:0` and wait for it to be ready.
    pub fn start() -> Self {
        let binary = strongroom_binary();
        let root = tempfile::Builder::new()
            .prefix("strongroom-sdk-rust-")
            .tempdir()
            .expect("temporary directory");
        let data_dir = root.path().join("data");
        let stderr_log = File::create(root.path().join("server-stderr.log")).expect("stderr log");
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_log);
        for name in FOREIGN_VARIABLES {
            command.env_remove(name);
        }
        if std::env::var_os("STRONGROOM_LOG").is_none() {
            command.env("STRONGROOM_LOG", "info,strongroom=debug");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));

        let ready_rx = announce_ready(
            &mut child,
            READY_PREFIX,
            root.path().join("server-stdout.log"),
        );
        let ready = ready_rx.recv_timeout(READY_TIMEOUT);
        let mut server = Self {
            binary,
            root,
            child,
            info: ServerInfo {
                port: 0,
                authority_host: String::new(),
                tenant_id: String::new(),
                ca_file: PathBuf::new(),
            },
        };
        let json = match ready {
            Ok(json) => json,
            Err(_) => panic!(
                "strongroom printed no `{READY_PREFIX}` line within {READY_TIMEOUT:?}\n{}",
                server.log_tail()
            ),
        };
        let info: Value = serde_json::from_str(&json).expect("ready line is JSON");
        let text = |name: &str| {
            info[name]
                .as_str()
                .unwrap_or_else(|| panic!("`{name}` missing in {json}"))
                .to_owned()
        };
        server.info = ServerInfo {
            port: u16::try_from(info["port"].as_u64().expect("port")).expect("port fits u16"),
            authority_host: text("authorityHost"),
            tenant_id: text("tenantId"),
            ca_file: PathBuf::from(text("caFile")),
        };
        server
    }

    /// The binary this server runs (`$STRONGROOM_BIN`).
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The server's temporary directory (its data directory is `data` in it), removed at drop.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// `strongroom --data-dir DATA ARGS...`; panics (with its output) unless it exits 0.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        let out = self.cli_unchecked(args);
        assert!(
            out.status.success(),
            "`strongroom {}` exited {}\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            out.stdout,
            out.stderr
        );
        out
    }

    pub fn cli_unchecked(&self, args: &[&str]) -> CliOutput {
        let data_dir = self.data_dir();
        let mut command = Command::new(&self.binary);
        for name in FOREIGN_VARIABLES {
            command.env_remove(name);
        }
        command
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .env("STRONGROOM_DATA_DIR", &data_dir)
            .stdin(Stdio::null());
        let out = command.output().expect("run the strongroom CLI");
        CliOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The CLI's JSON output.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let out = self.cli(args);
        serde_json::from_str(&out.stdout).unwrap_or_else(|err| {
            panic!(
                "`strongroom {}` printed no JSON ({err}): {:?}",
                args.join(" "),
                out.stdout
            )
        })
    }

    /// `strongroom env ARGS...` as a map of variable names to values.
    pub fn env(&self, args: &[&str]) -> BTreeMap<String, String> {
        let mut argv = vec!["env"];
        argv.extend_from_slice(args);
        parse_env_exports(&self.cli(&argv).stdout)
    }

    /// `keyvault create --name <prefix>-<hex>`: the new vault's name.
    pub fn create_vault(&self, prefix: &str) -> String {
        let name = crate::unique_name(prefix);
        let vault = self.cli_json(&["keyvault", "create", "--name", &name]);
        assert_eq!(
            vault["name"],
            name.as_str(),
            "keyvault create printed {vault}"
        );
        name
    }

    /// `ad sp create-for-rbac --name <prefix>-<hex>`: `(appId, password)`.
    pub fn create_service_principal(&self, prefix: &str) -> (String, String) {
        let name = crate::unique_name(prefix);
        let sp = self.cli_json(&["ad", "sp", "create-for-rbac", "--name", &name]);
        let field = |key: &str| {
            sp[key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in {sp}"))
                .to_owned()
        };
        (field("appId"), field("password"))
    }

    /// The last few kilobytes of the server's stdout and stderr.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        for name in ["server-stdout.log", "server-stderr.log"] {
            let mut bytes = Vec::new();
            if let Ok(mut file) = File::open(self.root.path().join(name)) {
                let _ = file.read_to_end(&mut bytes);
            }
            let tail = &bytes[bytes.len().saturating_sub(4000)..];
            text.push_str(&format!(
                "--- {name} (tail) ---\n{}\n",
                String::from_utf8_lossy(tail)
            ));
        }
        text
    }
}

impl Drop for StrongroomServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parse `export NAME='value'` lines (single-quoted for the shell, `'\''` for a quote).
pub fn parse_env_exports(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let assignment = line
            .strip_prefix("export ")
            .unwrap_or_else(|| panic!("unexpected line in `strongroom env` output: {line:?}"));
        let (name, quoted) = assignment
            .split_once('=')
            .unwrap_or_else(|| panic!("not NAME=value: {line:?}"));
        let value = quoted
            .strip_prefix('\'')
            .and_then(|rest| rest.strip_suffix('\''))
            .map_or_else(|| quoted.to_owned(), |inner| inner.replace("'\\''", "'"));
        env.insert(name.to_owned(), value);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::parse_env_exports;

    #[test]
    fn parses_shell_quoted_exports() {
        let env = parse_env_exports(
            "export AZURE_TENANT_ID='adfs'\nexport NO_PROXY=''\nexport X='it'\\''s'\n",
        );
        assert_eq!(env["AZURE_TENANT_ID"], "adfs");
        assert_eq!(env["NO_PROXY"], "");
        assert_eq!(env["X"], "it's");
    }
}
