//! Throwaway PostgreSQL for tests: this crate's (`postgres::tests`), and any later test that
//! needs a database (the binary's integration tests enable the `test-postgres` feature).
//!
//! Where the server comes from:
//! - `STRONGROOM_TEST_POSTGRES_URL` set (as `scripts/with-postgres.sh` does): that server;
//! - otherwise a private cluster, started once per test process from the binaries found in
//!   `STRONGROOM_TEST_POSTGRES_BIN`, `PATH`, `/usr/local/bin` or `/usr/lib/postgresql/*/bin`
//!   (none found: the test fails, naming `scripts/with-postgres.sh`, which installs them).
//!
//! A private cluster lives in a fresh temporary directory (data, log, unix socket), listens on
//! 127.0.0.1 only with trust authentication, and keeps fsync on. As root it runs as `nobody`
//! (initdb and postgres refuse root). It is removed by a watchdog process started with it,
//! which waits for the test process to end however it ends (statics are never dropped, and a
//! killed test runs no destructor) and then stops the server and deletes the directory; a
//! `Cluster` a test owns is also stopped and deleted on drop.
//!
//! Each test takes fresh databases (`fresh_database`), so tests run in parallel on one
//! server without seeing each other's rows. On a server of your own, those databases are left
//! behind (their names start with the prefix the test gave).

// Test support: a failure to provide a server must stop the test loudly.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support reports failures by panicking, like assert!"
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The URL of a server to use instead of a private cluster.
pub const URL_VARIABLE: &str = "STRONGROOM_TEST_POSTGRES_URL";
/// The directory of `initdb`, `pg_ctl` and `postgres`, if not found on the usual paths.
pub const BIN_VARIABLE: &str = "STRONGROOM_TEST_POSTGRES_BIN";

const HOW_TO: &str = "run the tests through scripts/with-postgres.sh (it installs PostgreSQL \
                      if needed), or set STRONGROOM_TEST_POSTGRES_URL to a server whose user \
                      may create databases";

/// The server every test in this process shares: `STRONGROOM_TEST_POSTGRES_URL`, or a private
/// cluster started on first use. The URL names the `postgres` database.
///
/// # Panics
/// If no server can be had, with instructions.
pub fn shared_url() -> &'static str {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED.get_or_init(|| {
        if let Ok(url) = std::env::var(URL_VARIABLE)
            && !url.is_empty()
        {
            return url;
        }
        let cluster = Cluster::start().unwrap_or_else(|err| panic!("{err}; {HOW_TO}"));
        let url = cluster.url();
        // Never dropped: the watchdog removes it when this process ends.
        std::mem::forget(cluster);
        url
    })
}

/// A new, empty database on the shared server, named `{prefix}_{process}_{n}`; its URL.
///
/// # Panics
/// If the server cannot be reached or refuses to create it.
pub async fn fresh_database(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server = shared_url();
    let name = format!(
        "{}_{}_{}",
        prefix.to_ascii_lowercase(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| panic!("connecting to the test PostgreSQL server: {err}; {HOW_TO}"));
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap_or_else(|err| panic!("creating test database {name}: {err}"));
    drop(client);
    let _ = connection.await;
    with_database(server, &name)
}

/// `url` naming database `name` instead.
///
/// # Panics
/// If `url` is not a `postgres://…/database` URL.
#[must_use]
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base
        .find("://")
        .map(|i| i + 3)
        .unwrap_or_else(|| panic!("not a postgres:// URL"));
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A PostgreSQL cluster of a test's own, in a temporary directory; stopped and deleted on drop.
pub struct Cluster {
    work_dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Run the server's programs as `nobody` (`Some((uid, gid))`) because we are root.
    run_as: Option<(u32, u32)>,
    watchdog: Option<std::process::Child>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("work_dir", &self.work_dir)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Makes and starts a cluster (initdb, then pg_ctl start on a free loopback port).
    ///
    /// # Errors
    /// A message saying what failed (binaries missing, initdb or start-up failed, with the
    /// server's log).
    pub fn start() -> Result<Cluster, String> {
        let bin = find_binaries()?;
        let run_as = if command_output("id", &["-u"])? == "0" {
            let uid = command_output("id", &["-u", "nobody"])?;
            let gid = command_output("id", &["-g", "nobody"])?;
            Some((
                uid.parse().map_err(|_| format!("uid of nobody: {uid}"))?,
                gid.parse().map_err(|_| format!("gid of nobody: {gid}"))?,
            ))
        } else {
            None
        };
        let work_dir = private_dir(run_as)?;
        let mut cluster = Cluster {
            work_dir,
            bin,
            port: 0,
            run_as,
            watchdog: None,
        };
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        cluster.init()?;
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.start_server() {
                Ok(()) => return Ok(cluster),
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }

    /// The superuser's URL for the `postgres` database.
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: sessions are ended), keeping its data.
    ///
    /// # Errors
    /// If pg_ctl fails.
    pub fn stop(&self) -> Result<(), String> {
        let data = self.data_dir();
        let data = path_str(&data)?;
        self.run(
            "pg_ctl",
            &["-D", data, "-m", "fast", "-w", "-t", "60", "stop"],
        )
        .map(drop)
    }

    /// Starts the stopped server again, on the same port.
    ///
    /// # Errors
    /// If it does not start (with its log).
    pub fn restart(&self) -> Result<(), String> {
        self.start_server()
    }

    /// Writes `contents` to `name` in the cluster's private directory, readable by the
    /// server only (0600, its owner); the path.
    ///
    /// # Errors
    /// If it cannot be written.
    pub fn add_file(&self, name: &str, contents: &[u8]) -> Result<PathBuf, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.work_dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|err| format!("creating {}: {err}", path.display()))?;
        std::io::Write::write_all(&mut file, contents)
            .map_err(|err| format!("writing {}: {err}", path.display()))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                .map_err(|err| format!("giving {} to nobody: {err}", path.display()))?;
        }
        Ok(path)
    }

    /// Appends settings to `postgresql.conf`; they apply from the next (re)start.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn configure(&self, lines: &str) -> Result<(), String> {
        let path = self.data_dir().join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|err| format!("opening {}: {err}", path.display()))?;
        std::io::Write::write_all(&mut file, format!("\n{lines}\n").as_bytes())
            .map_err(|err| format!("writing {}: {err}", path.display()))
    }

    fn data_dir(&self) -> PathBuf {
        self.work_dir.join("data")
    }

    fn init(&self) -> Result<(), String> {
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        )?;
        // Trust only the loopback address and the socket in the private directory.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .map_err(|err| format!("writing pg_hba.conf: {err}"))
    }

    fn start_server(&self) -> Result<(), String> {
        let data = self.data_dir();
        let log = self.work_dir.join("server.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=400 -c fsync=on",
            self.port,
            path_str(&self.work_dir)?
        );
        let started = self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-l",
                path_str(&log)?,
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
        started.map(drop).map_err(|err| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{err}\nserver log:\n{log}")
        })
    }

    /// Runs one of the server's programs (as `nobody` when we are root); its stdout.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let program_path = self.bin.join(program);
        let mut command = match self.run_as {
            Some((uid, gid)) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(&program_path);
                command
            }
            None => Command::new(&program_path),
        };
        command.args(args).stdin(Stdio::null());
        let output = command
            .output()
            .map_err(|err| format!("running {}: {err}", program_path.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{program} {args:?} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A process that outlives this one if need be: once this process is gone it stops the
    /// server and deletes the directory. In a session of its own, so a Ctrl-C aimed at the
    /// tests does not stop it before it has cleaned up.
    fn spawn_watchdog(&self) -> Result<std::process::Child, String> {
        let data = self.data_dir();
        let pg_ctl = self.bin.join("pg_ctl");
        let as_user = match self.run_as {
            Some((uid, gid)) => format!("setpriv --reuid={uid} --regid={gid} --clear-groups -- "),
            None => String::new(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -f '{data}/postmaster.pid' ]; then \
             {as_user}'{pg_ctl}' -D '{data}' -m immediate -w -t 30 stop >/dev/null 2>&1; fi; \
             rm -rf '{work}'",
            pid = std::process::id(),
            data = path_str(&data)?,
            pg_ctl = path_str(&pg_ctl)?,
            work = path_str(&self.work_dir)?,
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("starting the cleanup watchdog: {err}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let data = self.data_dir();
            if let Ok(data) = path_str(&data) {
                let _ = self.run("pg_ctl", &["-D", data, "-m", "fast", "-w", "stop"]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.work_dir);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_binaries() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::var(BIN_VARIABLE) {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.push(PathBuf::from("/usr/local/bin"));
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version)); // newest first
    candidates.extend(versioned.into_iter().map(|(_, dir)| dir));
    candidates
        .into_iter()
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|program| dir.join(program).is_file())
        })
        .ok_or_else(|| "no PostgreSQL binaries (initdb, pg_ctl, postgres) were found".to_owned())
}

/// A new directory under the system's temporary directory, 0700, owned by `run_as`.
fn private_dir(run_as: Option<(u32, u32)>) -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "strongroom-pg-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|err| format!("creating {}: {err}", dir.display()))?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|err| format!("giving {} to nobody: {err}", dir.display()))?;
    }
    Ok(dir)
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|err| format!("finding a free port: {err}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|err| format!("finding a free port: {err}"))
}

fn command_output(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| format!("running {program}: {err}"))?;
    if !output.status.success() {
        return Err(format!("{program} {args:?} failed"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "t_1"),
            "postgres://u@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }
}
