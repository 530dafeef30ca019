//! `strongroom master-key rotate` (issue 9) against the running server: every data key is
//! re-sealed under a new key while a client keeps reading (no request fails), the old key
//! opens nothing afterwards, a backup made before the rotation still restores, a
//! passphrase deployment moves to a new passphrase, and a start-up after a crash in either
//! half of a rotation (or while the next key was written) keeps the key the database is
//! sealed under.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::StatusCode;
use serde_json::{Value, json};

use crate::admin_only::management;
use crate::harness::{MANAGEMENT_SCOPE, TestServer};
use crate::master_key::{VAULT, mode, put_and_read, read_back, refused_start};

/// Runs `strongroom --data-dir DIR master-key rotate ARGS…` off the async workers; its JSON.
async fn rotate(data_dir: &Path, args: &[&str]) -> Value {
    let data_dir = data_dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["master-key", "rotate"])
            .args(&args)
            .env_remove("STRONGROOM_DATA_DIR")
            .stdin(Stdio::null())
            .output()
            .expect("running the strongroom CLI")
    })
    .await
    .expect("the CLI thread");
    assert!(
        output.status.success(),
        "master-key rotate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the CLI prints JSON")
}

/// Reads the test secret over and over until told to stop; every answer must be 200.
fn keep_reading(
    server: &TestServer,
    token: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    let client = server.client();
    tokio::spawn(async move {
        let mut reads = 0;
        while !stop.load(Ordering::Relaxed) {
            let got = client
                .request(
                    "GET",
                    &format!("{VAULT}.vault.localhost"),
                    "/secrets/s?api-version=7.4",
                )
                .bearer(&token)
                .send()
                .await
                .expect("GET during the rotation");
            assert_eq!(
                got.status,
                StatusCode::OK,
                "a read during the rotation: {got}"
            );
            reads += 1;
        }
        reads
    })
}

/// Writes a key file as a rotation does (0600; a key file open to others is refused).
fn write_private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("creating a key file");
    std::io::Write::write_all(&mut file, bytes).expect("writing a key file");
}

async fn backup(server: &TestServer) -> String {
    let response = server
        .vault_call("POST", VAULT, "/secrets/s/backup?api-version=7.4", None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{response}");
    response.json()["value"]
        .as_str()
        .expect("a backup blob")
        .to_owned()
}

async fn restore_into(server: &TestServer, vault: &str, blob: &str) -> StatusCode {
    server.create_vault(vault).await;
    let body = json!({ "value": blob });
    server
        .vault_call(
            "POST",
            vault,
            "/secrets/restore?api-version=7.4",
            Some(&body),
        )
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_rotates_while_serving_and_a_crash_in_either_half_recovers() {
    let mut server = TestServer::start();
    let data_dir = server.data_dir().to_path_buf();
    let key_file = data_dir.join("master.key");
    let next_file = data_dir.join("master.key.next");
    put_and_read(&server, "sealed twice").await;
    let blob = backup(&server).await;
    let old_key = std::fs::read(&key_file).expect("master.key");

    let stop = Arc::new(AtomicBool::new(false));
    let reader = keep_reading(&server, server.vault_token().await, Arc::clone(&stop));
    let rotated = rotate(&data_dir, &[]).await;
    stop.store(true, Ordering::Relaxed);
    let reads = reader.await.expect("the reader");
    assert!(reads > 0, "the reader ran during the rotation");
    assert_eq!(rotated["vaults"], 1, "{rotated}");
    assert_eq!(
        rotated["deploymentValues"], 2,
        "the signing key and the backup key: {rotated}"
    );
    assert_eq!(rotated["keySource"], "file");
    assert_eq!(rotated["location"], key_file.display().to_string());
    let new_key = std::fs::read(&key_file).expect("master.key");
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, old_key, "master.key was replaced");
    assert_eq!(mode(&key_file), 0o600);
    assert!(!next_file.exists(), "the next key was moved into place");

    // The same process carries on, and a restarted one reads with the new key; a backup from
    // before the rotation restores.
    read_back(&server, "sealed twice").await;
    server.restart();
    read_back(&server, "sealed twice").await;
    assert_eq!(
        restore_into(&server, "restored", &blob).await,
        StatusCode::OK
    );

    // The old key opens nothing.
    server.kill();
    std::fs::write(&key_file, &old_key).expect("writing the old key");
    let stderr = refused_start(&data_dir, &[]);
    assert!(
        stderr.contains("does not open this database"),
        "the old key: {stderr}"
    );

    // A crash after the database was re-sealed but before the rename: the old key in
    // master.key, the new one in master.key.next. Start-up finishes the rotation.
    write_private(&next_file, &new_key);
    server.restart();
    read_back(&server, "sealed twice").await;
    assert_eq!(std::fs::read(&key_file).expect("master.key"), new_key);
    assert!(!next_file.exists(), "the next key was promoted");

    // A crash before the database was re-sealed: a next key the data is not sealed under.
    // Start-up discards it.
    server.kill();
    write_private(&next_file, &[7u8; 32]);
    server.restart();
    read_back(&server, "sealed twice").await;
    assert_eq!(std::fs::read(&key_file).expect("master.key"), new_key);
    assert!(!next_file.exists(), "the stale next key was removed");

    // A crash while the next key was being written: a short file. It cannot be the key in
    // use (the database is re-sealed only after it is durable), so start-up removes it too.
    server.kill();
    write_private(&next_file, &new_key[..5]);
    server.restart();
    read_back(&server, "sealed twice").await;
    assert!(!next_file.exists(), "the torn next key was removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_deployment_rotates_to_a_new_passphrase() {
    let outside = tempfile::tempdir().expect("a directory for the passphrases");
    let passphrase = outside.path().join("passphrase");
    let new_passphrase = outside.path().join("new-passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").expect("writing");
    // Two lines: `master-key rotate` must read the file as `serve` will (its whole text),
    // or the restart below would be refused.
    std::fs::write(
        &new_passphrase,
        "a different and longer passphrase\nwith a second line\n",
    )
    .expect("writing");
    let pass_arg = passphrase.to_str().expect("UTF-8 path");
    let mut server = TestServer::start_with(&["--master-passphrase-file", pass_arg]);
    let data_dir = server.data_dir().to_path_buf();
    put_and_read(&server, "behind two passphrases").await;
    let params_before = std::fs::read(data_dir.join("master.params")).expect("master.params");

    // A passphrase deployment needs the new passphrase, and a long enough one.
    let admin = server.admin_token(MANAGEMENT_SCOPE).await;
    for (body, says) in [
        (json!({}), "give the new passphrase"),
        (json!({"newPassphrase": "short"}), "at least 12"),
    ] {
        let refused = management(
            &server,
            &admin,
            "POST",
            "/strongroom/master-key/rotate",
            Some(&body),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused}");
        let (code, message) = refused.azure_error();
        assert_eq!(code, "BadRequest");
        assert!(message.contains(says), "{message}");
    }
    assert_eq!(
        std::fs::read(data_dir.join("master.params")).expect("master.params"),
        params_before,
        "a refused rotation changed nothing"
    );

    let new_arg = new_passphrase.to_str().expect("UTF-8 path");
    let rotated = rotate(&data_dir, &["--new-passphrase-file", new_arg]).await;
    assert_eq!(rotated["keySource"], "passphrase", "{rotated}");
    assert_eq!(rotated["vaults"], 1, "{rotated}");
    let params_after = std::fs::read(data_dir.join("master.params")).expect("master.params");
    assert_ne!(params_after, params_before, "new salt and check value");
    assert!(!data_dir.join("master.params.next").exists());
    read_back(&server, "behind two passphrases").await;

    server.kill();
    let stderr = refused_start(&data_dir, &["--master-passphrase-file", pass_arg]);
    assert!(
        stderr.contains("wrong master passphrase"),
        "the old passphrase: {stderr}"
    );
    std::fs::copy(&new_passphrase, &passphrase).expect("the new passphrase in its place");
    server.restart();
    read_back(&server, "behind two passphrases").await;
}
