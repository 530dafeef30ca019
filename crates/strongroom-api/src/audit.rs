//! Audit events (`serve --audit-log`): one per request, and one per token issued, in the
//! field names of Azure Key Vault's `AuditEvent` resource log (`time`, `resourceId`,
//! `operationName`, `operationVersion`, `category`, `resultType`, `resultSignature`,
//! `durationMs`, `callerIpAddress`, `correlationId`, `identity.claim`, `properties`), so tooling
//! that reads Azure's reads these. An event holds who, what (vault, object names and versions,
//! never a value, key, token or body), when, from where and how it ended. The binary's sink
//! writes them as hash-chained lines, and reads them back for `GET /strongroom/audit/events`
//! (`audit_query.rs`).

use serde::Serialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use strongroom_model::{Caller, UnixTime};

use crate::audit_query::{AuditPage, AuditQuery, AuditReadError, OBJECT_ID_CLAIM};

/// Where events go: the binary's hash-chained file (or standard output).
pub trait AuditSink: Send + Sync {
    /// Takes one event, a JSON object.
    fn record(&self, event: &str);

    /// The events `query` matches, newest first: at most `query.top`, and where the next page
    /// starts when one more matches. Blocking file reads (the caller runs it on the blocking
    /// pool); a sink with nothing to read back answers
    /// [`AuditReadError::WrittenToStandardOutput`].
    fn query(&self, query: &AuditQuery) -> Result<AuditPage, AuditReadError>;
}

/// Characters of a request's URI an event keeps: enough for any Key Vault or ARM path, and a
/// bound on what one request can add to the log.
const MAX_LOGGED_URI_CHARS: usize = 2048;

/// The client's address, which the transport puts in a request's extensions when an audit
/// log is kept.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// What the pipeline learned about a request on its way, for its event.
#[derive(Debug, Default)]
pub(crate) struct RequestFacts {
    pub(crate) operation: OnceLock<&'static str>,
    pub(crate) caller: OnceLock<Arc<Caller>>,
    /// The vault's name and resource group.
    pub(crate) vault: OnceLock<(String, String)>,
    pub(crate) api_version: OnceLock<String>,
}

/// The parts of a request its event needs, taken before the request is consumed.
#[derive(Debug)]
pub(crate) struct RequestSeen {
    pub(crate) method: String,
    pub(crate) uri: String,
    pub(crate) client: Option<SocketAddr>,
    pub(crate) user_agent: Option<String>,
    pub(crate) client_request_id: Option<String>,
}

impl RequestSeen {
    pub(crate) fn of<B>(request: &http::Request<B>, origin: Option<&str>) -> Self {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(256).collect())
        };
        Self {
            method: request.method().to_string(),
            uri: format!(
                "{}{}",
                origin.unwrap_or_default(),
                request.uri().path_and_query().map_or("/", |p| p.as_str())
            )
            .chars()
            .take(MAX_LOGGED_URI_CHARS)
            .collect(),
            client: request.extensions().get::<ClientAddr>().map(|addr| addr.0),
            user_agent: header("user-agent"),
            client_request_id: header("x-ms-client-request-id"),
        }
    }
}

/// Azure's `operationName` for a data-plane operationId (`SecretGet` for `GetSecret`); an
/// operation Azure's log has no name for keeps its operationId.
pub(crate) fn operation_name(operation_id: &'static str) -> &'static str {
    match operation_id {
        "SetSecret" => "SecretSet",
        "GetSecret" => "SecretGet",
        "UpdateSecret" => "SecretUpdate",
        "GetSecrets" => "SecretList",
        "GetSecretVersions" => "SecretListVersions",
        "DeleteSecret" => "SecretDelete",
        "GetDeletedSecrets" => "SecretListDeleted",
        "GetDeletedSecret" => "SecretGetDeleted",
        "PurgeDeletedSecret" => "SecretPurge",
        "RecoverDeletedSecret" => "SecretRecover",
        "BackupSecret" => "SecretBackup",
        "RestoreSecret" => "SecretRestore",
        "CreateKey" => "KeyCreate",
        "ImportKey" => "KeyImport",
        "GetKey" => "KeyGet",
        "UpdateKey" => "KeyUpdate",
        "GetKeys" => "KeyList",
        "GetKeyVersions" => "KeyListVersions",
        "DeleteKey" => "KeyDelete",
        "GetDeletedKeys" => "KeyListDeleted",
        "GetDeletedKey" => "KeyGetDeleted",
        "PurgeDeletedKey" => "KeyPurge",
        "RecoverDeletedKey" => "KeyRecover",
        "BackupKey" => "KeyBackup",
        "RestoreKey" => "KeyRestore",
        "encrypt" => "KeyEncrypt",
        "decrypt" => "KeyDecrypt",
        "sign" => "KeySign",
        "verify" => "KeyVerify",
        "wrapKey" => "KeyWrap",
        "unwrapKey" => "KeyUnwrap",
        "release" => "KeyRelease",
        "RotateKey" => "KeyRotate",
        "GetKeyRotationPolicy" => "KeyRotationPolicyGet",
        "UpdateKeyRotationPolicy" => "KeyRotationPolicySet",
        "GetCertificates" => "CertificateList",
        "GetCertificate" => "CertificateGet",
        "UpdateCertificate" => "CertificateUpdate",
        "DeleteCertificate" => "CertificateDelete",
        "GetCertificateVersions" => "CertificateListVersions",
        "CreateCertificate" => "CertificateCreate",
        "ImportCertificate" => "CertificateImport",
        "BackupCertificate" => "CertificateBackup",
        "RestoreCertificate" => "CertificateRestore",
        "GetCertificateOperation" => "CertificatePendingGet",
        "UpdateCertificateOperation" => "CertificatePendingUpdate",
        "DeleteCertificateOperation" => "CertificatePendingDelete",
        "MergeCertificate" => "CertificatePendingMerge",
        "GetCertificatePolicy" => "CertificatePolicyGet",
        "UpdateCertificatePolicy" => "CertificatePolicyUpdate",
        "GetCertificateContacts" => "CertificateContactsGet",
        "SetCertificateContacts" => "CertificateContactsSet",
        "DeleteCertificateContacts" => "CertificateContactsDelete",
        "GetCertificateIssuers" => "CertificateIssuersList",
        "GetCertificateIssuer" => "CertificateIssuerGet",
        "SetCertificateIssuer" => "CertificateIssuerSet",
        "UpdateCertificateIssuer" => "CertificateIssuerUpdate",
        "DeleteCertificateIssuer" => "CertificateIssuerDelete",
        "GetDeletedCertificates" => "CertificateListDeleted",
        "GetDeletedCertificate" => "CertificateGetDeleted",
        "PurgeDeletedCertificate" => "CertificatePurge",
        "RecoverDeletedCertificate" => "CertificateRecover",
        other => other,
    }
}

/// RFC 3339 with milliseconds, as Azure's `time` (to the 100 ns there).
fn timestamp(now: std::time::SystemTime) -> String {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = UnixTime(i64::try_from(since.as_secs()).unwrap_or(i64::MAX)).rfc3339();
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        since.subsec_millis()
    )
}

/// Azure's `identity`: the caller's claims.
fn identity(object_id: &str, app_id: &str, tenant_id: &str) -> Value {
    json!({"claim": {
        OBJECT_ID_CLAIM: object_id,
        "appid": app_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant_id,
    }})
}

/// The event of one answered request.
pub(crate) struct RequestEvent<'a> {
    pub(crate) seen: &'a RequestSeen,
    pub(crate) facts: &'a RequestFacts,
    pub(crate) subscription_id: &'a str,
    pub(crate) request_id: &'a str,
    pub(crate) status: http::StatusCode,
    pub(crate) took: Duration,
    /// `Vault`, `Management`, … for a request that is not a data-plane operation.
    pub(crate) plane: &'static str,
}

impl RequestEvent<'_> {
    pub(crate) fn to_json(&self) -> String {
        let facts = self.facts;
        let resource_id = match facts.vault.get() {
            Some((vault, group)) => format!(
                "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/{}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{}",
                self.subscription_id, group, vault
            )
            .to_uppercase(),
            None => format!("/SUBSCRIPTIONS/{}", self.subscription_id).to_uppercase(),
        };
        let operation = facts
            .operation
            .get()
            .map_or(self.plane, |id| operation_name(id));
        let success = self.status.is_success();
        let id = self.seen.uri.split('?').next().unwrap_or_default();
        let event = AuditEvent {
            time: timestamp(std::time::SystemTime::now()),
            resource_id,
            operation_name: operation,
            operation_version: facts.api_version.get().map_or("", String::as_str),
            category: "AuditEvent",
            result_type: if success { "Success" } else { "Failure" },
            result_signature: self.status.canonical_reason().unwrap_or(""),
            result_description: "",
            duration_ms: self.took.as_millis().to_string(),
            caller_ip_address: self.seen.client.map(|addr| addr.ip().to_string()),
            correlation_id: self.seen.client_request_id.as_deref().unwrap_or(""),
            identity: facts
                .caller
                .get()
                .map(|caller| identity(&caller.object_id.0, &caller.app_id, &caller.tenant_id.0)),
            properties: json!({
                "id": id,
                "clientInfo": self.seen.user_agent,
                "httpMethod": self.seen.method,
                "httpStatusCode": self.status.as_u16(),
                "requestUri": self.seen.uri,
                "requestId": self.request_id,
            }),
        };
        serde_json::to_string(&event).unwrap_or_default()
    }
}

/// The event of a token issued by the identity service or IMDS.
pub(crate) fn token_event(
    subscription_id: &str,
    caller_object_id: &str,
    app_id: &str,
    tenant_id: &str,
    resource: &str,
    grant: &str,
) -> String {
    let event = AuditEvent {
        time: timestamp(std::time::SystemTime::now()),
        resource_id: format!("/SUBSCRIPTIONS/{subscription_id}").to_uppercase(),
        operation_name: "TokenIssue",
        operation_version: "",
        category: "AuditEvent",
        result_type: "Success",
        result_signature: "OK",
        result_description: "",
        duration_ms: "0".to_owned(),
        caller_ip_address: None,
        correlation_id: "",
        identity: Some(identity(caller_object_id, app_id, tenant_id)),
        properties: json!({"resource": resource, "grant": grant}),
    };
    serde_json::to_string(&event).unwrap_or_default()
}

/// Azure Key Vault's `AuditEvent` record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditEvent<'a> {
    time: String,
    resource_id: String,
    operation_name: &'a str,
    operation_version: &'a str,
    category: &'static str,
    result_type: &'static str,
    result_signature: &'a str,
    result_description: &'static str,
    /// A string in Azure's records.
    duration_ms: String,
    caller_ip_address: Option<String>,
    correlation_id: &'a str,
    identity: Option<Value>,
    properties: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_plane_operation_id_has_azures_name_or_keeps_its_own() {
        assert_eq!(operation_name("GetSecret"), "SecretGet");
        assert_eq!(operation_name("sign"), "KeySign");
        assert_eq!(operation_name("GetRandomBytes"), "GetRandomBytes");
        assert_eq!(
            timestamp(std::time::UNIX_EPOCH + Duration::from_millis(1_500)),
            "1970-01-01T00:00:01.500Z"
        );
    }
}
