//! Persistence: the `Store` trait, the embedded SQLite backend, the PostgreSQL backend that
//! several stateless nodes share, the conformance suite that every backend must pass, and the
//! whole deployment as plain tables (`tables.rs`) to move it between backends.
//!
//! Must not touch: plaintext secret material (payloads arrive and leave as `Sealed`), policy
//! decisions, HTTP, the system clock (callers pass every timestamp in).
//!
//! Invariants:
//! - this crate never sees plaintext; it has no means to open a `Sealed` payload;
//! - a write returns `Ok` only after it is durable (SQLite: WAL + `synchronous=FULL`, the
//!   commit has returned; PostgreSQL: the commit has returned, `synchronous_commit=on`);
//! - the PostgreSQL backend caches nothing in-process: other nodes write the same rows;
//! - objects are generic over `ObjectKind`, so secrets, keys and certificates share one
//!   implementation of versions, soft delete, recover, purge and paging.
//!
//! Start reading at `Store` below, then `sqlite/mod.rs` or `postgres/mod.rs`; `conformance` is
//! the executable form of the trait's contract, `test_postgres` (feature `test-postgres`) the
//! throwaway PostgreSQL servers tests run it on.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod codec;
mod error;
mod postgres;
mod rows;
mod sqlite;
mod tables;
#[cfg(test)]
mod tables_tests;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(any(test, feature = "test-postgres"))]
pub mod test_postgres;

pub use error::StoreError;
pub use postgres::{PoolUse, PostgresStore};
pub use rows::*;
pub use sqlite::SqliteStore;
pub use sqlite::backup::{OnlineBackup, SchemaVersion, online_backup, schema_version};
pub use tables::{TableDump, TableValue};

use async_trait::async_trait;
use strongroom_model::{ObjectKind, ObjectName, UnixTime, VaultId, VaultName, Version};

/// Everything Strongroom persists. Object-safe, so callers hold `Arc<dyn Store>`.
///
/// Object operations address a vault by `VaultId` and a kind; a *name* is live (has a current
/// version), deleted (soft-deleted, recoverable until purged), or absent. Names compare
/// case-insensitively, as in Azure: `Foo` and `foo` are one name, and rows carry the spelling
/// the name was first written with (until it is purged).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- deployment metadata (CA, sealed signing key, settings) ----
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// A master-key rotation, in one transaction: every vault's sealed data key and the
    /// listed deployment values replaced, or nothing. `Conflict` when a value no longer holds
    /// its `previous` ciphertext or a vault is missing from `vault_keys`. The replaced
    /// ciphertext is scrubbed from the file as a purge's is.
    async fn reseal(&self, reseal: Reseal) -> Result<(), StoreError>;

    // ---- tenants and principals ----
    async fn put_tenant(&self, tenant: TenantRow) -> Result<(), StoreError>;
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantRow>, StoreError>;
    async fn list_tenants(&self) -> Result<Vec<TenantRow>, StoreError>;
    /// Fails with `AlreadyExists` when the app id or object id is taken.
    async fn create_principal(&self, principal: PrincipalRow) -> Result<(), StoreError>;
    async fn get_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError>;
    async fn get_principal_by_object_id(
        &self,
        object_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError>;
    async fn list_principals(&self) -> Result<Vec<PrincipalRow>, StoreError>;
    /// Replaces the principal's credentials (secret hashes); `NotFound` if absent.
    async fn set_principal_credentials(
        &self,
        object_id: &str,
        credentials: Vec<CredentialRow>,
    ) -> Result<(), StoreError>;
    /// Appends one credential to the principal's list in one transaction, so concurrent
    /// additions never lose each other; `NotFound` if the principal is absent.
    async fn add_principal_credential(
        &self,
        object_id: &str,
        credential: CredentialRow,
    ) -> Result<(), StoreError>;
    /// Removes one credential by key id in one transaction (concurrent additions and removals
    /// never lose each other); `false` if the principal has no such credential, `NotFound` if
    /// the principal is absent.
    async fn remove_principal_credential(
        &self,
        object_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError>;
    /// In one transaction: removes every certificate credential of the principal whose key id
    /// is not in `keep`, then appends `add` (its secrets are untouched). A credential removed
    /// concurrently stays removed even if `keep` names it; `AlreadyExists` if an added key id
    /// is taken, `NotFound` if the principal is absent.
    async fn replace_certificate_credentials(
        &self,
        object_id: &str,
        keep: Vec<String>,
        add: Vec<CredentialRow>,
    ) -> Result<(), StoreError>;
    /// Sets the principal's display name; `false` when there is no such principal.
    async fn rename_principal(
        &self,
        object_id: &str,
        display_name: &str,
    ) -> Result<bool, StoreError>;
    async fn delete_principal(&self, object_id: &str) -> Result<bool, StoreError>;

    // ---- vaults and access policies ----
    /// Fails with `AlreadyExists` when the name is taken.
    async fn create_vault(&self, vault: NewVault) -> Result<VaultRow, StoreError>;
    async fn get_vault(&self, name: &VaultName) -> Result<Option<VaultRow>, StoreError>;
    async fn get_vault_by_id(&self, id: VaultId) -> Result<Option<VaultRow>, StoreError>;
    /// Every vault, ordered by name, soft-deleted ones included (`deleted` set).
    async fn list_vaults(&self) -> Result<Vec<VaultRow>, StoreError>;
    /// Deletes (purges) the vault with every object, version and policy in it. A vault
    /// created later never receives a purged vault's id.
    async fn delete_vault(&self, id: VaultId) -> Result<bool, StoreError>;
    /// Soft-deletes the vault (`Some(when)`) or recovers it (`None`); its row, name, objects
    /// and data key stay either way. `NotFound` if it is absent.
    async fn set_vault_deleted(
        &self,
        id: VaultId,
        deleted: Option<UnixTime>,
    ) -> Result<(), StoreError>;
    /// Switches the vault between access policies and Azure RBAC; `NotFound` if it is absent.
    async fn set_vault_rbac(&self, id: VaultId, rbac_authorization: bool)
    -> Result<(), StoreError>;
    /// Replaces the vault's whole access-policy list; `NotFound` if the vault is absent.
    async fn set_access_policies(
        &self,
        id: VaultId,
        policies: Vec<AccessPolicyRow>,
    ) -> Result<(), StoreError>;

    // ---- objects: versions of live names ----
    /// Adds a version and makes it current. `NameDeleted` if the name is soft-deleted,
    /// `AlreadyExists` if that exact version exists, `NotFound` if the vault does not.
    async fn put_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        row: NewVersion,
    ) -> Result<VersionRow, StoreError>;
    /// A version of a live name; `version: None` means the current one.
    async fn get_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: Option<&Version>,
    ) -> Result<Option<VersionRow>, StoreError>;
    /// Changes attributes, tags and metadata of one version of a live name (not the payload).
    async fn update_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: &Version,
        update: VersionUpdate,
    ) -> Result<Option<VersionRow>, StoreError>;
    /// Current versions of live names, ordered by name (ASCII case folded, then byte order),
    /// after the cursor.
    async fn list_current(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError>;
    /// Versions of one live name, oldest first (in the order they were written). An absent
    /// name gives an empty page; `InvalidCursor` if `page.after` is not a cursor from here.
    async fn list_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError>;
    /// Every version of a live name, oldest first (for backup).
    async fn all_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Vec<VersionRow>, StoreError>;

    /// A certificate's new version together with the versions of the key and the secret of
    /// the same name that back it, all in one transaction: readers never see one without the
    /// others. `key` and `secret` are optional (a pending certificate has a key and no
    /// secret yet). The errors of `put_version`, for whichever of the three names fails;
    /// with `completes`, `NotFound` if the certificate version to complete does not exist.
    async fn put_certificate_versions(
        &self,
        vault: VaultId,
        versions: CertificateVersions,
    ) -> Result<VersionRow, StoreError>;

    // ---- soft delete ----
    // A certificate owns the key and the secret of its name: soft delete, recover and purge
    // of a certificate move them with it, in the same transaction (those that exist).

    /// Moves a live name (all its versions) to the deleted state. `None` if not live.
    async fn soft_delete(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        deletion: Deletion,
    ) -> Result<Option<DeletedRow>, StoreError>;
    async fn get_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<DeletedRow>, StoreError>;
    /// Deleted names with their current version, ordered like `list_current`.
    async fn list_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<DeletedRow>, StoreError>;
    /// Makes a deleted name live again; returns its current version. `None` if not deleted.
    async fn recover(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<VersionRow>, StoreError>;
    /// Removes a deleted name and all its versions for good. `false` if not deleted.
    async fn purge(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<bool, StoreError>;
    /// Purges every deleted name (any vault, any kind) whose scheduled purge date is at or
    /// before `now`; returns how many names were purged.
    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
    /// Writes all versions of a name from a backup, the last one current, in one
    /// transaction. `AlreadyExists` if the name is live or deleted (or a version repeats),
    /// `NotFound` if the vault does not exist, `Corrupt` if `versions` is empty or one of
    /// them carries another name.
    async fn restore(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        versions: Vec<NewVersion>,
    ) -> Result<VersionRow, StoreError>;

    /// Restores a certificate with its key, secret and policy in one transaction: the
    /// errors of `restore`, for whichever of the three names is in use.
    async fn restore_certificate(
        &self,
        vault: VaultId,
        restore: CertificateRestore,
    ) -> Result<VersionRow, StoreError>;

    // ---- per-name policies (a key's rotation policy) ----
    /// Replaces the policy document of a live name. `NotFound` if the name is not live. The
    /// policy stays with the name through soft delete and recover and is removed by purge.
    async fn put_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        policy: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// The policy document of a live name; `None` if the name is absent, deleted, or has none.
    async fn get_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every live name of `kind`, in any vault, that has a policy document.
    async fn list_name_policies(&self, kind: ObjectKind) -> Result<Vec<NamePolicyRow>, StoreError>;

    // ---- per-vault documents (certificate contacts, certificate issuers) ----
    // Keyed by a kind (`contacts`, `issuer`) and a name compared case-insensitively; deleted
    // with their vault.

    /// Creates or replaces a document. `NotFound` if the vault does not exist.
    async fn put_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError>;
    async fn get_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every document of `kind` in the vault, by name, with the names as first written.
    async fn list_vault_documents(
        &self,
        vault: VaultId,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// `false` if there was no such document.
    async fn delete_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError>;

    // ---- deployment documents (ARM resource groups, role definitions and assignments) ----
    // Keyed by a kind and a name compared case-insensitively; the documents are the layer
    // above's (JSON), never secret.

    /// Creates or replaces a document.
    async fn put_deployment_document(
        &self,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// The document and its name as first written.
    async fn get_deployment_document(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// Every document of `kind`, by name, with the names as first written.
    async fn list_deployment_documents(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// `false` if there was no such document.
    async fn delete_deployment_document(&self, kind: &str, name: &str) -> Result<bool, StoreError>;

    // ---- a certificate's pending operation ----
    // One document per certificate name, kept like its policy: it follows the name through
    // soft delete and recover and goes with it on purge.

    /// Replaces the pending-operation document of a live certificate. `NotFound` if the
    /// name is not live.
    async fn put_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
        operation: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// The pending-operation document of a live certificate, if it has one.
    async fn get_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes the pending-operation document of a live certificate; `false` if it had none.
    async fn delete_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<bool, StoreError>;

    // ---- the whole deployment (moving it to another backend) ----

    /// Every table of the logical schema, parents first, rows ordered by primary key, read
    /// from one consistent snapshot while writes go on (`tables.rs` says what is included).
    /// Two stores with equal contents give equal exports, whatever their backends.
    async fn export_tables(&self) -> Result<Vec<TableDump>, StoreError>;

    /// Writes an export into this store, in one transaction, keeping every id; afterwards a
    /// new vault's id is above every id the exporting store ever handed out. `Conflict` if
    /// the store is not empty, `Corrupt` if `tables` is not the logical schema (tables,
    /// columns, order) or a value does not fit its column.
    async fn import_tables(&self, tables: Vec<TableDump>) -> Result<(), StoreError>;

    // ---- several nodes on one database ----
    // A backend that other processes may write at the same time (PostgreSQL) must make the
    // caches of the layers above coherent, serialise deployment start-up, and let background
    // work run once per deployment. SQLite is written by one process only (the data
    // directory's lock), so its answers are trivial.

    /// A number that changes (within the same transaction) whenever data that a layer above
    /// caches changes: tenants, principals and their credentials, vaults (their rows, access
    /// policies, authorisation mode, group, deletion), meta, name policies, vault documents and
    /// deployment documents. Writes of object versions, deletions of objects and certificate
    /// operations need not change it: nothing above caches them when the store is shared.
    /// `None`: no other process writes this database, so in-process invalidation suffices.
    async fn cache_generation(&self) -> Result<Option<u64>, StoreError>;

    /// Serialises deployment start-up across nodes (tenant, subscription id, administrator,
    /// signing key: each "read, else create" runs under it). Held until the guard is dropped.
    async fn startup_lock(&self) -> Result<StartupLock, StoreError>;

    /// Records `key` under `scope` until `expires`: `true` for the first claim, `false` while
    /// an earlier claim of the same (scope, key) has not expired at `now` (an expired one is
    /// replaced, and the claim succeeds). Atomic across processes and durable before `true`
    /// returns. `purge_expired(now)` also removes expired claims. Uses: a background job's run
    /// per time slot (exactly once per deployment), a client assertion's `jti` (once until it
    /// expires).
    async fn claim_once(
        &self,
        scope: &str,
        key: &str,
        now: UnixTime,
        expires: UnixTime,
    ) -> Result<bool, StoreError>;
}

/// Holds a backend's start-up lock until dropped (`Store::startup_lock`).
#[derive(Default)]
pub struct StartupLock {
    _held: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl StartupLock {
    /// A lock held as long as `held` lives (a backend's connection or guard).
    #[must_use]
    pub fn holding(held: Box<dyn std::any::Any + Send + Sync>) -> Self {
        Self { _held: Some(held) }
    }
}

impl std::fmt::Debug for StartupLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartupLock").finish_non_exhaustive()
    }
}
