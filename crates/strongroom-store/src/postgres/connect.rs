//! From a `postgres://` URL to a connection pool: the parameters Strongroom reads itself
//! (`pool_size`, `sslmode`, `sslrootcert`) are taken out before the rest goes to tokio-postgres,
//! and the pool's timeouts are short, so a request fails fast with `Unavailable` while the server
//! is down and the pool reconnects by itself when it is back.
//!
//! TLS: `sslmode=disable` (or absent, or `allow`/`prefer`, which permit plain connections)
//! connects without TLS; `require`, `verify-ca` and `verify-full` connect only with TLS,
//! verified against the CA certificates in `sslrootcert=PATH` (required with them; `tls.rs`).
//!
//! The URL may carry a password: no error or log line here repeats any part of it.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::error::db;
use super::tls::{self, Verify};
use crate::StoreError;

/// Connections in the pool when the URL does not say (`pool_size=N`).
pub(super) const DEFAULT_POOL_SIZE: usize = 16;

/// The most `pool_size` may ask for: PostgreSQL's own default `max_connections` is 100, and
/// several nodes share it.
const MAX_POOL_SIZE: usize = 1000;

/// How long data sent to the server may stay unacknowledged before the connection counts as
/// lost (`tcp_user_timeout`, unless the URL sets it).
const UNACKNOWLEDGED_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a request waits for a pooled connection, a new connection's TCP and start-up
/// exchange, or a recycled one's check: long enough for a busy pool, short enough that a
/// request fails with `Unavailable` (503, `Retry-After`) instead of hanging while the server is
/// down.
const POOL_TIMEOUT: Duration = Duration::from_secs(3);

/// How the pool is being used, for metrics (`PostgresStore::pool_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// The most connections the pool opens (`pool_size`).
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections idle in the pool.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Everything `connect` needs, from the URL.
pub(super) struct Settings {
    pub(super) config: tokio_postgres::Config,
    pub(super) pool_size: usize,
    /// `None`: plain connections.
    pub(super) tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for Settings {
    // The config holds the password: show only what is safe.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("pool_size", &self.pool_size)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Reads a `postgres://` URL.
pub(super) fn parse(url: &str) -> Result<Settings, StoreError> {
    let invalid = |why: String| StoreError::Unavailable(format!("the PostgreSQL URL {why}"));
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut pool_size = DEFAULT_POOL_SIZE;
    let mut ssl_mode = "disable".to_owned();
    let mut root_file: Option<String> = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "pool_size" => {
                pool_size = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_POOL_SIZE).contains(n))
                    .ok_or_else(|| {
                        invalid(format!(
                            "has a bad pool_size (a number from 1 to {MAX_POOL_SIZE})"
                        ))
                    })?;
            }
            "sslmode" => value.clone_into(&mut ssl_mode),
            "sslrootcert" => root_file = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let verify = match ssl_mode.as_str() {
        "disable" | "allow" | "prefer" => None,
        "require" | "verify-ca" => Some(Verify::ChainOnly),
        "verify-full" => Some(Verify::Full),
        _ => return Err(invalid("has an unknown sslmode".to_owned())),
    };
    let tls = match (verify, root_file) {
        (None, _) => None,
        (Some(verify), Some(root_file)) => {
            Some(tls::connector(std::path::Path::new(&root_file), verify)?)
        }
        (Some(_), None) => {
            return Err(invalid(format!(
                "asks for sslmode={ssl_mode} without sslrootcert=PATH: this build always \
                 verifies the server's certificate, against the CA certificates in that PEM file"
            )));
        }
    };
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    if !(rest.starts_with("postgres://") || rest.starts_with("postgresql://")) {
        return Err(invalid("must start with postgres://".to_owned()));
    }
    // tokio-postgres's parse errors name the option, never its value.
    let mut config = tokio_postgres::Config::from_str(&rest)
        .map_err(|err| invalid(format!("is not valid: {err}")))?;
    // A TLS mode is `Require` for tokio-postgres: no fall-back to a plain connection.
    config.ssl_mode(if tls.is_some() {
        SslMode::Require
    } else {
        SslMode::Disable
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(POOL_TIMEOUT);
    }
    // A server that vanished without closing (a partition, a frozen host) is noticed when
    // data sent to it stays unacknowledged this long, instead of after the kernel's ~15
    // minutes of retransmissions; the request then fails with `Unavailable`.
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(UNACKNOWLEDGED_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("strongroom");
    }
    Ok(Settings {
        config,
        pool_size,
        tls,
    })
}

/// The pool: connections made on demand up to `pool_size`, checked only for being closed when
/// handed out again (a connection the server dropped is replaced, so the pool recovers by
/// itself after a restart), and prepared statements cached per connection.
pub(super) fn pool(settings: &Settings) -> Result<Pool, StoreError> {
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match &settings.tls {
        None => Manager::from_config(settings.config.clone(), NoTls, manager_config),
        Some(tls) => Manager::from_config(settings.config.clone(), tls.clone(), manager_config),
    };
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(|err| StoreError::Unavailable(format!("PostgreSQL connection pool: {err}")))
}

/// One connection outside the pool, for what must not go back to it (a session-level
/// advisory lock). Dropping the client ends the connection, which releases its locks.
pub(super) async fn dedicated(settings: &Settings) -> Result<Client, StoreError> {
    let client = match &settings.tls {
        None => {
            let (client, connection) = settings.config.connect(NoTls).await.map_err(db)?;
            tokio::spawn(drive(connection));
            client
        }
        Some(tls) => {
            let (client, connection) = settings.config.connect(tls.clone()).await.map_err(db)?;
            tokio::spawn(drive(connection));
            client
        }
    };
    Ok(client)
}

/// Runs a dedicated connection until its client is dropped or the server goes away.
async fn drive<F>(connection: F)
where
    F: Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(err) = connection.await {
        tracing::debug!(%err, "a dedicated PostgreSQL connection ended");
    }
}

/// `%XX` escapes decoded (a path in a URL); anything malformed is kept as written.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| value.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The pool's use now.
pub(super) fn status(pool: &Pool) -> PoolUse {
    let status = pool.status();
    PoolUse {
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(url: &str) -> String {
        match parse(url) {
            Ok(settings) => panic!("{url} was accepted: {settings:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn our_parameters_are_taken_out() {
        let settings =
            parse("postgres://u:secret@db.example:5433/app?pool_size=4&sslmode=disable").unwrap();
        assert_eq!(settings.pool_size, 4);
        assert_eq!(settings.config.get_dbname(), Some("app"));
        assert_eq!(settings.config.get_user(), Some("u"));
        assert_eq!(settings.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(settings.config.get_connect_timeout(), Some(&POOL_TIMEOUT));
        assert_eq!(
            settings.config.get_tcp_user_timeout(),
            Some(&UNACKNOWLEDGED_TIMEOUT)
        );
        let settings = parse("postgresql://u@h/app?application_name=x").unwrap();
        assert_eq!(settings.pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(settings.config.get_application_name(), Some("x"));
    }

    #[test]
    fn tls_needs_a_root_certificate_and_never_falls_back() {
        for mode in ["require", "verify-ca", "verify-full"] {
            let err = error_of(&format!("postgres://u:secret@h/db?sslmode={mode}"));
            assert!(err.contains("without sslrootcert"), "{err}");
            let err = error_of(&format!(
                "postgres://u:secret@h/db?sslmode={mode}&sslrootcert=/nonexistent%20dir/ca.pem"
            ));
            assert!(
                err.contains("/nonexistent dir/ca.pem") && err.contains("cannot be read"),
                "{err}"
            );
        }
        let plain = parse("postgres://u@h/db?sslrootcert=/unused.pem").unwrap();
        assert!(plain.tls.is_none(), "no TLS mode, no TLS");
    }

    #[test]
    fn errors_never_show_the_password() {
        for url in [
            "postgres://u:hunter2@h/db?pool_size=0",
            "postgres://u:hunter2@h/db?sslmode=bogus",
            "postgres://u:hunter2@h/db?nonsense=1",
            "postgres://u:hunter2@h:notaport/db",
            "mysql://u:hunter2@h/db",
        ] {
            let err = error_of(url);
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }
}
