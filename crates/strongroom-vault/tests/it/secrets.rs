//! SetSecret, GetSecret, UpdateSecret, GetSecrets and GetSecretVersions.

use crate::{Harness, assert_within, collect_pages, first_page, grant, name, set_params, tags};
use strongroom_model::UnixTime;
use strongroom_vault::VaultError;
use strongroom_vault::secrets::{self, SetSecret, UpdateSecret};

#[tokio::test]
async fn set_and_get_keep_every_version() {
    let h = Harness::new().await;
    let first = h.set("db-password", "hunter2").await;
    h.clock.advance_seconds(10);
    let before = h.now();
    let second = secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("db-password"),
        SetSecret {
            content_type: Some("text/plain".to_owned()),
            tags: Some(tags(&[("env", "prod")])),
            ..set_params("correct horse")
        },
    )
    .await
    .unwrap();

    assert_ne!(first.properties.version, second.properties.version);
    assert_eq!(second.value.expose(), "correct horse");
    assert_eq!(
        second.properties.content_type.as_deref(),
        Some("text/plain")
    );
    assert_eq!(second.properties.tags, tags(&[("env", "prod")]));
    let attributes = &second.properties.attributes;
    assert!(attributes.enabled, "enabled by default");
    assert_eq!((attributes.not_before, attributes.expires), (None, None));
    assert_within(attributes.created, before, h.now());
    assert_eq!(attributes.updated, attributes.created);
    assert!(!second.properties.managed);

    // No version: the current one. A version: exactly that one, with its own properties.
    let latest = secrets::get(&h.ctx, &h.vault, &grant(), &name("db-password"), None)
        .await
        .unwrap();
    assert_eq!(latest.value.expose(), "correct horse");
    assert_eq!(latest.properties, second.properties);
    let old = secrets::get(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("db-password"),
        Some(&first.properties.version),
    )
    .await
    .unwrap();
    assert_eq!(old.value.expose(), "hunter2");
    assert_eq!(old.properties, first.properties);
    assert_eq!(
        old.properties.content_type, None,
        "a new version inherits nothing"
    );
    assert!(old.properties.tags.is_empty());

    // The history, oldest first.
    let history = h.all_versions_in(&h.vault, "db-password").await;
    let versions: Vec<_> = history.iter().map(|p| p.version.clone()).collect();
    assert_eq!(
        versions,
        [first.properties.version, second.properties.version]
    );
}

#[tokio::test]
async fn names_are_case_insensitive() {
    let h = Harness::new().await;
    h.set("MixedCase", "v1").await;
    assert_eq!(h.get_value("mixedcase").await, "v1");
    h.set("MIXEDCASE", "v2").await;
    assert_eq!(h.get_value("MixedCase").await, "v2");
    assert_eq!(h.all_versions_in(&h.vault, "mixedCASE").await.len(), 2);
}

#[tokio::test]
async fn missing_secret_and_missing_version_are_not_found() {
    let h = Harness::new().await;
    let err = secrets::get(&h.ctx, &h.vault, &grant(), &name("nope"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, VaultError::NotFound { name, version: None, .. } if name.as_str() == "nope"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "Secret nope was not found");

    h.set("exists", "x").await;
    let unknown = strongroom_model::Version::new_random();
    let err = secrets::get(&h.ctx, &h.vault, &grant(), &name("exists"), Some(&unknown))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, VaultError::NotFound { version: Some(v), .. } if *v == unknown),
        "{err:?}"
    );

    // Versions are per name: another name's version is not found here.
    let other = h.set("other", "y").await;
    let err = secrets::get(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("exists"),
        Some(&other.properties.version),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn disabled_secrets_refuse_get_but_update_and_list_work() {
    let h = Harness::new().await;
    let created = secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("off"),
        SetSecret {
            enabled: Some(false),
            ..set_params("dormant")
        },
    )
    .await
    .unwrap();
    assert!(!created.properties.attributes.enabled);
    let err = secrets::get(&h.ctx, &h.vault, &grant(), &name("off"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Disabled { .. }), "{err:?}");
    let err = secrets::get(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("off"),
        Some(&created.properties.version),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VaultError::Disabled { .. }), "{err:?}");

    let listed = secrets::list(&h.ctx, &h.vault, &grant(), first_page(25))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(!listed.items[0].attributes.enabled);

    // Update works on a disabled secret (Azure: recording_can_update_a_disabled_secret).
    let enabled = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("off"),
        None,
        UpdateSecret {
            enabled: Some(true),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
    assert!(enabled.attributes.enabled);
    assert_eq!(h.get_value("off").await, "dormant");
}

#[tokio::test]
async fn expired_and_not_yet_valid_secrets_are_still_returned() {
    // Azure answers 200 for an expired secret (AZURE-ERRORS.md §3.9).
    let h = Harness::new().await;
    let now = h.now();
    secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("stale"),
        SetSecret {
            not_before: Some(UnixTime(now.seconds() - 200)),
            expires: Some(UnixTime(now.seconds() - 100)),
            ..set_params("old")
        },
    )
    .await
    .unwrap();
    assert_eq!(h.get_value("stale").await, "old");
    secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("future"),
        SetSecret {
            not_before: Some(now.plus_days(1)),
            ..set_params("soon")
        },
    )
    .await
    .unwrap();
    assert_eq!(h.get_value("future").await, "soon");
}

#[tokio::test]
async fn update_changes_only_what_is_given() {
    let h = Harness::new().await;
    let now = h.now();
    let first = secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        SetSecret {
            content_type: Some("text/plain".to_owned()),
            tags: Some(tags(&[("a", "1"), ("b", "2")])),
            expires: Some(now.plus_days(30)),
            ..set_params("one")
        },
    )
    .await
    .unwrap();
    let second = h.set("app", "two").await;
    h.clock.advance_seconds(60);
    let before = h.now();

    // Content type only: tags, dates and enabled stay.
    let updated = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        Some(&first.properties.version),
        UpdateSecret {
            content_type: Some("application/json".to_owned()),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(updated.version, first.properties.version);
    assert_eq!(updated.content_type.as_deref(), Some("application/json"));
    assert_eq!(updated.tags, tags(&[("a", "1"), ("b", "2")]));
    assert_eq!(updated.attributes.expires, Some(now.plus_days(30)));
    assert!(updated.attributes.enabled);
    assert_eq!(
        updated.attributes.created,
        first.properties.attributes.created
    );
    assert_within(updated.attributes.updated, before, h.now());
    assert!(
        updated.attributes.updated > updated.attributes.created,
        "updated moves"
    );

    // Tags replace the whole set; dates change; the value never does.
    let updated = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        Some(&first.properties.version),
        UpdateSecret {
            tags: Some(tags(&[("c", "3")])),
            not_before: Some(now),
            expires: Some(now.plus_days(60)),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(updated.tags, tags(&[("c", "3")]));
    assert_eq!(updated.content_type.as_deref(), Some("application/json"));
    assert_eq!(updated.attributes.not_before, Some(now));
    assert_eq!(updated.attributes.expires, Some(now.plus_days(60)));
    let old = secrets::get(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        Some(&first.properties.version),
    )
    .await
    .unwrap();
    assert_eq!(old.value.expose(), "one");
    assert_eq!(old.properties, updated);

    // Updating an old version leaves the current one alone; no version means the current one.
    let current = secrets::get(&h.ctx, &h.vault, &grant(), &name("app"), None)
        .await
        .unwrap();
    assert_eq!(current.properties, second.properties);
    let updated_current = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        None,
        UpdateSecret {
            enabled: Some(false),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(updated_current.version, second.properties.version);
    assert!(!updated_current.attributes.enabled);

    // An empty update only touches `updated`.
    let listed_before =
        secrets::list_versions(&h.ctx, &h.vault, &grant(), &name("app"), first_page(25))
            .await
            .unwrap()
            .items;
    h.clock.advance_seconds(5);
    let before = h.now();
    let touched = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("app"),
        Some(&first.properties.version),
        UpdateSecret::default(),
    )
    .await
    .unwrap();
    assert_eq!(touched.tags, listed_before[0].tags);
    assert_within(touched.attributes.updated, before, h.now());
}

#[tokio::test]
async fn update_of_missing_secret_or_version_is_not_found() {
    let h = Harness::new().await;
    let err = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("nope"),
        None,
        UpdateSecret::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::NotFound { version: None, .. }),
        "{err:?}"
    );
    h.set("yes", "1").await;
    let unknown = strongroom_model::Version::new_random();
    let err = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("yes"),
        Some(&unknown),
        UpdateSecret::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::NotFound {
                version: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_pages_through_current_versions_by_name() {
    let h = Harness::new().await;
    let names = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    ];
    // Insert out of order, and give some names several versions: list shows one per name.
    for secret_name in names.iter().rev() {
        h.set(secret_name, "v1").await;
    }
    let latest_bravo = h.set("bravo", "v2").await;
    h.set("echo", "v2").await;

    let listed = collect_pages(|page| async {
        secrets::list(&h.ctx, &h.vault, &grant(), page)
            .await
            .unwrap()
    })
    .await;
    let listed_names: Vec<_> = listed.iter().map(|p| p.name.as_str().to_owned()).collect();
    assert_eq!(listed_names, names);
    let bravo = listed.iter().find(|p| p.name.as_str() == "bravo").unwrap();
    assert_eq!(bravo.version, latest_bravo.properties.version);

    // One big page holds everything and has no next link.
    let page = secrets::list(&h.ctx, &h.vault, &grant(), first_page(25))
        .await
        .unwrap();
    assert_eq!(page.items.len(), names.len());
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn list_versions_pages_oldest_first_and_missing_name_is_empty() {
    let h = Harness::new().await;
    let mut expected = Vec::new();
    for n in 0..5 {
        expected.push(
            h.set("rotating", &format!("value-{n}"))
                .await
                .properties
                .version,
        );
        h.clock.advance_seconds(1);
    }
    h.set("unrelated", "x").await;
    let versions: Vec<_> = h
        .all_versions_in(&h.vault, "rotating")
        .await
        .into_iter()
        .map(|p| p.version)
        .collect();
    assert_eq!(versions, expected);

    // Azure: 200 with an empty list for a name that does not exist (AZURE-ERRORS.md §4.11).
    let page = secrets::list_versions(&h.ctx, &h.vault, &grant(), &name("missing"), first_page(25))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn secrets_are_per_vault() {
    let h = Harness::new().await;
    let other = crate::create_vault(&h.ctx, "vault-two", 90).await;
    h.set("shared-name", "in one").await;
    h.set_in(&other, "shared-name", "in two").await;
    assert_eq!(h.get_value("shared-name").await, "in one");
    let in_two = secrets::get(&h.ctx, &other, &grant(), &name("shared-name"), None)
        .await
        .unwrap();
    assert_eq!(in_two.value.expose(), "in two");
    h.set_in(&other, "only-in-two", "z").await;
    let err = secrets::get(&h.ctx, &h.vault, &grant(), &name("only-in-two"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn secret_values_never_print() {
    let h = Harness::new().await;
    let secret = h.set("printed", "do-not-print-me").await;
    assert!(!format!("{secret:?}").contains("do-not-print-me"));
    let fetched = secrets::get(&h.ctx, &h.vault, &grant(), &name("printed"), None)
        .await
        .unwrap();
    assert!(!format!("{fetched:?}").contains("do-not-print-me"));
}

#[tokio::test]
async fn a_fresh_context_reads_what_another_wrote() {
    // A restarted process (empty caches) opens the vault's data key from the store.
    let h = Harness::new().await;
    h.set("durable", "still here").await;
    let fresh = h.second_ctx();
    let vault = strongroom_vault::vaults::get(&fresh, &h.vault.name)
        .await
        .unwrap()
        .unwrap();
    let secret = secrets::get(&fresh, &vault, &grant(), &name("durable"), None)
        .await
        .unwrap();
    assert_eq!(secret.value.expose(), "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sets_all_land() {
    let h = std::sync::Arc::new(Harness::new().await);
    let mut tasks = Vec::new();
    for n in 0..16 {
        let h = std::sync::Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            let value = format!("value-{n}");
            let secret = h.set("busy", &value).await;
            (secret.properties.version, value)
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        written.push(task.await.unwrap());
    }
    assert_eq!(h.all_versions_in(&h.vault, "busy").await.len(), 16);
    for (version, value) in written {
        let secret = secrets::get(&h.ctx, &h.vault, &grant(), &name("busy"), Some(&version))
            .await
            .unwrap();
        assert_eq!(secret.value.expose(), value);
    }
}
