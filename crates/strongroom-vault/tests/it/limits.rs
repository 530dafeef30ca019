//! Key Vault's limits, at the boundary: the largest allowed value passes, one more is refused.

use crate::{Harness, grant, name, set_params, tags};
use std::collections::BTreeMap;
use strongroom_model::UnixTime;
use strongroom_vault::VaultError;
use strongroom_vault::secrets::{self, MAX_VALUE_BYTES, SetSecret, UpdateSecret};

async fn try_set(h: &Harness, params: SetSecret) -> Result<secrets::Secret, VaultError> {
    secrets::set(&h.ctx, &h.vault, &grant(), &name("limited"), params).await
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, VaultError>, what: &str) {
    match result {
        Err(VaultError::InvalidParameter(message)) => assert!(!message.is_empty(), "{what}"),
        other => panic!("{what}: expected InvalidParameter, got {other:?}"),
    }
}

fn n_tags(n: usize) -> BTreeMap<String, String> {
    (0..n)
        .map(|i| (format!("tag{i}"), format!("value{i}")))
        .collect()
}

#[tokio::test]
async fn value_size() {
    let h = Harness::new().await;
    assert_eq!(MAX_VALUE_BYTES, 25 * 1024);
    let largest = "v".repeat(25 * 1024);
    try_set(&h, set_params(&largest)).await.unwrap();
    assert_eq!(h.get_value("limited").await.len(), 25 * 1024);
    assert_invalid(
        try_set(&h, set_params(&"v".repeat(25 * 1024 + 1))).await,
        "25 KiB + 1",
    );
    // The limit counts bytes: 12,801 two-byte characters are 25,602 bytes.
    assert_invalid(
        try_set(&h, set_params(&"é".repeat(12_801))).await,
        "multi-byte",
    );
    try_set(&h, set_params("")).await.unwrap();
}

#[tokio::test]
async fn tag_count() {
    let h = Harness::new().await;
    let with_tags = |n| SetSecret {
        tags: Some(n_tags(n)),
        ..set_params("x")
    };
    try_set(&h, with_tags(15)).await.unwrap();
    assert_invalid(try_set(&h, with_tags(16)).await, "16 tags on set");

    let update = |n| UpdateSecret {
        tags: Some(n_tags(n)),
        ..UpdateSecret::default()
    };
    let updated = secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("limited"),
        None,
        update(15),
    )
    .await
    .unwrap();
    assert_eq!(updated.tags.len(), 15);
    assert_invalid(
        secrets::update(
            &h.ctx,
            &h.vault,
            &grant(),
            &name("limited"),
            None,
            update(16),
        )
        .await,
        "16 tags on update",
    );
}

#[tokio::test]
async fn tag_name_and_value_length() {
    let h = Harness::new().await;
    let with_tag = |tag_name: String, tag_value: String| SetSecret {
        tags: Some(tags(&[(&tag_name, &tag_value)])),
        ..set_params("x")
    };
    try_set(&h, with_tag("n".repeat(512), "v".repeat(256)))
        .await
        .unwrap();
    // Characters, not bytes.
    try_set(&h, with_tag("ñ".repeat(512), "ü".repeat(256)))
        .await
        .unwrap();
    assert_invalid(
        try_set(&h, with_tag("n".repeat(513), "v".into())).await,
        "tag name 513",
    );
    assert_invalid(
        try_set(&h, with_tag("n".into(), "v".repeat(257))).await,
        "tag value 257",
    );
    assert_invalid(
        secrets::update(
            &h.ctx,
            &h.vault,
            &grant(),
            &name("limited"),
            None,
            UpdateSecret {
                tags: Some(tags(&[("n", &"v".repeat(257))])),
                ..UpdateSecret::default()
            },
        )
        .await,
        "tag value 257 on update",
    );
}

#[tokio::test]
async fn content_type_length() {
    let h = Harness::new().await;
    let with_content_type = |content_type: String| SetSecret {
        content_type: Some(content_type),
        ..set_params("x")
    };
    try_set(&h, with_content_type("c".repeat(255)))
        .await
        .unwrap();
    assert_invalid(
        try_set(&h, with_content_type("c".repeat(256))).await,
        "content type 256",
    );
    assert_invalid(
        secrets::update(
            &h.ctx,
            &h.vault,
            &grant(),
            &name("limited"),
            None,
            UpdateSecret {
                content_type: Some("c".repeat(256)),
                ..UpdateSecret::default()
            },
        )
        .await,
        "content type 256 on update",
    );
}

#[tokio::test]
async fn not_before_after_expiry_is_refused() {
    let h = Harness::new().await;
    let t = UnixTime(2_000_000_000);
    let dated = |not_before: i64, expires: i64| SetSecret {
        not_before: Some(UnixTime(not_before)),
        expires: Some(UnixTime(expires)),
        ..set_params("x")
    };
    try_set(&h, dated(t.seconds(), t.seconds())).await.unwrap();
    assert_invalid(
        try_set(&h, dated(t.seconds() + 1, t.seconds())).await,
        "nbf > exp",
    );

    // On update, the check uses the dates the version will have afterwards.
    assert_invalid(
        secrets::update(
            &h.ctx,
            &h.vault,
            &grant(),
            &name("limited"),
            None,
            UpdateSecret {
                not_before: Some(UnixTime(t.seconds() + 1)),
                ..UpdateSecret::default()
            },
        )
        .await,
        "nbf moved past the stored exp",
    );
    secrets::update(
        &h.ctx,
        &h.vault,
        &grant(),
        &name("limited"),
        None,
        UpdateSecret {
            not_before: Some(UnixTime(t.seconds() + 1)),
            expires: Some(UnixTime(t.seconds() + 2)),
            ..UpdateSecret::default()
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn refused_writes_leave_nothing_behind() {
    let h = Harness::new().await;
    assert_invalid(
        try_set(&h, set_params(&"v".repeat(25 * 1024 + 1))).await,
        "too large",
    );
    assert!(h.all_versions_in(&h.vault, "limited").await.is_empty());
}
