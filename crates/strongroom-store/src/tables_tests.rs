//! A whole deployment copied SQLite → PostgreSQL → SQLite (`export_tables`/`import_tables`):
//! the three exports are equal, the copies answer the trait's reads exactly as the original,
//! a purged vault's id stays used, and an import refuses a store that is not empty or tables
//! that are not the logical schema.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};

use crate::test_postgres::fresh_database;
use crate::{
    AccessPolicyRow, CertificateVersions, CredentialRow, Deletion, NewVault, NewVersion,
    PageRequest, PostgresStore, PrincipalRow, SqliteStore, Store, StoreError, TableValue,
    TenantRow, VersionAttributes,
};

const KINDS: [ObjectKind; 3] = [ObjectKind::Secret, ObjectKind::Key, ObjectKind::Certificate];

fn vault(name: &str, rbac: bool) -> NewVault {
    NewVault {
        name: VaultName::parse(name).unwrap(),
        tenant_id: "tenant-1".to_owned(),
        retention_days: 30,
        created: UnixTime(1_700_000_000),
        sealed_data_key: Sealed::from(format!("data key {name}").into_bytes()),
        sku: if rbac { "premium" } else { "standard" }.to_owned(),
        access_policies: vec![AccessPolicyRow {
            tenant_id: "tenant-1".to_owned(),
            object_id: "principal-1".to_owned(),
            secrets: vec!["get".to_owned(), "list".to_owned()],
            keys: Vec::new(),
            certificates: vec!["get".to_owned()],
        }],
        rbac_authorization: rbac,
        resource_group: rbac.then(|| "group-1".to_owned()),
    }
}

fn version(name: &str, n: u32) -> NewVersion {
    NewVersion {
        name: ObjectName::parse(name).unwrap(),
        version: Version::parse(&format!("{n:032x}")).unwrap(),
        attributes: VersionAttributes {
            enabled: n.is_multiple_of(2),
            not_before: n.is_multiple_of(3).then_some(UnixTime(1_600_000_000)),
            expires: Some(UnixTime(1_900_000_000 + i64::from(n))),
            created: UnixTime(1_700_000_000 + i64::from(n)),
            updated: UnixTime(1_700_000_100 + i64::from(n)),
        },
        tags: BTreeMap::from([
            ("n".to_owned(), n.to_string()),
            ("é".to_owned(), String::new()),
        ]),
        meta: format!("meta {n}").into_bytes(),
        payload: Sealed::from(vec![0, 255, u8::try_from(n % 256).unwrap(), 7]),
    }
}

/// A deployment with something in every table.
async fn populate(store: &dyn Store) {
    store.put_meta("ca", b"ca bytes").await.unwrap();
    store.put_meta("signing", &[0, 1, 2]).await.unwrap();
    for (id, default) in [("tenant-1", true), ("tenant-2", false)] {
        store
            .put_tenant(TenantRow {
                tenant_id: id.to_owned(),
                display_name: format!("Tenant {id}"),
                is_default: default,
            })
            .await
            .unwrap();
    }
    store
        .create_principal(PrincipalRow {
            object_id: "principal-1".to_owned(),
            app_id: "app-1".to_owned(),
            tenant_id: "tenant-1".to_owned(),
            display_name: "First".to_owned(),
            kind: "ServicePrincipal".to_owned(),
            is_admin: true,
            created: UnixTime(1_700_000_000),
            credentials: vec![
                CredentialRow {
                    key_id: "secret-1".to_owned(),
                    salt: vec![1, 2],
                    hash: vec![3, 4],
                    hint: "ab".to_owned(),
                    created: UnixTime(1_700_000_001),
                    expires: Some(UnixTime(1_800_000_000)),
                    certificate: None,
                    display_name: "ci".to_owned(),
                },
                CredentialRow {
                    key_id: "cert-1".to_owned(),
                    salt: Vec::new(),
                    hash: Vec::new(),
                    hint: String::new(),
                    created: UnixTime(1_700_000_002),
                    expires: None,
                    certificate: Some(vec![0x30, 0x82]),
                    display_name: String::new(),
                },
            ],
        })
        .await
        .unwrap();
    let main = store.create_vault(vault("main", false)).await.unwrap().id;
    let purged = store.create_vault(vault("purged", false)).await.unwrap().id;
    let rbac = store.create_vault(vault("rbac", true)).await.unwrap().id;
    let gone = store
        .create_vault(vault("zz-last", false))
        .await
        .unwrap()
        .id;
    store
        .set_vault_deleted(rbac, Some(UnixTime(1_750_000_000)))
        .await
        .unwrap();
    assert!(store.delete_vault(purged).await.unwrap());
    // The highest id handed out so far belongs to no vault any more.
    assert!(store.delete_vault(gone).await.unwrap());

    for n in 1..=3 {
        store
            .put_version(main, ObjectKind::Secret, version("Alpha", n))
            .await
            .unwrap();
    }
    store
        .put_version(main, ObjectKind::Secret, version("beta", 4))
        .await
        .unwrap();
    let deletion = Deletion {
        deleted_date: UnixTime(1_750_000_000),
        scheduled_purge_date: UnixTime(1_760_000_000),
    };
    store
        .soft_delete(
            main,
            ObjectKind::Secret,
            &ObjectName::parse("beta").unwrap(),
            deletion,
        )
        .await
        .unwrap();
    store
        .put_version(main, ObjectKind::Key, version("signer", 5))
        .await
        .unwrap();
    store
        .put_name_policy(
            main,
            ObjectKind::Key,
            &ObjectName::parse("signer").unwrap(),
            b"rotate".to_vec(),
        )
        .await
        .unwrap();
    for (name, base) in [("Web-Cert", 10), ("old-cert", 20)] {
        store
            .put_certificate_versions(
                main,
                CertificateVersions {
                    certificate: version(name, base),
                    completes: false,
                    key: Some(version(name, base + 1)),
                    secret: Some(version(name, base + 2)),
                    policy: Some(b"cert policy".to_vec()),
                    operation: Some(b"completed".to_vec()),
                },
            )
            .await
            .unwrap();
    }
    store
        .soft_delete(
            main,
            ObjectKind::Certificate,
            &ObjectName::parse("old-cert").unwrap(),
            deletion,
        )
        .await
        .unwrap();
    store
        .put_version(rbac, ObjectKind::Secret, version("in-deleted-vault", 30))
        .await
        .unwrap();
    store
        .put_vault_document(main, "contacts", "contacts", b"[]".to_vec())
        .await
        .unwrap();
    store
        .put_vault_document(main, "issuer", "Strongroom", b"{}".to_vec())
        .await
        .unwrap();
    store
        .put_deployment_document("resourceGroup", "Group-1", b"{\"location\":\"x\"}".to_vec())
        .await
        .unwrap();
    assert!(
        store
            .claim_once("jti", "abc", UnixTime(0), UnixTime(1_900_000_000))
            .await
            .unwrap()
    );
}

/// What the trait's reads answer, as text (rows have no `PartialEq`).
async fn reads(store: &dyn Store) -> String {
    let mut out = String::new();
    let all = PageRequest {
        after: None,
        limit: 10_000,
    };
    writeln!(out, "{:?}", store.list_tenants().await.unwrap()).unwrap();
    writeln!(out, "{:?}", store.list_principals().await.unwrap()).unwrap();
    writeln!(out, "{:?}", store.get_meta("ca").await.unwrap()).unwrap();
    writeln!(out, "{:?}", store.get_meta("signing").await.unwrap()).unwrap();
    writeln!(
        out,
        "{:?}",
        store
            .list_deployment_documents("resourceGroup")
            .await
            .unwrap()
    )
    .unwrap();
    for vault in store.list_vaults().await.unwrap() {
        writeln!(out, "{vault:?}").unwrap();
        for document_kind in ["contacts", "issuer"] {
            let documents = store
                .list_vault_documents(vault.id, document_kind)
                .await
                .unwrap();
            writeln!(out, "{documents:?}").unwrap();
        }
        for kind in KINDS {
            let current = store
                .list_current(vault.id, kind, all.clone())
                .await
                .unwrap();
            for row in &current.items {
                writeln!(out, "{kind} {row:?}").unwrap();
                let versions = store.all_versions(vault.id, kind, &row.name).await.unwrap();
                writeln!(out, "{versions:?}").unwrap();
                let policy = store
                    .get_name_policy(vault.id, kind, &row.name)
                    .await
                    .unwrap();
                writeln!(out, "{policy:?}").unwrap();
            }
            let deleted = store
                .list_deleted(vault.id, kind, all.clone())
                .await
                .unwrap();
            writeln!(out, "{kind} deleted {:?}", deleted.items).unwrap();
            let operation = store
                .get_certificate_operation(vault.id, &ObjectName::parse("Web-Cert").unwrap())
                .await
                .unwrap();
            writeln!(out, "{operation:?}").unwrap();
        }
    }
    for kind in KINDS {
        writeln!(out, "{:?}", store.list_name_policies(kind).await.unwrap()).unwrap();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_copies_sqlite_to_postgres_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let original: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("original.db")).unwrap());
    populate(&*original).await;
    let exported = original.export_tables().await.unwrap();
    let n_rows: usize = exported.iter().map(|table| table.rows.len()).sum();
    assert!(
        exported.iter().all(|table| !table.rows.is_empty()),
        "every table has a row to copy: {:?}",
        exported
            .iter()
            .map(|t| (&t.table, t.rows.len()))
            .collect::<Vec<_>>()
    );

    let url = fresh_database("copy").await;
    let shared: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
    shared.import_tables(exported.clone()).await.unwrap();
    let through_postgres = shared.export_tables().await.unwrap();
    assert_eq!(
        through_postgres, exported,
        "PostgreSQL exports what it imported"
    );

    let back: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("back.db")).unwrap());
    back.import_tables(through_postgres).await.unwrap();
    assert_eq!(
        back.export_tables().await.unwrap(),
        exported,
        "and so does SQLite"
    );

    let want = reads(&*original).await;
    assert_eq!(
        reads(&*shared).await,
        want,
        "PostgreSQL answers as the original"
    );
    assert_eq!(
        reads(&*back).await,
        want,
        "the copy back answers as the original"
    );
    eprintln!("copied {n_rows} rows in {} tables", exported.len());

    // Ids go on past every id the original handed out, purged vaults' included.
    let high_water = exported
        .iter()
        .find(|table| table.table == "sequences")
        .map(|table| table.rows[0][1].clone());
    assert_eq!(high_water, Some(TableValue::Integer(4)));
    for store in [&original, &shared, &back] {
        let id = store.create_vault(vault("newer", false)).await.unwrap().id;
        assert_eq!(
            id.0, 5,
            "a new vault takes the next id, never a purged one's"
        );
        store
            .put_version(id, ObjectKind::Secret, version("after-copy", 40))
            .await
            .unwrap();
    }
    assert_eq!(reads(&*shared).await, reads(&*original).await);
    assert_eq!(reads(&*back).await, reads(&*original).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_needs_an_empty_store_and_the_logical_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("s.db")).unwrap());
    let postgres: Arc<dyn Store> = Arc::new(
        PostgresStore::connect(&fresh_database("refused").await)
            .await
            .unwrap(),
    );
    let empty = sqlite.export_tables().await.unwrap();
    assert_eq!(
        postgres.export_tables().await.unwrap(),
        empty,
        "two empty stores export alike"
    );
    for store in [&sqlite, &postgres] {
        let mut renamed = empty.clone();
        renamed[0].table = "metadata".to_owned();
        assert!(
            matches!(
                store.import_tables(renamed).await,
                Err(StoreError::Corrupt(_))
            ),
            "a table the schema does not have"
        );
        let mut short = empty.clone();
        short.pop();
        assert!(matches!(
            store.import_tables(short).await,
            Err(StoreError::Corrupt(_))
        ));
        let mut wrong_type = empty.clone();
        wrong_type[1].rows.push(vec![
            TableValue::Integer(1),
            TableValue::Text("x".to_owned()),
            TableValue::Integer(0),
        ]);
        let refused = store.import_tables(wrong_type).await;
        assert!(refused.is_err(), "an integer for a text key: {refused:?}");
        assert_eq!(
            store.export_tables().await.unwrap(),
            empty,
            "a refused import wrote nothing"
        );

        store.put_meta("taken", b"1").await.unwrap();
        assert!(
            matches!(
                store.import_tables(empty.clone()).await,
                Err(StoreError::Conflict(_))
            ),
            "a store with a row is not empty"
        );
    }
}
