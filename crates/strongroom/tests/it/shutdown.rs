//! Graceful shutdown: on SIGTERM the server stops accepting connections, lets a request
//! already in flight finish (its write acknowledged and kept), and then exits by itself.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_request_in_flight_and_accepts_no_new_connection() {
    let mut server = TestServer::start();
    server.create_vault("draining").await;
    let token = server.vault_token().await;
    let body = json!({"value": "written during shutdown"}).to_string();
    let (first_half, second_half) = body.split_at(body.len() / 2);

    // A request in flight: its head and half its body sent, the rest after the SIGTERM.
    let mut stream = server
        .client()
        .connect_tls("draining.vault.localhost", false)
        .await;
    let head = format!(
        "PUT /secrets/late?api-version=7.5 HTTP/1.1\r\nHost: draining.vault.localhost:{}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{first_half}",
        server.port,
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("sending the head");
    stream.flush().await.expect("flushing");
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.signal_server("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
        .write_all(second_half.as_bytes())
        .await
        .expect("sending the rest of the body");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the request in flight was answered: {answer}\nstderr:\n{}",
        server.stderr()
    );
    // The listener is closed: a new connection is refused at once.
    let late = tokio::time::timeout(
        Duration::from_secs(5),
        server
            .client()
            .request(
                "GET",
                "draining.vault.localhost",
                "/secrets/late?api-version=7.5",
            )
            .bearer(&token)
            .send(),
    )
    .await;
    assert!(
        matches!(late, Ok(Err(_))),
        "a connection made after SIGTERM was not refused at once: {late:?}"
    );
    assert!(
        server.terminate(Duration::from_secs(10)),
        "the server exits by itself once drained"
    );

    // The acknowledged write is there after a restart.
    server.restart();
    let got = server
        .vault_call("GET", "draining", "/secrets/late?api-version=7.5", None)
        .await;
    assert_eq!(got.status, StatusCode::OK, "{got}");
    assert_eq!(got.json()["value"], "written during shutdown");
}
