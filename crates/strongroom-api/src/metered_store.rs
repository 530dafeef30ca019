//! The store as the metrics see it: every `Store` method forwarded to the backend and timed
//! (`strongroom_store_operation_duration_seconds{operation}`), its failures counted by kind
//! (`strongroom_store_errors_total{operation,kind}`). Wrapped around the store only when
//! metrics are kept, so a deployment without `--metrics-listen` pays nothing.
//!
//! Every trait method is forwarded explicitly (the trait has no default methods for that
//! reason): a method added to `Store` does not compile here until it is forwarded, so no
//! backend behaviour (a PostgreSQL cache generation, say) is ever hidden behind a default.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use strongroom_model::{ObjectKind, ObjectName, UnixTime, VaultId, VaultName, Version};
use strongroom_store::{
    AccessPolicyRow, CertificateRestore, CertificateVersions, CredentialRow, DeletedRow, Deletion,
    NamePolicyRow, NewVault, NewVersion, Page, PageRequest, PrincipalRow, Reseal, StartupLock,
    Store, StoreError, TableDump, TenantRow, VaultRow, VersionRow, VersionUpdate,
};

use crate::Metrics;

/// A `Store` that times every call into `inner`.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn observe(&self, operation: &'static str, started: Instant, error: Option<&StoreError>) {
        self.metrics
            .store_operation(operation, started.elapsed(), error.map(error_kind));
    }
}

/// A failure's label: what an operator would act on differently.
fn error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Conflict(_) => "conflict",
        StoreError::Corrupt(_) => "corrupt",
        // The answers a caller expects (absent, taken, deleted, owned, bad cursor).
        StoreError::AlreadyExists
        | StoreError::NotFound
        | StoreError::NameDeleted
        | StoreError::OwnedName { .. }
        | StoreError::InvalidCursor => "refused",
        _ => "backend",
    }
}

#[async_trait]
impl Store for MeteredStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_meta(key).await;
        self.observe("get_meta", started, result.as_ref().err());
        result
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.put_meta(key, value).await;
        self.observe("put_meta", started, result.as_ref().err());
        result
    }

    async fn reseal(&self, reseal: Reseal) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.reseal(reseal).await;
        self.observe("reseal", started, result.as_ref().err());
        result
    }

    async fn put_tenant(&self, tenant: TenantRow) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.put_tenant(tenant).await;
        self.observe("put_tenant", started, result.as_ref().err());
        result
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_tenant(tenant_id).await;
        self.observe("get_tenant", started, result.as_ref().err());
        result
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_tenants().await;
        self.observe("list_tenants", started, result.as_ref().err());
        result
    }

    async fn create_principal(&self, principal: PrincipalRow) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.create_principal(principal).await;
        self.observe("create_principal", started, result.as_ref().err());
        result
    }

    async fn get_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_principal_by_app_id(app_id).await;
        self.observe("get_principal_by_app_id", started, result.as_ref().err());
        result
    }

    async fn get_principal_by_object_id(
        &self,
        object_id: &str,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_principal_by_object_id(object_id).await;
        self.observe("get_principal_by_object_id", started, result.as_ref().err());
        result
    }

    async fn list_principals(&self) -> Result<Vec<PrincipalRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_principals().await;
        self.observe("list_principals", started, result.as_ref().err());
        result
    }

    async fn set_principal_credentials(
        &self,
        object_id: &str,
        credentials: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .set_principal_credentials(object_id, credentials)
            .await;
        self.observe("set_principal_credentials", started, result.as_ref().err());
        result
    }

    async fn add_principal_credential(
        &self,
        object_id: &str,
        credential: CredentialRow,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .add_principal_credential(object_id, credential)
            .await;
        self.observe("add_principal_credential", started, result.as_ref().err());
        result
    }

    async fn remove_principal_credential(
        &self,
        object_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .remove_principal_credential(object_id, key_id)
            .await;
        self.observe(
            "remove_principal_credential",
            started,
            result.as_ref().err(),
        );
        result
    }

    async fn replace_certificate_credentials(
        &self,
        object_id: &str,
        keep: Vec<String>,
        add: Vec<CredentialRow>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .replace_certificate_credentials(object_id, keep, add)
            .await;
        self.observe(
            "replace_certificate_credentials",
            started,
            result.as_ref().err(),
        );
        result
    }

    async fn rename_principal(
        &self,
        object_id: &str,
        display_name: &str,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.rename_principal(object_id, display_name).await;
        self.observe("rename_principal", started, result.as_ref().err());
        result
    }

    async fn delete_principal(&self, object_id: &str) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.delete_principal(object_id).await;
        self.observe("delete_principal", started, result.as_ref().err());
        result
    }

    async fn create_vault(&self, vault: NewVault) -> Result<VaultRow, StoreError> {
        let started = Instant::now();
        let result = self.inner.create_vault(vault).await;
        self.observe("create_vault", started, result.as_ref().err());
        result
    }

    async fn get_vault(&self, name: &VaultName) -> Result<Option<VaultRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_vault(name).await;
        self.observe("get_vault", started, result.as_ref().err());
        result
    }

    async fn get_vault_by_id(&self, id: VaultId) -> Result<Option<VaultRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_vault_by_id(id).await;
        self.observe("get_vault_by_id", started, result.as_ref().err());
        result
    }

    async fn list_vaults(&self) -> Result<Vec<VaultRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_vaults().await;
        self.observe("list_vaults", started, result.as_ref().err());
        result
    }

    async fn delete_vault(&self, id: VaultId) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.delete_vault(id).await;
        self.observe("delete_vault", started, result.as_ref().err());
        result
    }

    async fn set_vault_deleted(
        &self,
        id: VaultId,
        deleted: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.set_vault_deleted(id, deleted).await;
        self.observe("set_vault_deleted", started, result.as_ref().err());
        result
    }

    async fn set_vault_rbac(
        &self,
        id: VaultId,
        rbac_authorization: bool,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.set_vault_rbac(id, rbac_authorization).await;
        self.observe("set_vault_rbac", started, result.as_ref().err());
        result
    }

    async fn set_access_policies(
        &self,
        id: VaultId,
        policies: Vec<AccessPolicyRow>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.set_access_policies(id, policies).await;
        self.observe("set_access_policies", started, result.as_ref().err());
        result
    }

    async fn put_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        row: NewVersion,
    ) -> Result<VersionRow, StoreError> {
        let started = Instant::now();
        let result = self.inner.put_version(vault, kind, row).await;
        self.observe("put_version", started, result.as_ref().err());
        result
    }

    async fn get_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: Option<&Version>,
    ) -> Result<Option<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_version(vault, kind, name, version).await;
        self.observe("get_version", started, result.as_ref().err());
        result
    }

    async fn update_version(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        version: &Version,
        update: VersionUpdate,
    ) -> Result<Option<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .update_version(vault, kind, name, version, update)
            .await;
        self.observe("update_version", started, result.as_ref().err());
        result
    }

    async fn list_current(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_current(vault, kind, page).await;
        self.observe("list_current", started, result.as_ref().err());
        result
    }

    async fn list_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        page: PageRequest,
    ) -> Result<Page<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_versions(vault, kind, name, page).await;
        self.observe("list_versions", started, result.as_ref().err());
        result
    }

    async fn all_versions(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Vec<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.all_versions(vault, kind, name).await;
        self.observe("all_versions", started, result.as_ref().err());
        result
    }

    async fn put_certificate_versions(
        &self,
        vault: VaultId,
        versions: CertificateVersions,
    ) -> Result<VersionRow, StoreError> {
        let started = Instant::now();
        let result = self.inner.put_certificate_versions(vault, versions).await;
        self.observe("put_certificate_versions", started, result.as_ref().err());
        result
    }

    async fn soft_delete(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        deletion: Deletion,
    ) -> Result<Option<DeletedRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.soft_delete(vault, kind, name, deletion).await;
        self.observe("soft_delete", started, result.as_ref().err());
        result
    }

    async fn get_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<DeletedRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_deleted(vault, kind, name).await;
        self.observe("get_deleted", started, result.as_ref().err());
        result
    }

    async fn list_deleted(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        page: PageRequest,
    ) -> Result<Page<DeletedRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_deleted(vault, kind, page).await;
        self.observe("list_deleted", started, result.as_ref().err());
        result
    }

    async fn recover(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<VersionRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.recover(vault, kind, name).await;
        self.observe("recover", started, result.as_ref().err());
        result
    }

    async fn purge(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.purge(vault, kind, name).await;
        self.observe("purge", started, result.as_ref().err());
        result
    }

    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let started = Instant::now();
        let result = self.inner.purge_expired(now).await;
        self.observe("purge_expired", started, result.as_ref().err());
        result
    }

    async fn restore(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        versions: Vec<NewVersion>,
    ) -> Result<VersionRow, StoreError> {
        let started = Instant::now();
        let result = self.inner.restore(vault, kind, name, versions).await;
        self.observe("restore", started, result.as_ref().err());
        result
    }

    async fn restore_certificate(
        &self,
        vault: VaultId,
        restore: CertificateRestore,
    ) -> Result<VersionRow, StoreError> {
        let started = Instant::now();
        let result = self.inner.restore_certificate(vault, restore).await;
        self.observe("restore_certificate", started, result.as_ref().err());
        result
    }

    async fn put_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
        policy: Vec<u8>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.put_name_policy(vault, kind, name, policy).await;
        self.observe("put_name_policy", started, result.as_ref().err());
        result
    }

    async fn get_name_policy(
        &self,
        vault: VaultId,
        kind: ObjectKind,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_name_policy(vault, kind, name).await;
        self.observe("get_name_policy", started, result.as_ref().err());
        result
    }

    async fn list_name_policies(&self, kind: ObjectKind) -> Result<Vec<NamePolicyRow>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_name_policies(kind).await;
        self.observe("list_name_policies", started, result.as_ref().err());
        result
    }

    async fn put_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .put_vault_document(vault, kind, name, document)
            .await;
        self.observe("put_vault_document", started, result.as_ref().err());
        result
    }

    async fn get_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_vault_document(vault, kind, name).await;
        self.observe("get_vault_document", started, result.as_ref().err());
        result
    }

    async fn list_vault_documents(
        &self,
        vault: VaultId,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_vault_documents(vault, kind).await;
        self.observe("list_vault_documents", started, result.as_ref().err());
        result
    }

    async fn delete_vault_document(
        &self,
        vault: VaultId,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.delete_vault_document(vault, kind, name).await;
        self.observe("delete_vault_document", started, result.as_ref().err());
        result
    }

    async fn put_deployment_document(
        &self,
        kind: &str,
        name: &str,
        document: Vec<u8>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .put_deployment_document(kind, name, document)
            .await;
        self.observe("put_deployment_document", started, result.as_ref().err());
        result
    }

    async fn get_deployment_document(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_deployment_document(kind, name).await;
        self.observe("get_deployment_document", started, result.as_ref().err());
        result
    }

    async fn list_deployment_documents(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_deployment_documents(kind).await;
        self.observe("list_deployment_documents", started, result.as_ref().err());
        result
    }

    async fn delete_deployment_document(&self, kind: &str, name: &str) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.delete_deployment_document(kind, name).await;
        self.observe("delete_deployment_document", started, result.as_ref().err());
        result
    }

    async fn put_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
        operation: Vec<u8>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self
            .inner
            .put_certificate_operation(vault, name, operation)
            .await;
        self.observe("put_certificate_operation", started, result.as_ref().err());
        result
    }

    async fn get_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_certificate_operation(vault, name).await;
        self.observe("get_certificate_operation", started, result.as_ref().err());
        result
    }

    async fn delete_certificate_operation(
        &self,
        vault: VaultId,
        name: &ObjectName,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.delete_certificate_operation(vault, name).await;
        self.observe(
            "delete_certificate_operation",
            started,
            result.as_ref().err(),
        );
        result
    }

    async fn export_tables(&self) -> Result<Vec<TableDump>, StoreError> {
        let started = Instant::now();
        let result = self.inner.export_tables().await;
        self.observe("export_tables", started, result.as_ref().err());
        result
    }

    async fn import_tables(&self, tables: Vec<TableDump>) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.import_tables(tables).await;
        self.observe("import_tables", started, result.as_ref().err());
        result
    }

    async fn cache_generation(&self) -> Result<Option<u64>, StoreError> {
        let started = Instant::now();
        let result = self.inner.cache_generation().await;
        self.observe("cache_generation", started, result.as_ref().err());
        result
    }

    async fn startup_lock(&self) -> Result<StartupLock, StoreError> {
        let started = Instant::now();
        let result = self.inner.startup_lock().await;
        self.observe("startup_lock", started, result.as_ref().err());
        result
    }

    async fn claim_once(
        &self,
        scope: &str,
        key: &str,
        now: UnixTime,
        expires: UnixTime,
    ) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.claim_once(scope, key, now, expires).await;
        self.observe("claim_once", started, result.as_ref().err());
        result
    }
}
