//! The database file: created private (0600), opened with the pragmas durability needs, and
//! migrated to the schema this build knows.
//!
//! Migrations are an append-only list; `PRAGMA user_version` records how many have run.
//! A file from a newer build is refused rather than guessed at.
//!
//! Every connection sets `secure_delete`: SQLite zeroes a deleted row's bytes and the pages it
//! frees, instead of leaving them in free space where a copy of the file would still show
//! them (the WAL half of that is the writer's, `writer.rs`). A database written before this
//! setting existed may hold such leftovers; migration 6 marks the point, and opening an older
//! file rewrites it once (`VACUUM`, its scratch copy in memory) so nothing deleted before
//! survives either. Names of objects use
//! `COLLATE NOCASE`, so lookups, uniqueness and ordering ignore ASCII case (as Azure does)
//! while the column keeps the spelling the name was first written with.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection; the store uses fewer distinct statements.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// Every migration, in order. Never edit one that has shipped; append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE tenants (
        tenant_id    TEXT PRIMARY KEY NOT NULL,
        display_name TEXT NOT NULL,
        is_default   INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE principals (
        object_id    TEXT PRIMARY KEY NOT NULL,
        app_id       TEXT NOT NULL UNIQUE,
        tenant_id    TEXT NOT NULL,
        display_name TEXT NOT NULL,
        kind         TEXT NOT NULL,
        is_admin     INTEGER NOT NULL,
        created      INTEGER NOT NULL
    );

    -- Client secrets, as salted hashes; `ordinal` keeps the order they were given in.
    CREATE TABLE credentials (
        object_id TEXT NOT NULL REFERENCES principals (object_id) ON DELETE CASCADE,
        ordinal   INTEGER NOT NULL,
        key_id    TEXT NOT NULL,
        salt      BLOB NOT NULL,
        hash      BLOB NOT NULL,
        hint      TEXT NOT NULL,
        created   INTEGER NOT NULL,
        expires   INTEGER,
        PRIMARY KEY (object_id, ordinal)
    ) WITHOUT ROWID;

    -- AUTOINCREMENT: a deleted vault's id is never handed to a new vault.
    CREATE TABLE vaults (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL UNIQUE,
        tenant_id       TEXT NOT NULL,
        retention_days  INTEGER NOT NULL,
        created         INTEGER NOT NULL,
        sealed_data_key BLOB NOT NULL
    );

    -- Permission lists are length-prefixed strings (codec.rs).
    CREATE TABLE access_policies (
        vault_id     INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        ordinal      INTEGER NOT NULL,
        tenant_id    TEXT NOT NULL,
        object_id    TEXT NOT NULL,
        secrets      BLOB NOT NULL,
        keys         BLOB NOT NULL,
        certificates BLOB NOT NULL,
        PRIMARY KEY (vault_id, ordinal)
    ) WITHOUT ROWID;

    -- One row per name of a kind in a vault. `current_version` is the `seq` of the current
    -- version; a name is deleted while `deleted_date` is set.
    CREATE TABLE object_names (
        id                   INTEGER PRIMARY KEY,
        vault_id             INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        kind                 TEXT NOT NULL,
        name                 TEXT NOT NULL COLLATE NOCASE,
        current_version      INTEGER,
        deleted_date         INTEGER,
        scheduled_purge_date INTEGER,
        UNIQUE (vault_id, kind, name)
    );
    CREATE INDEX object_names_purge ON object_names (scheduled_purge_date)
        WHERE deleted_date IS NOT NULL;

    -- `seq` orders versions (oldest first); tags are length-prefixed strings (codec.rs);
    -- `payload` is the `Sealed` ciphertext exactly as the vault layer produced it.
    CREATE TABLE object_versions (
        seq        INTEGER PRIMARY KEY,
        name_id    INTEGER NOT NULL REFERENCES object_names (id) ON DELETE CASCADE,
        version    TEXT NOT NULL,
        enabled    INTEGER NOT NULL,
        not_before INTEGER,
        expires    INTEGER,
        created    INTEGER NOT NULL,
        updated    INTEGER NOT NULL,
        tags       BLOB NOT NULL,
        meta       BLOB NOT NULL,
        payload    BLOB NOT NULL,
        UNIQUE (name_id, version)
    );
    -- Entries are (name_id, seq): the versions of one name in order.
    CREATE INDEX object_versions_by_name ON object_versions (name_id);
    ",
    // 2: certificate credentials. A row with `certificate` (the public certificate's DER) is a
    // certificate credential and has empty `salt` and `hash`; without it, a client secret.
    r"
    ALTER TABLE credentials ADD COLUMN certificate BLOB;
    ",
    // 3: vault SKUs (`premium` allows HSM-protected and symmetric keys) and per-name policy
    // documents (a key's rotation policy). A policy belongs to its name: it survives soft
    // delete and recover, and goes with the name when that is purged (cascade).
    r"
    ALTER TABLE vaults ADD COLUMN sku TEXT NOT NULL DEFAULT 'standard';

    CREATE TABLE name_policies (
        name_id INTEGER PRIMARY KEY NOT NULL REFERENCES object_names (id) ON DELETE CASCADE,
        policy  BLOB NOT NULL
    );
    ",
    // 4: a certificate's pending operation (the create or merge in flight, or the last one's
    // outcome), one document per certificate name, kept like its policy.
    r"
    CREATE TABLE certificate_operations (
        name_id   INTEGER PRIMARY KEY NOT NULL REFERENCES object_names (id) ON DELETE CASCADE,
        operation BLOB NOT NULL
    );
    ",
    // 5: per-vault documents (a vault's certificate contacts, its certificate issuers), by
    // kind and case-insensitive name; they go with their vault.
    r"
    CREATE TABLE vault_documents (
        vault_id INTEGER NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        kind     TEXT NOT NULL,
        name     TEXT NOT NULL COLLATE NOCASE,
        document BLOB NOT NULL,
        PRIMARY KEY (vault_id, kind, name)
    ) WITHOUT ROWID;
    ",
    // 6: no schema change. Deleted rows are zeroed from here on (`secure_delete`); a file
    // older than this is vacuumed once when it is migrated (`scrub_free_pages`).
    "-- secure_delete from here on",
    // 7: documents of the deployment itself, not of one vault (ARM resource groups, later role
    // definitions and assignments): JSON a layer above writes and reads whole.
    r"
    CREATE TABLE deployment_documents (
        kind     TEXT NOT NULL,
        name     TEXT NOT NULL COLLATE NOCASE,
        document BLOB NOT NULL,
        PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;
    ",
    // 8: how a vault authorises (access policies or Azure RBAC) and its ARM resource group
    // (NULL: the default group), both read on every data-plane request.
    r"
    ALTER TABLE vaults ADD COLUMN rbac_authorization INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE vaults ADD COLUMN resource_group TEXT;
    ",
    // 9: a credential's display name, as Graph's passwordCredential and keyCredential carry it.
    r"
    ALTER TABLE credentials ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
    ",
    // 10: vault soft delete: when the vault was deleted (NULL: it is live). A deleted vault
    // keeps its row, name, objects and data key until it is recovered or purged.
    r"
    ALTER TABLE vaults ADD COLUMN deleted INTEGER;
    ",
    // 11: claims (`Store::claim_once`): a background job's time slot, an assertion's jti.
    r"
    CREATE TABLE claims (
        scope   TEXT NOT NULL,
        key     TEXT NOT NULL,
        expires INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    ",
];

/// The first schema version written with `secure_delete` on.
const SECURE_DELETE_SINCE: i64 = 6;

/// The schema version this build writes.
pub(super) fn current_version() -> i64 {
    super::codec::to_i64(MIGRATIONS.len())
}

/// Creates the database file with mode 0600 if it is absent, and takes group and other
/// permissions away from it and its WAL files if an older file has them.
pub(super) fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let unavailable =
        |err: std::io::Error| StoreError::Unavailable(format!("{}: {err}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    drop(options.open(path).map_err(unavailable)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        for file in [path.as_os_str(), &wal, &shm] {
            let Ok(metadata) = std::fs::metadata(file) else {
                continue; // WAL files appear with the first connection, already 0600
            };
            if metadata.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %Path::new(file).display(), "making the database file private (0600)");
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                    .map_err(unavailable)?;
            }
        }
    }
    Ok(())
}

/// Opens the one read-write connection, sets WAL and `synchronous=FULL`, and migrates.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    tune(&conn)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "{}: the database refused WAL mode (journal_mode is {mode})",
            path.display()
        )));
    }
    // FULL: in WAL mode the WAL is synced at every commit, so a commit that returned is
    // durable across power loss, which is what acknowledging a write promises.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens a read-only connection; WAL lets it read while the writer writes.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    tune(&conn)?;
    Ok(conn)
}

/// Settings every connection shares.
fn tune(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Deleted content is overwritten with zeros (see the module doc).
    let secure_delete: i64 =
        conn.pragma_update_and_check(None, "secure_delete", true, |row| row.get(0))?;
    if secure_delete != 1 {
        return Err(StoreError::Unavailable(
            "SQLite refused secure_delete".to_owned(),
        ));
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // The query planner stability guarantee: plans never depend on bound values. Without it
    // the bundled SQLite (built with STAT4) re-prepares our join statements on every run,
    // several times the cost of the query itself; we keep no statistics it could use anyway.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = current_version();
    if found > known {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {found}, newer than this build knows ({known})"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = super::codec::to_i64(index + 1);
        if version <= found {
            continue;
        }
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    if (1..SECURE_DELETE_SINCE).contains(&found) {
        scrub_free_pages(conn)?;
    }
    Ok(())
}

/// Rewrites a database made before `secure_delete`, so the free pages that may still hold
/// deleted rows are gone, then checkpoints and truncates the WAL that carried the rewrite.
/// The scratch copy `VACUUM` builds is kept in memory, never in a temporary file.
fn scrub_free_pages(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.execute_batch("VACUUM")?;
    conn.pragma_update(None, "temp_store", "DEFAULT")?;
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    if busy != 0 {
        return Err(StoreError::Unavailable(
            "the database is in use by another process (its WAL could not be truncated)".to_owned(),
        ));
    }
    tracing::info!("rewrote the database once so rows deleted before secure_delete are gone");
    Ok(())
}
