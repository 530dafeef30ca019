//! Tests of the PostgreSQL backend against a real server (`crate::test_postgres`: the one
//! `scripts/with-postgres.sh` starts, or a private cluster): the conformance suite on a fresh
//! database per check, then what only a shared database has: migrations raced by two nodes, a
//! newer schema refused, an outage and the recovery after it, the cache generation, the
//! start-up lock, and writes racing from two stores (two "nodes").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strongroom_model::{ObjectKind, ObjectName, Sealed, UnixTime, VaultName, Version};

use tokio_postgres::{AsyncMessage, NoTls};

use super::{PostgresStore, schema};
use crate::test_postgres::{Cluster, fresh_database};
use crate::{
    AccessPolicyRow, CertificateVersions, NewVault, NewVersion, PrincipalRow, Store, StoreError,
    VersionAttributes,
};

/// A plain connection for what the tests check behind the store's back.
async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn connect(url: &str) -> PostgresStore {
    PostgresStore::connect(url)
        .await
        .unwrap_or_else(|err| panic!("connecting to the test database: {err}"))
}

async fn fresh_store(prefix: &str) -> (PostgresStore, String) {
    let url = fresh_database(prefix).await;
    (connect(&url).await, url)
}

fn new_vault(name: &str) -> NewVault {
    NewVault {
        name: VaultName::parse(name).unwrap(),
        tenant_id: "tenant".to_owned(),
        retention_days: 90,
        created: UnixTime(1_700_000_000),
        sealed_data_key: Sealed::from(b"sealed data key".to_vec()),
        sku: "standard".to_owned(),
        access_policies: Vec::new(),
        rbac_authorization: false,
        resource_group: None,
    }
}

fn new_version(name: &str, n: u32) -> NewVersion {
    NewVersion {
        name: ObjectName::parse(name).unwrap(),
        version: Version::parse(&format!("{n:032x}")).unwrap(),
        attributes: VersionAttributes {
            enabled: true,
            not_before: None,
            expires: None,
            created: UnixTime(1_700_000_000),
            updated: UnixTime(1_700_000_000),
        },
        tags: BTreeMap::new(),
        meta: b"text/plain".to_vec(),
        payload: Sealed::from(format!("payload {n}").into_bytes()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms() {
    let started = Instant::now();
    crate::conformance::run_all(|| async {
        let store: Arc<dyn Store> = Arc::new(fresh_store("conformance").await.0);
        store
    })
    .await;
    eprintln!(
        "postgres_conforms: the suite took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_when_nodes_start_together() {
    let url = fresh_database("race").await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let url = url.clone();
        tasks.push(tokio::spawn(
            async move { PostgresStore::connect(&url).await },
        ));
    }
    for task in tasks {
        if let Err(err) = task.await.unwrap() {
            panic!("a racing connect failed: {err}");
        }
    }
    let client = sql(&url).await;
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let want: Vec<i64> = (1..=schema::current_version()).collect();
    assert_eq!(versions, want, "each migration recorded once");
    let generations: i64 = client
        .query_one("SELECT count(*) FROM cache_generation", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(generations, 1, "migration 2's row inserted once");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (store, url) = fresh_store("newer").await;
    drop(store);
    let newer = schema::current_version() + 1;
    sql(&url)
        .await
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&newer],
        )
        .await
        .unwrap();
    match PostgresStore::connect(&url).await {
        Err(StoreError::Unavailable(message)) => {
            let want = format!(
                "schema version {newer} is newer than this build ({})",
                schema::current_version()
            );
            assert!(message.contains(&want), "{message}");
        }
        other => panic!("a newer schema was not refused: {other:?}"),
    }
}

/// Calls `op` until it succeeds, at most `attempts` times, 100 ms apart; how many it took.
async fn until_ok<T, F, Fut>(attempts: u32, mut op: F) -> u32
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    for attempt in 1..=attempts {
        match op().await {
            Ok(_) => return attempt,
            Err(err) if attempt == attempts => panic!("still failing: {err:?}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    unreachable!("the loop returns or panics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_while_the_server_is_down_and_recovers_by_itself() {
    // A cluster of this test's own: stopping the shared one would fail the others.
    let cluster = Cluster::start().unwrap_or_else(|err| panic!("{err}"));
    let url = format!("{}?pool_size=4", cluster.url());
    let store = connect(&url).await;
    let vault = store.create_vault(new_vault("outage")).await.unwrap();
    let name = ObjectName::parse("kept").unwrap();
    store
        .put_version(vault.id, ObjectKind::Secret, new_version("kept", 1))
        .await
        .unwrap();

    cluster.stop().unwrap();
    let started = Instant::now();
    let read = store
        .get_version(vault.id, ObjectKind::Secret, &name, None)
        .await;
    assert!(
        matches!(read, Err(StoreError::Unavailable(_))),
        "a read while down: {read:?}"
    );
    let write = store
        .put_version(vault.id, ObjectKind::Secret, new_version("kept", 2))
        .await;
    assert!(
        matches!(write, Err(StoreError::Unavailable(_))),
        "a write while down: {write:?}"
    );
    let fresh = PostgresStore::connect(&url).await;
    assert!(
        matches!(fresh, Err(StoreError::Unavailable(_))),
        "connect while down: {fresh:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(15),
        "failing took {waited:?}: requests must not hang while the server is down"
    );
    eprintln!("outage: three failed calls took {waited:?}");

    cluster.restart().unwrap();
    let attempts = until_ok(50, || {
        store.get_version(vault.id, ObjectKind::Secret, &name, None)
    })
    .await;
    eprintln!("outage: the first read after the restart succeeded at attempt {attempts}");
    store
        .put_version(vault.id, ObjectKind::Secret, new_version("kept", 3))
        .await
        .unwrap();
    let current = store
        .get_version(vault.id, ObjectKind::Secret, &name, None)
        .await
        .unwrap()
        .map(|row| row.version);
    assert_eq!(current, Some(new_version("kept", 3).version));
    let all = store
        .all_versions(vault.id, ObjectKind::Secret, &name)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "the write refused while down left nothing");
}

fn principal(object_id: &str) -> PrincipalRow {
    PrincipalRow {
        object_id: object_id.to_owned(),
        app_id: format!("app-{object_id}"),
        tenant_id: "tenant".to_owned(),
        display_name: object_id.to_owned(),
        kind: "ServicePrincipal".to_owned(),
        is_admin: false,
        created: UnixTime(1_700_000_000),
        credentials: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_generation_follows_cached_data_only() {
    let (store, url) = fresh_store("generation").await;
    // Another node listening for changes.
    let (listener, mut connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    let (notified, mut notifications) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(notification) = message {
                let _ = notified.send(notification.payload().to_owned());
            }
        }
    });
    listener
        .batch_execute("LISTEN strongroom_cache")
        .await
        .unwrap();

    let generation = || async { store.cache_generation().await.unwrap().unwrap() };
    let mut last = generation().await;
    let changed = |what: &str, now: u64, last: &mut u64| {
        assert!(
            now > *last,
            "{what} must change the generation ({last} -> {now})"
        );
        *last = now;
    };

    store.create_principal(principal("p1")).await.unwrap();
    changed("a principal", generation().await, &mut last);
    let vault = store.create_vault(new_vault("generations")).await.unwrap();
    changed("a vault", generation().await, &mut last);
    store
        .set_access_policies(
            vault.id,
            vec![AccessPolicyRow {
                tenant_id: "tenant".to_owned(),
                object_id: "p1".to_owned(),
                secrets: vec!["get".to_owned()],
                keys: Vec::new(),
                certificates: Vec::new(),
            }],
        )
        .await
        .unwrap();
    changed("access policies", generation().await, &mut last);
    store
        .put_vault_document(vault.id, "contacts", "contacts", b"{}".to_vec())
        .await
        .unwrap();
    changed("a vault document", generation().await, &mut last);
    store
        .put_deployment_document("resourceGroup", "rg", b"{}".to_vec())
        .await
        .unwrap();
    changed("a deployment document", generation().await, &mut last);
    store.put_meta("setting", b"1").await.unwrap();
    changed("meta", generation().await, &mut last);

    let secret = new_version("plain", 1);
    store
        .put_version(vault.id, ObjectKind::Secret, secret.clone())
        .await
        .unwrap();
    store
        .put_version(vault.id, ObjectKind::Secret, new_version("plain", 2))
        .await
        .unwrap();
    assert_eq!(
        generation().await,
        last,
        "a secret version is not cached above: the generation stays"
    );
    let claimed = store
        .claim_once("job", "slot", UnixTime(0), UnixTime(10))
        .await
        .unwrap();
    assert!(claimed);
    assert_eq!(generation().await, last, "a claim leaves it too");

    store.delete_vault(vault.id).await.unwrap();
    changed("a vault's deletion", generation().await, &mut last);

    // The listener heard the last generation (notifications arrive at commit, in order).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut heard = Vec::new();
    while heard.last() != Some(&last.to_string()) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, notifications.recv()).await {
            Ok(Some(payload)) => heard.push(payload),
            _ => panic!("no notification of generation {last}; heard {heard:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_startup_lock_excludes_a_second_holder_until_dropped() {
    let (first, url) = fresh_store("startup").await;
    let second = connect(&url).await;
    let held = first.startup_lock().await.unwrap();
    let pool_before = first.pool_status();
    let waiter = tokio::spawn(async move {
        let lock = second.startup_lock().await;
        (lock.map(drop), Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "a second node took the held lock");
    let released = Instant::now();
    drop(held);
    let (result, acquired) = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the lock was not handed over after the holder dropped it")
        .unwrap();
    result.unwrap();
    assert!(acquired >= released);
    eprintln!(
        "startup lock: handed over {:?} after the drop",
        acquired - released
    );
    assert_eq!(
        first.pool_status().size,
        pool_before.size,
        "the locked connection is not one of the pool's"
    );
}

/// Two nodes (stores) writing one new name at once: one name row, every version kept, in
/// commit order, the newest current; the suite's concurrency checks run on one store only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_write_one_new_name_at_once() {
    let (first, url) = fresh_store("nodes").await;
    let first: Arc<dyn Store> = Arc::new(first);
    let second: Arc<dyn Store> = Arc::new(connect(&url).await);
    let vault = first.create_vault(new_vault("shared")).await.unwrap().id;
    let name = ObjectName::parse("Racy").unwrap();
    let mut tasks = Vec::new();
    for n in 0..24u32 {
        let store = if n % 2 == 0 { &first } else { &second };
        let store = Arc::clone(store);
        // Alternate the spelling: one name whatever the case.
        let spelling = if n % 3 == 0 { "RACY" } else { "racy" };
        tasks.push(tokio::spawn(async move {
            store
                .put_version(vault, ObjectKind::Secret, new_version(spelling, n))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let all = second
        .all_versions(vault, ObjectKind::Secret, &name)
        .await
        .unwrap();
    assert_eq!(all.len(), 24, "every acknowledged version is kept");
    let spellings: std::collections::BTreeSet<_> =
        all.iter().map(|row| row.name.as_str().to_owned()).collect();
    assert_eq!(
        spellings.len(),
        1,
        "one name row, one spelling: {spellings:?}"
    );
    let current = first
        .get_version(vault, ObjectKind::Secret, &name, None)
        .await
        .unwrap()
        .map(|row| row.version);
    assert_eq!(
        current,
        all.last().map(|row| row.version.clone()),
        "the last version written is current"
    );
    let client = sql(&url).await;
    let names: i64 = client
        .query_one("SELECT count(*) FROM object_names", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(names, 1);
}

/// A plain secret and a certificate claiming one name from two nodes: exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_and_a_certificate_never_share_a_name() {
    let (first, url) = fresh_store("owned").await;
    let first: Arc<dyn Store> = Arc::new(first);
    let second: Arc<dyn Store> = Arc::new(connect(&url).await);
    let vault = first.create_vault(new_vault("owners")).await.unwrap().id;
    for round in 0..12u32 {
        let name = format!("contested-{round}");
        let certificate = CertificateVersions {
            certificate: new_version(&name, 1),
            completes: false,
            key: Some(new_version(&name, 2)),
            secret: Some(new_version(&name, 3)),
            policy: Some(b"policy".to_vec()),
            operation: None,
        };
        let (plain, certified) = tokio::join!(
            {
                let store = Arc::clone(&first);
                let version = new_version(&name, 4);
                async move { store.put_version(vault, ObjectKind::Secret, version).await }
            },
            {
                let store = Arc::clone(&second);
                async move { store.put_certificate_versions(vault, certificate).await }
            }
        );
        match (&plain, &certified) {
            (
                Ok(_),
                Err(StoreError::OwnedName {
                    owner: ObjectKind::Secret,
                }),
            ) => {}
            (
                Err(StoreError::OwnedName {
                    owner: ObjectKind::Certificate,
                }),
                Ok(_),
            ) => {}
            _ => panic!("round {round}: secret {plain:?}, certificate {certified:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_is_won_once_across_nodes() {
    let (first, url) = fresh_store("claims").await;
    let first: Arc<dyn Store> = Arc::new(first);
    let second: Arc<dyn Store> = Arc::new(connect(&url).await);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = Arc::clone(if n % 2 == 0 { &first } else { &second });
        tasks.push(tokio::spawn(async move {
            store
                .claim_once("janitor", "2026-12-03T14", UnixTime(100), UnixTime(200))
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1, "exactly one node runs the slot");
}

/// Nothing is cached per node: a write by one is read by the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_reads_every_write_at_once() {
    let (first, url) = fresh_store("coherent").await;
    let second = connect(&url).await;
    let vault = first.create_vault(new_vault("coherent")).await.unwrap().id;
    let name = ObjectName::parse("fresh").unwrap();
    let mut elapsed = Duration::ZERO;
    let mut writing = Duration::ZERO;
    let n_reads = 200u32;
    for n in 0..n_reads {
        let started = Instant::now();
        first
            .put_version(vault, ObjectKind::Secret, new_version("fresh", n))
            .await
            .unwrap();
        writing += started.elapsed();
        let started = Instant::now();
        let seen = second
            .get_version(vault, ObjectKind::Secret, &name, None)
            .await
            .unwrap()
            .map(|row| row.version);
        elapsed += started.elapsed();
        assert_eq!(seen, Some(new_version("fresh", n).version), "read {n}");
    }
    eprintln!(
        "coherent reads: a current-version GET took {:?} on average (one statement), \
         a put_version {:?} (one transaction, durable commit)",
        elapsed / n_reads,
        writing / n_reads
    );
}

/// Every connection busy: a request fails with `Unavailable` after the pool's short wait
/// instead of queueing for as long as the others take.
#[tokio::test]
async fn an_exhausted_pool_answers_unavailable_in_seconds() {
    let url = fresh_database("exhausted").await;
    let store = connect(&format!("{url}?pool_size=1")).await;
    let held = store.client().await.unwrap();
    let started = Instant::now();
    let result = store.get_meta("anything").await;
    let waited = started.elapsed();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "with the only connection held: {result:?}"
    );
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(10),
        "waited {waited:?}"
    );
    assert_eq!(store.pool_status().waiting, 0);
    drop(held);
    store.get_meta("anything").await.unwrap();
    let status = store.pool_status();
    assert_eq!((status.max_size, status.size, status.available), (1, 1, 1));
}

/// A CA and a server certificate signed by it for `names` (and, with `loopback`, the address
/// 127.0.0.1), as PEM: (CA, server, key).
fn test_pki(names: &[&str], loopback: bool) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "strongroom test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    if loopback {
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    }
    let server = params.signed_by(&server_key, &issuer).unwrap();
    (ca.pem(), server.pem(), server_key.serialize_pem())
}

/// Connects with `sslmode=mode` and checks the pooled connection and the start-up lock's
/// dedicated one both work, the pooled one over TLS.
async fn connect_over_tls(url: &str, mode: &str) {
    let store = connect(url).await;
    store.put_meta("over", b"tls").await.unwrap();
    let connection = store.client().await.unwrap();
    let on_tls: bool = connection
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(on_tls, "{mode}: the pooled connection is TLS");
    drop(store.startup_lock().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verifies_the_server_and_never_falls_back() {
    let cluster = Cluster::start().unwrap_or_else(|err| panic!("{err}"));
    let (ca, server, key) = test_pki(&["localhost"], true);
    let ca_file = cluster.add_file("ca.pem", ca.as_bytes()).unwrap();
    let with_mode = |mode: &str, root: &std::path::Path| {
        format!(
            "{}?sslmode={mode}&sslrootcert={}",
            cluster.url(),
            root.display()
        )
    };
    // The server has no TLS yet: a TLS mode fails instead of going plain.
    let refused = PostgresStore::connect(&with_mode("verify-full", &ca_file)).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "no TLS on the server: {refused:?}"
    );

    let cert_file = cluster.add_file("server.pem", server.as_bytes()).unwrap();
    let key_file = cluster.add_file("server-key.pem", key.as_bytes()).unwrap();
    cluster
        .configure(&format!(
            "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'",
            cert_file.display(),
            key_file.display()
        ))
        .unwrap();
    cluster.stop().unwrap();
    cluster.restart().unwrap();
    for mode in ["verify-full", "verify-ca", "require"] {
        connect_over_tls(&with_mode(mode, &ca_file), mode).await;
    }
    // A CA that did not sign the server's certificate: refused in every mode.
    let (other_ca, _, _) = test_pki(&["localhost"], true);
    let other_file = cluster
        .add_file("other-ca.pem", other_ca.as_bytes())
        .unwrap();
    for mode in ["verify-full", "verify-ca", "require"] {
        let refused = PostgresStore::connect(&with_mode(mode, &other_file)).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{mode} with a CA that did not sign the server's certificate: {refused:?}"
        );
    }

    // A certificate for another name: only verify-full checks the name.
    let (ca, server, key) = test_pki(&["db.example"], false);
    let ca_file = cluster.add_file("ca.pem", ca.as_bytes()).unwrap();
    cluster.add_file("server.pem", server.as_bytes()).unwrap();
    cluster.add_file("server-key.pem", key.as_bytes()).unwrap();
    cluster.stop().unwrap();
    cluster.restart().unwrap();
    let refused = PostgresStore::connect(&with_mode("verify-full", &ca_file)).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "verify-full to 127.0.0.1 with a certificate for db.example: {refused:?}"
    );
    for mode in ["verify-ca", "require"] {
        connect_over_tls(&with_mode(mode, &ca_file), mode).await;
    }
}

/// Whole access-policy lists replaced from two nodes at once: each replacement is atomic,
/// so the result is one of the lists, never a mix or a unique-key failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_policy_lists_replaced_from_two_nodes() {
    let (first, url) = fresh_store("policies").await;
    let first: Arc<dyn Store> = Arc::new(first);
    let second: Arc<dyn Store> = Arc::new(connect(&url).await);
    let vault = first.create_vault(new_vault("policies")).await.unwrap().id;
    let list = |n: usize| -> Vec<AccessPolicyRow> {
        (0..=n % 4)
            .map(|i| AccessPolicyRow {
                tenant_id: "tenant".to_owned(),
                object_id: format!("writer-{n}-entry-{i}"),
                secrets: vec!["get".to_owned()],
                keys: Vec::new(),
                certificates: Vec::new(),
            })
            .collect()
    };
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = Arc::clone(if n % 2 == 0 { &first } else { &second });
        let policies = list(n);
        tasks.push(tokio::spawn(async move {
            store.set_access_policies(vault, policies).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stored = second
        .get_vault_by_id(vault)
        .await
        .unwrap()
        .unwrap()
        .access_policies;
    assert!(
        (0..16).any(|n| list(n) == stored),
        "the stored list is one writer's whole list: {stored:?}"
    );
}
