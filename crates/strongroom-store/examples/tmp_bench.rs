use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use strongroom_model::*;
use strongroom_store::*;

fn nv(name: &str, n: u32) -> NewVersion {
    NewVersion {
        name: ObjectName::parse(name).unwrap(),
        version: Version::parse(&format!("{n:032x}")).unwrap(),
        attributes: VersionAttributes { enabled: true, not_before: None, expires: None, created: UnixTime(1), updated: UnixTime(1) },
        tags: BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
        meta: b"{\"contentType\":\"text/plain\"}".to_vec(),
        payload: Sealed(vec![7; 60]),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<SqliteStore> = Arc::new(SqliteStore::open(&dir.path().join("b.db")).unwrap());
        let vault = store.create_vault(NewVault { name: VaultName::parse("bench").unwrap(), tenant_id: "t".into(), retention_days: 90, created: UnixTime(1), sealed_data_key: Sealed(vec![1; 60]), access_policies: vec![] }).await.unwrap();
        // writes: 64 concurrent tasks x 50
        let t = Instant::now();
        let c0 = store.transactions_committed();
        let mut js = tokio::task::JoinSet::new();
        for w in 0..64u32 { let s = store.clone(); let v = vault.id; js.spawn(async move { for i in 0..50u32 { s.put_version(v, ObjectKind::Secret, nv(&format!("s{w}"), i)).await.unwrap(); } }); }
        while js.join_next().await.is_some() {}
        let el = t.elapsed();
        println!("writes: 3200 in {:?} = {:.0}/s, {} commits", el, 3200.0 / el.as_secs_f64(), store.transactions_committed() - c0);
        // single writer latency
        let t = Instant::now();
        for i in 100..200u32 { store.put_version(vault.id, ObjectKind::Secret, nv("solo", i)).await.unwrap(); }
        println!("sequential write latency: {:?}", t.elapsed() / 100);
        // reads
        for tasks in [1usize, 8, 32] {
            let n_each = 100_000 / tasks;
            let t = Instant::now();
            let mut js = tokio::task::JoinSet::new();
            for k in 0..tasks { let s = store.clone(); let v = vault.id; js.spawn(async move { for i in 0..n_each { let name = ObjectName::parse(&format!("s{}", (i + k) % 64)).unwrap(); let r = s.get_version(v, ObjectKind::Secret, &name, None).await.unwrap(); assert!(r.is_some()); } }); }
            while js.join_next().await.is_some() {}
            let el = t.elapsed();
            println!("reads ({tasks} tasks): {} in {:?} = {:.0}/s", n_each * tasks, el, (n_each * tasks) as f64 / el.as_secs_f64());
        }
    });
}
