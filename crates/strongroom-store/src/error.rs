//! What can go wrong in storage, in storage's words.

/// A storage failure. Says what happened, never an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    AlreadyExists,
    #[error("not found")]
    NotFound,
    #[error("the name is deleted but recoverable")]
    NameDeleted,
    /// A key or secret version for a name a certificate owns (written only with the
    /// certificate), or a new certificate over a plain key's or secret's name.
    #[error("the name belongs to a {owner}")]
    OwnedName { owner: strongroom_model::ObjectKind },
    /// A paging cursor the store did not produce (a client edited its `$skiptoken`).
    #[error("the paging cursor is not valid")]
    InvalidCursor,
    /// A conditional write found the data changed since it was read (`Store::reseal`).
    #[error("changed concurrently: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the storage backend is unavailable: {0}")]
    Unavailable(String),
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL error that is neither a refused write the trait names (unique and foreign
    /// key violations map to `AlreadyExists`, `NotFound`, …) nor a lost server (`Unavailable`).
    #[error("database error")]
    Postgres(#[from] tokio_postgres::Error),
}
