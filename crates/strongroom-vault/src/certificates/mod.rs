//! Certificates: a policy (`policy.rs`) that says how each version is made; each version is
//! an X.509 certificate with a managed key and a managed secret of the same name and version,
//! written and moved together (`Store::put_certificate_versions` and the store's cascading
//! lifecycle). `issuance.rs` makes a version's certificate (or CSR) from the policy,
//! `stored.rs` keeps the policy in the store's per-name slot, `operation.rs` the pending
//! operation in its own; `meta.rs` is how a version is stored, `material.rs` the secret
//! value and import parsing, and `service.rs` the operations themselves.

mod backup;
pub mod contacts;
pub mod issuance;
pub mod issuers;
pub mod lifetime;
mod material;
mod meta;
mod operation;
pub mod policy;
mod service;
pub mod stored;
mod types;

pub use backup::{backup, restore};
pub use service::{
    accepted_details, cancel_operation, create, delete, delete_operation, get, get_deleted,
    get_operation, get_policy, import, list, list_deleted, list_versions, merge, purge, recover,
    update, update_policy,
};
pub use types::{
    Certificate, CertificateAttributes, CertificateOperation, CertificateProperties,
    CreateCertificate, DeletedCertificate, ImportCertificate, MergeCertificate, OperationError,
    OperationStatus, UpdateCertificate,
};

pub use issuance::{DEPLOYMENT_CA_ISSUER, Issued, issue};

pub use policy::{
    CertificatePolicy, IssuerInput, IssuerSpec, KeyInput, KeySpec, LifetimeAction,
    LifetimeActionInput, LifetimeActionType, PolicyInput, SansInput, SecretContentType, Trigger,
    X509Input, X509Spec,
};
