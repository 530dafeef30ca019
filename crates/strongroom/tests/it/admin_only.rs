//! What only the deployment administrator may do, and what is off unless asked for.
//!
//! - `a_principal_that_is_not_admin_gets_403_on_every_management_route`: a table of every
//!   route of the management API (`strongroom-api/src/management.rs`: ARM resource groups, the generic resource list, role definitions and assignments, vaults, access policies, certificate events,
//!   user-assigned identities, hosts' system-assigned
//!   identities, Graph service principals and their credentials, the dev clock). A service
//!   principal the administrator created, with a valid token for the management and for the
//!   Graph audience, gets 403 `AuthorizationFailed` on each; then the administrator gets
//!   each route's own answer (so every row names a route that is served), and the answers
//!   show the non-admin's requests changed nothing (its vault and identity were not created,
//!   its policy was not added, the clock did not move, its victim and the victim's secret
//!   were not deleted).
//! - `without_dev_clock_the_clock_route_is_404_even_for_the_admin`: the same request is 200
//!   on a server started with `--dev-clock`.
//! - `off_loopback_an_unauthenticated_connect_gets_407`: on `--listen 0.0.0.0:0` a `CONNECT`
//!   to an intercepted name without proxy credentials gets 407 with the Basic challenge; the
//!   same request on a loopback listener is answered 200.

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{MANAGEMENT_SCOPE, RawResponse, ServeOptions, TestServer};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const CUSTOM_ROLE: &str = "6c1d0a0e-7b1c-4f3e-9a51-000000000001";
const ASSIGNMENT: &str = "6c1d0a0e-7b1c-4f3e-9a51-000000000002";

/// A service principal made through the Graph API, with one client secret.
pub(crate) struct Principal {
    pub(crate) object_id: String,
    pub(crate) app_id: String,
    pub(crate) secret: String,
    /// The secret's `keyId`.
    pub(crate) key_id: String,
}

/// `POST /v1.0/servicePrincipals` and `addPassword`, as the administrator.
pub(crate) async fn create_principal(server: &TestServer, display_name: &str) -> Principal {
    let admin = server.admin_token(MANAGEMENT_SCOPE).await;
    let created = management(
        server,
        &admin,
        "POST",
        "/v1.0/servicePrincipals",
        Some(&json!({"displayName": display_name})),
    )
    .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "create principal: {created}"
    );
    let created = created.json();
    let object_id = created["id"].as_str().expect("id").to_owned();
    let app_id = created["appId"].as_str().expect("appId").to_owned();
    let password = management(
        server,
        &admin,
        "POST",
        &format!("/v1.0/servicePrincipals/{object_id}/addPassword"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(password.status, StatusCode::OK, "addPassword: {password}");
    let password = password.json();
    let secret = password["secretText"]
        .as_str()
        .expect("secretText")
        .to_owned();
    let key_id = password["keyId"].as_str().expect("keyId").to_owned();
    Principal {
        object_id,
        app_id,
        secret,
        key_id,
    }
}

/// One request to the identity host (`localhost`) with a bearer token.
pub(crate) async fn management(
    server: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> RawResponse {
    let mut request = server
        .client()
        .request(method, "localhost", path)
        .bearer(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
}

/// A management route, its body, and what the administrator gets from it (in table order:
/// creations before the reads of what they made, deletions last); for an error, its code
/// where a 404 could otherwise be a route that is not served.
struct Route {
    method: &'static str,
    path: String,
    body: Option<Value>,
    admin_status: StatusCode,
    admin_code: Option<&'static str>,
}

fn route(method: &'static str, path: String, body: Option<Value>, admin_status: u16) -> Route {
    Route {
        method,
        path,
        body,
        admin_status: StatusCode::from_u16(admin_status).expect("a status code"),
        admin_code: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_that_is_not_admin_gets_403_on_every_management_route() {
    let server = TestServer::start();
    server.create_vault("authz").await;
    let caller = create_principal(&server, "not-admin").await;
    let victim = create_principal(&server, "victim").await;
    let sub = &server.subscription_id;
    let tenant = &server.tenant_id;
    let arm = |rest: &str| format!("/subscriptions/{sub}/resourceGroups/rg/providers/{rest}");
    let vaults = arm("Microsoft.KeyVault/vaults");
    let identities = arm("Microsoft.ManagedIdentity/userAssignedIdentities");
    let hosts = arm("Microsoft.Compute/virtualMachines");
    let vault_body = json!({
        "location": "local",
        "properties": {"tenantId": tenant, "sku": {"family": "A", "name": "standard"}},
    });
    let policy = json!({"properties": {"accessPolicies": [{
        "tenantId": tenant,
        "objectId": caller.object_id,
        "permissions": {"secrets": ["get", "list", "set"], "keys": [], "certificates": []},
    }]}});
    let sp = "/v1.0/servicePrincipals";
    let groups = format!("/subscriptions/{sub}/resourcegroups");
    let table = [
        route(
            "GET",
            format!(
                "/subscriptions/{sub}/resources?$filter=resourceType%20eq%20'Microsoft.KeyVault/vaults'"
            ),
            None,
            200,
        ),
        route("GET", groups.clone(), None, 200),
        route(
            "PUT",
            format!("{groups}/rgmade"),
            Some(json!({"location": "westeurope"})),
            201,
        ),
        route("GET", format!("{groups}/rgmade"), None, 200),
        route("HEAD", format!("{groups}/rgmade"), None, 204),
        route("DELETE", format!("{groups}/rgmade"), None, 200),
        route(
            "GET",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'Reader'"
            ),
            None,
            200,
        ),
        route(
            "PUT",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM_ROLE}"
            ),
            Some(json!({"properties": {
                "roleName": "made", "assignableScopes": [format!("/subscriptions/{sub}")],
                "permissions": [{"dataActions": ["Microsoft.KeyVault/vaults/secrets/*"]}],
            }})),
            201,
        ),
        route(
            "PUT",
            format!(
                "{vaults}/authz/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
            ),
            Some(json!({"properties": {
                "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM_ROLE}"),
                "principalId": caller.object_id,
            }})),
            201,
        ),
        route(
            "GET",
            format!("{vaults}/authz/providers/Microsoft.Authorization/roleAssignments"),
            None,
            200,
        ),
        // An assignment is deleted at its own scope (ARM addresses it by scope and GUID).
        route(
            "DELETE",
            format!(
                "{vaults}/authz/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
            ),
            None,
            200,
        ),
        route(
            "DELETE",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM_ROLE}"
            ),
            None,
            200,
        ),
        route(
            "GET",
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/vaults"),
            None,
            200,
        ),
        route("GET", vaults.clone(), None, 200),
        route(
            "PUT",
            format!("{vaults}/authzmade?api-version=2023-07-01"),
            Some(vault_body),
            201,
        ),
        route("GET", format!("{vaults}/authz"), None, 200),
        route(
            "GET",
            format!("{vaults}/authz/certificateEvents"),
            None,
            200,
        ),
        route(
            "PUT",
            format!("{vaults}/authz/accessPolicies/add"),
            Some(policy.clone()),
            200,
        ),
        route(
            "PUT",
            format!("{vaults}/authz/accessPolicies/replace"),
            Some(policy.clone()),
            200,
        ),
        route(
            "PUT",
            format!("{vaults}/authz/accessPolicies/remove"),
            Some(policy),
            200,
        ),
        route(
            "PATCH",
            format!("{vaults}/authz"),
            Some(json!({"tags": {"env": "dev"}})),
            200,
        ),
        route("DELETE", format!("{vaults}/authzmade"), None, 200),
        // Vault soft delete: the vault deleted just above, listed, shown and purged.
        route(
            "GET",
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults"),
            None,
            200,
        ),
        route(
            "GET",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/local/deletedVaults/authzmade"
            ),
            None,
            200,
        ),
        route(
            "POST",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/local/deletedVaults/authzmade/purge"
            ),
            None,
            200,
        ),
        route(
            "POST",
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability"),
            Some(json!({"name": "authz", "type": "Microsoft.KeyVault/vaults"})),
            200,
        ),
        route(
            "GET",
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/managedHSMs"),
            None,
            200,
        ),
        route(
            "GET",
            format!(
                "/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
            ),
            None,
            200,
        ),
        route("GET", identities.clone(), None, 200),
        route(
            "PUT",
            format!("{identities}/idmade"),
            Some(json!({"location": "local"})),
            201,
        ),
        route("GET", format!("{identities}/idmade"), None, 200),
        route("DELETE", format!("{identities}/idmade"), None, 200),
        route(
            "PATCH",
            format!("{hosts}/hostmade"),
            Some(json!({"identity": {"type": "SystemAssigned"}})),
            200,
        ),
        route("GET", format!("{hosts}/hostmade"), None, 200),
        route(
            "PUT",
            format!("{hosts}/hostput"),
            Some(json!({"location": "local"})),
            201,
        ),
        route("GET", hosts.clone(), None, 200),
        route("DELETE", format!("{hosts}/hostput"), None, 200),
        route(
            "POST",
            sp.to_owned(),
            Some(json!({"displayName": "made"})),
            201,
        ),
        route("GET", sp.to_owned(), None, 200),
        route(
            "GET",
            format!("/v1.0/servicePrincipals(appId='{}')", victim.app_id),
            None,
            200,
        ),
        route("GET", format!("{sp}/{}", victim.object_id), None, 200),
        route(
            "POST",
            format!("{sp}/{}/addPassword", victim.object_id),
            Some(json!({})),
            200,
        ),
        // 204: the non-admin's removePassword of the same keyId removed nothing.
        route(
            "POST",
            format!("{sp}/{}/removePassword", victim.object_id),
            Some(json!({"keyId": victim.key_id})),
            204,
        ),
        Route {
            admin_code: Some("Request_ResourceNotFound"),
            ..route(
                "POST",
                format!("{sp}/{}/removeKey", victim.object_id),
                Some(json!({"keyId": "00000000-0000-0000-0000-000000000000"})),
                404,
            )
        },
        // Reaches the handler, which refuses a body that holds no certificate.
        route(
            "POST",
            format!("{sp}/{}/addCertificate", victim.object_id),
            Some(json!({"certificate": "not a certificate"})),
            400,
        ),
        route(
            "PATCH",
            format!("{sp}/{}", victim.object_id),
            Some(json!({"displayName": "victim, renamed"})),
            204,
        ),
        route(
            "POST",
            "/v1.0/directoryObjects/getByIds".to_owned(),
            Some(json!({"ids": [victim.object_id]})),
            200,
        ),
        route(
            "POST",
            "/v1.0/applications".to_owned(),
            Some(json!({"displayName": "app made"})),
            201,
        ),
        route("GET", "/v1.0/applications".to_owned(), None, 200),
        route(
            "GET",
            format!("/v1.0/applications(appId='{}')", victim.app_id),
            None,
            200,
        ),
        route(
            "PATCH",
            format!("/v1.0/applications(appId='{}')", victim.app_id),
            Some(json!({"displayName": "victim app"})),
            204,
        ),
        route(
            "POST",
            format!("/v1.0/applications(appId='{}')/addPassword", victim.app_id),
            Some(json!({"passwordCredential": {"displayName": "made"}})),
            200,
        ),
        route("DELETE", format!("{sp}/{}", victim.object_id), None, 204),
        route(
            "POST",
            "/strongroom/dev/clock?advanceSeconds=0".to_owned(),
            None,
            200,
        ),
        // Reaches the handler, which refuses a passphrase for a key-file deployment (and so
        // rotates nothing).
        Route {
            admin_code: Some("BadRequest"),
            ..route(
                "POST",
                "/strongroom/master-key/rotate".to_owned(),
                Some(json!({"newPassphrase": "a passphrase for a key file"})),
                400,
            )
        },
    ];

    // The non-admin first, with a token for each audience the management API accepts.
    for scope in [MANAGEMENT_SCOPE, GRAPH_SCOPE] {
        let token = server
            .client_token(&caller.app_id, &caller.secret, scope)
            .await;
        for row in &table {
            // The clock row asks for a day: if it got through, the admin's row would see it.
            let path = row.path.replace("advanceSeconds=0", "advanceSeconds=86400");
            let response = management(&server, &token, row.method, &path, row.body.as_ref()).await;
            let what = format!("non-admin ({scope}) {} {path}", row.method);
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{what}: {response}");
            if row.method == "HEAD" {
                continue; // no body to read the code from
            }
            let (code, message) = response.azure_error();
            assert_eq!(code, "AuthorizationFailed", "{what}: {response}");
            assert!(message.contains(&caller.app_id), "{what}: {message}");
        }
    }

    // What Azure shows every principal: subscriptions it holds a role in (none here), tenants.
    let token = server
        .client_token(&caller.app_id, &caller.secret, MANAGEMENT_SCOPE)
        .await;
    let listed = management(&server, &token, "GET", "/subscriptions", None).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed}");
    assert_eq!(listed.json()["value"], json!([]), "{listed}");
    let shown = management(
        &server,
        &token,
        "GET",
        &format!("/subscriptions/{sub}"),
        None,
    )
    .await;
    assert_eq!(shown.status, StatusCode::NOT_FOUND, "{shown}");
    assert_eq!(shown.azure_error().0, "SubscriptionNotFound");

    // The administrator: every row is a served route, and nothing above changed anything.
    let admin = server.admin_token(MANAGEMENT_SCOPE).await;
    let before = management(&server, &admin, "GET", &format!("{vaults}/authz"), None).await;
    assert!(
        !before.text().contains(&caller.object_id),
        "the non-admin's access policy was added: {before}"
    );
    for row in &table {
        let response = management(&server, &admin, row.method, &row.path, row.body.as_ref()).await;
        assert_eq!(
            response.status, row.admin_status,
            "admin {} {}: {response}",
            row.method, row.path
        );
        if let Some(code) = row.admin_code {
            assert_eq!(
                response.azure_error().0,
                code,
                "admin {} {}",
                row.method,
                row.path
            );
        }
        if row.path.contains("dev/clock") {
            assert_eq!(
                response.json()["offsetSeconds"],
                json!(0),
                "the clock moved: {response}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dev_clock_the_clock_route_is_404_even_for_the_admin() {
    let clock_path = "/strongroom/dev/clock?advanceSeconds=60";
    let plain = TestServer::start_configured(
        ServeOptions {
            dev_clock: false,
            ..ServeOptions::default()
        },
        &[],
    );
    let admin = plain.admin_token(MANAGEMENT_SCOPE).await;
    let response = management(&plain, &admin, "POST", clock_path, None).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{response}");
    assert_eq!(response.azure_error().0, "NotFound", "{response}");
    // The management API itself works for this token on this server.
    let vaults = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/vaults",
        plain.subscription_id
    );
    let listed = management(&plain, &admin, "GET", &vaults, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed}");

    // The same request where the dev clock is on.
    let with_clock = TestServer::start();
    let admin = with_clock.admin_token(MANAGEMENT_SCOPE).await;
    let response = management(&with_clock, &admin, "POST", clock_path, None).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "with --dev-clock: {response}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_an_unauthenticated_connect_gets_407() {
    let connect = "CONNECT x.vault.azure.net:443 HTTP/1.1\r\nHost: x.vault.azure.net:443\r\n\r\n";
    let exposed = TestServer::start_configured(
        ServeOptions {
            listen: "0.0.0.0:0".to_owned(),
            ..ServeOptions::default()
        },
        &[],
    );
    assert!(
        exposed.ready["listen"]
            .as_str()
            .is_some_and(|listen| listen.starts_with("0.0.0.0:")),
        "not listening on 0.0.0.0: {}",
        exposed.ready
    );
    let head = proxy_exchange(exposed.port, connect).await;
    assert!(head.starts_with("HTTP/1.1 407"), "off loopback: {head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\nproxy-authenticate: basic realm=\"strongroom\"\r\n"),
        "off loopback, no Basic challenge: {head}"
    );
    // (Credentials sent in clear text off loopback are refused with 403: proxy.rs tests it.)

    // On loopback the same request needs no credentials.
    let local = TestServer::start();
    let head = proxy_exchange(local.port, connect).await;
    assert!(head.starts_with("HTTP/1.1 200"), "on loopback: {head}");
}

/// Plain TCP to `127.0.0.1:port`: writes `request`, returns the response head.
async fn proxy_exchange(port: u16, request: &str) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connecting to the listener");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        while !data.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before the response head: {data:?}");
            data.extend_from_slice(&buf[..n]);
        }
        let end = data
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(data.len(), |at| at + 4);
        String::from_utf8_lossy(&data[..end]).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("the proxy answered in time")
}

#[tokio::test]
async fn a_path_under_another_subscription_names_nothing() {
    let server = TestServer::start();
    let admin = server.admin_token(MANAGEMENT_SCOPE).await;
    let other = "00000000-0000-0000-0000-000000000000";
    for tail in [
        "resourcegroups",
        "resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1",
        "providers/Microsoft.Authorization/roleDefinitions",
    ] {
        let path = format!("/subscriptions/{other}/{tail}?api-version=2023-07-01");
        let response = management(&server, &admin, "GET", &path, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {response}");
        assert_eq!(
            response.azure_error().0,
            "SubscriptionNotFound",
            "{path}: {response}"
        );
        let own = format!(
            "/subscriptions/{}/{tail}?api-version=2023-07-01",
            server.subscription_id
        );
        let response = management(&server, &admin, "GET", &own, None).await;
        assert!(
            response.status == StatusCode::OK || response.azure_error().0 != "SubscriptionNotFound",
            "{own}: {response}"
        );
    }
}
