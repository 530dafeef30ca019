//! The conformance suite: one `run_all` that every `Store` backend must pass, so the vault
//! layer can rely on the trait's documented behaviour whatever the backend.
//!
//! Each check runs on a fresh, empty store from `make_store` and panics with a message naming
//! the check and what differed. Compiled under `cfg(test)` and the `conformance` feature; a
//! backend calls it from its own test (SQLite: `sqlite::tests::sqlite_conforms`).

// Test support, not server code: a failed check must stop the calling test loudly.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "the conformance suite reports failures by panicking, like assert!"
)]

mod certificates;
mod concurrency;
mod deleted;
mod directory;
mod name_policies;
mod objects;

use std::collections::BTreeMap;
use std::sync::Arc;

use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultId, VaultName, Version};

use crate::{
    Deletion, NewVault, NewVersion, PageRequest, Store, StoreError, VersionAttributes, VersionRow,
};

/// Runs every check, each on a fresh empty store from `make_store`. Panics on the first
/// failure with a message that names the check. Needs a tokio runtime (it spawns tasks).
pub async fn run_all<F, Fut>(mut make_store: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    macro_rules! check {
        ($($module:ident :: $check:ident),* $(,)?) => {$(
            eprintln!("store conformance: {}::{}", stringify!($module), stringify!($check));
            $module::$check(make_store().await).await;
        )*};
    }
    check!(
        directory::meta,
        directory::claims,
        directory::tenants,
        directory::principals,
        directory::vault_authorization_and_group,
        directory::credentials_append_concurrently,
        directory::certificate_credentials_replaced,
        directory::vaults,
        directory::vault_soft_delete,
        directory::vault_deletion_cascades,
        directory::reseal_all_or_nothing,
        objects::versions,
        objects::names_ignore_case,
        objects::fields_round_trip,
        objects::update,
        objects::list_current_paging,
        objects::list_versions_paging,
        deleted::soft_delete_and_recover,
        deleted::list_deleted_paging,
        deleted::purge,
        deleted::purge_expired,
        deleted::restore,
        certificates::written_together,
        certificates::lifecycle_moves_key_and_secret,
        certificates::pending_completed_in_place,
        certificates::operation_follows_its_name,
        certificates::restored_together,
        certificates::owned_names_are_written_with_their_certificate,
        name_policies::follow_their_name,
        name_policies::listed_for_the_scheduler,
        name_policies::vault_documents_by_kind_and_name,
        name_policies::deployment_documents_by_kind_and_name,
        concurrency::concurrent_writes,
        concurrency::failed_writes_do_not_disturb_others,
    );
}

// ---- assertions ----

/// Unwraps a result the check expects to succeed.
#[track_caller]
fn ok<T>(what: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("store conformance: {what}: unexpected error {err:?}"),
    }
}

/// Asserts a result is the expected error.
macro_rules! assert_err {
    ($result:expr, $pattern:pat, $what:expr) => {
        match $result {
            Err($pattern) => {}
            other => panic!(
                "store conformance: {}: expected Err({}), got {:?}",
                $what,
                stringify!($pattern),
                other
            ),
        }
    };
}
pub(crate) use assert_err;

/// Asserts a stored row is exactly the version written (under the name `name`).
#[track_caller]
fn assert_row(what: &str, got: &VersionRow, name: &str, want: &NewVersion) {
    let differs = |field: &str| -> ! {
        panic!("store conformance: {what}: field `{field}` differs: got {got:?}, want {want:?}")
    };
    if got.name.as_str() != name {
        differs("name");
    }
    if got.version != want.version {
        differs("version");
    }
    if got.attributes != want.attributes {
        differs("attributes");
    }
    if got.tags != want.tags {
        differs("tags");
    }
    if *got.meta != *want.meta {
        differs("meta");
    }
    if got.payload != want.payload {
        differs("payload");
    }
}

/// `name/version` of each row, for comparing lists in one message.
fn ids(rows: &[VersionRow]) -> Vec<String> {
    rows.iter()
        .map(|row| format!("{}/{}", row.name, row.version))
        .collect()
}

// ---- fixtures ----

/// A fixed point in time the fixtures count from.
const T0: i64 = 1_750_000_000;

fn object_name(name: &str) -> ObjectName {
    ObjectName::parse(name).unwrap_or_else(|err| panic!("fixture name {name:?}: {err}"))
}

/// A distinct version per (`series`, `n`); `series` keeps fixtures of one check apart.
fn version(series: u32, n: u32) -> Version {
    let text = format!("{series:08x}{n:024x}");
    Version::parse(&text).unwrap_or_else(|err| panic!("fixture version {text}: {err}"))
}

/// A version of `name` whose every field says which one it is.
fn new_version(name: &str, series: u32, n: u32) -> NewVersion {
    let at = UnixTime(T0 + i64::from(n));
    NewVersion {
        name: object_name(name),
        version: version(series, n),
        attributes: VersionAttributes {
            enabled: true,
            not_before: None,
            expires: None,
            created: at,
            updated: at,
        },
        tags: BTreeMap::from([("n".to_owned(), n.to_string())]),
        meta: format!("meta {name} {n}").into_bytes(),
        payload: Sealed::from(format!("sealed {name} {series} {n}").into_bytes()),
    }
}

fn new_vault(name: &str) -> NewVault {
    NewVault {
        name: VaultName::parse(name).unwrap_or_else(|err| panic!("fixture vault {name:?}: {err}")),
        tenant_id: "00000000-0000-0000-0000-00000000000t".to_owned(),
        retention_days: 90,
        created: UnixTime(T0),
        sealed_data_key: Sealed::from(format!("data key of {name}").into_bytes()),
        sku: "standard".to_owned(),
        access_policies: Vec::new(),
        rbac_authorization: false,
        resource_group: None,
    }
}

/// Creates a vault and returns its id.
async fn vault(store: &dyn Store, name: &str) -> VaultId {
    ok(
        &format!("create vault {name}"),
        store.create_vault(new_vault(name)).await,
    )
    .id
}

// ---- object helpers ----

const SECRET: ObjectKind = ObjectKind::Secret;

fn first_page(limit: usize) -> PageRequest {
    PageRequest { after: None, limit }
}

fn deletion(purge_at: i64) -> Deletion {
    Deletion {
        deleted_date: UnixTime(purge_at - 90 * UnixTime::SECONDS_PER_DAY),
        scheduled_purge_date: UnixTime(purge_at),
    }
}

/// Puts a version and checks the returned row is what was written.
async fn put(store: &dyn Store, vault: VaultId, kind: ObjectKind, new: NewVersion) -> VersionRow {
    let what = format!("put {kind} {}/{}", new.name, new.version);
    let row = ok(&what, store.put_version(vault, kind, new.clone()).await);
    assert_row(&what, &row, new.name.as_str(), &new);
    row
}

async fn current(
    store: &dyn Store,
    vault: VaultId,
    kind: ObjectKind,
    name: &str,
) -> Option<VersionRow> {
    let what = format!("get current {kind} {name}");
    ok(
        &what,
        store
            .get_version(vault, kind, &object_name(name), None)
            .await,
    )
}
