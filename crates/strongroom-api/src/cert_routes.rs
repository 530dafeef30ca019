//! Routing of the certificates paths (`/certificates/...`, `/deletedcertificates/...`) to
//! `Operation` variants. `contacts`, `issuers` and `restore` are fixed segments right under
//! `/certificates`, as in the spec: a certificate of one of those names is reachable through
//! its versioned and action paths only, exactly as on Azure.

use crate::error::ApiError;
use crate::operation::{
    DeletedRoutes, Operation, not_allowed, parse_deleted, parse_name, parse_version, unknown_path,
};
use axum::http::Method;

pub(crate) fn parse_certificates(method: &Method, rest: &[&str]) -> Result<Operation, ApiError> {
    let is = |segment: &str, fixed: &str| segment.eq_ignore_ascii_case(fixed);
    match rest {
        [] | [""] => match *method {
            Method::GET => Ok(Operation::GetCertificates),
            _ => Err(not_allowed(method)),
        },
        [fixed] | [fixed, ""] if is(fixed, "contacts") => match *method {
            Method::GET => Ok(Operation::GetCertificateContacts),
            Method::PUT => Ok(Operation::SetCertificateContacts),
            Method::DELETE => Ok(Operation::DeleteCertificateContacts),
            _ => Err(not_allowed(method)),
        },
        [fixed] | [fixed, ""] if is(fixed, "issuers") => match *method {
            Method::GET => Ok(Operation::GetCertificateIssuers),
            _ => Err(not_allowed(method)),
        },
        [fixed, issuer] | [fixed, issuer, ""] if is(fixed, "issuers") => {
            let name = parse_name(issuer)?;
            match *method {
                Method::GET => Ok(Operation::GetCertificateIssuer { name }),
                Method::PUT => Ok(Operation::SetCertificateIssuer { name }),
                Method::PATCH => Ok(Operation::UpdateCertificateIssuer { name }),
                Method::DELETE => Ok(Operation::DeleteCertificateIssuer { name }),
                _ => Err(not_allowed(method)),
            }
        }
        [single] if is(single, "restore") && *method == Method::POST => {
            Ok(Operation::RestoreCertificate)
        }
        [single] => {
            let name = parse_name(single)?;
            match *method {
                Method::GET => Ok(Operation::GetCertificate {
                    name,
                    version: None,
                }),
                Method::PATCH => Ok(Operation::UpdateCertificate {
                    name,
                    version: None,
                }),
                Method::DELETE => Ok(Operation::DeleteCertificate { name }),
                _ => Err(not_allowed(method)),
            }
        }
        [first, second] => {
            let name = parse_name(first)?;
            let action = second.to_ascii_lowercase();
            let only = |wanted: Method, op: Operation| {
                if *method == wanted {
                    Ok(op)
                } else {
                    Err(not_allowed(method))
                }
            };
            match action.as_str() {
                "backup" => only(Method::POST, Operation::BackupCertificate { name }),
                "create" => only(Method::POST, Operation::CreateCertificate { name }),
                "import" => only(Method::POST, Operation::ImportCertificate { name }),
                "versions" => only(Method::GET, Operation::GetCertificateVersions { name }),
                "pending" => match *method {
                    Method::GET => Ok(Operation::GetCertificateOperation { name }),
                    Method::PATCH => Ok(Operation::UpdateCertificateOperation { name }),
                    Method::DELETE => Ok(Operation::DeleteCertificateOperation { name }),
                    _ => Err(not_allowed(method)),
                },
                "policy" => match *method {
                    Method::GET => Ok(Operation::GetCertificatePolicy { name }),
                    Method::PATCH => Ok(Operation::UpdateCertificatePolicy { name }),
                    _ => Err(not_allowed(method)),
                },
                // `/certificates/{name}/{version}`; an empty version is the current one.
                _ => match *method {
                    Method::GET => Ok(Operation::GetCertificate {
                        name,
                        version: parse_version(second),
                    }),
                    Method::PATCH => Ok(Operation::UpdateCertificate {
                        name,
                        version: parse_version(second),
                    }),
                    Method::DELETE if second.is_empty() => {
                        Ok(Operation::DeleteCertificate { name })
                    }
                    _ => Err(not_allowed(method)),
                },
            }
        }
        [first, pending, merge] if is(pending, "pending") && is(merge, "merge") => {
            let name = parse_name(first)?;
            match *method {
                Method::POST => Ok(Operation::MergeCertificate { name }),
                _ => Err(not_allowed(method)),
            }
        }
        // `/certificates/{name}/{version}/` (a trailing slash after a version or an action).
        [first, second, ""] => parse_certificates(method, &[first, second]),
        _ => Err(unknown_path()),
    }
}

pub(crate) fn parse_deleted_certificates(
    method: &Method,
    rest: &[&str],
) -> Result<Operation, ApiError> {
    parse_deleted(
        method,
        rest,
        &DeletedRoutes {
            list: Operation::GetDeletedCertificates,
            get: |name| Operation::GetDeletedCertificate { name },
            purge: |name| Operation::PurgeDeletedCertificate { name },
            recover: |name| Operation::RecoverDeletedCertificate { name },
        },
    )
}
