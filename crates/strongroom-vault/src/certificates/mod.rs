//! Certificates: a policy (`policy.rs`) that says how each version is made; each version is
//! an X.509 certificate with a managed key and a managed secret of the same name and version,
//! written and moved together (`Store::put_certificate_versions` and the store's cascading
//! lifecycle). `issuance.rs` makes a version's certificate (or CSR) from the policy,
//! `stored.rs` keeps the policy in the store's per-name slot; the
//! pending operation and the operations themselves come next (issue 8).

pub mod issuance;
pub mod policy;
pub mod stored;

pub use issuance::{DEPLOYMENT_CA_ISSUER, Issued, issue};

pub use policy::{
    CertificatePolicy, IssuerInput, IssuerSpec, KeyInput, KeySpec, LifetimeAction,
    LifetimeActionInput, LifetimeActionType, PolicyInput, SansInput, SecretContentType, Trigger,
    X509Input, X509Spec,
};
