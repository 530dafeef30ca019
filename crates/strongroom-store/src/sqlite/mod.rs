//! The embedded backend: one SQLite file in WAL mode, one writer thread that commits in
//! groups, and a pool of read-only connections.
//!
//! `SqliteStore` only routes: each trait method moves its arguments into a closure and runs
//! it on a reader (`readers.rs`) or on the writer (`writer.rs`), with current versions cached
//! in `current_cache.rs` and invalidated by every object write; the SQL lives in
//! `objects.rs`, `directory.rs` and `name_documents.rs`, the schema and pragmas in `schema.rs`. Object names are
//! case-insensitive (as in Azure) and keep the spelling they were first written with.

pub(crate) mod backup;
mod codec;
mod current_cache;
mod directory;
mod name_documents;
mod objects;
mod readers;
mod schema;
mod tables;
mod writer;

#[cfg(test)]
mod scrub_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

use async_trait::async_trait;
use strongroom_model::{ObjectKind, ObjectName, UnixTime, VaultId, VaultName, Version};

use crate::{
    AccessPolicyRow, CertificateRestore, CertificateVersions, CredentialRow, DeletedRow, Deletion,
    NamePolicyRow, NewVault, NewVersion, Page, PageRequest, PrincipalRow, Reseal, Store,
    StoreError, TableDump, TenantRow, VaultRow, VersionRow, VersionUpdate,
};
use current_cache::CurrentVersions;
use name_documents::Slot;
use readers::Readers;
use writer::Writer;

const OPERATION: Slot = Slot::CertificateOperation;
const CERTIFICATE: ObjectKind = ObjectKind::Certificate;

/// Read-only connections: enough to keep a few cores busy with reads while one writes.
const READ_CONNECTIONS: usize = 4;

/// The SQLite store. Dropping it finishes the queued writes and closes the file.
pub struct SqliteStore {
    readers: Readers,
    writer: Writer,
    current: CurrentVersions,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// After a write to `name` of `kind`: forgets the cached current versions of that kind
    /// and of every kind the write may have moved with it (a certificate's key and secret).
    fn invalidate_linked(&self, vault: VaultId, kind: ObjectKind, name: &ObjectName) {
        for &each in std::iter::once(&kind).chain(objects::linked_kinds(kind)) {
            self.current.invalidate(vault, each, name);
        }
    }

    /// Opens (creating it with mode 0600 if absent) and migrates the database at `path`.
    /// The directory must exist. Blocks briefly; call it at start-up.
    ///
    /// # Errors
    /// `Unavailable` if the file cannot be created or is from a newer build (schema version),
    /// `Sqlite` if SQLite refuses to open or migrate it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        schema::create_private_file(path)?;
        let conn = schema::open_writer(path)?;
        let readers = Readers::open(path, READ_CONNECTIONS)?;
        let writer = Writer::spawn(conn)?;
        Ok(SqliteStore {
            readers,
            writer,
            current: CurrentVersions::default(),
        })
    }

    /// How many group transactions the writer has committed since `open` (for metrics; each
    /// one is a single fsync however many writes it carried).
    #[must_use]
    pub fn transactions_committed(&self) -> u64 {
        self.writer.commits()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.readers
            .read(move |conn| directory::get_meta(conn, &key))
            .await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.writer
            .write(move |conn| directory::put_meta(conn, &key, &value))
            .await
    }

    async fn reseal(&self, reseal: Reseal) -> Result<(), StoreError> {
        self.writer
            .write_and_scrub(move |conn| directory::reseal(conn, &reseal), |()| true)
            .await
    }

    /// Only this process writes the file (the data directory's lock): nothing to coordinate.
    async fn cache_generation(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// The data directory's lock already makes start-up exclusive.
    async fn startup_lock(&self) -> Result<crate::StartupLock, StoreError> {
        Ok(crate::StartupLock::default())
    }

    async fn claim_once(
        &self,
        scope: &str,
        key: &str,
        now: UnixTime,
        expires: UnixTime,
    ) -> Result<bool, StoreError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.writer
            .write(move |conn| directory::claim_once(conn, &scope, &key, now, expires))
            .await
    }

    async fn put_tenant(&self, tenant: TenantRow) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| directory::put_tenant(conn, &tenant))
            .await
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantRow>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.readers
            .read(move |conn| directory::get_tenant(conn, &tenant_id))
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        self.readers.read(directory::list_tenants).await
    }

    async fn create_principal(&self, principal: PrincipalRow) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| directory::create_principal(conn, &principal))
            .await
    }

    async fn get_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        let app_id = app_id.to_owned();
        self.readers
            .read(move |conn| directory::get_principal_by_app_id(conn, &app_id))
            .await
    }

    async fn get_principal_by_object_id(
        &self,
        object_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        let object_id = object_id.to_owned();
        self.readers
            .read(move |conn| directory::get_principal_by_object_id(conn, &object_id))
            .await
    }

    async fn list_principals(&self) -> Result<Vec<PrincipalRow>, StoreError> {
        self.readers.read(directory::list_principals).await
    }

    async fn set_principal_credentials(
        &self,
        object_id: &str,
        credentials: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        let object_id = object_id.to_owned();
        self.writer
            .write(move |conn| directory::set_principal_credentials(conn, &object_id, &credentials))
            .await
    }

    async fn add_principal_credential(
        &self,
        object_id: &str,
        credential: CredentialRow,
    ) -> Result<(), StoreError> {
        let object_id = object_id.to_owned();
        self.writer
            .write(move |conn| directory::add_principal_credential(conn, &object_id, &credential))
            .await
    }

    async fn remove_principal_credential(
        &self,
        object_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let (object_id, key_id) = (object_id.to_owned(), key_id.to_owned());
        self.writer
            .write(move |conn| directory::remove_principal_credential(conn, &object_id, &key_id))
            .await
    }

    async fn replace_certificate_credentials(
        &self,
        object_id: &str,
        keep: Vec<String>,
        add: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        let object_id = object_id.to_owned();
        self.writer
            .write(move |conn| {
                directory::replace_certificate_credentials(conn, &object_id, &keep, &add)
            })
            .await
    }

    async fn rename_principal(
        &self,
        object_id: &str,
        display_name: &str,
    ) -> Result<bool, StoreError> {
        let (object_id, display_name) = (object_id.to_owned(), display_name.to_owned());
        self.writer
            .write(move |conn| directory::rename_principal(conn, &object_id, &display_name))
            .await
    }

    async fn delete_principal(&self, object_id: &str) -> Result<bool, StoreError> {
        let object_id = object_id.to_owned();
        self.writer
            .write(move |conn| directory::delete_principal(conn, &object_id))
            .await
    }

    async fn create_vault(&self, vault: NewVault) -> Result<VaultRow, StoreError> {
        self.writer
            .write(move |conn| directory::create_vault(conn, vault))
            .await
    }

    async fn get_vault(&self, name: &VaultName) -> Result<Option<VaultRow>, StoreError> {
        let name = name.clone();
        self.readers
            .read(move |conn| directory::get_vault(conn, &name))
            .await
    }

    async fn get_vault_by_id(&self, id: VaultId) -> Result<Option<VaultRow>, StoreError> {
        self.readers
            .read(move |conn| directory::get_vault_by_id(conn, id))
            .await
    }

    async fn list_vaults(&self) -> Result<Vec<VaultRow>, StoreError> {
        self.readers.read(directory::list_vaults).await
    }

    async fn delete_vault(&self, id: VaultId) -> Result<bool, StoreError> {
        let result = self
            .writer
            .write_and_scrub(
                move |conn| directory::delete_vault(conn, id),
                |deleted| *deleted,
            )
            .await;
        self.current.invalidate_all();
        result
    }

    async fn set_vault_rbac(
        &self,
        id: VaultId,
        rbac_authorization: bool,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| directory::set_vault_rbac(conn, id, rbac_authorization))
            .await
    }

    async fn set_vault_deleted(
        &self,
        id: VaultId,
        deleted: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| directory::set_vault_deleted(conn, id, deleted))
            .await
    }

    async fn set_access_policies(
        &self,
        id: VaultId,
        policies: Vec<AccessPolicyRow>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| directory::set_access_policies(conn, id, &policies))
            .await
    }

    async fn put_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        row: NewVersion,
    ) -> Result<VersionRow, StoreError> {
        let name = row.name.clone();
        let result = self
            .writer
            .write(move |conn| objects::put_version(conn, vault, kind, row))
            .await;
        self.current.invalidate(vault, kind, &name);
        result
    }

    async fn put_certificate_versions(
        &self,
        vault: VaultId,
        versions: CertificateVersions,
    ) -> Result<VersionRow, StoreError> {
        let name = versions.certificate.name.clone();
        let result = self
            .writer
            .write(move |conn| objects::put_certificate_versions(conn, vault, versions))
            .await;
        self.invalidate_linked(vault, ObjectKind::Certificate, &name);
        result
    }

    async fn get_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: Option<&Version>,
    ) -> Result<Option<VersionRow>, StoreError> {
        if let Some(version) = version {
            // A request for a version by its id (a key operation on the `kid` a client holds)
            // is served from the current-version cache when it names the current version: the
            // cache only ever holds a name's current row, so a match is exactly what SQLite
            // would return. A miss that turns out to be current fills the cache.
            let generation = match self.current.get(vault, kind, name) {
                Ok(row) if &row.version == version => return Ok(Some(row)),
                Ok(_) => None,
                Err(generation) => Some(generation),
            };
            let owned_name = name.clone();
            let version = version.clone();
            let found = self
                .readers
                .read(move |conn| {
                    objects::get_exact_version(conn, vault, kind, &owned_name, &version)
                })
                .await?;
            return Ok(found.map(|(row, is_current)| {
                if let (true, Some(generation)) = (is_current, generation) {
                    self.current.insert(vault, kind, &row, generation);
                }
                row
            }));
        }
        let generation = match self.current.get(vault, kind, name) {
            Ok(row) => return Ok(Some(row)),
            Err(generation) => Some(generation),
        };
        let owned_name = name.clone();
        let row = self
            .readers
            .read(move |conn| objects::get_version(conn, vault, kind, &owned_name, None))
            .await?;
        if let (Some(row), Some(generation)) = (&row, generation) {
            self.current.insert(vault, kind, row, generation);
        }
        Ok(row)
    }

    async fn update_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: &Version,
        update: VersionUpdate,
    ) -> Result<Option<VersionRow>, StoreError> {
        let (owned_name, version) = (name.clone(), version.clone());
        let result = self
            .writer
            .write(move |conn| {
                objects::update_version(conn, vault, kind, &owned_name, &version, update)
            })
            .await;
        self.current.invalidate(vault, kind, name);
        result
    }

    async fn list_current(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        self.readers
            .read(move |conn| objects::list_current(conn, vault, kind, &page))
            .await
    }

    async fn list_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        let name = name.clone();
        self.readers
            .read(move |conn| objects::list_versions(conn, vault, kind, &name, &page))
            .await
    }

    async fn all_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Vec<VersionRow>, StoreError> {
        let name = name.clone();
        self.readers
            .read(move |conn| objects::all_versions(conn, vault, kind, &name))
            .await
    }

    async fn soft_delete(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        deletion: Deletion,
    ) -> Result<Option<DeletedRow>, StoreError> {
        let owned_name = name.clone();
        let result = self
            .writer
            .write(move |conn| objects::soft_delete(conn, vault, kind, &owned_name, deletion))
            .await;
        self.invalidate_linked(vault, kind, name);
        result
    }

    async fn get_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<DeletedRow>, StoreError> {
        let name = name.clone();
        self.readers
            .read(move |conn| objects::get_deleted(conn, vault, kind, &name))
            .await
    }

    async fn list_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<DeletedRow>, StoreError> {
        self.readers
            .read(move |conn| objects::list_deleted(conn, vault, kind, &page))
            .await
    }

    async fn recover(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<VersionRow>, StoreError> {
        let owned_name = name.clone();
        let result = self
            .writer
            .write(move |conn| objects::recover(conn, vault, kind, &owned_name))
            .await;
        self.invalidate_linked(vault, kind, name);
        result
    }

    async fn purge(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        let owned_name = name.clone();
        let result = self
            .writer
            .write_and_scrub(
                move |conn| objects::purge(conn, vault, kind, &owned_name),
                |purged| *purged,
            )
            .await;
        self.invalidate_linked(vault, kind, name);
        result
    }

    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let result = self
            .writer
            .write_and_scrub(
                move |conn| {
                    directory::purge_expired_claims(conn, now)?;
                    objects::purge_expired(conn, now)
                },
                |n_purged| *n_purged > 0,
            )
            .await;
        self.current.invalidate_all();
        result
    }

    async fn restore(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        versions: Vec<NewVersion>,
    ) -> Result<VersionRow, StoreError> {
        let owned_name = name.clone();
        let result = self
            .writer
            .write(move |conn| objects::restore(conn, vault, kind, &owned_name, versions))
            .await;
        self.current.invalidate(vault, kind, name);
        result
    }

    async fn restore_certificate(
        &self,
        vault: VaultId,
        restore: CertificateRestore,
    ) -> Result<VersionRow, StoreError> {
        let name = restore.name.clone();
        let result = self
            .writer
            .write(move |conn| objects::restore_certificate(conn, vault, restore))
            .await;
        self.invalidate_linked(vault, ObjectKind::Certificate, &name);
        result
    }

    async fn put_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        policy: Vec<u8>,
    ) -> Result<(), StoreError> {
        let owned_name = name.clone();
        self.writer
            .write(move |conn| {
                name_documents::put(conn, Slot::Policy, vault, kind, &owned_name, &policy)
            })
            .await
    }

    async fn get_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let owned_name = name.clone();
        self.readers
            .read(move |conn| name_documents::get(conn, Slot::Policy, vault, kind, &owned_name))
            .await
    }

    async fn list_name_policies(&self, kind: ObjectKind) -> Result<Vec<NamePolicyRow>, StoreError> {
        self.readers
            .read(move |conn| name_documents::list_policies(conn, kind))
            .await
    }

    async fn put_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.writer
            .write(move |conn| {
                name_documents::put_vault_document(conn, vault, &kind, &name, &document)
            })
            .await
    }

    async fn get_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.readers
            .read(move |conn| name_documents::get_vault_document(conn, vault, &kind, &name))
            .await
    }

    async fn list_vault_documents(
        &self,
        vault: VaultId,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let kind = kind.to_owned();
        self.readers
            .read(move |conn| name_documents::list_vault_documents(conn, vault, &kind))
            .await
    }

    async fn delete_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.writer
            .write(move |conn| name_documents::delete_vault_document(conn, vault, &kind, &name))
            .await
    }

    async fn put_deployment_document(
        &self,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.writer
            .write(move |conn| {
                name_documents::put_deployment_document(conn, &kind, &name, &document)
            })
            .await
    }

    async fn get_deployment_document(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.readers
            .read(move |conn| name_documents::get_deployment_document(conn, &kind, &name))
            .await
    }

    async fn list_deployment_documents(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let kind = kind.to_owned();
        self.readers
            .read(move |conn| name_documents::list_deployment_documents(conn, &kind))
            .await
    }

    async fn delete_deployment_document(&self, kind: &str, name: &str) -> Result<bool, StoreError> {
        let (kind, name) = (kind.to_owned(), name.to_owned());
        self.writer
            .write(move |conn| name_documents::delete_deployment_document(conn, &kind, &name))
            .await
    }

    async fn export_tables(&self) -> Result<Vec<TableDump>, StoreError> {
        self.readers.read(tables::export).await
    }

    async fn import_tables(&self, dump: Vec<TableDump>) -> Result<(), StoreError> {
        let result = self
            .writer
            .write(move |conn| tables::import(conn, &dump))
            .await;
        self.current.invalidate_all();
        result
    }

    async fn put_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
        operation: Vec<u8>,
    ) -> Result<(), StoreError> {
        let owned_name = name.clone();
        self.writer
            .write(move |conn| {
                name_documents::put(conn, OPERATION, vault, CERTIFICATE, &owned_name, &operation)
            })
            .await
    }

    async fn get_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let owned_name = name.clone();
        self.readers
            .read(move |conn| name_documents::get(conn, OPERATION, vault, CERTIFICATE, &owned_name))
            .await
    }

    async fn delete_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        let owned_name = name.clone();
        self.writer
            .write(move |conn| {
                name_documents::delete(conn, OPERATION, vault, CERTIFICATE, &owned_name)
            })
            .await
    }
}
