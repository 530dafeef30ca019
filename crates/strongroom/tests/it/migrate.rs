//! `strongroom migrate --to postgres://…`: a deployment moves from its SQLite file to
//! PostgreSQL with everything in it, and is served from there by the same data directory.

use std::process::{Command, Stdio};
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use strongroom_store::test_postgres::fresh_database;

use crate::harness::TestServer;

const API: &str = "api-version=7.5";

/// `strongroom --data-dir DIR migrate --to URL`: (success, stdout, stderr).
fn migrate(server: &TestServer, url: &str) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["migrate", "--to", url])
        .env_remove("STRONGROOM_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("running strongroom migrate");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_deployment_moves_to_postgres_whole_and_is_served_from_there() {
    let url = fresh_database("migrate").await;
    let mut server = TestServer::start();
    server.create_vault("moving").await;
    for (name, value) in [
        ("a", "alpha"),
        ("b", "beta"),
        ("gone", "deleted before the move"),
    ] {
        let set = server
            .vault_call(
                "PUT",
                "moving",
                &format!("/secrets/{name}?{API}"),
                Some(&json!({"value": value})),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{set}");
    }
    let second = server
        .vault_call(
            "PUT",
            "moving",
            &format!("/secrets/a?{API}"),
            Some(&json!({"value": "alpha 2"})),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{second}");
    let key = server
        .vault_call(
            "POST",
            "moving",
            &format!("/keys/k/create?{API}"),
            Some(&json!({"kty": "EC", "crv": "P-256"})),
        )
        .await;
    assert_eq!(key.status, StatusCode::OK, "{key}");
    let public_x = key.json()["key"]["x"].clone();
    let deleted = server
        .vault_call("DELETE", "moving", &format!("/secrets/gone?{API}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{deleted}");

    // Refused while serve runs: writes after the copy would be lost.
    let (ok, _, stderr) = migrate(&server, &url);
    assert!(
        !ok && stderr.contains("stop `strongroom serve`"),
        "{stderr}"
    );

    assert!(
        server.terminate(Duration::from_secs(30)),
        "serve stops on SIGTERM"
    );
    let (ok, stdout, stderr) = migrate(&server, &url);
    assert!(ok, "migrate failed: {stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("migrate prints JSON");
    assert!(report["verified"].as_str().is_some(), "{report}");
    assert!(
        report["tables"]["object_versions"]
            .as_u64()
            .is_some_and(|n| n >= 4),
        "{report}"
    );

    // A second migration into the same database is refused: it is no longer empty.
    let (ok, _, stderr) = migrate(&server, &url);
    assert!(!ok && stderr.contains("empty"), "{stderr}");

    // The data directory without its SQLite file, on PostgreSQL: everything is there.
    let moved = TestServer::start_node_of(&server, &["--store", &url]);
    assert_eq!(moved.tenant_id, server.tenant_id);
    assert_eq!(moved.subscription_id, server.subscription_id);
    let got = moved
        .vault_call("GET", "moving", &format!("/secrets/a?{API}"), None)
        .await;
    assert_eq!(got.json()["value"], "alpha 2", "{got}");
    let versions = moved
        .vault_call("GET", "moving", &format!("/secrets/a/versions?{API}"), None)
        .await;
    assert_eq!(
        versions.json()["value"].as_array().map(Vec::len),
        Some(2),
        "{versions}"
    );
    let got = moved
        .vault_call("GET", "moving", &format!("/secrets/b?{API}"), None)
        .await;
    assert_eq!(got.json()["value"], "beta", "{got}");
    let gone = moved
        .vault_call(
            "GET",
            "moving",
            &format!("/deletedsecrets/gone?{API}"),
            None,
        )
        .await;
    assert_eq!(
        gone.status,
        StatusCode::OK,
        "the soft-deleted secret moved too: {gone}"
    );
    let key = moved
        .vault_call("GET", "moving", &format!("/keys/k?{API}"), None)
        .await;
    assert_eq!(key.json()["key"]["x"], public_x, "{key}");
    let signed = moved
        .vault_call(
            "POST",
            "moving",
            &format!("/keys/k/sign?{API}"),
            Some(&json!({"alg": "ES256", "value": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"})),
        )
        .await;
    assert_eq!(
        signed.status,
        StatusCode::OK,
        "the private key opens under the same master key: {signed}"
    );
    // New writes land in PostgreSQL and the vault id sequence continues.
    moved.create_vault("after").await;
    let set = moved
        .vault_call(
            "PUT",
            "after",
            &format!("/secrets/x?{API}"),
            Some(&json!({"value": "new"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
}
