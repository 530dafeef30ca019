//! Durability that `kill -9` cannot prove (it keeps the page cache): the database runs in WAL
//! mode, and a write is acknowledged only after the fsync of the commit that holds it.
//!
//! - `the_database_file_is_in_wal_mode`: the file header says WAL (bytes 18 and 19 are 2; a
//!   rollback-journal database has 1) and the `-wal` file is there while the server runs.
//! - `the_commit_is_fsynced_before_the_acknowledgement`: `strongroom serve` runs under
//!   `strace -f -yy` (file descriptors decoded to paths and TCP endpoints); one secret PUT
//!   over HTTPS on a connection that has already served a request (so the TLS handshake and
//!   its session tickets are behind it); then, in the trace: after the server read the PUT on
//!   the client's socket, it wrote to `strongroom.db-wal`, and an `fsync`/`fdatasync` of that
//!   file returned before the first write to the client's socket. This fails if the writer
//!   ran with `synchronous=NORMAL` or `OFF` (no sync at commit in WAL mode) or answered
//!   before its commit. `scripts/test.sh` installs `strace`; without it the test fails.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::harness::{ServeOptions, TestServer};

const VAULT: &str = "traced";
const TIMEOUT: Duration = Duration::from_secs(60);
/// The syscalls that read from or write to a socket or a file, and the two syncs.
const TRACED: &str = "trace=read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,\
                      pwrite64,pwritev,pwritev2,fsync,fdatasync";
const SOCKET_READS: &[&str] = &["read", "readv", "recvfrom", "recvmsg"];
const SOCKET_WRITES: &[&str] = &["write", "writev", "sendto", "sendmsg"];
const FILE_WRITES: &[&str] = &["write", "writev", "pwrite64", "pwritev", "pwritev2"];
const SYNCS: &[&str] = &["fsync", "fdatasync"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_file_is_in_wal_mode() {
    let mut server = TestServer::start();
    server.create_vault("walmode").await;
    let wal = server.data_dir().join("strongroom.db-wal");
    assert!(
        wal.exists(),
        "{} is absent while the server runs: not in WAL mode",
        wal.display()
    );
    assert!(
        server.terminate(Duration::from_secs(30)),
        "serve did not stop on SIGTERM"
    );
    let db = std::fs::read(server.data_dir().join("strongroom.db")).expect("reading strongroom.db");
    assert!(
        db.starts_with(b"SQLite format 3\0"),
        "not an SQLite database"
    );
    // https://www.sqlite.org/fileformat.html 1.3.2: file format write and read versions,
    // 1 for the rollback journal, 2 for WAL. WAL mode is persistent, so it is in the header.
    assert_eq!(
        (db[18], db[19]),
        (2, 2),
        "the database header does not say WAL (journal_mode)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_is_fsynced_before_the_acknowledgement() {
    let strace = which("strace").unwrap_or_else(|| {
        panic!("`strace` is not installed (Debian package strace; scripts/test.sh installs it)")
    });
    let trace_dir = tempfile::tempdir().expect("a directory for the trace");
    let trace_file = trace_dir.path().join("serve.strace");
    let wrapper = [
        strace.as_str(),
        "-f",
        "-yy",
        "-s",
        "0",
        "-e",
        TRACED,
        "-o",
        trace_file.to_str().expect("a UTF-8 path"),
    ];
    let mut server = TestServer::start_configured(
        ServeOptions {
            wrapper: wrapper.iter().map(|a| (*a).to_owned()).collect(),
            ..ServeOptions::default()
        },
        &[],
    );
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;

    let host = format!("{VAULT}.vault.localhost");
    let (mut tls, client_port) = connect(&server, &host).await;
    // A first request on the connection, so that what follows on it is the PUT alone.
    let warm_up = exchange(
        &mut tls,
        &format!(
            "GET /healthz HTTP/1.1\r\nHost: {host}:{}\r\n\r\n",
            server.port
        ),
    )
    .await;
    assert!(warm_up.starts_with("HTTP/1.1 200"), "healthz: {warm_up}");
    let body = json!({"value": "traced value"}).to_string();
    let put = exchange(
        &mut tls,
        &format!(
            "PUT /secrets/traced?api-version=7.4 HTTP/1.1\r\nHost: {host}:{}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            server.port,
            body.len()
        ),
    )
    .await;
    assert!(put.starts_with("HTTP/1.1 200"), "PUT: {put}");
    drop(tls);

    // strace writes its last lines when its tracee has exited.
    assert!(
        server.terminate(Duration::from_secs(30)),
        "serve did not stop on SIGTERM\nstderr:\n{}",
        server.stderr()
    );
    let trace = std::fs::read_to_string(&trace_file)
        .unwrap_or_else(|err| panic!("reading {}: {err}", trace_file.display()));
    let calls = parse_trace(&trace);
    assert!(
        !calls.is_empty(),
        "the trace is empty (is ptrace allowed here?)\nstderr:\n{}",
        server.stderr()
    );
    if let Err(problem) = check_commit_order(&calls, client_port) {
        let excerpt = excerpt(&trace, client_port);
        panic!("{problem}\ntrace (client socket, WAL and syncs only):\n{excerpt}");
    }
}

/// The checks on the parsed trace; `Err` says which one failed.
fn check_commit_order(calls: &[Call], client_port: u16) -> Result<(), String> {
    let on_socket = |call: &Call| call.is_on_client_socket(client_port);
    let first_on_socket = calls.iter().find(|c| on_socket(c)).ok_or(format!(
        "no syscall on the client's socket (port {client_port})"
    ))?;
    let wal_write = calls
        .iter()
        .find(|c| {
            c.start > first_on_socket.start
                && FILE_WRITES.contains(&c.name.as_str())
                && c.is_on_wal()
                && c.ret > 0
        })
        .ok_or("no write to strongroom.db-wal after the connection opened")?;
    let request_read = calls
        .iter()
        .rev()
        .find(|c| {
            c.end < wal_write.start
                && SOCKET_READS.contains(&c.name.as_str())
                && on_socket(c)
                && c.ret > 0
        })
        .ok_or("no read of the PUT on the client's socket before the WAL write")?;
    let socket_writes: Vec<&Call> = calls
        .iter()
        .filter(|c| SOCKET_WRITES.contains(&c.name.as_str()) && on_socket(c) && c.ret > 0)
        .collect();
    if let Some(early) = socket_writes
        .iter()
        .find(|c| c.start > request_read.end && c.start < wal_write.start)
    {
        return Err(format!(
            "the server wrote to the client (trace line {}) after reading the PUT and before \
             writing the WAL",
            early.start + 1
        ));
    }
    let acknowledgement = socket_writes
        .iter()
        .find(|c| c.start > wal_write.start)
        .ok_or("no write to the client's socket after the WAL write (no answer traced)")?;
    let sync = calls
        .iter()
        .find(|c| {
            c.start > wal_write.end
                && SYNCS.contains(&c.name.as_str())
                && c.is_on_wal()
                && c.ret == 0
        })
        .ok_or(
            "no fsync/fdatasync of strongroom.db-wal after the WAL write (synchronous < FULL?)",
        )?;
    if sync.end >= acknowledgement.start {
        return Err(format!(
            "the answer was written to the client (trace line {}) before the fsync of the WAL \
             returned (trace line {})",
            acknowledgement.start + 1,
            sync.end + 1
        ));
    }
    Ok(())
}

/// One traced syscall: the lines (0-based) where it started and returned.
#[derive(Debug, Clone)]
struct Call {
    name: String,
    /// The first argument's `-yy` decoration: `</path>` or `<TCP:[a:p->b:q]>`.
    fd: String,
    ret: i64,
    start: usize,
    end: usize,
}

impl Call {
    fn is_on_wal(&self) -> bool {
        self.fd.ends_with("/strongroom.db-wal>")
    }

    /// The server's end of the client's connection: `<TCP:[server->127.0.0.1:PORT]>`.
    fn is_on_client_socket(&self, client_port: u16) -> bool {
        self.fd.starts_with("<TCP") && self.fd.ends_with(&format!("->127.0.0.1:{client_port}]>"))
    }
}

/// Parses `strace -f -yy -o` output: `PID name(fd<decoration>, ...) = ret`, a call split by
/// another thread's into `... <unfinished ...>` and `PID <... name resumed> ...) = ret`.
fn parse_trace(trace: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut unfinished: HashMap<&str, Call> = HashMap::new();
    for (index, line) in trace.lines().enumerate() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let name = resumed.split(' ').next().unwrap_or_default();
            if let Some(mut call) = unfinished.remove(pid)
                && call.name == name
            {
                call.end = index;
                call.ret = return_value(rest);
                calls.push(call);
            }
            continue;
        }
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let mut call = Call {
            name: name.to_owned(),
            fd: decoration(args),
            ret: 0,
            start: index,
            end: index,
        };
        if rest.ends_with("<unfinished ...>") {
            unfinished.insert(pid, call);
        } else {
            call.ret = return_value(rest);
            calls.push(call);
        }
    }
    calls.sort_by_key(|c| c.start);
    calls
}

/// `12<TCP:[...]>, ...` -> `<TCP:[...]>`; `5</x/y>, ...` -> `</x/y>`; else empty.
fn decoration(args: &str) -> String {
    let after_fd = args.trim_start_matches(|c: char| c.is_ascii_digit());
    if !after_fd.starts_with('<') {
        return String::new();
    }
    let end = if after_fd.starts_with("<TCP") || after_fd.starts_with("<UDP") {
        after_fd.find("]>").map(|at| at + 2)
    } else {
        after_fd.find('>').map(|at| at + 1)
    };
    end.map(|end| after_fd[..end].to_owned())
        .unwrap_or_default()
}

/// The number after the last ` = ` (`-1` for `= -1 EAGAIN (...)`); `-1` if there is none.
fn return_value(line: &str) -> i64 {
    line.rsplit_once(" = ")
        .and_then(|(_, ret)| ret.split_whitespace().next())
        .and_then(|ret| ret.parse().ok())
        .unwrap_or(-1)
}

/// The trace lines that matter, numbered, for a failure message.
fn excerpt(trace: &str, client_port: u16) -> String {
    let port = format!("->127.0.0.1:{client_port}]>");
    trace
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            line.contains(&port) || line.contains("strongroom.db-wal>") || line.contains("resumed>")
        })
        .map(|(index, line)| format!("{:>6}: {line}", index + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

fn which(program: &str) -> Option<String> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
        .map(|path| path.to_string_lossy().into_owned())
}

/// A TLS connection (HTTP/1.1) to the server for `host`, trusting only its `ca.pem`, and the
/// client's local port (what the server's side of the socket names as its peer).
async fn connect(
    server: &TestServer,
    host: &str,
) -> (tokio_rustls::client::TlsStream<TcpStream>, u16) {
    let pem = std::fs::read(server.data_dir().join("ca.pem")).expect("reading ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        roots.add(certificate.expect("PEM")).expect("trust anchor");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connecting to the server");
    let _ = tcp.set_nodelay(true);
    let client_port = tcp.local_addr().expect("local address").port();
    let name = ServerName::try_from(host.to_owned()).expect("a DNS name");
    let tls = tokio::time::timeout(
        TIMEOUT,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("handshake in time")
    .expect("TLS handshake");
    (tls, client_port)
}

/// Writes `request` and reads one response with a `Content-Length` body; returns its text.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, request: &str) -> String {
    let read = async {
        stream.write_all(request.as_bytes()).await.expect("write");
        stream.flush().await.expect("flush");
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let header_end = loop {
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "connection closed before the response headers");
            data.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&data[..header_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map(|value| value.trim().parse().expect("content-length"))
            .unwrap_or_else(|| panic!("no content-length in {head}"));
        while data.len() < header_end + length {
            let n = stream.read(&mut buf).await.expect("read body");
            assert!(n > 0, "connection closed inside the body");
            data.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&data).into_owned()
    };
    tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("the server answered in time")
}

#[cfg(test)]
mod parse {
    use super::*;

    const SAMPLE: &str = "\
101 read(7<TCP:[127.0.0.1:4000->127.0.0.1:5000]>, \"\"..., 8192) = 300
102 pwrite64(9</d/strongroom.db-wal>, \"\"..., 4120, 32) = 4120
102 fsync(9</d/strongroom.db-wal> <unfinished ...>
101 read(7<TCP:[127.0.0.1:4000->127.0.0.1:5000]>, \"\"..., 8192) = -1 EAGAIN (Resource temporarily unavailable)
102 <... fsync resumed>) = 0
101 writev(7<TCP:[127.0.0.1:4000->127.0.0.1:5000]>, [{iov_base=\"\"..., iov_len=5}], 1) = 5
";

    #[test]
    fn a_sync_before_the_answer_passes_and_the_reverse_fails() {
        let calls = parse_trace(SAMPLE);
        assert_eq!(calls.len(), 5, "{calls:?}");
        assert_eq!(calls[2].name, "fsync");
        assert_eq!((calls[2].start, calls[2].end, calls[2].ret), (2, 4, 0));
        assert!(calls[2].is_on_wal());
        assert!(calls[0].is_on_client_socket(5000));
        assert_eq!(check_commit_order(&calls, 5000), Ok(()));
        assert!(check_commit_order(&calls, 5001).is_err(), "another socket");

        // The answer written while the fsync is still running.
        let early = SAMPLE.replace(
            "101 read(7<TCP:[127.0.0.1:4000->127.0.0.1:5000]>, \"\"..., 8192) = -1 EAGAIN (Resource temporarily unavailable)",
            "101 write(7<TCP:[127.0.0.1:4000->127.0.0.1:5000]>, \"\"..., 5) = 5",
        );
        assert!(check_commit_order(&parse_trace(&early), 5000).is_err());

        // No sync at all (synchronous=NORMAL in WAL mode).
        let unsynced: String = SAMPLE
            .lines()
            .filter(|line| !line.contains("fsync"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(check_commit_order(&parse_trace(&unsynced), 5000).is_err());
    }
}
