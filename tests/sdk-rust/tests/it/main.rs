//! Microsoft's official Rust SDK against the real `strongroom` binary (issue 10): one test
//! binary, one module per area. Each test starts its own server on a free port and a temporary
//! data directory (`strongroom_sdk_rust_tests::server`).
//!
//! - Direct mode (`secrets`, `keys`, `certificates`): `ClientSecretCredential` and the vault
//!   clients built from `strongroom env --vault V` inside this process
//!   (`strongroom_sdk_rust_tests::direct` says how each variable is applied).
//! - Transparent mode (`transparent`): `src/bin/kv-sample.rs`, written for Azure, run as a
//!   subprocess with only `strongroom env --proxy`'s variables.
//! - Managed identity through `strongroom agent` (`managed_identity`): `src/bin/mi-read-secret.rs`
//!   (`ManagedIdentityCredential`, App Service protocol) run as a subprocess with only
//!   `strongroom env --agent`'s variables.

mod certificates;
mod keys;
mod managed_identity;
mod secrets;
mod transparent;

use azure_core::error::ErrorKind;
use azure_core::http::StatusCode;
use serde_json::Value;
use strongroom_sdk_rust_tests::direct::DirectEnv;
use strongroom_sdk_rust_tests::server::StrongroomServer;

/// A server with one new vault, and `strongroom env --vault V` for it: the vault's own
/// application principal (every permission on that vault, nothing else).
fn direct_vault(prefix: &str) -> (StrongroomServer, String, DirectEnv) {
    let server = StrongroomServer::start();
    let vault = server.create_vault(prefix);
    let vars = server.env(&["--vault", &vault]);
    assert_eq!(vars["AZURE_TENANT_ID"], "adfs");
    assert_eq!(vars["AZURE_AUTHORITY_HOST"], server.info.authority_host);
    assert_eq!(
        vars["AZURE_KEYVAULT_URL"],
        format!("https://{vault}.vault.localhost:{}", server.info.port)
    );
    assert_eq!(
        vars["SSL_CERT_FILE"],
        server.info.ca_file.display().to_string()
    );
    let env = DirectEnv::new(vars, server.info.port);
    (server, vault, env)
}

/// A failed SDK call as the service answered it: status, Azure's `error.code` (as the SDK
/// parsed it) and the response body.
#[track_caller]
fn http_error(err: &azure_core::Error) -> (StatusCode, String, Value) {
    match err.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => {
            let body = raw_response
                .as_ref()
                .map(|response| serde_json::from_slice(response.body()).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            (*status, error_code.clone().unwrap_or_default(), body)
        }
        other => panic!("not an HTTP error response: {other:?}: {err}"),
    }
}
