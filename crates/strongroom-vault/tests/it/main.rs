//! Integration tests of the vault layer: every operation on a real `SqliteStore` in a
//! temporary directory, a real master key, and a `ManualClock` for retention. No mocks.
//!
//! `Harness` builds a deployment (store + context) with one vault; `grant::<P>()` builds the
//! typed proof a service function asks for the way the API does: `authorize` with a policy
//! granting "all", then `narrow`.

mod backup;
mod deleted;
mod keys;
mod limits;
mod master_key;
mod raw_file;
mod release;
mod secrets;
mod vaults;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use strongroom_authz::{AccessPolicy, Grant, PermissionType, authorize, parse_secret_permissions};
use strongroom_crypto::MasterKey;
use strongroom_model::{
    Caller, ManualClock, ObjectId, ObjectName, PermissionSet, SecretValue, TenantId, UnixTime,
    VaultName,
};
use strongroom_store::{SqliteStore, Store};
use strongroom_vault::secrets::{Secret, SecretProperties, SetSecret};
use strongroom_vault::{Page, PageRequest, Vault, VaultCtx};
use tempfile::TempDir;

pub(crate) const TENANT: &str = "00000000-0000-0000-0000-00000000aaaa";
pub(crate) const CALLER_OID: &str = "00000000-0000-0000-0000-00000000bbbb";

pub(crate) struct Harness {
    /// Holds the database files; deleted on drop.
    pub(crate) dir: TempDir,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: ManualClock,
    pub(crate) master: Arc<MasterKey>,
    pub(crate) ctx: VaultCtx,
    /// A vault with 7 days of retention, named "vault-one".
    pub(crate) vault: Vault,
}

impl Harness {
    pub(crate) async fn new() -> Self {
        Self::with_master(Arc::new(MasterKey::generate().unwrap())).await
    }

    pub(crate) async fn with_master(master: Arc<MasterKey>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(open_store(dir.path()));
        let clock = ManualClock::default();
        let ctx = VaultCtx::new(
            Arc::clone(&store),
            Arc::new(clock.clone()),
            Arc::clone(&master),
        );
        let vault = create_vault(&ctx, "vault-one", 7).await;
        Self {
            dir,
            store,
            clock,
            master,
            ctx,
            vault,
        }
    }

    /// A second context on the same store and master key, with its own caches (another node).
    pub(crate) fn second_ctx(&self) -> VaultCtx {
        VaultCtx::new(
            Arc::clone(&self.store),
            Arc::new(self.clock.clone()),
            Arc::clone(&self.master),
        )
    }

    pub(crate) fn now(&self) -> UnixTime {
        self.ctx.now()
    }

    pub(crate) async fn set(&self, secret_name: &str, value: &str) -> Secret {
        self.set_in(&self.vault, secret_name, value).await
    }

    pub(crate) async fn set_in(&self, vault: &Vault, secret_name: &str, value: &str) -> Secret {
        strongroom_vault::secrets::set(
            &self.ctx,
            vault,
            &grant(),
            &name(secret_name),
            set_params(value),
        )
        .await
        .unwrap()
    }

    pub(crate) async fn get_value(&self, secret_name: &str) -> String {
        strongroom_vault::secrets::get(&self.ctx, &self.vault, &grant(), &name(secret_name), None)
            .await
            .unwrap()
            .value
            .expose()
            .to_owned()
    }

    /// Every version of a name, following `next` through every page.
    pub(crate) async fn all_versions_in(
        &self,
        vault: &Vault,
        secret_name: &str,
    ) -> Vec<SecretProperties> {
        collect_pages(|page| async {
            strongroom_vault::secrets::list_versions(
                &self.ctx,
                vault,
                &grant(),
                &name(secret_name),
                page,
            )
            .await
            .unwrap()
        })
        .await
    }
}

pub(crate) fn open_store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("strongroom.db")).unwrap()
}

pub(crate) async fn create_vault(ctx: &VaultCtx, vault_name: &str, retention_days: i64) -> Vault {
    strongroom_vault::vaults::create(
        ctx,
        VaultName::parse(vault_name).unwrap(),
        TenantId(TENANT.to_owned()),
        retention_days,
        strongroom_vault::VaultSku::Standard,
        vec![policy_all()],
    )
    .await
    .unwrap()
}

pub(crate) fn caller() -> Caller {
    Caller {
        tenant_id: TenantId(TENANT.to_owned()),
        object_id: ObjectId(CALLER_OID.to_owned()),
        kind: strongroom_model::PrincipalKind::ServicePrincipal,
        app_id: "test-app".to_owned(),
        issuer: "https://sts.strongroom.test/tenant/".to_owned(),
        is_admin: false,
        credential_id: None,
    }
}

pub(crate) fn policy_all() -> AccessPolicy {
    AccessPolicy {
        tenant_id: TenantId(TENANT.to_owned()),
        object_id: ObjectId(CALLER_OID.to_owned()),
        permissions: PermissionSet {
            secrets: parse_secret_permissions(["all"]).unwrap(),
            keys: strongroom_authz::parse_key_permissions(["all"]).unwrap(),
            certificates: strongroom_authz::parse_certificate_permissions(["all"]).unwrap(),
        },
    }
}

/// The typed grant a service function asks for, obtained as the API obtains it.
pub(crate) fn grant<P: PermissionType>() -> Grant<P> {
    authorize(
        &[policy_all()],
        &std::sync::Arc::new(caller()),
        P::PERMISSION,
    )
    .unwrap()
    .narrow()
    .unwrap()
}

pub(crate) fn name(raw: &str) -> ObjectName {
    ObjectName::parse(raw).unwrap()
}

pub(crate) fn set_params(value: &str) -> SetSecret {
    SetSecret {
        value: SecretValue::new(value.to_owned()),
        content_type: None,
        tags: None,
        enabled: None,
        not_before: None,
        expires: None,
    }
}

pub(crate) fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(tag_name, tag_value)| ((*tag_name).to_owned(), (*tag_value).to_owned()))
        .collect()
}

pub(crate) fn first_page(limit: usize) -> PageRequest {
    PageRequest { after: None, limit }
}

/// Follows `next` from the first page to the last with pages of 2, asserting that every page
/// but the last is full.
pub(crate) async fn collect_pages<T, F, Fut>(mut fetch: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Page<T>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(PageRequest { after, limit: 2 }).await;
        let n_items = page.items.len();
        items.extend(page.items);
        match page.next {
            Some(next) => {
                assert_eq!(n_items, 2, "a page with a next link is full");
                after = Some(next);
            }
            None => return items,
        }
    }
}

/// The `ManualClock` is the system time plus an offset, so a timestamp taken during an
/// operation lies between readings taken before and after it.
#[track_caller]
pub(crate) fn assert_within(time: UnixTime, before: UnixTime, after: UnixTime) {
    assert!(
        before <= time && time <= after,
        "{time:?} is not within {before:?}..={after:?}"
    );
}
