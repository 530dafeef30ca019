//! DeleteSecret, GetDeletedSecret(s), RecoverDeletedSecret, PurgeDeletedSecret, the janitor.

use crate::{Harness, assert_within, collect_pages, first_page, grant, name, set_params};
use strongroom_vault::secrets::{self, SetSecret};
use strongroom_vault::{VaultError, janitor};

#[tokio::test]
async fn delete_moves_every_version_and_recover_brings_them_back() {
    let h = Harness::new().await;
    let first = h.set("rotated", "one").await;
    let second = secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("rotated"),
        SetSecret {
            content_type: Some("text/plain".to_owned()),
            ..set_params("two")
        },
    )
    .await
    .unwrap();
    h.set("bystander", "stays").await;

    let before = h.now();
    let deleted = secrets::delete(&h.ctx, &h.vault, &grant(), &name("rotated"))
        .await
        .unwrap();
    assert_within(deleted.deleted_date, before, h.now());
    assert_eq!(
        deleted.scheduled_purge_date,
        deleted.deleted_date.plus_days(h.vault.retention_days)
    );
    assert_eq!(
        deleted.properties, second.properties,
        "the current version's properties"
    );

    // Gone from the live views, every version with it.
    for version in [None, Some(&first.properties.version)] {
        let err = secrets::get(&h.ctx, &h.vault, &grant(), &name("rotated"), version)
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    }
    assert!(h.all_versions_in(&h.vault, "rotated").await.is_empty());
    let live = secrets::list(&h.ctx, &h.vault, &grant(), first_page(25))
        .await
        .unwrap();
    let live_names: Vec<_> = live.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(live_names, ["bystander"]);

    // Present in the deleted views.
    let listed = secrets::list_deleted(&h.ctx, &h.vault, &grant(), first_page(25))
        .await
        .unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&deleted));
    let fetched = secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name("ROTATED"))
        .await
        .unwrap();
    assert_eq!(fetched, deleted);

    // The name is taken while deleted.
    let err = secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("rotated"),
        set_params("three"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::DeletedButRecoverable { .. }),
        "{err:?}"
    );
    let err = secrets::delete(&h.ctx, &h.vault, &grant(), &name("rotated"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::NotFound { .. }),
        "deleting twice: {err:?}"
    );

    // Recover: the current version's properties, every version and value back.
    let recovered = secrets::recover(&h.ctx, &h.vault, &grant(), &name("rotated"))
        .await
        .unwrap();
    assert_eq!(recovered, second.properties);
    assert_eq!(h.get_value("rotated").await, "two");
    let old = secrets::get(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("rotated"),
        Some(&first.properties.version),
    )
    .await
    .unwrap();
    assert_eq!(old.value.expose(), "one");
    assert_eq!(h.all_versions_in(&h.vault, "rotated").await.len(), 2);
    let err = secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name("rotated"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn deleted_operations_on_names_that_are_not_deleted() {
    let h = Harness::new().await;
    h.set("live", "x").await;
    let err = secrets::delete(&h.ctx, &h.vault, &grant(), &name("absent"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::NotFound { version: None, .. }),
        "{err:?}"
    );
    for secret_name in ["live", "absent"] {
        let err = secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name(secret_name))
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
        let err = secrets::purge(&h.ctx, &h.vault, &grant(), &name(secret_name))
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
        let err = secrets::recover(&h.ctx, &h.vault, &grant(), &name(secret_name))
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
    }
    assert_eq!(
        h.get_value("live").await,
        "x",
        "a refused purge leaves a live secret alone"
    );
}

#[tokio::test]
async fn purge_frees_the_name() {
    let h = Harness::new().await;
    let old = h.set("temp", "old").await;
    secrets::delete(&h.ctx, &h.vault, &grant(), &name("temp"))
        .await
        .unwrap();
    secrets::purge(&h.ctx, &h.vault, &grant(), &name("Temp"))
        .await
        .unwrap();

    let err = secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name("temp"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
    let err = secrets::purge(&h.ctx, &h.vault, &grant(), &name("temp"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::DeletedNotFound { .. }),
        "purging twice: {err:?}"
    );
    let deleted = secrets::list_deleted(&h.ctx, &h.vault, &grant(), first_page(25))
        .await
        .unwrap();
    assert!(deleted.items.is_empty());

    // The name starts again from nothing.
    let new = h.set("temp", "new").await;
    assert_eq!(h.get_value("temp").await, "new");
    let history = h.all_versions_in(&h.vault, "temp").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].version, new.properties.version);
    assert_ne!(new.properties.version, old.properties.version);
}

#[tokio::test]
async fn list_deleted_pages_through_everything() {
    let h = Harness::new().await;
    let names = ["d-one", "d-two", "d-three", "d-four", "d-five"];
    for secret_name in names {
        h.set(secret_name, "x").await;
        secrets::delete(&h.ctx, &h.vault, &grant(), &name(secret_name))
            .await
            .unwrap();
    }
    h.set("still-live", "y").await;
    let deleted = collect_pages(|page| async {
        secrets::list_deleted(&h.ctx, &h.vault, &grant(), page)
            .await
            .unwrap()
    })
    .await;
    let mut deleted_names: Vec<_> = deleted
        .iter()
        .map(|d| d.properties.name.as_str().to_owned())
        .collect();
    let mut expected: Vec<_> = names.iter().map(|n| (*n).to_owned()).collect();
    deleted_names.sort();
    expected.sort();
    assert_eq!(deleted_names, expected);
}

#[tokio::test]
async fn janitor_purges_at_the_scheduled_date_and_not_before() {
    let h = Harness::new().await;
    assert_eq!(h.vault.retention_days, 7);
    let long = crate::create_vault(&h.ctx, "vault-long", 90).await;
    h.set("short-lived", "a").await;
    h.set_in(&long, "long-lived", "b").await;
    let deleted = secrets::delete(&h.ctx, &h.vault, &grant(), &name("short-lived"))
        .await
        .unwrap();
    secrets::delete(&h.ctx, &long, &grant(), &name("long-lived"))
        .await
        .unwrap();
    assert_eq!(
        janitor::run_once(&h.ctx).await.unwrap(),
        0,
        "nothing is due yet"
    );

    // A minute before the scheduled date: still recoverable. (The clock also follows real
    // time, so "a minute" leaves room for a slow test machine.)
    h.clock.advance_days(6);
    h.clock.advance_seconds(86_400 - 60);
    assert!(h.now() < deleted.scheduled_purge_date);
    assert_eq!(janitor::run_once(&h.ctx).await.unwrap(), 0);
    secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name("short-lived"))
        .await
        .unwrap();

    // At the scheduled date: purged, and only the vault whose retention ran out.
    h.clock.advance_seconds(60);
    assert!(h.now() >= deleted.scheduled_purge_date);
    assert_eq!(janitor::run_once(&h.ctx).await.unwrap(), 1);
    let err = secrets::get_deleted(&h.ctx, &h.vault, &grant(), &name("short-lived"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
    secrets::get_deleted(&h.ctx, &long, &grant(), &name("long-lived"))
        .await
        .unwrap();
    assert_eq!(
        janitor::run_once(&h.ctx).await.unwrap(),
        0,
        "nothing left that is due"
    );

    h.clock.advance_days(83);
    assert_eq!(janitor::run_once(&h.ctx).await.unwrap(), 1);
    let err = secrets::get_deleted(&h.ctx, &long, &grant(), &name("long-lived"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::DeletedNotFound { .. }), "{err:?}");
    h.set("short-lived", "the name is free again").await;
}
