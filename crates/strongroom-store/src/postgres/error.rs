//! PostgreSQL's failures in the store's words: a lost or unreachable server (and a pool that
//! cannot hand out a connection in time) is `Unavailable`, which the HTTP edge answers with 503
//! and `Retry-After`; constraint violations become the variants SQLite gives for the same
//! refusal (each caller decides which: `unique` and `foreign_key` below); a serialisation
//! failure or deadlock is retried by the transaction runner (`retryable`).
//!
//! Messages never carry the connection URL: tokio-postgres's errors name the failure, not the
//! configuration, and the URL is parsed once in `connect.rs`.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::StoreError;

/// Maps a driver error; the default for every statement.
pub(super) fn db(err: tokio_postgres::Error) -> StoreError {
    if lost_server(&err) {
        return StoreError::Unavailable(format!("PostgreSQL: {err}"));
    }
    StoreError::Postgres(err)
}

/// A unique violation is `on_unique`; anything else as `db`.
pub(super) fn unique(err: tokio_postgres::Error, on_unique: StoreError) -> StoreError {
    if err.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return on_unique;
    }
    db(err)
}

/// An INSERT's failure as SQLite's `insert_error` maps it: a taken unique key is
/// `AlreadyExists`, a missing parent row (the vault, the principal) is `NotFound`.
pub(super) fn insert(err: tokio_postgres::Error) -> StoreError {
    if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        return StoreError::NotFound;
    }
    unique(err, StoreError::AlreadyExists)
}

/// The pool could not hand out a connection: the server is down or unreachable, or every
/// connection stayed busy past the wait timeout.
pub(super) fn pool(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => db(err),
        PoolError::Timeout(_) => StoreError::Unavailable(
            "PostgreSQL: no connection became available in time (server down or pool exhausted)"
                .to_owned(),
        ),
        other => StoreError::Unavailable(format!("PostgreSQL connection pool: {other}")),
    }
}

/// Worth running the whole transaction again: PostgreSQL aborted it to resolve a conflict
/// with another transaction, and a second run sees that one's outcome.
pub(super) fn retryable(err: &StoreError) -> bool {
    match err {
        StoreError::Postgres(err) => matches!(
            err.code(),
            Some(&SqlState::T_R_SERIALIZATION_FAILURE | &SqlState::T_R_DEADLOCK_DETECTED)
        ),
        _ => false,
    }
}

/// The server went away, refused us, or cannot serve now: class 08 (connection exception),
/// shutdown and start-up states, too many connections; or no server answer at all.
fn lost_server(err: &tokio_postgres::Error) -> bool {
    if let Some(code) = err.code() {
        let code = code.code();
        return code.starts_with("08")
            || matches!(
                code,
                "57P01" | "57P02" | "57P03" | "53300" | "53000" | "58030"
            );
    }
    if err.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    // Kinds without a cause that still mean "no usable server": a connect timeout, a failed
    // TLS handshake, an unexpected end of the protocol.
    let text = err.to_string();
    [
        "error connecting to server",
        "timeout waiting for server",
        "error performing TLS handshake",
        "error communicating with the server",
        "unexpected message from server",
    ]
    .iter()
    .any(|prefix| text.starts_with(prefix))
}
