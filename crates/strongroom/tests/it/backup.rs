//! `strongroom backup` and `strongroom restore` (issue 11), end to end on the real binary.
//!
//! A backup is taken while the server runs and writers keep writing; the restored data
//! directory is served and must hold every secret acknowledged before the backup began, with
//! its exact value, the same admin credential, application credentials and TLS CA. Restore
//! refuses a non-empty target, an edited, truncated or missing file; a passphrase deployment
//! round-trips with its passphrase; a key kept outside the data directory is never silently
//! left out; a PostgreSQL deployment's backup holds the files and prints the `pg_dump` recipe.
//!
//! The "new host" of a restore is a `TestServer` whose data directory was emptied after its
//! first start, so the harness serves the restored directory with `restart()`.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{MANAGEMENT_SCOPE, RawClient, TestServer};
use crate::master_key::mode;

const VAULT: &str = "kept";
const WRITERS: usize = 2;
/// Acknowledged concurrent writes before the backup starts.
const ACKS_BEFORE_BACKUP: usize = 10;
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
struct Acked {
    name: String,
    version: String,
    value: String,
}

/// `strongroom ARGS…` with no `STRONGROOM_*` settings from the test's environment.
fn strongroom<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(args)
        .env_remove("STRONGROOM_DATA_DIR")
        .env_remove("STRONGROOM_STORE_URL")
        .env_remove("STRONGROOM_MASTER_KEY_FILE")
        .env_remove("STRONGROOM_MASTER_PASSPHRASE_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("running strongroom")
}

fn backup(data_dir: &Path, to: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "backup".as_ref(),
        "--to".as_ref(),
        to.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    strongroom(args)
}

fn restore(data_dir: &Path, from: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "restore".as_ref(),
        "--from".as_ref(),
        from.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    strongroom(args)
}

/// The JSON a successful command printed; panics with its output otherwise.
#[track_caller]
fn succeeded(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {stdout}"))
}

/// The stderr of a command that must have failed.
#[track_caller]
fn refused(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "succeeded but should not have:\nstdout:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A server started once with `extra` flags (so the harness can restart it with them), then
/// stopped and its data directory emptied: the new host a backup is restored onto.
fn new_host(extra: &[&str]) -> TestServer {
    let mut host = TestServer::start_with(extra);
    host.kill();
    empty(host.data_dir());
    host
}

fn empty(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("reading the directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("removing a directory");
        } else {
            std::fs::remove_file(&path).expect("removing a file");
        }
    }
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("reading the directory") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            for inner in std::fs::read_dir(entry.path()).expect("reading the subdirectory") {
                let inner = inner.expect("an entry").file_name();
                names.insert(format!("{name}/{}", inner.to_string_lossy()));
            }
        } else {
            names.insert(name);
        }
    }
    names
}

fn manifest_paths(manifest: &Value) -> BTreeSet<String> {
    manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|file| file["path"].as_str().expect("path").to_owned())
        .collect()
}

fn read_manifest(backup: &Path) -> Value {
    let text = std::fs::read_to_string(backup.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// Copies a backup directory (one level of subdirectories, as backups have).
fn copy_backup(from: &Path, to: &Path) {
    std::fs::create_dir(to).expect("creating the copy");
    for name in names_in(from) {
        let target = to.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("creating a subdirectory");
        }
        std::fs::copy(from.join(&name), &target).expect("copying a file");
    }
}

async fn put_secret(server: &TestServer, name: &str, value: &str) -> Acked {
    let response = server
        .vault_call(
            "PUT",
            VAULT,
            &format!("/secrets/{name}?api-version=7.4"),
            Some(&json!({ "value": value })),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "PUT {name}: {response}");
    acked(name, value, &response.json())
}

fn acked(name: &str, value: &str, bundle: &Value) -> Acked {
    let id = bundle["id"].as_str().expect("id");
    Acked {
        name: name.to_owned(),
        version: id.rsplit('/').next().expect("version").to_owned(),
        value: value.to_owned(),
    }
}

/// Reads `ack`'s version back: `Some(value)` if it is there.
async fn read_version(server: &TestServer, ack: &Acked) -> Option<String> {
    let response = server
        .vault_call(
            "GET",
            VAULT,
            &format!("/secrets/{}/{}?api-version=7.4", ack.name, ack.version),
            None,
        )
        .await;
    match response.status {
        StatusCode::OK => Some(response.json()["value"].as_str()?.to_owned()),
        StatusCode::NOT_FOUND => None,
        _ => panic!("GET {}/{}: {response}", ack.name, ack.version),
    }
}

/// Writes `w-{writer}-{n}` until `stop`, recording each acknowledged write in order.
async fn write_until(
    client: RawClient,
    token: String,
    writer: usize,
    acks: Arc<Mutex<Vec<Acked>>>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let name = format!("w-{writer}-{}", n % 5);
        let value = format!("written by {writer} as {n}: {}", "v".repeat(n % 50));
        let response = client
            .request(
                "PUT",
                &format!("{VAULT}.vault.localhost"),
                &format!("/secrets/{name}?api-version=7.4"),
            )
            .bearer(&token)
            .json(&json!({ "value": value }))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(response.status, StatusCode::OK, "PUT {name}: {response}");
        let ack = acked(&name, &value, &response.json());
        acks.lock().expect("acks").push(ack);
        n += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_every_acknowledged_secret() {
    let mut server = TestServer::start();
    server.create_vault(VAULT).await;
    let mut before = Vec::new();
    for i in 0..20 {
        let value = format!("secret {i} \u{e9}\u{1f511} {}", "x".repeat(i * 7));
        before.push(put_secret(&server, &format!("before-{i}"), &value).await);
    }
    // An application credential (`apps/kept.json`), and files a backup must leave out:
    // an audit log written into the data directory (`serve --audit-log DATA_DIR/audit.log`).
    server.cli(&["env", "--vault", VAULT]);
    std::fs::write(server.data_dir().join("audit.log"), b"{\"hash\":\"x\"}\n").expect("audit");
    std::fs::write(server.data_dir().join("audit.log.1"), b"").expect("audit");

    let acks = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let token = server.vault_token().await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            tokio::spawn(write_until(
                server.client(),
                token.clone(),
                writer,
                acks.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let waited = tokio::time::timeout(WRITE_TIMEOUT, async {
        while acks.lock().expect("acks").len() < ACKS_BEFORE_BACKUP {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the writers did not get going");

    let backups = tempfile::tempdir().expect("a directory for backups");
    let backup_dir = backups.path().join("b");
    let acked_before_backup = acks.lock().expect("acks").len();
    let output = {
        let (data_dir, to) = (server.data_dir().to_path_buf(), backup_dir.clone());
        tokio::task::spawn_blocking(move || backup(&data_dir, &to, &[]))
            .await
            .expect("backup task")
    };
    let acked_after_backup = acks.lock().expect("acks").len();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }
    let answer = succeeded(&output);
    assert!(
        acked_after_backup > acked_before_backup,
        "no write was acknowledged while the backup ran ({acked_before_backup} before, {acked_after_backup} after): the test did not back up under writes"
    );
    let during: Vec<Acked> = acks.lock().expect("acks").clone();
    let ca_before = std::fs::read(server.data_dir().join("ca.pem")).expect("ca.pem");
    let admin_before = std::fs::read(server.data_dir().join("admin.json")).expect("admin.json");
    let app_before = std::fs::read(server.data_dir().join("apps/kept.json")).expect("app");
    server.kill();

    // What the backup holds: the deployment's files and the manifest, 0600 in a 0700
    // directory; no lock, TLS leaf, server.json, audit log or WAL.
    let manifest = read_manifest(&backup_dir);
    let expected = set(&[
        "admin.json",
        "apps/kept.json",
        "ca-key.pem",
        "ca.pem",
        "certificate-ca-key.pem",
        "certificate-ca.pem",
        "master.key",
        "strongroom.db",
    ]);
    assert_eq!(manifest_paths(&manifest), expected, "{manifest:#}");
    let mut on_disk = expected.clone();
    on_disk.insert("manifest.json".to_owned());
    assert_eq!(names_in(&backup_dir), on_disk);
    assert_eq!(mode(&backup_dir), 0o700);
    for name in &on_disk {
        assert_eq!(mode(&backup_dir.join(name)), 0o600, "{name}");
    }
    assert_eq!(manifest["formatVersion"], 1);
    assert_eq!(manifest["store"]["kind"], "sqlite");
    assert!(
        manifest["store"]["schemaVersion"]
            .as_i64()
            .is_some_and(|v| v > 0)
    );
    assert_eq!(manifest["masterKey"]["source"], "dataDirectory");
    assert_eq!(manifest["masterKey"]["included"], true);
    assert_eq!(answer["masterKeyProof"]["checked"], true, "{answer:#}");

    let mut host = new_host(&[]);
    let restored = succeeded(&restore(host.data_dir(), &backup_dir, &[]));
    assert_eq!(
        restored["masterKey"]["proof"]["checked"], true,
        "{restored:#}"
    );
    assert_eq!(mode(host.data_dir()), 0o700);
    assert_eq!(mode(&host.data_dir().join("ca.pem")), 0o644);
    assert_eq!(mode(&host.data_dir().join("master.key")), 0o600);
    assert_eq!(mode(&host.data_dir().join("apps/kept.json")), 0o600);
    host.restart();

    // The same TLS root: a client holding the old ca.pem talks to the restored server.
    assert_eq!(
        std::fs::read(host.data_dir().join("ca.pem")).expect("ca"),
        ca_before
    );
    let old_ca = backups.path().join("old-ca.pem");
    std::fs::write(&old_ca, &ca_before).expect("writing");
    let health = RawClient::new(&old_ca, host.port)
        .request("GET", "localhost", "/healthz")
        .send()
        .await
        .expect("TLS with the old CA");
    assert_eq!(health.status, StatusCode::OK);
    // The same administrator (its credential works), and the application's credential.
    assert_eq!(
        std::fs::read(host.data_dir().join("admin.json")).expect("admin"),
        admin_before
    );
    host.admin_token(MANAGEMENT_SCOPE).await;
    assert_eq!(
        std::fs::read(host.data_dir().join("apps/kept.json")).expect("app"),
        app_before
    );
    let app: Value = serde_json::from_slice(&app_before).expect("app JSON");
    host.client_token(
        app["clientId"].as_str().expect("clientId"),
        app["clientSecret"].as_str().expect("clientSecret"),
        &format!("{}/.default", host.vault_resource()),
    )
    .await;

    // Every secret acknowledged before the backup began, with its exact value; a write
    // acknowledged later may or may not be there, but never with another value.
    let mut wrong = Vec::new();
    for ack in before.iter().chain(&during[..acked_before_backup]) {
        let got = read_version(&host, ack).await;
        if got.as_deref() != Some(ack.value.as_str()) {
            wrong.push(format!("{ack:?}: {got:?}"));
        }
    }
    for ack in &during[acked_before_backup..] {
        if let Some(got) = read_version(&host, ack).await
            && got != ack.value
        {
            wrong.push(format!("{ack:?}: {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "restored wrongly:\n{}", wrong.join("\n"));
    for ack in &before {
        let latest = host
            .vault_call(
                "GET",
                VAULT,
                &format!("/secrets/{}?api-version=7.4", ack.name),
                None,
            )
            .await;
        assert_eq!(latest.json()["value"], ack.value.as_str());
    }
}

/// Something done to a copy of a good backup.
type Damage = fn(&Path);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_non_empty_target_and_an_edited_partial_or_foreign_backup() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    put_secret(&server, "s", "v").await;
    let work = tempfile::tempdir().expect("a work directory");
    let good = work.path().join("good");
    succeeded(&backup(server.data_dir(), &good, &[]));

    // Backup and restore never write over anything.
    let refused_backup = refused(&backup(server.data_dir(), &good, &[]));
    assert!(refused_backup.contains("is not empty"), "{refused_backup}");
    let live = refused(&restore(server.data_dir(), &good, &[]));
    assert!(
        live.contains("is not empty"),
        "restore over the live directory: {live}"
    );
    let occupied = work.path().join("occupied");
    std::fs::create_dir(&occupied).expect("mkdir");
    std::fs::write(occupied.join("keep"), b"mine").expect("writing");
    let stderr = refused(&restore(&occupied, &good, &[]));
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert_eq!(names_in(&occupied), set(&["keep"]));
    assert_eq!(std::fs::read(occupied.join("keep")).expect("keep"), b"mine");

    // An edited file (same length), a truncated database, a missing file, no manifest:
    // refused, and the target is left as it was (here: absent).
    let cases: [(&str, Damage, &str); 4] = [
        (
            "edited",
            |dir: &Path| {
                let path = dir.join("admin.json");
                let mut bytes = std::fs::read(&path).expect("admin.json");
                let last = bytes.len() - 3;
                bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
                std::fs::write(&path, bytes).expect("writing");
            },
            "does not match the manifest",
        ),
        (
            "truncated",
            |dir: &Path| {
                let path = dir.join("strongroom.db");
                let bytes = std::fs::read(&path).expect("db");
                std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("writing");
            },
            "where the manifest says",
        ),
        (
            "missing",
            |dir: &Path| std::fs::remove_file(dir.join("ca-key.pem")).expect("rm"),
            "is missing",
        ),
        (
            "unfinished",
            |dir: &Path| std::fs::remove_file(dir.join("manifest.json")).expect("rm"),
            "manifest",
        ),
    ];
    for (case, damage, message) in cases {
        let copy = work.path().join(case);
        copy_backup(&good, &copy);
        damage(&copy);
        let target = work.path().join(format!("{case}-target"));
        let stderr = refused(&restore(&target, &copy, &[]));
        assert!(stderr.contains(message), "{case}: {stderr}");
        assert!(!target.exists(), "{case}: the target was left behind");
    }

    // The good backup still restores.
    let fresh = work.path().join("fresh");
    succeeded(&restore(&fresh, &good, &[]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_deployment_round_trips_with_its_passphrase() {
    let outside = tempfile::tempdir().expect("a directory for the passphrase");
    let passphrase = outside.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").expect("writing");
    let wrong = outside.path().join("wrong");
    std::fs::write(&wrong, "incorrect horse battery staple\n").expect("writing");
    let pass = passphrase.to_str().expect("UTF-8");
    let mut server = TestServer::start_with(&["--master-passphrase-file", pass]);
    server.create_vault(VAULT).await;
    let ack = put_secret(&server, "behind", "a passphrase").await;
    // Offline this time: the server has stopped (and closed the database) first.
    assert!(
        server.terminate(Duration::from_secs(30)),
        "serve did not stop on SIGTERM"
    );
    let backup_dir = outside.path().join("b");
    let answer = succeeded(&backup(server.data_dir(), &backup_dir, &[]));
    let manifest = read_manifest(&backup_dir);
    assert_eq!(manifest["masterKey"]["source"], "passphrase", "{answer:#}");
    let files = manifest_paths(&manifest);
    assert!(
        files.contains("master.params") && !files.contains("master.key"),
        "{files:?}"
    );
    drop(server);

    let mut host = new_host(&["--master-passphrase-file", pass]);
    let stderr = refused(&restore(host.data_dir(), &backup_dir, &[]));
    assert!(stderr.contains("passphrase"), "{stderr}");
    let stderr = refused(&restore(
        host.data_dir(),
        &backup_dir,
        &["--master-passphrase-file", wrong.to_str().expect("UTF-8")],
    ));
    assert!(stderr.contains("wrong master passphrase"), "{stderr}");
    assert!(
        names_in(host.data_dir()).is_empty(),
        "a refused restore leaves nothing"
    );
    let restored = succeeded(&restore(
        host.data_dir(),
        &backup_dir,
        &["--master-passphrase-file", pass],
    ));
    assert_eq!(
        restored["masterKey"]["proof"]["checked"], true,
        "{restored:#}"
    );
    host.restart();
    assert_eq!(
        read_version(&host, &ack).await.as_deref(),
        Some("a passphrase")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_key_outside_the_data_directory_is_never_left_out_silently() {
    let outside = tempfile::tempdir().expect("a directory for keys");
    let key = outside.path().join("master.key");
    let key_arg = key.to_str().expect("UTF-8").to_owned();
    let server = TestServer::start_with(&["--master-key-file", &key_arg]);
    server.create_vault(VAULT).await;
    let ack = put_secret(&server, "outside", "the key is elsewhere").await;

    // Neither flag: refused, nothing made.
    let unsaid = outside.path().join("unsaid");
    let stderr = refused(&backup(server.data_dir(), &unsaid, &[]));
    assert!(
        stderr.contains("--master-key-file") && stderr.contains("--exclude-master-key"),
        "{stderr}"
    );
    assert!(!unsaid.exists());
    // A key that is not this deployment's: refused.
    let other_key = outside.path().join("other.key");
    std::fs::write(&other_key, [7u8; 32]).expect("writing");
    let stderr = refused(&backup(
        server.data_dir(),
        &outside.path().join("other"),
        &["--master-key-file", other_key.to_str().expect("UTF-8")],
    ));
    assert!(stderr.contains("does not open"), "{stderr}");
    // Left out deliberately: said loudly, and recorded.
    let without = outside.path().join("without");
    let output = backup(server.data_dir(), &without, &["--exclude-master-key"]);
    succeeded(&output);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("NOT in this backup"),
        "{output:?}"
    );
    let manifest = read_manifest(&without);
    assert_eq!(manifest["masterKey"]["source"], "externalFile");
    assert_eq!(manifest["masterKey"]["included"], false);
    assert!(!manifest_paths(&manifest).contains("master.key"));
    // Copied in.
    let with = outside.path().join("with");
    succeeded(&backup(
        server.data_dir(),
        &with,
        &["--master-key-file", &key_arg],
    ));
    assert_eq!(
        std::fs::read(with.join("master.key")).expect("key in backup"),
        std::fs::read(&key).expect("key")
    );
    drop(server);

    // Without the key, restore refuses; with the deployment's key file it restores.
    let mut host = new_host(&["--master-key-file", &key_arg]);
    let stderr = refused(&restore(host.data_dir(), &without, &[]));
    assert!(stderr.contains("--master-key-file"), "{stderr}");
    succeeded(&restore(
        host.data_dir(),
        &without,
        &["--master-key-file", &key_arg],
    ));
    assert!(!host.data_dir().join("master.key").exists());
    host.restart();
    assert_eq!(
        read_version(&host, &ack).await.as_deref(),
        Some("the key is elsewhere")
    );
    drop(host);

    // The key in the backup is written where the restored deployment keeps it.
    let moved = outside.path().join("moved.key");
    let moved_arg = moved.to_str().expect("UTF-8").to_owned();
    let mut host = new_host(&["--master-key-file", &moved_arg]);
    std::fs::remove_file(&moved).expect("the new host's own first key");
    succeeded(&restore(
        host.data_dir(),
        &with,
        &["--master-key-file", &moved_arg],
    ));
    assert_eq!(
        std::fs::read(&moved).expect("moved"),
        std::fs::read(&key).expect("key")
    );
    assert_eq!(mode(&moved), 0o600);
    host.restart();
    assert_eq!(
        read_version(&host, &ack).await.as_deref(),
        Some("the key is elsewhere")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_deployment_backup_holds_the_files_and_prints_the_recipes() {
    let server = TestServer::start();
    let url = "postgres://strongroom:s3cret-pw@127.0.0.1:1/vaults?sslmode=disable";
    let work = tempfile::tempdir().expect("a work directory");
    let backup_dir = work.path().join("b");
    let output = backup(server.data_dir(), &backup_dir, &["--store", url]);
    let answer = succeeded(&output);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !printed.contains("s3cret-pw"),
        "a password was printed: {printed}"
    );
    let recipe = answer["pgDump"].as_str().expect("pgDump");
    assert!(
        recipe.starts_with("pg_dump --format=custom")
            && recipe.contains("postgres://strongroom@127.0.0.1:1/vaults?sslmode=disable"),
        "{recipe}"
    );
    let manifest = read_manifest(&backup_dir);
    assert_eq!(manifest["store"]["kind"], "postgresql");
    let files = manifest_paths(&manifest);
    assert!(
        files.contains("master.key") && files.contains("ca-key.pem"),
        "{files:?}"
    );
    assert!(!files.contains("strongroom.db"), "{files:?}");
    drop(server);

    let target = work.path().join("restored");
    let stderr = refused(&restore(&target, &backup_dir, &[]));
    assert!(stderr.contains("--store"), "{stderr}");
    let output = restore(&target, &backup_dir, &["--store", url]);
    let restored = succeeded(&output);
    assert!(
        restored["pgRestore"]
            .as_str()
            .is_some_and(|r| r.starts_with("pg_restore ")),
        "{restored:#}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("s3cret-pw"));
    assert_eq!(names_in(&target), files);
}

/// `backup` of a directory that holds no deployment is refused and makes nothing.
#[test]
fn backup_refuses_a_directory_that_is_not_a_data_directory() {
    let work = tempfile::tempdir().expect("a work directory");
    let stderr = refused(&backup(work.path(), &work.path().join("b"), &[]));
    assert!(
        stderr.contains("not a Strongroom data directory"),
        "{stderr}"
    );
    assert!(!work.path().join("b").exists());
}
