//! The mapping of SQLite constraint failures to `StoreError`, SQLite's integer conversions,
//! and the shared byte encodings (`crate::codec`) under the names this backend uses.

use rusqlite::ffi;

use crate::StoreError;
pub(super) use crate::codec::{decode_strings, decode_tags, encode_strings, encode_tags};

/// Maps the failure of an INSERT: a taken unique key is `AlreadyExists`, a missing parent
/// row (the vault or principal) is `NotFound`, anything else stays a database error.
pub(super) fn insert_error(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::AlreadyExists
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::NotFound,
            _ => StoreError::Sqlite(err),
        },
        _ => StoreError::Sqlite(err),
    }
}

/// Converts a row count or limit for SQLite, which speaks `i64`.
pub(super) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
