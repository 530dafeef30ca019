//! A consistent copy of a live database file, made with SQLite's online backup API while a
//! server keeps reading and writing it (`strongroom backup`).
//!
//! The copy is read from a connection of its own, opened read-only, in one read transaction
//! (`sqlite3_backup_step(-1)`): in WAL mode that transaction sees one committed state of the
//! database and blocks no writer, so the copy is exactly the database as of one commit. A
//! copy made in small steps would instead restart from the first page whenever another
//! connection commits, and under a steady stream of writes never finish. The price of the one
//! snapshot: a checkpoint that must truncate the WAL (the writer's after a purge) waits for
//! the copy to end, at most the busy timeout, and is retried at the next one if it could not.
//!
//! The destination is one self-contained file: created 0600, switched to a rollback journal
//! once complete (no `-wal` beside it), and checked (`quick_check`) before it is reported.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// How long a copy waits, in all, for a source or destination that reports itself busy.
const BUSY_DEADLINE: Duration = Duration::from_secs(30);
const BUSY_PAUSE: Duration = Duration::from_millis(50);
/// As `schema.rs`: how long a connection waits for another's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema version a database file records (`PRAGMA user_version`), beside the one this
/// build writes: a file newer than the build is refused by `SqliteStore::open`, an older one
/// is migrated by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    pub file: i64,
    pub build: i64,
}

/// What `online_backup` copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlineBackup {
    pub schema: SchemaVersion,
    /// Database pages copied.
    pub pages: i64,
}

/// Copies the database at `database` (which a server may be using) to a new file at
/// `destination` as of one commit.
///
/// # Errors
/// `AlreadyExists` if `destination` exists; `Unavailable` if a file cannot be created or
/// the source stays busy past the deadline, or the copy fails its check; `Sqlite` for what
/// SQLite refuses (no database at `database`, a damaged file).
pub fn online_backup(database: &Path, destination: &Path) -> Result<OnlineBackup, StoreError> {
    if !database.is_file() {
        return Err(StoreError::Unavailable(format!(
            "{}: no database file",
            database.display()
        )));
    }
    let source = open(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    create_new_private(destination)?;
    let copied = copy_into(&source, database, destination);
    if copied.is_err() {
        // Nothing half-made is left behind to be mistaken for a backup.
        let _ = std::fs::remove_file(destination);
        let mut journal = destination.as_os_str().to_owned();
        journal.push("-journal");
        let _ = std::fs::remove_file(journal);
    }
    copied
}

fn copy_into(
    source: &Connection,
    database: &Path,
    destination: &Path,
) -> Result<OnlineBackup, StoreError> {
    let mut copy = open(destination, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let backup = Backup::new(source, &mut copy)?;
    let started = Instant::now();
    loop {
        match backup.step(-1)? {
            StepResult::Done => break,
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_DEADLINE => {
                std::thread::sleep(BUSY_PAUSE);
            }
            StepResult::Busy | StepResult::Locked => {
                return Err(StoreError::Unavailable(format!(
                    "{}: the database stayed locked for {}s; try again",
                    database.display(),
                    BUSY_DEADLINE.as_secs()
                )));
            }
            // `StepResult` is non-exhaustive.
            _ => {
                return Err(StoreError::Unavailable(
                    "the SQLite backup reported an unknown step result".to_owned(),
                ));
            }
        }
    }
    let pages = i64::from(backup.progress().pagecount);
    drop(backup);
    finish(&copy, destination)?;
    let schema = read_schema(&copy)?;
    copy.close().map_err(|(_, err)| err)?;
    std::fs::File::open(destination)
        .and_then(|file| file.sync_all())
        .map_err(|err| unavailable(destination, &err))?;
    Ok(OnlineBackup { schema, pages })
}

/// The schema version recorded in the database at `database`, read without writing to it.
///
/// # Errors
/// `Unavailable` if there is no file; `Sqlite` if SQLite cannot read it.
pub fn schema_version(database: &Path) -> Result<SchemaVersion, StoreError> {
    if !database.is_file() {
        return Err(StoreError::Unavailable(format!(
            "{}: no database file",
            database.display()
        )));
    }
    read_schema(&open(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?)
}

fn open(path: &Path, access: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn read_schema(conn: &Connection) -> Result<SchemaVersion, StoreError> {
    let file: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    Ok(SchemaVersion {
        file,
        build: super::schema::current_version(),
    })
}

/// Makes the copy one self-contained file and checks its structure.
fn finish(copy: &Connection, destination: &Path) -> Result<(), StoreError> {
    // The copied header says WAL (the source's mode); a rollback journal leaves nothing
    // beside the file once this connection closes. The server turns WAL on again at open.
    let mode: String =
        copy.pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(StoreError::Unavailable(format!(
            "{}: the copy kept journal_mode {mode}",
            destination.display()
        )));
    }
    let check: String = copy.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "{}: the copy fails SQLite's quick_check: {check}",
            destination.display()
        )));
    }
    Ok(())
}

/// Creates `path` empty with mode 0600; it must not exist.
fn create_new_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(StoreError::AlreadyExists)
        }
        Err(err) => Err(unavailable(path, &err)),
    }
}

fn unavailable(path: &Path, err: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::{SqliteStore, Store};

    #[tokio::test]
    async fn the_copy_is_one_private_file_with_what_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.db");
        let store = SqliteStore::open(&live).unwrap();
        store.put_meta("before", b"copied").await.unwrap();

        let copy_path = dir.path().join("copy.db");
        let copied = online_backup(&live, &copy_path).unwrap();
        store.put_meta("after", b"not copied").await.unwrap();

        assert_eq!(copied.schema.file, copied.schema.build);
        assert!(copied.pages > 0);
        let mode = std::fs::metadata(&copy_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        for sidecar in ["copy.db-wal", "copy.db-shm", "copy.db-journal"] {
            assert!(!dir.path().join(sidecar).exists(), "{sidecar}");
        }
        assert_eq!(schema_version(&copy_path).unwrap(), copied.schema);
        drop(store);

        let reopened = SqliteStore::open(&copy_path).unwrap();
        assert_eq!(
            reopened.get_meta("before").await.unwrap().as_deref(),
            Some(&b"copied"[..])
        );
        assert_eq!(reopened.get_meta("after").await.unwrap(), None);
    }

    #[test]
    fn an_existing_destination_or_a_missing_source_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.db");
        drop(SqliteStore::open(&live).unwrap());
        let taken = dir.path().join("taken.db");
        std::fs::write(&taken, b"keep me").unwrap();
        assert!(matches!(
            online_backup(&live, &taken),
            Err(StoreError::AlreadyExists)
        ));
        assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
        let absent = online_backup(&dir.path().join("absent.db"), &dir.path().join("x.db"));
        assert!(
            matches!(absent, Err(StoreError::Unavailable(_))),
            "{absent:?}"
        );
    }
}
