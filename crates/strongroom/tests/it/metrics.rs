//! `serve --metrics-listen`: Prometheus text that counts what the server did (requests by
//! plane, operation and status; latency; tokens issued; background runs; cache lookups),
//! `/healthz` and `/readyz`, on a plain
//! HTTP listener apart from the API; and nothing of it without the flag.

use crate::harness::TestServer;
use http::StatusCode;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `GET path` on the metrics listener: (status, body).
async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.expect("connecting");
    let head = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("writing");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reading");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// The value of the sample whose line starts with `series` (name and labels), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_and_tokens_and_readiness_reads_the_store() {
    let server =
        TestServer::start_with(&["--metrics-listen", "127.0.0.1:0", "--janitor-interval", "1"]);
    let address: SocketAddr = server.ready["metricsListen"]
        .as_str()
        .expect("server.json names the metrics listener")
        .parse()
        .expect("an address");
    assert_eq!(get(address, "/healthz").await.0, 200);
    assert_eq!(get(address, "/readyz").await, (200, "ready\n".to_owned()));

    server.create_vault("metered").await;
    let set = server
        .vault_call(
            "PUT",
            "metered",
            "/secrets/db?api-version=7.5",
            Some(&serde_json::json!({"value": "s3cret"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    for _ in 0..3 {
        let got = server
            .vault_call("GET", "metered", "/secrets/db?api-version=7.5", None)
            .await;
        assert_eq!(got.status, StatusCode::OK, "{got}");
    }
    let missing = server
        .vault_call("GET", "metered", "/secrets/absent?api-version=7.5", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing}");

    // The janitor ticks every second; wait for its first run to be counted.
    let mut text = String::new();
    for _ in 0..50 {
        let (status, body) = get(address, "/metrics").await;
        assert_eq!(status, 200);
        text = body;
        if sample(
            &text,
            r#"strongroom_background_runs_total{job="janitor",outcome="ran"}"#,
        )
        .is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        sample(
            &text,
            r#"strongroom_background_run_duration_seconds_count{job="janitor"}"#
        )
        .is_some_and(|runs| runs >= 1.0),
        "{text}"
    );
    // Store calls are timed by operation: the secret's write and its reads.
    for operation in ["put_version", "get_version"] {
        assert!(
            sample(
                &text,
                &format!(
                    r#"strongroom_store_operation_duration_seconds_count{{operation="{operation}"}}"#
                )
            )
            .is_some_and(|calls| calls >= 1.0),
            "{operation}: {text}"
        );
    }
    // Each vault_call resolves the vault: the first misses the cache, the next ones hit it.
    let vault_lookups = |result: &str| {
        sample(
            &text,
            &format!(r#"strongroom_cache_lookups_total{{cache="vault",result="{result}"}}"#),
        )
        .unwrap_or(0.0)
    };
    assert!(vault_lookups("miss") >= 1.0, "{text}");
    assert!(vault_lookups("hit") >= 1.0, "{text}");
    for result in ["hit", "miss"] {
        assert!(
            sample(
                &text,
                &format!(r#"strongroom_cache_lookups_total{{cache="token",result="{result}"}}"#)
            )
            .is_some_and(|count| count >= 1.0),
            "verified tokens are cached: {text}"
        );
    }
    let requests = |operation: &str, code: u16| {
        sample(
            &text,
            &format!(
                r#"strongroom_requests_total{{plane="vault",operation="{operation}",status="{code}"}}"#
            ),
        )
    };
    assert_eq!(requests("SetSecret", 200), Some(1.0), "{text}");
    assert_eq!(requests("GetSecret", 200), Some(3.0), "{text}");
    assert_eq!(requests("GetSecret", 404), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"strongroom_request_duration_seconds_count{plane="vault",operation="GetSecret"}"#
        ),
        Some(4.0),
        "{text}"
    );
    // One token per vault_call and two for the management calls create_vault made, at least.
    let tokens = sample(
        &text,
        r#"strongroom_tokens_issued_total{grant="client_credentials"}"#,
    )
    .expect("tokens counted");
    assert!(tokens >= 5.0, "{text}");
    assert!(
        sample(
            &text,
            // create_vault's PUT, on the deployment's own host (the service plane).
            r#"strongroom_requests_total{plane="service",operation="service",status="201"}"#
        )
        .is_some(),
        "{text}"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("metered"),
        "no values, no names"
    );
}

#[tokio::test]
async fn without_the_flag_there_is_no_metrics_listener() {
    let server = TestServer::start();
    assert!(server.ready["metricsListen"].is_null(), "{}", server.ready);
}
