//! One `strongroom agent` process serving one managed identity (the Rust twin of the `Agent` of
//! `tests/sdk-python/test_managed_identity.py` and `tests/sdk-js/harness/strongroom.js`).
//!
//! `strongroom --data-dir DATA agent --identity N --server AUTHORITY --listen 127.0.0.1:0
//! --agent-dir ROOT/agent --arc-key-dir ROOT/arc-keys`: the agent makes a client secret for the
//! identity with the data directory's administrator credential, writes `agent.json` (0600, with
//! the App Service `identityHeader`) into its directory, prints `strongroom agent ready: {json}`
//! and serves the App Service protocol (`/msi/token` with `X-IDENTITY-HEADER`) on a free port.
//! `strongroom env --agent --agent-dir ROOT/agent` prints the variables a program needs. The
//! process is killed when the [`Agent`] is dropped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::server::{FOREIGN_VARIABLES, StrongroomServer, announce_ready};

const AGENT_READY_PREFIX: &str = "strongroom agent ready: ";
const AGENT_READY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Agent {
    child: Child,
    root: PathBuf,
    /// The `strongroom agent ready:` JSON: `port`, `clientId`, `principalId`, `agentDir` …
    pub info: Value,
}

impl Agent {
    /// Start an agent for the identity `identity` (a name `identity create` made) of `server`,
    /// in `server.root()/<dir_name>`, and wait for its ready line.
    pub fn start(server: &StrongroomServer, identity: &str, dir_name: &str) -> Self {
        let root = server.root().join(dir_name);
        std::fs::create_dir_all(&root).expect("agent root");
        let stderr_log = File::create(root.join("agent-stderr.log")).expect("agent stderr log");
        let mut command = Command::new(server.binary());
        for name in FOREIGN_VARIABLES {
            command.env_remove(name);
        }
        command
            .arg("--data-dir")
            .arg(server.data_dir())
            .args(["agent", "--identity", identity])
            .args(["--server", &server.info.authority_host])
            .args(["--listen", "127.0.0.1:0"])
            .arg("--agent-dir")
            .arg(root.join("agent"))
            .arg("--arc-key-dir")
            .arg(root.join("arc-keys"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_log);
        if std::env::var_os("STRONGROOM_LOG").is_none() {
            command.env("STRONGROOM_LOG", "info,strongroom=debug");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start strongroom agent: {err}"));
        let ready_rx = announce_ready(
            &mut child,
            AGENT_READY_PREFIX,
            root.join("agent-stdout.log"),
        );
        let ready = ready_rx.recv_timeout(AGENT_READY_TIMEOUT);
        let mut agent = Self {
            child,
            root,
            info: Value::Null,
        };
        match ready {
            Ok(json) => agent.info = serde_json::from_str(&json).expect("agent ready line is JSON"),
            Err(_) => panic!(
                "strongroom agent printed no `{AGENT_READY_PREFIX}` line within {AGENT_READY_TIMEOUT:?}\n{}",
                agent.log_tail()
            ),
        }
        agent
    }

    /// The directory of `agent.json`.
    pub fn agent_dir(&self) -> PathBuf {
        self.root.join("agent")
    }

    /// `http://127.0.0.1:PORT`, where the agent serves the App Service protocol.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.info["port"])
    }

    /// `strongroom env --agent --agent-dir DIR ARGS...` (ARGS e.g. `--vault V`).
    pub fn env(&self, server: &StrongroomServer, args: &[&str]) -> BTreeMap<String, String> {
        let agent_dir = self.agent_dir();
        let mut argv = vec!["--agent", "--agent-dir", path_str(&agent_dir)];
        argv.extend_from_slice(args);
        server.env(&argv)
    }

    /// The agent's stdout and stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        for name in ["agent-stdout.log", "agent-stderr.log"] {
            let mut bytes = Vec::new();
            if let Ok(mut file) = File::open(self.root.join(name)) {
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

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}
