//! The shared backend: a PostgreSQL database that several stateless nodes use at once,
//! through a pool of connections (deadpool-postgres over tokio-postgres) with prepared
//! statements cached per connection.
//!
//! `PostgresStore` only routes: each trait method runs one statement on a pooled connection
//! (reads, and writes that are one statement, in autocommit) or one transaction
//! (`transaction!` below, which runs the whole transaction again when PostgreSQL aborted it
//! for a deadlock or serialisation failure). The SQL lives in `objects.rs`, `directory.rs` and
//! `documents.rs`, the schema and migrations in `schema.rs`, the URL and pool in
//! `connect.rs` (TLS in `tls.rs`), the advisory locks in `locks.rs`, the error mapping in
//! `error.rs`, the whole-deployment copy in `tables.rs`.
//!
//! What SQLite's single writer thread gives for free, this backend does explicitly, because
//! other processes write the same database: a per-name advisory lock before every object
//! write, a row lock on the principal or vault before a change of its credential or policy
//! list, table locks for the master-key re-seal, and unique constraints everywhere SQLite has
//! them. Every write is one transaction and returns `Ok` only after its commit returned, with
//! the server's default `synchronous_commit = on` (the commit record is flushed).
//!
//! Nothing is cached in this process: another node may change any row at any time, so every
//! read goes to the database (SQLite's current-version cache has no counterpart here). The
//! layers above learn of changes to what they cache through `cache_generation`, a counter the
//! database's own triggers bump in the writing transaction.
//!
//! Deleted data: SQLite's `secure_delete` has no PostgreSQL counterpart. A deleted or updated
//! row stays in its table's pages as a dead tuple until `VACUUM` (or autovacuum) reclaims the
//! space, and even then the bytes remain until the page is rewritten; the WAL, its archives,
//! replicas and base backups keep their copies for as long as they are kept. So after a purge
//! the sealed payload is gone from every query but not from the disk. What stays is ciphertext
//! under the vault's data key either way (and a deleted vault's data key is itself sealed by
//! the master key); protect the database's storage and backups as you would the data
//! directory (disk encryption), and rotate the master key to make old copies unreadable.

mod connect;
mod directory;
mod documents;
mod error;
mod locks;
mod objects;
mod schema;
mod statements;
mod tables;
mod tls;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use deadpool_postgres::{Object, Pool};
use strongroom_model::{ObjectKind, ObjectName, UnixTime, VaultId, VaultName, Version};

pub use connect::PoolUse;

use crate::{
    AccessPolicyRow, CertificateRestore, CertificateVersions, CredentialRow, DeletedRow, Deletion,
    NamePolicyRow, NewVault, NewVersion, Page, PageRequest, PrincipalRow, Reseal, StartupLock,
    Store, StoreError, TableDump, TenantRow, VaultRow, VersionRow, VersionUpdate,
};
use documents::Slot;

const CERTIFICATE: ObjectKind = ObjectKind::Certificate;

/// How many times a transaction runs when PostgreSQL keeps aborting it for a conflict.
const MAX_ATTEMPTS: u32 = 5;

/// The PostgreSQL store. Cheap to share (`Arc<dyn Store>`); dropping it closes the pool.
pub struct PostgresStore {
    pool: Pool,
    settings: connect::Settings,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool_status())
            .finish_non_exhaustive()
    }
}

/// Awaits `$attempt` (an expression giving a fresh future each time it is evaluated) and
/// evaluates it again, up to `MAX_ATTEMPTS` times in all, while PostgreSQL aborted it to
/// resolve a deadlock or serialisation failure (`error::retryable`). Nothing of an aborted
/// attempt was committed, so running it again is safe.
macro_rules! retrying {
    ($attempt:expr) => {{
        let mut attempt: u32 = 1;
        loop {
            match $attempt.await {
                Err(err) if error::retryable(&err) && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(
                        attempt,
                        "PostgreSQL aborted a write for a conflict; running it again"
                    );
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}

/// Runs `$body`, an expression using `$tx: &deadpool_postgres::Transaction` that gives a
/// future of `Result<T, StoreError>`, in one transaction on a pooled connection, and commits;
/// any error rolls back (the transaction is dropped). Retried as `retrying!` says.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:expr) => {
        retrying!(async {
            let mut client = $store.client().await?;
            let transaction = client.transaction().await.map_err(error::db)?;
            let value = {
                let $tx = &transaction;
                $body.await?
            };
            transaction.commit().await.map_err(error::db)?;
            Ok::<_, StoreError>(value)
        })
    };
}

/// Runs `$body`, an expression using `$client: &Object`, on a pooled connection: a read, or
/// (through `statement!`) a write that is one statement, its own transaction, committed
/// before the result returns.
macro_rules! on_connection {
    ($store:expr, |$client:ident| $body:expr) => {{
        let connection = $store.client().await?;
        let $client = &connection;
        $body.await
    }};
}

/// A write of one statement: `on_connection!`, retried as `retrying!` says.
macro_rules! statement {
    ($store:expr, |$client:ident| $body:expr) => {
        retrying!(async { on_connection!($store, |$client| $body) })
    };
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`), migrates
    /// it to this build's schema (once, under an advisory lock, when several nodes start
    /// together), and opens the pool.
    ///
    /// Parameters Strongroom reads itself and takes out of the URL: `pool_size=N` (connections,
    /// default 16), `sslmode` and `sslrootcert=PATH`: `disable` (the default), `allow` and
    /// `prefer` connect without TLS; `require` and `verify-ca` connect with TLS and verify the
    /// server's chain against the PEM file `sslrootcert` (required with them), `verify-full`
    /// also its name; never a fall-back to plain text. TLS is rustls on aws-lc-rs. The rest
    /// goes to tokio-postgres (`connect_timeout`, `application_name`, `options`, …). Errors
    /// never repeat the URL.
    ///
    /// # Errors
    /// `Unavailable` if the URL is invalid, the server cannot be reached, or the database's
    /// schema is newer than this build; `Postgres` if a migration fails.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let settings = connect::parse(url)?;
        {
            // The migration lock is a session lock on a connection that is then dropped,
            // which releases it even if a migration failed halfway.
            let mut client = connect::dedicated(&settings).await?;
            schema::migrate(&mut client).await?;
        }
        let pool = connect::pool(&settings)?;
        Ok(PostgresStore { pool, settings })
    }

    /// How the connection pool is being used (for metrics).
    #[must_use]
    pub fn pool_status(&self) -> PoolUse {
        connect::status(&self.pool)
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(error::pool)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on_connection!(self, |client| directory::get_meta(client, key))
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::put_meta(tx, key, value))
    }

    async fn reseal(&self, reseal: Reseal) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::reseal(tx, &reseal))
    }

    async fn put_tenant(&self, tenant: TenantRow) -> Result<(), StoreError> {
        statement!(self, |client| directory::put_tenant(client, &tenant))
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantRow>, StoreError> {
        on_connection!(self, |client| directory::get_tenant(client, tenant_id))
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        on_connection!(self, |client| directory::list_tenants(client))
    }

    async fn create_principal(&self, principal: PrincipalRow) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::create_principal(tx, &principal))
    }

    async fn get_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        on_connection!(self, |client| directory::get_principal_by_app_id(
            client, app_id
        ))
    }

    async fn get_principal_by_object_id(
        &self,
        object_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        on_connection!(self, |client| directory::get_principal_by_object_id(
            client, object_id
        ))
    }

    async fn list_principals(&self) -> Result<Vec<PrincipalRow>, StoreError> {
        on_connection!(self, |client| directory::list_principals(client))
    }

    async fn set_principal_credentials(
        &self,
        object_id: &str,
        credentials: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::set_principal_credentials(
            tx,
            object_id,
            &credentials
        ))
    }

    async fn add_principal_credential(
        &self,
        object_id: &str,
        credential: CredentialRow,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::add_principal_credential(
            tx,
            object_id,
            &credential
        ))
    }

    async fn remove_principal_credential(
        &self,
        object_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        transaction!(self, |tx| directory::remove_principal_credential(
            tx, object_id, key_id
        ))
    }

    async fn replace_certificate_credentials(
        &self,
        object_id: &str,
        keep: Vec<String>,
        add: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::replace_certificate_credentials(
            tx, object_id, &keep, &add
        ))
    }

    async fn rename_principal(
        &self,
        object_id: &str,
        display_name: &str,
    ) -> Result<bool, StoreError> {
        statement!(self, |client| directory::rename_principal(
            client,
            object_id,
            display_name
        ))
    }

    async fn delete_principal(&self, object_id: &str) -> Result<bool, StoreError> {
        statement!(self, |client| directory::delete_principal(
            client, object_id
        ))
    }

    async fn create_vault(&self, vault: NewVault) -> Result<VaultRow, StoreError> {
        transaction!(self, |tx| directory::create_vault(tx, &vault))
    }

    async fn get_vault(&self, name: &VaultName) -> Result<Option<VaultRow>, StoreError> {
        on_connection!(self, |client| directory::get_vault(client, name))
    }

    async fn get_vault_by_id(&self, id: VaultId) -> Result<Option<VaultRow>, StoreError> {
        on_connection!(self, |client| directory::get_vault_by_id(client, id))
    }

    async fn list_vaults(&self) -> Result<Vec<VaultRow>, StoreError> {
        on_connection!(self, |client| directory::list_vaults(client))
    }

    async fn delete_vault(&self, id: VaultId) -> Result<bool, StoreError> {
        statement!(self, |client| directory::delete_vault(client, id))
    }

    async fn set_vault_deleted(
        &self,
        id: VaultId,
        deleted: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        statement!(self, |client| directory::set_vault_deleted(
            client, id, deleted
        ))
    }

    async fn set_vault_rbac(
        &self,
        id: VaultId,
        rbac_authorization: bool,
    ) -> Result<(), StoreError> {
        statement!(self, |client| directory::set_vault_rbac(
            client,
            id,
            rbac_authorization
        ))
    }

    async fn set_access_policies(
        &self,
        id: VaultId,
        policies: Vec<AccessPolicyRow>,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| directory::set_access_policies(tx, id, &policies))
    }

    async fn put_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        row: NewVersion,
    ) -> Result<VersionRow, StoreError> {
        transaction!(self, |tx| objects::put_version(tx, vault, kind, &row))
    }

    async fn get_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: Option<&Version>,
    ) -> Result<Option<VersionRow>, StoreError> {
        on_connection!(self, |client| objects::get_version(
            client, vault, kind, name, version
        ))
    }

    async fn update_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: &Version,
        update: VersionUpdate,
    ) -> Result<Option<VersionRow>, StoreError> {
        transaction!(self, |tx| objects::update_version(
            tx, vault, kind, name, version, &update
        ))
    }

    async fn list_current(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        on_connection!(self, |client| objects::list_current(
            client, vault, kind, &page
        ))
    }

    async fn list_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        on_connection!(self, |client| objects::list_versions(
            client, vault, kind, name, &page
        ))
    }

    async fn all_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Vec<VersionRow>, StoreError> {
        on_connection!(self, |client| objects::all_versions(
            client, vault, kind, name
        ))
    }

    async fn put_certificate_versions(
        &self,
        vault: VaultId,
        versions: CertificateVersions,
    ) -> Result<VersionRow, StoreError> {
        transaction!(self, |tx| objects::put_certificate_versions(
            tx, vault, &versions
        ))
    }

    async fn soft_delete(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        deletion: Deletion,
    ) -> Result<Option<DeletedRow>, StoreError> {
        transaction!(self, |tx| objects::soft_delete(
            tx, vault, kind, name, deletion
        ))
    }

    async fn get_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<DeletedRow>, StoreError> {
        on_connection!(self, |client| objects::get_deleted(
            client, vault, kind, name
        ))
    }

    async fn list_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<DeletedRow>, StoreError> {
        on_connection!(self, |client| objects::list_deleted(
            client, vault, kind, &page
        ))
    }

    async fn recover(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<VersionRow>, StoreError> {
        transaction!(self, |tx| objects::recover(tx, vault, kind, name))
    }

    async fn purge(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        transaction!(self, |tx| objects::purge(tx, vault, kind, name))
    }

    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        transaction!(self, |tx| objects::purge_expired(tx, now))
    }

    async fn restore(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        versions: Vec<NewVersion>,
    ) -> Result<VersionRow, StoreError> {
        transaction!(self, |tx| objects::restore(
            tx, vault, kind, name, &versions
        ))
    }

    async fn restore_certificate(
        &self,
        vault: VaultId,
        restore: CertificateRestore,
    ) -> Result<VersionRow, StoreError> {
        transaction!(self, |tx| objects::restore_certificate(tx, vault, &restore))
    }

    async fn put_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        policy: Vec<u8>,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| documents::put(
            tx,
            Slot::Policy,
            vault,
            kind,
            name,
            &policy
        ))
    }

    async fn get_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_connection!(self, |client| documents::get_document(
            client,
            Slot::Policy,
            vault,
            kind,
            name
        ))
    }

    async fn list_name_policies(&self, kind: ObjectKind) -> Result<Vec<NamePolicyRow>, StoreError> {
        on_connection!(self, |client| documents::list_policies(client, kind))
    }

    async fn put_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        statement!(self, |client| documents::put_vault_document(
            client, vault, kind, name, &document
        ))
    }

    async fn get_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_connection!(self, |client| documents::get_vault_document(
            client, vault, kind, name
        ))
    }

    async fn list_vault_documents(
        &self,
        vault: VaultId,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        on_connection!(self, |client| documents::list_vault_documents(
            client, vault, kind
        ))
    }

    async fn delete_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        statement!(self, |client| documents::delete_vault_document(
            client, vault, kind, name
        ))
    }

    async fn put_deployment_document(
        &self,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        statement!(self, |client| documents::put_deployment_document(
            client, kind, name, &document
        ))
    }

    async fn get_deployment_document(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        on_connection!(self, |client| documents::get_deployment_document(
            client, kind, name
        ))
    }

    async fn list_deployment_documents(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        on_connection!(self, |client| documents::list_deployment_documents(
            client, kind
        ))
    }

    async fn delete_deployment_document(&self, kind: &str, name: &str) -> Result<bool, StoreError> {
        statement!(self, |client| documents::delete_deployment_document(
            client, kind, name
        ))
    }

    async fn put_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
        operation: Vec<u8>,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| documents::put(
            tx,
            Slot::CertificateOperation,
            vault,
            CERTIFICATE,
            name,
            &operation
        ))
    }

    async fn get_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_connection!(self, |client| documents::get_document(
            client,
            Slot::CertificateOperation,
            vault,
            CERTIFICATE,
            name
        ))
    }

    async fn delete_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        transaction!(self, |tx| documents::delete(
            tx,
            Slot::CertificateOperation,
            vault,
            CERTIFICATE,
            name
        ))
    }

    async fn export_tables(&self) -> Result<Vec<TableDump>, StoreError> {
        let mut client = self.client().await?;
        tables::export(&mut client).await
    }

    async fn import_tables(&self, dump: Vec<TableDump>) -> Result<(), StoreError> {
        transaction!(self, |tx| tables::import(tx, &dump))
    }

    async fn cache_generation(&self) -> Result<Option<u64>, StoreError> {
        let generation: i64 = on_connection!(self, |client| async {
            let row = statements::query_opt(client, "SELECT generation FROM cache_generation", &[])
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt("the cache generation row is missing".to_owned())
                })?;
            statements::get::<i64>(&row, 0)
        })?;
        Ok(Some(u64::try_from(generation).unwrap_or(0)))
    }

    async fn startup_lock(&self) -> Result<StartupLock, StoreError> {
        // A connection of its own, never returned to the pool: the session lock lives as
        // long as the connection, and dropping the guard drops the client, which closes the
        // connection and so releases the lock (also if this process dies).
        let client = connect::dedicated(&self.settings).await?;
        client
            .execute(locks::LOCK_SESSION, &[&locks::NAMESPACE, &locks::STARTUP])
            .await
            .map_err(error::db)?;
        Ok(StartupLock::holding(Box::new(client)))
    }

    async fn claim_once(
        &self,
        scope: &str,
        key: &str,
        now: UnixTime,
        expires: UnixTime,
    ) -> Result<bool, StoreError> {
        statement!(self, |client| directory::claim_once(
            client, scope, key, now, expires
        ))
    }
}
