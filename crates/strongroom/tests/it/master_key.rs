//! The master key outside the data directory (issue 9): in a file of the operator's choosing,
//! or derived from a passphrase with Argon2id at each start. Either way the data directory
//! holds nothing that opens the data, a restart with the same source reads everything back,
//! and a start without it (or with a wrong passphrase) is refused with a message that says why.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::json;

use crate::harness::TestServer;

pub(crate) const VAULT: &str = "keyed";

pub(crate) async fn put_and_read(server: &TestServer, value: &str) {
    server.create_vault(VAULT).await;
    let body = json!({ "value": value });
    let put = server
        .vault_call("PUT", VAULT, "/secrets/s?api-version=7.4", Some(&body))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put}");
    read_back(server, value).await;
}

pub(crate) async fn read_back(server: &TestServer, value: &str) {
    let got = server
        .vault_call("GET", VAULT, "/secrets/s?api-version=7.4", None)
        .await;
    assert_eq!(got.status, StatusCode::OK, "{got}");
    assert_eq!(got.json()["value"], value);
}

/// Runs `serve` on `data_dir` with `args`, expecting it to refuse to start: its stderr.
pub(crate) fn refused_start(data_dir: &Path, args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("STRONGROOM_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning strongroom");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            assert!(!status.success(), "serve {args:?} started");
            let mut stderr = String::new();
            std::io::Read::read_to_string(
                child.stderr.as_mut().expect("piped stderr"),
                &mut stderr,
            )
            .expect("reading stderr");
            return stderr;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("serve {args:?} did not refuse to start within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_key_file_outside_the_data_directory() {
    let outside = tempfile::tempdir().expect("a directory for the key");
    let key_file = outside.path().join("strongroom.master");
    let key_arg = key_file.to_str().expect("UTF-8 path");
    let mut server = TestServer::start_with(&["--master-key-file", key_arg]);
    assert!(
        !server.data_dir().join("master.key").exists(),
        "nothing in the data directory opens the data"
    );
    assert_eq!(std::fs::read(&key_file).expect("the key file").len(), 32);
    assert_eq!(mode(&key_file), 0o600);
    put_and_read(&server, "kept outside").await;

    server.restart();
    read_back(&server, "kept outside").await;

    server.kill();
    let stderr = refused_start(server.data_dir(), &[]);
    assert!(
        stderr.contains("master.key is missing but a database exists"),
        "without the key file: {stderr}"
    );
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod");
    let stderr = refused_start(server.data_dir(), &["--master-key-file", key_arg]);
    assert!(
        stderr.contains("readable by other users") && stderr.contains("chmod 600"),
        "a key file open to others: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_key_derived_from_a_passphrase() {
    let outside = tempfile::tempdir().expect("a directory for the passphrase");
    let passphrase = outside.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").expect("writing");
    let pass_arg = passphrase.to_str().expect("UTF-8 path");
    let mut server = TestServer::start_with(&["--master-passphrase-file", pass_arg]);
    let data_dir = server.data_dir().to_path_buf();
    assert!(!data_dir.join("master.key").exists());
    let params = std::fs::read_to_string(data_dir.join("master.params")).expect("master.params");
    assert!(
        params.contains("argon2id") && !params.contains("correct horse"),
        "{params}"
    );
    put_and_read(&server, "behind a passphrase").await;

    server.restart();
    read_back(&server, "behind a passphrase").await;
    server.kill();

    std::fs::write(&passphrase, "incorrect horse battery staple\n").expect("writing");
    let stderr = refused_start(&data_dir, &["--master-passphrase-file", pass_arg]);
    assert!(
        stderr.contains("wrong master passphrase"),
        "a wrong passphrase: {stderr}"
    );
    let stderr = refused_start(&data_dir, &[]);
    assert!(
        stderr.contains("derived from a passphrase"),
        "no passphrase: {stderr}"
    );
    std::fs::write(&passphrase, "short\n").expect("writing");
    let stderr = refused_start(
        tempfile::tempdir().expect("dir").path(),
        &["--master-passphrase-file", pass_arg],
    );
    assert!(
        stderr.contains("at least 12"),
        "a short passphrase: {stderr}"
    );
}
