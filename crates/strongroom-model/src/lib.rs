//! Strongroom's domain vocabulary: the words every other crate speaks.
//!
//! Owns: validated names (`VaultName`, `ObjectName`, `Version`), identifiers (`VaultId`,
//! `TenantId`, `ObjectId`), object kinds, access-policy permissions, the authenticated
//! `Caller`, time (`UnixTime`, `Clock`), and secret material (`SecretValue`, `Sealed`).
//!
//! Must not touch: IO, wire shapes (no `Serialize`), the system clock outside `SystemClock`,
//! the environment.
//!
//! Invariants: a value of a name type has passed validation exactly once, at construction;
//! secret material never prints (`Debug` is redacted, there is no `Display`).
//!
//! Start reading at `names.rs`.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cache_counts;
mod caller;
mod kind;
mod names;
mod permission;
mod secret;
mod time;

pub use cache_counts::CacheCounts;
pub use caller::{Caller, ObjectId, PrincipalKind, TenantId};
pub use kind::ObjectKind;
pub use names::{NameError, ObjectName, VaultId, VaultName, Version};
pub use permission::{
    CertificatePermission, KeyPermission, Permission, PermissionSet, SecretPermission,
};
pub use secret::{Sealed, SecretBytes, SecretValue};
pub use time::{
    Clock, ManualClock, SystemClock, UnixTime, civil_from_days, days_from_civil, days_in_month,
};
