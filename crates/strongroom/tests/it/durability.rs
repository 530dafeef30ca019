//! Durability (STYLE.md 4.7): a write acknowledged with 200 survives SIGKILL.
//!
//! Several tasks stream `PUT /secrets/d-{task}-{n}` (each name gets several versions) and
//! record every `(name, version, value)` the server acknowledged. Once enough writes are
//! acknowledged, the server is killed with `SIGKILL` while the stream is still running; after a restart
//! on the same data directory every acknowledged version must read back with its value.
//! Writes in flight at the kill may or may not be there; neither is asserted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::harness::{RawClient, TestServer};

const VAULT: &str = "durable";
const WRITERS: usize = 4;
/// Acknowledged writes before the kill.
const KILL_AFTER_ACKS: usize = 300;
/// Bound on each writer in case the kill never comes.
const MAX_WRITES_PER_WRITER: usize = 2_000;
/// Names per writer; each is written several times, so versions pile up.
const NAMES_PER_WRITER: usize = 8;
const KILL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
struct Acked {
    name: String,
    version: String,
    value: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let mut server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let client = server.client();

    let acks = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            tokio::spawn(write_stream(
                client.clone(),
                token.clone(),
                writer,
                acks.clone(),
                enough.clone(),
            ))
        })
        .collect();

    let reached = tokio::time::timeout(KILL_TIMEOUT, enough.notified()).await;
    assert!(
        reached.is_ok(),
        "only {} writes acknowledged within {KILL_TIMEOUT:?}\nstderr:\n{}",
        acks.load(Ordering::SeqCst),
        server.stderr()
    );
    // The writers are still sending: this SIGKILL lands in the middle of the stream.
    server.kill();

    let mut acknowledged = Vec::new();
    let mut still_running_at_kill = 0;
    for writer in writers {
        let outcome = writer.await.expect("writer task");
        still_running_at_kill += usize::from(outcome.cut_off);
        acknowledged.extend(outcome.acked);
    }
    assert!(
        acknowledged.len() >= KILL_AFTER_ACKS,
        "{} acknowledged",
        acknowledged.len()
    );
    assert!(
        still_running_at_kill > 0,
        "every writer finished before the kill; the test did not kill mid-stream"
    );

    println!(
        "{} writes acknowledged before SIGKILL; {still_running_at_kill} of {WRITERS} writers cut off",
        acknowledged.len()
    );
    server.restart();
    let token = server.vault_token().await;
    let client = server.client();
    let mut lost = Vec::new();
    for chunk in acknowledged.chunks(acknowledged.len().div_ceil(WRITERS)) {
        let chunk = chunk.to_vec();
        let client = client.clone();
        let token = token.clone();
        lost.push(tokio::spawn(async move {
            let mut lost = Vec::new();
            for ack in chunk {
                let path = format!("/secrets/{}/{}?api-version=7.4", ack.name, ack.version);
                let response = client
                    .request("GET", &format!("{VAULT}.vault.localhost"), &path)
                    .bearer(&token)
                    .send()
                    .await
                    .unwrap_or_else(|err| panic!("{err}"));
                let value = (response.status == StatusCode::OK)
                    .then(|| response.json()["value"].as_str().map(str::to_owned))
                    .flatten();
                if value.as_deref() != Some(ack.value.as_str()) {
                    lost.push(format!("{ack:?}: {response}"));
                }
            }
            lost
        }));
    }
    let mut missing = Vec::new();
    for task in lost {
        missing.extend(task.await.expect("reader task"));
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged versions lost or changed after SIGKILL:\n{}",
        missing.len(),
        acknowledged.len(),
        missing.join("\n")
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
    writer: usize,
    acks: Arc<AtomicUsize>,
    enough: Arc<Notify>,
) -> WriterOutcome {
    let mut acked = Vec::new();
    for n in 0..MAX_WRITES_PER_WRITER {
        let name = format!("d-{writer}-{}", n % NAMES_PER_WRITER);
        let value = format!("value {writer}/{n}: {}", "x".repeat(n % 64));
        let sent = client
            .request(
                "PUT",
                &format!("{VAULT}.vault.localhost"),
                &format!("/secrets/{name}?api-version=7.4"),
            )
            .bearer(&token)
            .json(&json!({ "value": value }))
            .send()
            .await;
        // An error means the server is gone: this write was in flight (or not yet sent)
        // at the kill.
        let Ok(response) = sent else {
            return WriterOutcome {
                acked,
                cut_off: true,
            };
        };
        // A non-200 before the kill is a server bug in its own right.
        assert_eq!(
            response.status,
            StatusCode::OK,
            "PUT {name} answered {response}"
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
        if acks.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS {
            enough.notify_one();
        }
    }
    WriterOutcome {
        acked,
        cut_off: false,
    }
}
