//! Storage hygiene through the real binary: once a purge is acknowledged, the secret's
//! sealed ciphertext is in none of the database's files (`strongroom.db`, `-wal`, `-shm`),
//! not even in free space or in WAL frames a checkpoint has not overwritten yet.
//!
//! A ciphertext cannot be found by searching for its plaintext, so the test learns each
//! version's sealed bytes from a copy of the live files (opened with the store crate, the
//! server's files untouched), purges through the REST API, and then searches the live files
//! for every 32-byte aligned chunk of those bytes; a row split over pages or overflow pages
//! still leaves whole chunks behind when it is not wiped.

use std::collections::HashSet;
use std::path::Path;

use http::StatusCode;
use serde_json::json;
use strongroom_model::{ObjectKind, ObjectName, VaultName};
use strongroom_store::{SqliteStore, Store};

use crate::harness::TestServer;

const VAULT: &str = "scrubbed";
const CHUNK: usize = 32;
const FILES: [&str; 3] = ["strongroom.db", "strongroom.db-wal", "strongroom.db-shm"];

/// The files of the data directory in which some aligned chunk of `sealed` occurs.
fn files_holding(data_dir: &Path, sealed: &[u8]) -> Vec<String> {
    let chunks: HashSet<&[u8]> = sealed.chunks_exact(CHUNK).collect();
    FILES
        .iter()
        .filter_map(|file| {
            let bytes = std::fs::read(data_dir.join(file)).ok()?;
            let found = bytes
                .windows(CHUNK)
                .filter(|window| chunks.contains(window))
                .count();
            (found > 0).then(|| format!("{file} ({found} chunks)"))
        })
        .collect()
}

/// The sealed payload of the current version of each secret, read from a copy of the live
/// database files (the WAL included), so the running server's files are not touched.
async fn sealed_payloads(data_dir: &Path, names: &[&str]) -> Vec<Vec<u8>> {
    let copy = tempfile::tempdir().expect("a scratch directory");
    for file in FILES {
        let from = data_dir.join(file);
        if from.exists() {
            std::fs::copy(&from, copy.path().join(file)).expect("copying a database file");
        }
    }
    let store = SqliteStore::open(&copy.path().join(FILES[0])).expect("opening the copy");
    let vault = store
        .get_vault(&VaultName::parse(VAULT).unwrap())
        .await
        .unwrap()
        .expect("the vault is in the copy");
    let mut payloads = Vec::new();
    for name in names {
        let row = store
            .get_version(
                vault.id,
                ObjectKind::Secret,
                &ObjectName::parse(name).unwrap(),
                None,
            )
            .await
            .unwrap()
            .expect("the secret is in the copy");
        payloads.push(row.payload.as_bytes().to_vec());
    }
    payloads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_secret_leaves_no_ciphertext_in_the_database_files() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let client = server.client();
    let host = format!("{VAULT}.vault.localhost");

    // A small value (stored in its row's page) and a large one (in overflow pages), and a
    // neighbour that stays.
    let secrets = [
        ("small", "s".repeat(200)),
        ("large", "L".repeat(12_000)),
        ("kept", "k".repeat(300)),
    ];
    for (name, value) in &secrets {
        let response = client
            .request("PUT", &host, &format!("/secrets/{name}?api-version=7.4"))
            .bearer(&token)
            .json(&json!({ "value": value }))
            .send()
            .await
            .expect("set secret");
        assert_eq!(response.status, StatusCode::OK, "set {name}: {response}");
    }
    let data_dir = server.data_dir();
    let sealed = sealed_payloads(data_dir, &["small", "large", "kept"]).await;
    for (bytes, (name, value)) in sealed.iter().zip(&secrets) {
        assert!(bytes.len() > value.len(), "{name}: sealed, not the value");
        assert!(
            !files_holding(data_dir, bytes).is_empty(),
            "{name}: the search must find a live secret's ciphertext, or it proves nothing"
        );
    }

    for name in ["small", "large"] {
        let response = client
            .request("DELETE", &host, &format!("/secrets/{name}?api-version=7.4"))
            .bearer(&token)
            .send()
            .await
            .expect("delete secret");
        assert_eq!(response.status, StatusCode::OK, "delete {name}: {response}");
        let response = client
            .request(
                "DELETE",
                &host,
                &format!("/deletedsecrets/{name}?api-version=7.4"),
            )
            .bearer(&token)
            .send()
            .await
            .expect("purge secret");
        assert_eq!(
            response.status,
            StatusCode::NO_CONTENT,
            "purge {name}: {response}"
        );
    }

    // Acknowledged, so gone: from the database file, the WAL and its index, while the
    // server still runs (nothing waits for a shutdown's checkpoint).
    for (bytes, name) in sealed.iter().zip(["small", "large"]) {
        assert_eq!(
            files_holding(data_dir, bytes),
            Vec::<String>::new(),
            "{name}: purged ciphertext is still in the files\nstderr:\n{}",
            server.stderr()
        );
    }
    assert!(
        !files_holding(data_dir, &sealed[2]).is_empty(),
        "the secret that was not purged is still stored"
    );
}
