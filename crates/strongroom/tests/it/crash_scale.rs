//! Crash safety at scale (issue 9): `CYCLES` `kill -9` at random moments during a
//! concurrent write load, and after each restart every write acknowledged so far, in any
//! cycle, reads back by version with its exact value.
//!
//! Each cycle: `WRITERS` tasks stream `PUT /secrets/cs-{writer}-{k}` (a few names per writer,
//! so versions pile up across cycles, and every value is unique; a short pause after each
//! write) on connections of their own
//! and record each `(name, version, value)` answered 200; after a random delay of 0 to
//! `MAX_KILL_DELAY_MS` from the load's start the server gets SIGKILL while the writers are
//! still sending; it restarts on the same data directory, and every acknowledged write of
//! every cycle so far is read back with `GET /secrets/{name}/{version}` (HTTP/2, many streams
//! on one connection). Writes in flight at a kill may or may not be there; neither is
//! asserted. The seed is printed; `STRONGROOM_CRASH_SEED` replays one.
//!
//! `kill -9` keeps the page cache, so this proves the database survives losing the process
//! at any point (torn transactions, the WAL, recovery at start-up) and that no write is
//! acknowledged before its commit; that the commit's fsync precedes the answer is
//! `commit_trace`'s.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{RawClient, TestServer};

const VAULT: &str = "crash";
const HOST: &str = "crash.vault.localhost";
const CYCLES: usize = 50;
const WRITERS: usize = 8;
/// Names each writer cycles through.
const NAMES_PER_WRITER: usize = 4;
/// The kill comes 0..=this many milliseconds after the writers start.
const MAX_KILL_DELAY_MS: u64 = 300;
/// Each writer pauses between its writes (a little longer for each writer, so that they drift
/// against each other): the load stays concurrent, and the reads after every restart, which
/// grow with all the writes so far, stay within the test's time budget.
const WRITE_PAUSE_MS: u64 = 10;
/// Bound on each writer in case the kill never comes.
const MAX_WRITES_PER_CYCLE: usize = 5_000;
/// Concurrent reads while verifying.
const READERS: usize = 16;
/// Bound on one cycle's verification.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct Acked {
    name: String,
    version: String,
    value: String,
}

/// splitmix64: enough randomness for kill moments, and reproducible from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn seed() -> u64 {
    match std::env::var("STRONGROOM_CRASH_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|err| panic!("STRONGROOM_CRASH_SEED={text:?}: {err}")),
        Err(_) => {
            let mut bytes = [0u8; 8];
            aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
            u64::from_le_bytes(bytes)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_fifty_random_sigkills() {
    let seed = seed();
    println!("crash_scale: seed {seed} (STRONGROOM_CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut server = TestServer::start();
    server.create_vault(VAULT).await;

    let mut acknowledged: Vec<Acked> = Vec::new();
    let mut per_cycle = Vec::with_capacity(CYCLES);
    for cycle in 0..CYCLES {
        let token = server.vault_token().await;
        let client = server.client();
        let mut writers = JoinSet::new();
        for writer in 0..WRITERS {
            writers.spawn(write_stream(client.clone(), token.clone(), cycle, writer));
        }
        let delay = Duration::from_millis(rng.below(MAX_KILL_DELAY_MS + 1));
        tokio::time::sleep(delay).await;
        // SIGKILL while the writers are still sending.
        server.kill();

        let mut cut_off = 0;
        let mut acked_now = 0;
        while let Some(outcome) = writers.join_next().await {
            let outcome = outcome.expect("writer task");
            cut_off += usize::from(outcome.cut_off);
            acked_now += outcome.acked.len();
            acknowledged.extend(outcome.acked);
        }
        assert!(
            cut_off > 0,
            "cycle {cycle}: every writer had stopped before the kill after {delay:?}"
        );
        per_cycle.push(acked_now);

        server.restart();
        let missing = verify(&server, &acknowledged).await;
        assert!(
            missing.is_empty(),
            "after kill {} (seed {seed}, {delay:?} into the load): {} of {} acknowledged writes \
             lost or changed (the first 20):\n{}\nstderr:\n{}",
            cycle + 1,
            missing.len(),
            acknowledged.len(),
            missing[..missing.len().min(20)].join("\n"),
            server.stderr()
        );
    }
    // The load was real: writes were acknowledged in most cycles, not only a few.
    let cycles_with_writes = per_cycle.iter().filter(|&&n| n > 0).count();
    assert!(
        cycles_with_writes >= CYCLES / 2,
        "only {cycles_with_writes} of {CYCLES} cycles had an acknowledged write: {per_cycle:?}"
    );
    println!(
        "crash_scale: {CYCLES} SIGKILLs, {} acknowledged writes all read back after every restart \
         (per cycle: {per_cycle:?}), {:?}",
        acknowledged.len(),
        started.elapsed()
    );
}

struct WriterOutcome {
    acked: Vec<Acked>,
    /// The writer was stopped by the kill (a transport error), not by its bound.
    cut_off: bool,
}

async fn write_stream(
    client: RawClient,
    token: String,
    cycle: usize,
    writer: usize,
) -> WriterOutcome {
    let mut acked = Vec::new();
    for n in 0..MAX_WRITES_PER_CYCLE {
        let name = format!("cs-{writer}-{}", n % NAMES_PER_WRITER);
        let value = format!(
            "cycle {cycle} writer {writer} write {n} {}",
            "v".repeat(n % 48)
        );
        let sent = client
            .request(
                "PUT",
                HOST,
                &format!("/secrets/{name}?api-version=2026-04-01"),
            )
            .bearer(&token)
            .json(&json!({ "value": value }))
            .send()
            .await;
        // An error means the server is gone: this write was in flight, or not yet sent.
        let Ok(response) = sent else {
            return WriterOutcome {
                acked,
                cut_off: true,
            };
        };
        assert_eq!(
            response.status,
            StatusCode::OK,
            "cycle {cycle}: PUT {name} answered {response}"
        );
        let id = response.json()["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {response}"))
            .to_owned();
        let version = id
            .rsplit('/')
            .next()
            .unwrap_or_else(|| panic!("no version in id {id}"))
            .to_owned();
        acked.push(Acked {
            name,
            version,
            value,
        });
        tokio::time::sleep(Duration::from_millis(WRITE_PAUSE_MS + 2 * writer as u64)).await;
    }
    WriterOutcome {
        acked,
        cut_off: false,
    }
}

/// Reads every acknowledged version over one HTTP/2 connection, `READERS` at a time; returns
/// a line per write that is missing or changed.
async fn verify(server: &TestServer, acknowledged: &[Acked]) -> Vec<String> {
    if acknowledged.is_empty() {
        return Vec::new();
    }
    let token = server.vault_token().await;
    let tls = server.client().connect_tls(HOST, true).await;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    let driver = tokio::spawn(connection);
    let authority = format!("{HOST}:{}", server.port);
    let mut readers = JoinSet::new();
    for chunk in acknowledged.chunks(acknowledged.len().div_ceil(READERS)) {
        let chunk = chunk.to_vec();
        let mut sender = sender.clone();
        let bearer = format!("Bearer {token}");
        let authority = authority.clone();
        readers.spawn(async move {
            let mut missing = Vec::new();
            for ack in chunk {
                let request = http::Request::get(format!(
                    "https://{authority}/secrets/{}/{}?api-version=2026-04-01",
                    ack.name, ack.version
                ))
                .header(http::header::AUTHORIZATION, &bearer)
                .body(Empty::<Bytes>::new())
                .expect("a request");
                let answer = async {
                    sender.ready().await.map_err(|err| err.to_string())?;
                    let response = sender
                        .send_request(request)
                        .await
                        .map_err(|err| err.to_string())?;
                    let status = response.status();
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .map_err(|err| err.to_string())?
                        .to_bytes();
                    Ok::<_, String>((status, body))
                };
                match answer.await {
                    Ok((StatusCode::OK, body)) => {
                        let read: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        if read["value"].as_str() != Some(ack.value.as_str()) {
                            missing.push(format!("{ack:?}: changed: {read}"));
                        }
                    }
                    Ok((status, body)) => missing.push(format!(
                        "{ack:?}: {status} {}",
                        String::from_utf8_lossy(&body)
                    )),
                    Err(err) => missing.push(format!("{ack:?}: {err}")),
                }
            }
            missing
        });
    }
    drop(sender);
    let mut missing = Vec::new();
    let all = async {
        while let Some(lines) = readers.join_next().await {
            missing.extend(lines.expect("reader task"));
        }
    };
    assert!(
        tokio::time::timeout(VERIFY_TIMEOUT, all).await.is_ok(),
        "reading back {} writes took longer than {VERIFY_TIMEOUT:?}",
        acknowledged.len()
    );
    driver.abort();
    missing
}
