//! Transparent mode: `kv-sample` (src/bin/kv-sample.rs), written for Azure, runs as a subprocess
//! whose environment holds only what `strongroom env --proxy` prints plus the Azure variables the
//! program reads itself. The SDK's reqwest client takes `HTTPS_PROXY` / `HTTP_PROXY` from the
//! environment (CONNECT to `login.microsoftonline.com` and `V.vault.azure.net`, absolute-form
//! GET to IMDS) and trusts Strongroom's CA through `SSL_CERT_FILE`.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use strongroom_sdk_rust_tests::server::StrongroomServer;
use strongroom_sdk_rust_tests::unique_name;

const SAMPLE: &str = env!("CARGO_BIN_EXE_kv-sample");

/// Run the sample with exactly `vars` as its environment; its JSON report, or its stderr.
fn run_sample(vars: &BTreeMap<String, String>, args: &[&str]) -> Result<Value, String> {
    let out = Command::new(SAMPLE)
        .env_clear()
        .envs(vars)
        .args(args)
        .output()
        .expect("run kv-sample");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(stderr);
    }
    Ok(serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("kv-sample printed no JSON ({err}): {stdout:?} {stderr}")))
}

#[track_caller]
fn sample_ok(server: &StrongroomServer, vars: &BTreeMap<String, String>, args: &[&str]) -> Value {
    run_sample(vars, args).unwrap_or_else(|stderr| {
        panic!(
            "kv-sample {} failed:\n{stderr}\n{}",
            args.join(" "),
            server.log_tail()
        )
    })
}

/// `strongroom env ARGS` with the proxy variables, checked, plus `extra`.
fn proxy_env(
    server: &StrongroomServer,
    args: &[&str],
    extra: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut vars = server.env(args);
    let proxy = &vars["HTTPS_PROXY"];
    assert!(proxy.starts_with("http://"), "{proxy}");
    assert!(
        proxy.ends_with(&format!("127.0.0.1:{}", server.info.port)),
        "{proxy}"
    );
    assert_eq!(vars["HTTP_PROXY"], *proxy);
    assert_eq!(
        vars["SSL_CERT_FILE"],
        server.info.ca_file.display().to_string()
    );
    // No authority host: the credential uses its default, https://login.microsoftonline.com.
    assert!(
        !vars.contains_key("AZURE_AUTHORITY_HOST"),
        "{:?}",
        vars.keys()
    );
    vars.remove("AZURE_KEYVAULT_URL");
    for (name, value) in extra {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    vars
}

#[test]
fn client_secret_credential_at_azures_names() {
    let server = StrongroomServer::start();
    let vault = server.create_vault("azure");
    let (app_id, password) = server.create_service_principal("workload-sp");
    server.cli_json(&[
        "keyvault",
        "set-policy",
        "--name",
        &vault,
        "--spn",
        &app_id,
        "--secret-permissions",
        "get",
        "list",
        "set",
        "--key-permissions",
        "create",
        "get",
        "sign",
        "verify",
        "--certificate-permissions",
        "create",
        "get",
    ]);
    // The deployment's tenant GUID: the credential posts to
    // https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, through the proxy.
    let vars = proxy_env(
        &server,
        &["--proxy"],
        &[
            ("AZURE_TENANT_ID", server.info.tenant_id.as_str()),
            ("AZURE_CLIENT_ID", app_id.as_str()),
            ("AZURE_CLIENT_SECRET", password.as_str()),
            ("KEY_VAULT_NAME", vault.as_str()),
        ],
    );

    let set = sample_ok(
        &server,
        &vars,
        &["client-secret", "set", "db-password", "s3cr3t via proxy"],
    );
    assert_eq!(set["value"], "s3cr3t via proxy");
    let id = set["id"].as_str().unwrap();
    let prefix = format!("https://{vault}.vault.azure.net/secrets/db-password/");
    assert!(id.starts_with(&prefix), "{id}");

    let got = sample_ok(&server, &vars, &["client-secret", "get", "db-password"]);
    assert_eq!(got["value"], "s3cr3t via proxy");
    assert_eq!(got["id"], set["id"]);
    let listed = sample_ok(&server, &vars, &["client-secret", "list"]);
    assert_eq!(listed["names"], serde_json::json!(["db-password"]));

    // The value is in Strongroom's vault, as the CLI reads it.
    let shown = server.cli_json(&[
        "keyvault",
        "secret",
        "show",
        "--vault-name",
        &vault,
        "--name",
        "db-password",
    ]);
    assert_eq!(shown["value"], "s3cr3t via proxy");

    let signed = sample_ok(&server, &vars, &["client-secret", "sign-verify", "signer"]);
    assert_eq!(signed["verified"], true);
    assert_eq!(signed["signatureLength"], 64);
    let kid = signed["kid"].as_str().unwrap();
    assert!(
        kid.starts_with(&format!("https://{vault}.vault.azure.net/keys/signer/")),
        "{kid}"
    );

    let certificate = sample_ok(
        &server,
        &vars,
        &["client-secret", "create-certificate", "proxied"],
    );
    assert_eq!(certificate["subject"], "CN=proxied");
    assert!(certificate["cerLength"].as_u64().unwrap() > 300);
    let cert_id = certificate["id"].as_str().unwrap();
    assert!(
        cert_id.starts_with(&format!(
            "https://{vault}.vault.azure.net/certificates/proxied/"
        )),
        "{cert_id}"
    );

    // Another tenant's GUID is refused by the token endpoint (Entra's AADSTS90002).
    let mut wrong_tenant = vars.clone();
    wrong_tenant.insert(
        "AZURE_TENANT_ID".into(),
        "00000000-0000-0000-0000-000000000001".into(),
    );
    let stderr = run_sample(&wrong_tenant, &["client-secret", "get", "db-password"])
        .expect_err("a token for an unknown tenant");
    assert!(stderr.contains("AADSTS90002"), "{stderr}");
}

#[test]
fn managed_identity_credential_through_imds() {
    let server = StrongroomServer::start();
    let vault = server.create_vault("imds");
    let identity_name = unique_name("workload");
    let identity = server.cli_json(&["identity", "create", "--name", &identity_name]);
    let principal_id = identity["principalId"].as_str().unwrap();
    let client_id = identity["clientId"].as_str().unwrap();
    server.cli_json(&[
        "keyvault",
        "set-policy",
        "--name",
        &vault,
        "--object-id",
        principal_id,
        "--secret-permissions",
        "get",
        "list",
    ]);
    server.cli(&[
        "keyvault",
        "secret",
        "set",
        "--vault-name",
        &vault,
        "--name",
        "db-password",
        "--value",
        "read by a managed identity",
    ]);
    // The proxy credentials (a new client secret of the identity) say which identity IMDS
    // answers for.
    let vars = proxy_env(
        &server,
        &["--proxy", "--identity", &identity_name],
        &[("KEY_VAULT_NAME", vault.as_str())],
    );
    assert!(
        vars["HTTP_PROXY"].starts_with(&format!("http://{client_id}:")),
        "the proxy URL carries the identity's client id"
    );

    let got = sample_ok(&server, &vars, &["managed-identity", "get", "db-password"]);
    assert_eq!(got["value"], "read by a managed identity");
    let listed = sample_ok(&server, &vars, &["managed-identity", "list"]);
    assert_eq!(listed["names"], serde_json::json!(["db-password"]));

    // User-assigned, by client id (IMDS's `client_id=`), as well.
    let mut by_client_id = vars.clone();
    by_client_id.insert("AZURE_CLIENT_ID".into(), client_id.into());
    let got = sample_ok(
        &server,
        &by_client_id,
        &["managed-identity-client-id", "get", "db-password"],
    );
    assert_eq!(got["value"], "read by a managed identity");

    // The identity may read, not write: the vault's 403 reaches the program.
    let stderr = run_sample(
        &vars,
        &["managed-identity", "set", "db-password", "overwritten"],
    )
    .expect_err("set without the set permission");
    assert!(stderr.contains("Forbidden"), "{stderr}");
    let shown = server.cli_json(&[
        "keyvault",
        "secret",
        "show",
        "--vault-name",
        &vault,
        "--name",
        "db-password",
    ]);
    assert_eq!(shown["value"], "read by a managed identity");
}
