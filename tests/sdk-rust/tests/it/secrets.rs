//! `SecretClient` in direct mode: set, get (latest and by version), list with paging, update,
//! delete, recover, purge; and a principal without `get` refused with 403 Forbidden.

use std::collections::{BTreeSet, HashMap};

use azure_core::http::StatusCode;
use azure_security_keyvault_secrets::ResourceExt;
use azure_security_keyvault_secrets::models::{
    SecretAttributes, SecretClientGetSecretOptions, SecretClientListSecretPropertiesOptions,
    SecretClientListSecretPropertiesVersionsOptions, SetSecretParameters,
    UpdateSecretPropertiesParameters,
};
use futures::TryStreamExt;

use crate::{direct_vault, http_error};

fn set_parameters(value: &str) -> SetSecretParameters {
    SetSecretParameters {
        value: Some(value.to_owned()),
        ..Default::default()
    }
}

#[tokio::test]
async fn set_get_update_and_versions() {
    let (_server, _vault, env) = direct_vault("secrets");
    let client = env.secret_client();

    let parameters = SetSecretParameters {
        value: Some("s3cr3t-v1".into()),
        content_type: Some("text/plain".into()),
        tags: Some(HashMap::from([("env".into(), "test".into())])),
        ..Default::default()
    };
    let first = client
        .set_secret("db-password", parameters.try_into().unwrap(), None)
        .await
        .expect("set_secret")
        .into_model()
        .unwrap();
    assert_eq!(first.value.as_deref(), Some("s3cr3t-v1"));
    assert_eq!(first.content_type.as_deref(), Some("text/plain"));
    assert_eq!(first.tags.as_ref().unwrap()["env"], "test");
    let first_id = first.resource_id().expect("a Key Vault id");
    assert_eq!(first_id.vault_url, env.vault_url());
    assert_eq!(first_id.name, "db-password");
    let first_version = first_id.version.expect("the id names a version");
    assert_eq!(first_version.len(), 32, "{first_version}");
    let attributes = first.attributes.expect("attributes");
    assert_eq!(attributes.enabled, Some(true));
    assert!(attributes.created.is_some() && attributes.updated.is_some());

    let latest = client
        .get_secret("db-password", None)
        .await
        .expect("get_secret")
        .into_model()
        .unwrap();
    assert_eq!(latest.value.as_deref(), Some("s3cr3t-v1"));
    assert_eq!(latest.id, first.id);

    let second = client
        .set_secret(
            "db-password",
            set_parameters("s3cr3t-v2").try_into().unwrap(),
            None,
        )
        .await
        .expect("set_secret, second version")
        .into_model()
        .unwrap();
    let second_version = second.resource_id().unwrap().version.unwrap();
    assert_ne!(second_version, first_version);

    let latest = client
        .get_secret("db-password", None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(latest.value.as_deref(), Some("s3cr3t-v2"));
    let old = client
        .get_secret(
            "db-password",
            Some(SecretClientGetSecretOptions {
                secret_version: Some(first_version.clone()),
                ..Default::default()
            }),
        )
        .await
        .expect("get_secret by version")
        .into_model()
        .unwrap();
    assert_eq!(old.value.as_deref(), Some("s3cr3t-v1"));

    let versions: BTreeSet<String> = client
        .list_secret_properties_versions(
            "db-password",
            Some(SecretClientListSecretPropertiesVersionsOptions {
                maxresults: Some(1),
                ..Default::default()
            }),
        )
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().version.unwrap())
        .try_collect()
        .await
        .expect("list_secret_properties_versions");
    assert_eq!(versions, BTreeSet::from([first_version, second_version]));

    // Update the attributes of the latest version; the value stays.
    let update = UpdateSecretPropertiesParameters {
        content_type: Some("application/x-password".into()),
        tags: Some(HashMap::from([("owner".into(), "sdk-rust".into())])),
        secret_attributes: Some(SecretAttributes {
            enabled: Some(false),
            ..Default::default()
        }),
    };
    let updated = client
        .update_secret_properties("db-password", update.try_into().unwrap(), None)
        .await
        .expect("update_secret_properties")
        .into_model()
        .unwrap();
    assert_eq!(
        updated.content_type.as_deref(),
        Some("application/x-password")
    );
    assert_eq!(
        updated.tags.unwrap(),
        HashMap::from([("owner".into(), "sdk-rust".into())])
    );
    assert_eq!(updated.attributes.unwrap().enabled, Some(false));
    assert_eq!(updated.value, None, "an update does not return the value");

    // A disabled secret's value is refused as Azure refuses it.
    let err = client
        .get_secret("db-password", None)
        .await
        .expect_err("get of a disabled secret");
    let (status, code, body) = http_error(&err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::Forbidden, "Forbidden")
    );
    assert_eq!(
        body["error"]["message"],
        "Operation get is not allowed on a disabled secret."
    );
    assert_eq!(body["error"]["innererror"]["code"], "SecretDisabled");
}

#[tokio::test]
async fn list_follows_next_links() {
    let (_server, _vault, env) = direct_vault("paging");
    let client = env.secret_client();
    let names: BTreeSet<String> = (0..5).map(|i| format!("paged-{i}")).collect();
    for name in &names {
        client
            .set_secret(
                name,
                set_parameters(&format!("value of {name}"))
                    .try_into()
                    .unwrap(),
                None,
            )
            .await
            .expect("set_secret");
    }

    let options = SecretClientListSecretPropertiesOptions {
        maxresults: Some(2),
        ..Default::default()
    };
    let pages: Vec<Vec<String>> = client
        .list_secret_properties(Some(options))
        .unwrap()
        .into_pages()
        .and_then(|page| async move {
            let page = page.into_model()?;
            Ok(page
                .value
                .iter()
                .map(|properties| properties.resource_id().unwrap().name)
                .collect())
        })
        .try_collect()
        .await
        .expect("list_secret_properties, page by page");
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1], "pages: {pages:?}");
    let listed: BTreeSet<String> = pages.into_iter().flatten().collect();
    assert_eq!(listed, names);

    // The item stream walks the same pages.
    let all: Vec<String> = client
        .list_secret_properties(None)
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), names);
}

#[tokio::test]
async fn delete_recover_and_purge() {
    let (_server, _vault, env) = direct_vault("deletes");
    let client = env.secret_client();
    client
        .set_secret(
            "api-key",
            set_parameters("k3y-value").try_into().unwrap(),
            None,
        )
        .await
        .expect("set_secret");

    let deleted = client
        .delete_secret("api-key", None)
        .await
        .expect("delete_secret")
        .into_model()
        .unwrap();
    let recovery_id = deleted.recovery_id.expect("recoveryId");
    assert_eq!(
        recovery_id,
        format!("{}/deletedsecrets/api-key", env.vault_url())
    );
    let deleted_date = deleted.deleted_date.expect("deletedDate");
    let purge_date = deleted.scheduled_purge_date.expect("scheduledPurgeDate");
    assert_eq!((purge_date - deleted_date).whole_days(), 90);
    assert_eq!(deleted.value, None);

    let err = client
        .get_secret("api-key", None)
        .await
        .expect_err("get of a deleted secret");
    let (status, code, _) = http_error(&err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NotFound, "SecretNotFound")
    );

    let shown = client
        .get_deleted_secret("api-key", None)
        .await
        .expect("get_deleted_secret")
        .into_model()
        .unwrap();
    assert_eq!(shown.recovery_id.as_deref(), Some(recovery_id.as_str()));
    let listed: Vec<String> = client
        .list_deleted_secret_properties(None)
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().name)
        .try_collect()
        .await
        .expect("list_deleted_secret_properties");
    assert_eq!(listed, ["api-key"]);

    let recovered = client
        .recover_deleted_secret("api-key", None)
        .await
        .expect("recover_deleted_secret")
        .into_model()
        .unwrap();
    assert_eq!(recovered.resource_id().unwrap().name, "api-key");
    let value = client
        .get_secret("api-key", None)
        .await
        .expect("get after recover")
        .into_model()
        .unwrap()
        .value;
    assert_eq!(value.as_deref(), Some("k3y-value"));

    client
        .delete_secret("api-key", None)
        .await
        .expect("delete_secret again");
    let purged = client
        .purge_deleted_secret("api-key", None)
        .await
        .expect("purge_deleted_secret");
    assert_eq!(purged.status(), StatusCode::NoContent);
    let err = client
        .get_deleted_secret("api-key", None)
        .await
        .expect_err("get_deleted_secret after purge");
    let (status, code, _) = http_error(&err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NotFound, "SecretNotFound")
    );
    // The name is free again.
    let again = client
        .set_secret("api-key", set_parameters("fresh").try_into().unwrap(), None)
        .await
        .expect("set_secret after purge")
        .into_model()
        .unwrap();
    assert_eq!(again.value.as_deref(), Some("fresh"));
}

#[tokio::test]
async fn principal_without_permission_gets_403_forbidden() {
    let (server, vault, env) = direct_vault("denied");
    env.secret_client()
        .set_secret(
            "guarded",
            set_parameters("not for you").try_into().unwrap(),
            None,
        )
        .await
        .expect("set_secret as the vault's principal");

    // A principal that may list the vault's secrets, and nothing else.
    let (app_id, password) = server.create_service_principal("reader");
    server.cli_json(&[
        "keyvault",
        "set-policy",
        "--name",
        &vault,
        "--spn",
        &app_id,
        "--secret-permissions",
        "list",
    ]);
    let client = env.with_credential(&app_id, &password).secret_client();

    let listed: Vec<String> = client
        .list_secret_properties(None)
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().name)
        .try_collect()
        .await
        .expect("list is allowed");
    assert_eq!(listed, ["guarded"]);

    let err = client
        .get_secret("guarded", None)
        .await
        .expect_err("get without the get permission");
    let (status, code, body) = http_error(&err);
    assert_eq!(status, StatusCode::Forbidden, "{body}");
    assert_eq!(code, "Forbidden", "{body}");
    assert_eq!(body["error"]["code"], "Forbidden");
    assert_eq!(
        body["error"]["innererror"]["code"], "AccessDenied",
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not have secrets get permission"),
        "{message}"
    );
    assert!(
        !format!("{err:?}{body}").contains("not for you"),
        "the value leaked into the error"
    );
}
