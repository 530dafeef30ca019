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
        self.run_args(&args).await
    }

    /// Runs `strongroom <args>` with the arguments as given (values may hold spaces).
    async fn run_args(&self, args: &[&str]) -> String {
        let command = parse_for_test(args);
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
    if host == "vault1.vault.localhost" && seen.uri.contains("api-version=2026-04-01") {
        return key_script(seen, path, &body);
    }
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
        ("localhost", "PUT", uri) if uri.contains("/vaults/vault2?") => {
            let vault = json!({"name":"vault2","properties":{"sku":body["properties"]["sku"]}});
            (201, vault.to_string())
        }
        _ => not_found(),
    }
}

/// The keys API of vault `vault1`: one key `k1` (version `v1`) and the operations on it.
fn key_script(seen: &Seen, path: &str, body: &Value) -> (u16, String) {
    let kid = format!("https://{}/keys/k1/v1", seen.host);
    let key_bundle = |kty: &Value, ops: &Value, tags: &Value| {
        json!({
            "key": {"kid": kid, "kty": kty, "key_ops": ops, "n": "0vx7agoebGcQSuuPiLJXZptN", "e": "AQAB"},
            "attributes": {"enabled": true, "created": 1_700_000_000, "updated": 1_700_000_000,
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
            "tags": tags,
        })
    };
    let stored = || key_bundle(&json!("RSA"), &json!(["sign", "verify"]), &Value::Null);
    let answer = match (seen.method.as_str(), path) {
        ("POST", "/keys/k1/create") => key_bundle(&body["kty"], &body["key_ops"], &body["tags"]),
        ("PUT", "/keys/k1") => {
            key_bundle(&body["key"]["kty"], &body["key"]["key_ops"], &body["tags"])
        }
        ("GET", "/keys/k1/") | ("POST", "/keys/restore") | ("PATCH", "/keys/k1/v1") => stored(),
        ("DELETE", "/keys/k1") => {
            let mut deleted = stored();
            deleted["recoveryId"] = json!(format!("https://{}/deletedkeys/k1", seen.host));
            deleted["deletedDate"] = json!(1_700_000_100);
            deleted["scheduledPurgeDate"] = json!(1_707_776_100);
            deleted
        }
        ("GET", "/keys") => json!({"value": [
            {"kid": format!("https://{}/keys/k1", seen.host), "attributes": {"enabled": true, "created": 1_700_000_000}},
            {"kid": format!("https://{}/keys/cert1", seen.host), "attributes": {"enabled": true}, "managed": true},
            {"kid": format!("https://{}/keys/k2", seen.host), "attributes": {"enabled": false}, "tags": {"a": "b"}},
        ], "nextLink": null}),
        ("POST", "/keys/k1/v1/encrypt") => json!({"kid": kid, "value": "AQID-_8"}),
        ("POST", "/keys/k1/v1/decrypt") => json!({"kid": kid, "value": "aGVsbG8"}),
        ("POST", "/keys/k1/v1/sign") => json!({"kid": kid, "value": "c2ln-_8"}),
        ("POST", "/keys/k1/v1/verify") => json!({"value": true}),
        ("POST", "/keys/k1/backup") => json!({"value": "AAEC_w"}),
        ("POST", "/rng") => json!({"value": "AAEC_w"}),
        ("PUT", "/keys/k1/rotationpolicy") => {
            let mut policy = body.clone();
            policy["id"] = json!(format!("https://{}/keys/k1/rotationpolicy", seen.host));
            policy["attributes"]["created"] = json!(1_700_000_000);
            policy["attributes"]["updated"] = json!(1_700_000_001);
            policy
        }
        ("DELETE", "/deletedkeys/k1") => return (204, String::new()),
        _ => {
            let error = json!({"error":{"code":"KeyNotFound","message":format!("A key with (name/id) {path} was not found in this key vault.")}});
            return (404, error.to_string());
        }
    };
    (200, answer.to_string())
}

/// The requests after the token requests, one per line.
fn data_requests(fixture: &Fixture) -> String {
    fixture
        .requests()
        .lines()
        .filter(|line| !line.contains("/oauth2/v2.0/token"))
        .collect::<Vec<_>>()
        .join("\n")
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
async fn env_vault_makes_the_vaults_own_principal() {
    let fixture = Fixture::start().await;
    let output = fixture.run("env --vault vault1").await;
    let ca_file = std::fs::canonicalize(fixture.dir.path().join("ca.pem")).unwrap();
    check(
        &output.replace(&ca_file.display().to_string(), "/DIR/ca.pem"),
        expect![[r#"
            export AZURE_TENANT_ID='adfs'
            export AZURE_CLIENT_ID='app-9'
            export AZURE_CLIENT_SECRET='pw-9'
            export AZURE_AUTHORITY_HOST='https://localhost:PORT'
            export AZURE_KEYVAULT_URL='https://vault1.vault.localhost:PORT'
            export REQUESTS_CA_BUNDLE='/DIR/ca.pem'
            export SSL_CERT_FILE='/DIR/ca.pem'
            export NODE_EXTRA_CA_CERTS='/DIR/ca.pem'
        "#]],
    );
    check(
        &fixture.requests(),
        expect![[r#"
        sni=localhost POST /tid/oauth2/v2.0/token host=localhost:PORT auth=- type=application/x-www-form-urlencoded length=122 body=grant_type=client_credentials&client_id=admin-app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default
        sni=localhost GET /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body=
        sni=localhost POST /v1.0/servicePrincipals host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=39 body={"displayName":"strongroom-app-vault1"}
        sni=localhost POST /v1.0/servicePrincipals/oid-9/addPassword host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=2 body={}
        sni=localhost PUT /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1/accessPolicies/add?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=570 body={"properties":{"accessPolicies":[{"objectId":"oid-9","permissions":{"certificates":["get","list","update","create","import","delete","recover","backup","restore","purge","managecontacts","manageissuers","getissuers","listissuers","setissuers","deleteissuers"],"keys":["get","list","update","create","import","delete","recover","backup","restore","purge","decrypt","encrypt","unwrapKey","wrapKey","verify","sign","release","rotate","getrotationpolicy","setrotationpolicy"],"secrets":["get","list","set","delete","backup","restore","recover","purge"]},"tenantId":"tid"}]}}"#]],
    );
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

#[tokio::test]
async fn vault_create_sends_the_sku_and_set_policy_key_permissions() {
    let fixture = Fixture::start().await;
    check(
        &fixture
            .run("keyvault create --name vault2 --sku Premium")
            .await,
        expect![[r#"
            {
              "name": "vault2",
              "properties": {
                "sku": {
                  "family": "A",
                  "name": "premium"
                }
              }
            }
        "#]],
    );
    let args = "keyvault set-policy --name vault1 --object-id oid-9 --key-permissions sign UNWRAPKEY get sign getRotationPolicy";
    fixture.run(args).await;
    check(
        &data_requests(&fixture),
        expect![[r#"
        sni=localhost PUT /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault2?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=90 body={"location":"local","properties":{"sku":{"family":"A","name":"premium"},"tenantId":"tid"}}
        sni=localhost PUT /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1/accessPolicies/add?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=174 body={"properties":{"accessPolicies":[{"objectId":"oid-9","permissions":{"certificates":[],"keys":["get","getrotationpolicy","sign","unwrapKey"],"secrets":[]},"tenantId":"tid"}]}}
        sni=localhost GET /subscriptions/sub/resourceGroups/strongroom/providers/Microsoft.KeyVault/vaults/vault1?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn set_policy_sends_certificate_permissions() {
    let fixture = Fixture::start().await;
    let args = "keyvault set-policy --name vault1 --object-id oid-9 -g rg-any --certificate-permissions delete GET list create managecontacts";
    fixture.run(args).await;
    check(
        &data_requests(&fixture),
        expect![[r#"
        sni=localhost PUT /subscriptions/sub/resourceGroups/rg-any/providers/Microsoft.KeyVault/vaults/vault1/accessPolicies/add?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=application/json length=177 body={"properties":{"accessPolicies":[{"objectId":"oid-9","permissions":{"certificates":["create","delete","get","list","managecontacts"],"keys":[],"secrets":[]},"tenantId":"tid"}]}}
        sni=localhost GET /subscriptions/sub/resourceGroups/rg-any/providers/Microsoft.KeyVault/vaults/vault1?api-version=2023-07-01 host=localhost:PORT auth=Bearer tok:https://management.azure.com/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn key_create_sends_key_create_parameters_and_prints_the_sdk_model() {
    let fixture = Fixture::start().await;
    let args = "keyvault key create --vault-name vault1 --name k1 --kty rsa --size 3072 --ops sign WRAPKEY -p hsm --disabled --expires 2030-01-01 --tags env=dev";
    check(
        &fixture.run(args).await,
        expect![[r#"
        {
          "attributes": {
            "created": "2023-11-14T22:13:20+00:00",
            "enabled": true,
            "expires": null,
            "exportable": null,
            "hsmPlatform": null,
            "notBefore": null,
            "recoverableDays": 90,
            "recoveryLevel": "Recoverable+Purgeable",
            "updated": "2023-11-14T22:13:20+00:00"
          },
          "key": {
            "crv": null,
            "d": null,
            "dp": null,
            "dq": null,
            "e": "AQAB",
            "k": null,
            "keyOps": [
              "sign",
              "wrapKey"
            ],
            "kid": "https://vault1.vault.localhost:PORT/keys/k1/v1",
            "kty": "RSA-HSM",
            "n": "0vx7agoebGcQSuuPiLJXZptN",
            "p": null,
            "q": null,
            "qi": null,
            "t": null,
            "x": null,
            "y": null
          },
          "managed": null,
          "releasePolicy": null,
          "tags": {
            "env": "dev"
          }
        }
    "#]],
    );
    check(
        &data_requests(&fixture),
        expect![[
            r#"sni=vault1.vault.localhost POST /keys/k1/create?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=131 body={"attributes":{"enabled":false,"exp":1893456000},"key_ops":["sign","wrapKey"],"key_size":3072,"kty":"RSA-HSM","tags":{"env":"dev"}}"#
        ]],
    );
    let args = "keyvault key create --vault-name vault1 --name k1 --curve P-384 --exportable --policy {\"version\":\"1.0.0\"} --immutable";
    fixture.run(args).await;
    check(
        &data_requests(&fixture),
        expect![[
            r#"sni=vault1.vault.localhost POST /keys/k1/create?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=146 body={"attributes":{"enabled":true,"exportable":true},"crv":"P-384","kty":"EC","release_policy":{"data":"eyJ2ZXJzaW9uIjoiMS4wLjAifQ","immutable":true}}"#
        ]],
    );
    check(
        &fixture
            .run("keyvault key create --vault-name vault1 --name k1 --immutable")
            .await,
        expect!["ERROR: Please provide policy when setting `--immutable`"],
    );
}

#[tokio::test]
async fn key_import_sends_the_jwk_made_from_the_pem() {
    use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};

    let fixture = Fixture::start().await;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let pem_file = fixture.dir.path().join("ec.pem");
    std::fs::write(&pem_file, key.serialize_pem()).unwrap();
    let pem_path = pem_file.display().to_string();
    let output = fixture
        .run_args(&[
            "keyvault",
            "key",
            "import",
            "--vault-name",
            "vault1",
            "-n",
            "k1",
            "--pem-file",
            &pem_path,
            "--ops",
            "sign",
            "--protection",
            "hsm",
        ])
        .await;
    assert!(output.contains(r#""kty": "EC""#), "{output}");
    let requests = data_requests(&fixture);
    let body: Value = serde_json::from_str(requests.split(" body=").nth(1).unwrap()).unwrap();
    // The public point the server gets is the key's own (SubjectPublicKeyInfo's last 64 bytes).
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let point = &spki[spki.len() - 64..];
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    assert_eq!(body["key"]["x"], b64(&point[..32]));
    assert_eq!(body["key"]["y"], b64(&point[32..]));
    assert_eq!(body["key"]["d"].as_str().map(str::len), Some(43));
    let mut shape = body.clone();
    for field in ["x", "y", "d"] {
        shape["key"][field] = json!("…");
    }
    check(
        &shape.to_string(),
        expect![[
            r#"{"Hsm":true,"attributes":{"enabled":true},"key":{"crv":"P-256","d":"…","key_ops":["sign"],"kty":"EC","x":"…","y":"…"}}"#
        ]],
    );

    let rsa = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
    let pem = rsa.serialize_pem();
    fixture
        .run_args(&[
            "keyvault",
            "key",
            "import",
            "--vault-name",
            "vault1",
            "-n",
            "k1",
            "--pem-string",
            &pem,
        ])
        .await;
    let requests = data_requests(&fixture);
    let body: Value = serde_json::from_str(requests.split(" body=").nth(1).unwrap()).unwrap();
    let fields: Vec<&str> = body["key"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    check(
        &format!("{fields:?} Hsm={}", body["Hsm"]),
        expect![[r#"["d", "dp", "dq", "e", "kty", "n", "p", "q", "qi"] Hsm=false"#]],
    );

    let refused = [
        fixture
            .run_args(&[
                "keyvault",
                "key",
                "import",
                "--vault-name",
                "vault1",
                "-n",
                "k1",
                "--pem-string",
                &pem,
                "--pem-password",
                "pw",
            ])
            .await,
        fixture
            .run_args(&[
                "keyvault",
                "key",
                "import",
                "--vault-name",
                "vault1",
                "-n",
                "k1",
                "--pem-string",
                "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
            ])
            .await,
        fixture
            .run_args(&[
                "keyvault",
                "key",
                "import",
                "--vault-name",
                "vault1",
                "-n",
                "k1",
                "--byok-string",
                "blob",
                "--protection",
                "software",
            ])
            .await,
    ];
    check(
        &refused.join("\n"),
        expect![[r#"
        ERROR: --pem-password is not supported: decrypt the key first (e.g. `openssl pkey -in key.pem -out plain.pem`) and import the unencrypted PEM
        ERROR: Import failed: no RSA or EC private key found in the PEM (no items found); expected a `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block
        ERROR: BYOK keys are hardware protected. Omit --protection"#]],
    );
    check(&data_requests(&fixture), expect![[""]]);
}

#[tokio::test]
async fn key_show_list_delete_and_purge() {
    let fixture = Fixture::start().await;
    let shown = fixture
        .run("keyvault key show --vault-name vault1 -n k1")
        .await;
    let listed = fixture
        .run("keyvault key list --vault-name vault1 --maxresults 2")
        .await;
    let with_managed = fixture
        .run("keyvault key list --vault-name vault1 --include-managed")
        .await;
    let deleted = fixture
        .run("keyvault key delete --vault-name vault1 -n k1")
        .await;
    let purged = fixture
        .run("keyvault key purge --vault-name vault1 -n k1")
        .await;
    let missing = fixture
        .run("keyvault key show --vault-name vault1 -n nope -v 12")
        .await;
    check(
        &shown,
        expect![[r#"
        {
          "attributes": {
            "created": "2023-11-14T22:13:20+00:00",
            "enabled": true,
            "expires": null,
            "exportable": null,
            "hsmPlatform": null,
            "notBefore": null,
            "recoverableDays": 90,
            "recoveryLevel": "Recoverable+Purgeable",
            "updated": "2023-11-14T22:13:20+00:00"
          },
          "key": {
            "crv": null,
            "d": null,
            "dp": null,
            "dq": null,
            "e": "AQAB",
            "k": null,
            "keyOps": [
              "sign",
              "verify"
            ],
            "kid": "https://vault1.vault.localhost:PORT/keys/k1/v1",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN",
            "p": null,
            "q": null,
            "qi": null,
            "t": null,
            "x": null,
            "y": null
          },
          "managed": null,
          "releasePolicy": null,
          "tags": null
        }
    "#]],
    );
    check(
        &listed,
        expect![[r#"
        [
          {
            "attributes": {
              "created": "2023-11-14T22:13:20+00:00",
              "enabled": true,
              "expires": null,
              "exportable": null,
              "hsmPlatform": null,
              "notBefore": null,
              "recoverableDays": null,
              "recoveryLevel": null,
              "updated": null
            },
            "kid": "https://vault1.vault.localhost:PORT/keys/k1",
            "managed": null,
            "name": "k1",
            "releasePolicy": null,
            "tags": null
          },
          {
            "attributes": {
              "created": null,
              "enabled": false,
              "expires": null,
              "exportable": null,
              "hsmPlatform": null,
              "notBefore": null,
              "recoverableDays": null,
              "recoveryLevel": null,
              "updated": null
            },
            "kid": "https://vault1.vault.localhost:PORT/keys/k2",
            "managed": null,
            "name": "k2",
            "releasePolicy": null,
            "tags": {
              "a": "b"
            }
          }
        ]
    "#]],
    );
    let names: Vec<Value> = serde_json::from_str::<Vec<Value>>(&with_managed)
        .unwrap()
        .into_iter()
        .map(|item| item["name"].clone())
        .collect();
    check(
        &format!("{names:?}"),
        expect![[r#"[String("k1"), String("cert1"), String("k2")]"#]],
    );
    let deleted: Value = serde_json::from_str(&deleted).unwrap();
    check(
        &format!(
            "{} {} {} {}",
            deleted["deletedDate"],
            deleted["scheduledPurgeDate"],
            deleted["recoveryId"],
            deleted["key"]["kid"]
        ),
        expect![[
            r#""2023-11-14T22:15:00+00:00" "2024-02-12T22:15:00+00:00" "https://vault1.vault.localhost:PORT/deletedkeys/k1" "https://vault1.vault.localhost:PORT/keys/k1/v1""#
        ]],
    );
    check(
        &format!("purge={purged:?}\n{missing}"),
        expect![[r#"
        purge=""
        ERROR: (KeyNotFound) A key with (name/id) /keys/nope/12 was not found in this key vault."#]],
    );
    check(
        &data_requests(&fixture),
        expect![[r#"
        sni=vault1.vault.localhost GET /keys/k1/?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost GET /keys?api-version=2026-04-01&maxresults=2 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost GET /keys?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost DELETE /keys/k1?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost DELETE /deletedkeys/k1?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost GET /keys/nope/12?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body="#]],
    );
}

#[tokio::test]
async fn key_operations_resolve_the_version_then_post() {
    let fixture = Fixture::start().await;
    let outputs = [
        fixture
            .run("keyvault key encrypt --vault-name vault1 -n k1 -a RSA-OAEP --value hello --data-type plaintext")
            .await,
        fixture
            .run("keyvault key decrypt --vault-name vault1 -n k1 -v v1 -a rsa-oaep --value AQID --data-type plaintext")
            .await,
        fixture
            .run("keyvault key sign --vault-name vault1 -n k1 -v v1 -a ES256 --digest AAEC")
            .await,
        fixture
            .run("keyvault key verify --vault-name vault1 -n k1 -v v1 -a ES256 --digest AAEC --signature c2ln")
            .await,
        fixture.run("keyvault key random --vault-name vault1 --count 4").await,
        fixture
            .run("keyvault key set-attributes --vault-name vault1 -n k1 -v v1 --enabled false --expires 2031-02-03T04:05:06Z --ops verify --tags team")
            .await
            .lines()
            .filter(|line| line.contains("\"kid\""))
            .collect(),
    ];
    check(
        &outputs.join(""),
        expect![[r#"
            {
              "aad": null,
              "algorithm": "RSA-OAEP",
              "iv": null,
              "kid": "https://vault1.vault.localhost:PORT/keys/k1/v1",
              "result": "AQID+/8=",
              "tag": null
            }
            {
              "algorithm": "RSA-OAEP",
              "kid": "https://vault1.vault.localhost:PORT/keys/k1/v1",
              "result": "hello"
            }
            {
              "algorithm": "ES256",
              "keyId": "https://vault1.vault.localhost:PORT/keys/k1/v1",
              "signature": "c2ln+/8="
            }
            {
              "algorithm": "ES256",
              "isValid": true,
              "keyId": "https://vault1.vault.localhost:PORT/keys/k1/v1"
            }
            {
              "value": "AAEC/w=="
            }
                "kid": "https://vault1.vault.localhost:PORT/keys/k1/v1","#]],
    );
    check(
        &data_requests(&fixture),
        expect![[r#"
            sni=vault1.vault.localhost GET /keys/k1/?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
            sni=vault1.vault.localhost POST /keys/k1/v1/encrypt?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=36 body={"alg":"RSA-OAEP","value":"aGVsbG8"}
            sni=vault1.vault.localhost POST /keys/k1/v1/decrypt?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=33 body={"alg":"RSA-OAEP","value":"AQID"}
            sni=vault1.vault.localhost POST /keys/k1/v1/sign?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=30 body={"alg":"ES256","value":"AAEC"}
            sni=vault1.vault.localhost POST /keys/k1/v1/verify?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=46 body={"alg":"ES256","value":"c2ln","digest":"AAEC"}
            sni=vault1.vault.localhost POST /rng?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=11 body={"count":4}
            sni=vault1.vault.localhost PATCH /keys/k1/v1?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=89 body={"attributes":{"enabled":false,"exp":1927857906},"key_ops":["verify"],"tags":{"team":""}}"#]],
    );
}

#[tokio::test]
async fn key_backup_restore_and_rotation_policy() {
    let fixture = Fixture::start().await;
    let file = fixture.dir.path().join("k1.bak");
    let file_arg = file.display().to_string();
    let backed_up = fixture
        .run_args(&[
            "keyvault",
            "key",
            "backup",
            "--vault-name",
            "vault1",
            "-n",
            "k1",
            "-f",
            &file_arg,
        ])
        .await;
    assert_eq!(backed_up, "");
    assert_eq!(std::fs::read(&file).unwrap(), [0, 1, 2, 255]);
    let restored = fixture
        .run_args(&[
            "keyvault",
            "key",
            "restore",
            "--vault-name",
            "vault1",
            "-f",
            &file_arg,
        ])
        .await;
    assert!(restored.contains(r#""kid": "https://vault1.vault.localhost:PORT/keys/k1/v1""#));
    let policy = r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P1Y"}}"#;
    let updated = fixture
        .run_args(&[
            "keyvault",
            "key",
            "rotation-policy",
            "update",
            "--vault-name",
            "vault1",
            "-n",
            "k1",
            "--value",
            policy,
        ])
        .await;
    check(
        &updated,
        expect![[r#"
        {
          "createdOn": "2023-11-14T22:13:20+00:00",
          "expiresIn": "P1Y",
          "id": "https://vault1.vault.localhost:PORT/keys/k1/rotationpolicy",
          "lifetimeActions": [
            {
              "action": "Rotate",
              "timeAfterCreate": "P90D",
              "timeBeforeExpiry": null
            }
          ],
          "updatedOn": "2023-11-14T22:13:21+00:00"
        }
    "#]],
    );
    check(
        &data_requests(&fixture),
        expect![[r#"
        sni=vault1.vault.localhost POST /keys/k1/backup?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=- length=0 body=
        sni=vault1.vault.localhost POST /keys/restore?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=18 body={"value":"AAEC_w"}
        sni=vault1.vault.localhost PUT /keys/k1/rotationpolicy?api-version=2026-04-01 host=vault1.vault.localhost:PORT auth=Bearer tok:https://vault.localhost:PORT/.default type=application/json length=121 body={"attributes":{"expiryTime":"P1Y"},"lifetimeActions":[{"action":{"type":"Rotate"},"trigger":{"timeAfterCreate":"P90D"}}]}"#]],
    );
}
