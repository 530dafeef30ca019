//! Managed identity through `strongroom agent` (App Service protocol: `IDENTITY_ENDPOINT` +
//! `IDENTITY_HEADER`, as `strongroom env --agent` prints them): the unmodified
//! `ManagedIdentityCredential::new(None)` in `mi-read-secret` (src/bin/mi-read-secret.rs), run as
//! a subprocess whose environment holds only `strongroom env --agent --vault V`'s variables, as
//! tests/sdk-js/managed-identity.test.js and tests/sdk-python/test_managed_identity.py run theirs.
//! The SDK reads those variables from the process environment only (its `Env` cannot be set
//! through options outside its own unit tests), hence the subprocess.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::Value;
use strongroom_sdk_rust_tests::agent::Agent;
use strongroom_sdk_rust_tests::server::StrongroomServer;
use strongroom_sdk_rust_tests::unique_name;

const PROGRAM: &str = env!("CARGO_BIN_EXE_mi-read-secret");

/// Run `mi-read-secret NAME` with exactly `vars` as its environment: its JSON report.
#[track_caller]
fn read_secret(
    server: &StrongroomServer,
    agent: &Agent,
    vars: &BTreeMap<String, String>,
    name: &str,
) -> Value {
    let out = Command::new(PROGRAM)
        .env_clear()
        .envs(vars)
        .arg(name)
        .output()
        .expect("run mi-read-secret");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mi-read-secret {name} exited {}:\n{stderr}\n{}\n{}",
        out.status,
        agent.log_tail(),
        server.log_tail()
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("mi-read-secret printed no JSON ({err}): {stdout:?} {stderr}"))
}

/// A new vault holding one secret: `(vault, secret name, value)`.
fn vault_with_secret(server: &StrongroomServer, prefix: &str) -> (String, String, String) {
    let vault = server.create_vault(prefix);
    let name = unique_name("secret");
    let value = format!("value-of-{name}");
    server.cli_json(&[
        "keyvault",
        "secret",
        "set",
        "--vault-name",
        &vault,
        "--name",
        &name,
        "--value",
        &value,
    ]);
    (vault, name, value)
}

fn set_secret_policy(
    server: &StrongroomServer,
    vault: &str,
    object_id: &str,
    permissions: &[&str],
) {
    let mut args = vec![
        "keyvault",
        "set-policy",
        "--name",
        vault,
        "--object-id",
        object_id,
        "--secret-permissions",
    ];
    args.extend_from_slice(permissions);
    server.cli_json(&args);
}

#[test]
fn managed_identity_credential_through_the_agent_app_service() {
    let server = StrongroomServer::start();
    let identity_name = unique_name("app-id");
    let identity = server.cli_json(&["identity", "create", "--name", &identity_name]);
    let principal_id = identity["principalId"].as_str().unwrap().to_owned();
    let agent = Agent::start(&server, &identity_name, "agent-a");
    assert_eq!(agent.info["identity"], identity_name.as_str());
    assert_eq!(agent.info["clientId"], identity["clientId"]);
    assert_eq!(agent.info["principalId"], identity["principalId"]);

    // agent.json (0600, in a 0700 directory) holds the App Service secret that `env --agent`
    // hands to programs.
    let agent_dir = agent.agent_dir();
    let agent_json = agent_dir.join("agent.json");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&agent_dir), 0o700);
    assert_eq!(mode(&agent_json), 0o600);
    let stored: Value = serde_json::from_slice(&std::fs::read(&agent_json).unwrap()).unwrap();
    let identity_header = stored["identityHeader"]
        .as_str()
        .expect("identityHeader in agent.json");
    assert!(identity_header.len() >= 16, "{identity_header:?}");

    // A vault whose access policy lets the identity get secrets: the SDK reads one.
    let (vault, name, value) = vault_with_secret(&server, "mi-app");
    set_secret_policy(&server, &vault, &principal_id, &["get", "list"]);
    let vars = agent.env(&server, &["--vault", &vault]);
    assert_eq!(
        vars.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "AZURE_KEYVAULT_URL",
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE"
        ]
    );
    assert_eq!(
        vars["IDENTITY_ENDPOINT"],
        format!("{}/msi/token", agent.origin())
    );
    assert_eq!(vars["IDENTITY_HEADER"], identity_header);
    assert_eq!(
        vars["SSL_CERT_FILE"],
        server.info.ca_file.display().to_string()
    );
    assert_eq!(
        vars["AZURE_KEYVAULT_URL"],
        format!("https://{vault}.vault.localhost:{}", server.info.port)
    );
    let report = read_secret(&server, &agent, &vars, &name);
    assert_eq!(report, serde_json::json!({ "value": value }));

    // A vault whose access policy lets the identity list secrets, not get them: the token is
    // the identity's, and the vault's 403 Forbidden reaches the program.
    let (denied_vault, denied_name, denied_value) = vault_with_secret(&server, "mi-deny");
    set_secret_policy(&server, &denied_vault, &principal_id, &["list"]);
    let vars = agent.env(&server, &["--vault", &denied_vault]);
    let report = read_secret(&server, &agent, &vars, &denied_name);
    assert_eq!(report["status"], 403, "{report}");
    assert_eq!(report["code"], "Forbidden", "{report}");
    assert_eq!(report["body"]["error"]["code"], "Forbidden", "{report}");
    assert_eq!(
        report["body"]["error"]["innererror"]["code"], "AccessDenied",
        "{report}"
    );
    let message = report["body"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not have secrets get permission"),
        "{message}"
    );
    assert!(
        message.contains(&principal_id),
        "the caller is the identity: {message}"
    );
    assert!(!report.to_string().contains(&denied_value));

    // A wrong IDENTITY_HEADER gets no token: the agent's 401 is the credential's error.
    let mut wrong = agent.env(&server, &["--vault", &vault]);
    wrong.insert("IDENTITY_HEADER".into(), "not-the-secret".into());
    let report = read_secret(&server, &agent, &wrong, &name);
    // The chain: the retry policy's context, then the credential's own message with the body.
    let chain = report["authError"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    let credential_error = chain
        .iter()
        .filter_map(Value::as_str)
        .find(|message| message.starts_with("ManagedIdentityCredential authentication failed"))
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        credential_error.contains("The X-IDENTITY-HEADER header is missing or wrong."),
        "{credential_error}"
    );
    assert!(!report.to_string().contains(&value));
}
