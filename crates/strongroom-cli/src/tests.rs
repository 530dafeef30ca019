//! Whole commands, from parsed arguments to rendered output or error line, against a scripted
//! TLS peer (`test_peer.rs`) that answers like the server's public API. Each test asserts the
//! output and the exact requests the CLI sent (port replaced by `PORT`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use crate::command::parse_for_test;
use crate::test_peer::{self, Pki, Seen};
use crate::{execute, render};

const ADMIN_SECRET: &str = "s3cret";

/// A data directory pointing at a scripted peer, and the log of what the peer received.
struct Fixture {
    dir: tempfile::TempDir,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Fixture {
    async fn start() -> Self {
        let pki = Pki::new("Strongroom Test CA");
        let log = Arc::new(Mutex::new(Vec::new()));
        let peer_log = Arc::clone(&log);
        let address = test_peer::serve(&pki, move |seen| {
            peer_log.lock().unwrap().push(seen.describe());
            script(seen)
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        pki.write_ca(dir.path());
        let port = address.port();
        let admin = json!({"tenantId":"tid","clientId":"admin-app","clientSecret":ADMIN_SECRET,"objectId":"admin-oid"});
        let server = json!({
            "listen": address.to_string(), "port": port, "domain": "localhost",
            "authorityHost": format!("https://localhost:{port}"), "tenantId": "tid",
            "subscriptionId": "sub", "caFile": "/ignored/ca.pem", "pid": 1,
        });
        write_json(dir.path(), "admin.json", &admin);
        write_json(dir.path(), "server.json", &server);
        Self { dir, port, log }
    }

    /// Runs `strongroom <args>` (split on whitespace); returns stdout, or the stderr line.
    async fn run(&self, args: &str) -> String {
        let args: Vec<&str> = args.split_whitespace().collect();
        let command = parse_for_test(&args);
        let outcome = match execute(self.dir.path(), command).await {
            Ok(output) => render(&output).unwrap(),
            Err(error) => error.line(),
        };
        outcome.replace(&self.port.to_string(), "PORT")
    }

    /// The requests received since the last call.
    fn requests(&self) -> String {
        let lines = std::mem::take(&mut *self.log.lock().unwrap());
        lines.join("\n").replace(&self.port.to_string(), "PORT")
    }
}

fn write_json(dir: &Path, file: &str, value: &Value) {
    std::fs::write(dir.join(file), value.to_string()).unwrap();
}

/// The peer's script: a token endpoint, a few management/Graph routes and one vault `v1`.
fn script(seen: &Seen) -> (u16, String) {
    let host = seen.host.split(':').next().unwrap_or_default();
    let path = seen.uri.split('?').next().unwrap_or_default();
    let not_found = || {
        let body = json!({"error":{"code":"SecretNotFound","message":format!("A secret with (name/id) {path} was not found in this key vault.")}});
        (404, body.to_string())
    };
    if seen.method == "POST" && path == "/tid/oauth2/v2.0/token" {
        if seen.form("client_secret") != ADMIN_SECRET {
            let body = json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]});
            return (401, body.to_string());
        }
        let token = format!("tok:{}", seen.form("scope"));
        let body = json!({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":token});
        return (200, body.to_string());
    }
    let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
    match (host, seen.method.as_str(), seen.uri.as_str()) {
        ("vault1.vault.localhost", "GET", "/secrets?api-version=2025-07-01") => {
            let next = format!(
                "https://{}/secrets?api-version=2025-07-01&$skiptoken=p2",
                seen.host
            );
            (
                200,
                json!({"value":[{"id":"a"}],"nextLink":next}).to_string(),
            )
        }
        ("vault1.vault.localhost", "GET", "/secrets?api-version=2025-07-01&$skiptoken=p2") => (
            200,
            json!({"value":[{"id":"b"}],"nextLink":null}).to_string(),
        ),
        ("vault1.vault.localhost", "PUT", "/secrets/s1?api-version=2025-07-01") => {
            let bundle = json!({"value":body["value"],"id":"https://vault1.vault.localhost/secrets/s1/0123","attributes":{"enabled":true}});
            (200, bundle.to_string())
        }
        ("localhost", "PUT" | "GET", uri) if uri.contains("/userAssignedIdentities/web?") => {
            let resource = json!({
                "id": "/subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web",
                "name": "web", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "location": "local", "tags": {},
                "properties": {"tenantId": "tid", "principalId": "oid-9", "clientId": "app-9"},
            });
            (200, resource.to_string())
        }
        ("localhost", "PATCH", uri) if uri.contains("/virtualMachines/host1?") => {
            let host = json!({"name": "host1", "identity": {"type": body["identity"]["type"], "principalId": "oid-h", "tenantId": "tid"}});
            (200, host.to_string())
        }
        ("localhost", "GET", "/v1.0/servicePrincipals(appId='app-9')") => {
            (200, json!({"id":"oid-9","appId":"app-9"}).to_string())
        }
        ("localhost", "POST", "/v1.0/servicePrincipals") => {
            let principal = json!({"id":"oid-9","appId":"app-9","displayName":body["displayName"]});
            (201, principal.to_string())
        }
        ("localhost", "POST", "/v1.0/servicePrincipals/oid-9/addPassword") => {
            (200, json!({"keyId":"k","secretText":"pw-9"}).to_string())
        }
        ("localhost", "PUT", uri) if uri.contains("/accessPolicies/") => {
            (200, json!({"properties":body["properties"]}).to_string())
        }
        ("localhost", "DELETE", uri) if uri.contains("/vaults/vault1?") => (200, "{}".to_owned()),
        ("localhost", "DELETE", uri) if uri.contains("/vaults/v2?") => (204, String::new()),
        ("localhost", "GET", uri) if uri.contains("/vaults/vault1?") => {
            (200, json!({"name":"vault1","properties":{}}).to_string())
        }
        _ => not_found(),
    }
}

#[track_caller]
fn check(actual: &str, expect: Expect) {
    expect.assert_eq(actual);
}

#[tokio::test]
async fn secret_list_follows_next_links_with_a_vault_token() {
    let fixture = Fixture::start().await;
    check(
        &fixture
            .run("keyvault secret list --vault-name Vault1")
            .await,
        expect![[r#"
            [
              {
                "id": "a"
              },
              {
                "id": "b"
              }
            ]
        "#]],
    );
    check(
        &fixture.requests(),
        expect![[r#"
            sni=localhost POST /tid/oauth2/v2.0/token host=localhost:PORT auth=- type=application/x-www-form-urlencoded length=125 body=grant_type=client_credentials&client_id=admin-app&client_secret=s3cret&scope=https%3A%2F%2Fvault.localhost%3APORT%2F.default
            sni=vault1.vault.localhost GET /secrets?api-version=2025-07-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
            sni=vault1.vault.localhost GET /secrets?api-version=2025-07-01&$skiptoken=p2 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn secret_set_sends_secret_set_parameters() {
    let fixture = Fixture::start().await;
    let args = "keyvault secret set --vault-name vault1 --name s1 --value it's --content-type text/plain --tags env=dev team";
    check(
        &fixture.run(args).await,
        expect![[r#"
            {
              "attributes": {
                "enabled": true
              },
              "id": "https://vault1.vault.localhost/secrets/s1/0123",
              "value": "it's"
            }
        "#]],
    );
    let requests = fixture.requests();
    check(
        requests.lines().nth(1).unwrap_or_default(),
        expect![[
            r#"sni=vault1.vault.localhost PUT /secrets/s1?api-version=2025-07-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=74 body={"value":"it's","contentType":"text/plain","tags":{"env":"dev","team":""}}"#
        ]],
    );
}

#[tokio::test]
async fn set_policy_resolves_the_spn_then_prints_the_vault() {
    let fixture = Fixture::start().await;
    let args = "keyvault set-policy --name vault1 --spn app-9 --secret-permissions list get get";
    check(
        &fixture.run(args).await,
        expect![[r#"
            {
              "name": "vault1",
              "properties": {}
            }
        "#]],
    );
    check(
        &fixture
            .requests()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
        expect![[r#"
            sni=localhost GET /v1.0/servicePrincipals(appId='app-9') host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body=
            sni=localhost PUT /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1/accessPolicies/add?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=142 body={"properties":{"accessPolicies":[{"objectId":"oid-9","permissions":{"certificates":[],"keys":[],"secrets":["get","list"]},"tenantId":"tid"}]}}
            sni=localhost GET /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn create_for_rbac_prints_the_credentials() {
    let fixture = Fixture::start().await;
    check(
        &fixture.run("ad sp create-for-rbac --name ci").await,
        expect![[r#"
            {
              "appId": "app-9",
              "displayName": "ci",
              "password": "pw-9",
              "tenant": "tid"
            }
        "#]],
    );
}

#[tokio::test]
async fn errors_are_one_line() {
    let fixture = Fixture::start().await;
    let results = [
        fixture
            .run("keyvault secret show --vault-name vault1 --name nope")
            .await,
        fixture
            .run("keyvault secret show --vault-name vault_1 --name s1")
            .await,
        fixture.run("env --vault x").await,
    ];
    check(
        &results.join("\n"),
        expect![[r#"
            ERROR: (SecretNotFound) A secret with (name/id) /secrets/nope was not found in this key vault.
            ERROR: invalid vault name "vault_1": name contains the character '_'
            ERROR: invalid vault name "x": name is shorter than 3 characters"#]],
    );

    let admin =
        json!({"tenantId":"tid","clientId":"admin-app","clientSecret":"wrong","objectId":"o"});
    write_json(fixture.dir.path(), "admin.json", &admin);
    check(
        &fixture.run("keyvault list").await,
        expect![[r#"ERROR: AADSTS7000215: Invalid client secret provided."#]],
    );
}

#[tokio::test]
async fn env_needs_no_server() {
    let fixture = Fixture::start().await;
    let output = fixture.run("env --vault vault1").await;
    let ca_file = std::fs::canonicalize(fixture.dir.path().join("ca.pem")).unwrap();
    check(
        &output.replace(&ca_file.display().to_string(), "/DIR/ca.pem"),
        expect![[r#"
            export AZURE_TENANT_ID='adfs'
            export AZURE_CLIENT_ID='admin-app'
            export AZURE_CLIENT_SECRET='s3cret'
            export AZURE_AUTHORITY_HOST='https://localhost:PORT'
            export AZURE_KEYVAULT_URL='https://vault1.vault.localhost:PORT'
            export REQUESTS_CA_BUNDLE='/DIR/ca.pem'
            export SSL_CERT_FILE='/DIR/ca.pem'
            export NODE_EXTRA_CA_CERTS='/DIR/ca.pem'
        "#]],
    );
    check(&fixture.requests(), expect![[r#""#]]);
}

#[tokio::test]
async fn delete_prints_nothing() {
    let fixture = Fixture::start().await;
    let existed = fixture.run("keyvault delete --name vault1").await;
    let absent = fixture.run("keyvault delete --name v2 -g rg").await;
    assert_eq!((existed.as_str(), absent.as_str()), ("", ""));
    check(
        &fixture.requests(),
        expect![[r#"
        sni=localhost POST /tid/oauth2/v2.0/token host=localhost:PORT auth=- type=application/x-www-form-urlencoded length=122 body=grant_type=client_credentials&client_id=admin-app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default
        sni=localhost DELETE /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body=
        sni=localhost POST /tid/oauth2/v2.0/token host=localhost:PORT auth=- type=application/x-www-form-urlencoded length=122 body=grant_type=client_credentials&client_id=admin-app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default
        sni=localhost DELETE /subscriptions/sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v2?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn identity_commands_print_what_az_prints() {
    let fixture = Fixture::start().await;
    let created = fixture.run("identity create --name web -g rg1").await;
    check(
        &created,
        expect![[r#"
            {
              "clientId": "app-9",
              "id": "/subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web",
              "location": "local",
              "name": "web",
              "principalId": "oid-9",
              "resourceGroup": "strongroom",
              "tags": {},
              "tenantId": "tid",
              "type": "Microsoft.ManagedIdentity/userAssignedIdentities"
            }
        "#]],
    );
    check(
        &fixture.run("vm identity assign --name host1").await,
        expect![[r#"
            {
              "systemAssignedIdentity": "oid-h",
              "userAssignedIdentities": {}
            }
        "#]],
    );
    check(
        &fixture.run("ad sp credential reset --id app-9").await,
        expect![[r#"
            {
              "appId": "app-9",
              "password": "pw-9",
              "tenant": "tid"
            }
        "#]],
    );
    let requests: Vec<String> = fixture
        .requests()
        .lines()
        .filter(|line| !line.contains("/oauth2/v2.0/token"))
        .map(str::to_owned)
        .collect();
    check(
        &requests.join("\n"),
        expect![[r#"
            sni=localhost PUT /subscriptions/sub/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web?api-version=2023-01-31 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=20 body={"location":"local"}
            sni=localhost PATCH /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.Compute/virtualMachines/host1?api-version=2024-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=38 body={"identity":{"type":"SystemAssigned"}}
            sni=localhost GET /v1.0/servicePrincipals(appId='app-9') host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body=
            sni=localhost POST /v1.0/servicePrincipals/oid-9/addPassword host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=2 body={}"#]],
    );
}
