//! The database files never hold a secret value in any form we can find: written values are
//! searched for in every file of the data directory (database, WAL, shared memory).

use crate::{Harness, create_vault, grant, name, set_params, tags};
use std::path::Path;
use strongroom_model::Version;
use strongroom_vault::secrets::{self, SetSecret};

pub(crate) fn read_all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(read_all_files(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn secret_values_never_reach_the_database_files() {
    let h = Harness::new().await;
    // Random, so no other test, page or log can have put the bytes there.
    let canary = format!("canary-value-{}", Version::new_random());
    let tag_marker = format!("visible-tag-{}", Version::new_random());
    secrets::set(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("raw-file"),
        SetSecret {
            tags: Some(tags(&[("marker", &tag_marker)])),
            ..set_params(&canary)
        },
    )
    .await
    .unwrap();
    // More paths that write the value: a second version, delete/recover, backup/restore.
    let second_canary = format!("{canary}-second");
    h.set("raw-file", &second_canary).await;
    secrets::delete(&h.ctx, &h.vault, &grant(), &name("raw-file"))
        .await
        .unwrap();
    secrets::recover(&h.ctx, &h.vault, &grant(), &name("raw-file"))
        .await
        .unwrap();
    let blob = secrets::backup(&h.ctx, &h.vault, &grant(), &name("raw-file"))
        .await
        .unwrap();
    let other = create_vault(&h.ctx, "vault-other", 7).await;
    secrets::restore(&h.ctx, &other, &grant(), &blob)
        .await
        .unwrap();
    assert_eq!(h.get_value("raw-file").await, second_canary);

    let files = read_all_files(h.dir.path());
    assert!(!files.is_empty());
    let all_bytes: Vec<u8> = files
        .iter()
        .flat_map(|(_, bytes)| bytes.iter().copied())
        .collect();
    // The scan sees what was written: the non-secret tag value is stored in clear.
    assert!(
        contains(&all_bytes, tag_marker.as_bytes()),
        "the tag marker should be visible in {:?}",
        files
            .iter()
            .map(|(path, bytes)| (path, bytes.len()))
            .collect::<Vec<_>>()
    );
    for (path, bytes) in &files {
        for needle in [
            canary.as_bytes(),
            second_canary.as_bytes(),
            b"canary-value-",
        ] {
            assert!(!contains(bytes, needle), "{path} contains a secret value");
        }
    }
    assert!(
        !contains(&blob, canary.as_bytes()),
        "the backup blob is sealed"
    );
}
