//! The data directory at start-up: one server per directory (two `serve` processes started
//! together on a new directory leave one running server and one master key; the loser says
//! why; the lock goes with the process, so a restart after a SIGKILL takes the directory
//! again with the same key), and a directory or master key open to other users is refused
//! with the `chmod` that fixes it.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn serve(data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("STRONGROOM_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the strongroom binary")
}

/// Waits until the child exits or `timeout` passes; `None` if it is still running.
fn exit_within(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("polling a child") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut text);
    }
    text
}

#[test]
fn two_first_starts_leave_one_server_and_one_master_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("data");
    let mut first = serve(&data_dir);
    let mut second = serve(&data_dir);

    // The loser exits at once; the winner keeps running.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut first_exit, mut second_exit) = (None, None);
    while first_exit.is_none() && second_exit.is_none() && Instant::now() < deadline {
        first_exit = first.try_wait().expect("polling a child");
        second_exit = second.try_wait().expect("polling a child");
        std::thread::sleep(Duration::from_millis(50));
    }
    if first_exit.is_none() {
        first_exit = exit_within(&mut first, Duration::from_secs(3));
    }
    if second_exit.is_none() {
        second_exit = exit_within(&mut second, Duration::from_secs(3));
    }
    let (mut winner, mut loser, status) = match (first_exit, second_exit) {
        (Some(status), None) => (second, first, status),
        (None, Some(status)) => (first, second, status),
        other => {
            let _ = first.kill();
            let _ = second.kill();
            panic!(
                "expected exactly one server to exit, got {other:?}\nfirst: {}\nsecond: {}",
                stderr_of(&mut first),
                stderr_of(&mut second)
            );
        }
    };
    assert!(!status.success(), "the second server must fail");
    let message = stderr_of(&mut loser);
    assert!(
        message.contains("another `strongroom serve` is using the data directory"),
        "{message}"
    );
    let master_key = std::fs::read(data_dir.join("master.key")).expect("one master key");

    // SIGKILL: no shutdown runs, yet the lock goes with the process.
    winner.kill().expect("killing the winner");
    winner.wait().expect("reaping the winner");
    let mut restarted = serve(&data_dir);
    assert!(
        exit_within(&mut restarted, Duration::from_secs(3)).is_none(),
        "a restart takes the directory again: {}",
        stderr_of(&mut restarted)
    );
    assert_eq!(
        std::fs::read(data_dir.join("master.key")).expect("the master key"),
        master_key,
        "the same master key"
    );
    let _ = restarted.kill();
    let _ = restarted.wait();
}

/// Starts `serve`: the child if it still runs after 3 s, else its exit status and stderr.
fn starts(data_dir: &std::path::Path) -> Result<Child, String> {
    let mut child = serve(data_dir);
    match exit_within(&mut child, Duration::from_secs(3)) {
        None => Ok(child),
        Some(status) => Err(format!("{status}: {}", stderr_of(&mut child))),
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_data_directory_or_master_key_open_to_others_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("data");
    // A new directory made by someone else's umask is only tightened: nothing is in it yet.
    std::fs::create_dir(&data_dir).expect("mkdir");
    set_mode(&data_dir, 0o755);
    stop(starts(&data_dir).expect("a first start in a new 0755 directory"));
    assert_eq!(mode(&data_dir), 0o700);
    let key = data_dir.join("master.key");
    assert_eq!(mode(&key), 0o600);

    set_mode(&data_dir, 0o750);
    let refused = starts(&data_dir)
        .map(stop)
        .expect_err("a group-readable directory");
    assert!(
        refused.contains("is open to other users (mode 750)"),
        "{refused}"
    );
    assert!(
        refused.contains(&format!(
            "chmod 700 {}",
            data_dir.canonicalize().unwrap().display()
        )),
        "{refused}"
    );
    set_mode(&data_dir, 0o700);

    set_mode(&key, 0o644);
    let refused = starts(&data_dir)
        .map(stop)
        .expect_err("a world-readable master key");
    assert!(
        refused.contains("is readable by other users (mode 644)"),
        "{refused}"
    );
    assert!(refused.contains("chmod 600"), "{refused}");
    set_mode(&key, 0o600);

    stop(starts(&data_dir).expect("private again: starts"));
}
