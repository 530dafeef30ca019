//! `GET /strongroom/audit/events` and `strongroom audit list`: the audit log read back over
//! HTTP, on a real server whose log rotates every 16 KiB.
//!
//! - `a_vaults_events_filter_page_and_span_rotated_files`: requests on two vaults (a refused
//!   and an unauthenticated one among them); a vault's events are that vault's only (its data
//!   plane, 401 included, and the management requests on it), newest first; each filter
//!   (result, operation, caller, from/to) narrows them; `top` and `nextLink` page through
//!   them across the live file and the rotated ones, the pages adding up to the whole list;
//!   bad parameters get 400; a principal that is not an administrator gets 403; no secret
//!   value is in any answer; the CLI prints the same events.
//! - `without_a_readable_audit_log_the_route_is_404`: no `--audit-log`, and `--audit-log -`
//!   (standard output), both answer 404 `AuditLogNotEnabled`.

use std::collections::HashMap;
use std::path::Path;

use http::StatusCode;
use serde_json::{Value, json};

use crate::admin_only::create_principal;
use crate::harness::{MANAGEMENT_SCOPE, RawResponse, TestServer};

const SECRET_VALUE: &str = "audit-events-never-show-this-4471";
const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";

/// `GET /strongroom/audit/events?{query}` on the service host with `token`.
async fn events(server: &TestServer, token: &str, query: &str) -> RawResponse {
    server
        .client()
        .request(
            "GET",
            "localhost",
            &format!("/strongroom/audit/events?{query}"),
        )
        .bearer(token)
        .send()
        .await
        .expect("an answer from the audit route")
}

/// One page's events and nextLink, asserting a 200.
async fn page(server: &TestServer, token: &str, query: &str) -> (Vec<Value>, Option<String>) {
    let answer = events(server, token, query).await;
    assert_eq!(answer.status, StatusCode::OK, "{query}: {answer}");
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{answer}"
    );
    let body = answer.json();
    let list = body["value"].as_array().expect("a value list").clone();
    let next = body
        .get("nextLink")
        .map(|link| link.as_str().expect("nextLink is a string").to_owned());
    (list, next)
}

/// Every event a query matches, in one page of at most 1000.
async fn all(server: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let (list, next) = page(server, token, &format!("{query}&top=1000")).await;
    assert!(next.is_none(), "more than a page for {query}");
    list
}

fn hashes(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e["hash"]
                .as_str()
                .expect("every event has its hash")
                .to_owned()
        })
        .collect()
}

fn is_alpha(event: &Value) -> bool {
    let text = event.to_string().to_ascii_lowercase();
    text.contains("/vaults/alpha") || text.contains("https://alpha.vault.")
}

/// Which file (0: the live one, n: `PATH.n`) holds each line, by its hash.
fn files_of_lines(path: &Path) -> HashMap<String, usize> {
    let mut files = HashMap::new();
    for n in 0..=20 {
        let file = if n == 0 {
            path.to_owned()
        } else {
            path.with_file_name(format!("audit.log.{n}"))
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let event: Value = serde_json::from_str(line).expect("a JSON line");
            files.insert(event["hash"].as_str().expect("hash").to_owned(), n);
        }
    }
    files
}

#[tokio::test]
async fn a_vaults_events_filter_page_and_span_rotated_files() {
    let logs = tempfile::tempdir().expect("a directory for the log");
    let path = logs.path().join("audit.log");
    let path_arg = path.to_str().expect("a UTF-8 path").to_owned();
    let server = TestServer::start_with(&[
        "--audit-log",
        &path_arg,
        "--audit-log-max-bytes",
        "16384",
        "--audit-log-keep",
        "20",
    ]);
    let admin = server.admin_credential();
    let admin_oid = admin["objectId"].as_str().expect("objectId").to_owned();

    server.create_vault("alpha").await;
    server.create_vault("beta").await;
    let set = server
        .vault_call(
            "PUT",
            "alpha",
            "/secrets/db?api-version=7.5",
            Some(&json!({"value": SECRET_VALUE})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    let got = server
        .vault_call("GET", "alpha", "/secrets/db?api-version=7.5", None)
        .await;
    assert_eq!(got.status, StatusCode::OK, "{got}");
    // A principal with no access policy on alpha: refused (403, its own object id).
    let outsider = create_principal(&server, "outsider").await;
    let outsider_token = server
        .client_token(
            &outsider.app_id,
            &outsider.secret,
            &format!("{}/.default", server.vault_resource()),
        )
        .await;
    let refused = server
        .client()
        .request(
            "GET",
            "alpha.vault.localhost",
            "/secrets/db?api-version=7.5",
        )
        .bearer(&outsider_token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // No token at all: 401, before the vault is even looked up.
    let anonymous = server
        .client()
        .request(
            "GET",
            "alpha.vault.localhost",
            "/secrets/db?api-version=7.5",
        )
        .send()
        .await
        .expect("an answer");
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Enough of beta's traffic to rotate the log a few times.
    for n in 0..30 {
        let body = json!({"value": format!("beta-{n}")});
        let answer = server
            .vault_call(
                "PUT",
                "beta",
                "/secrets/filler?api-version=7.5",
                Some(&body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let missing = server
        .vault_call("GET", "beta", "/secrets/absent?api-version=7.5", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // And alpha again, in the live file.
    let again = server
        .vault_call("GET", "alpha", "/secrets/db?api-version=7.5", None)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        path.with_file_name("audit.log.2").exists(),
        "the log rotated"
    );

    let admin_token = server.admin_token(MANAGEMENT_SCOPE).await;

    // alpha's events: alpha's only, newest first, from the live file and rotated ones.
    let alpha = all(&server, &admin_token, "vault=alpha").await;
    let everything = all(&server, &admin_token, "").await;
    assert!(everything.len() > 60, "{}", everything.len());
    for event in &alpha {
        assert!(is_alpha(event), "not alpha's: {event}");
    }
    let alpha_in_all: Vec<&Value> = everything.iter().filter(|e| is_alpha(e)).collect();
    assert_eq!(
        hashes(&alpha),
        alpha_in_all
            .iter()
            .map(|e| e["hash"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>(),
        "vault=alpha is every event about alpha, in the same order"
    );
    let times: Vec<&str> = everything
        .iter()
        .map(|e| e["time"].as_str().expect("time"))
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {times:?}"
    );
    let files = files_of_lines(&path);
    let alpha_files: std::collections::BTreeSet<usize> = hashes(&alpha)
        .iter()
        .map(|hash| *files.get(hash).expect("every event is a line of a file"))
        .collect();
    assert!(
        alpha_files.len() >= 2,
        "alpha's events span several files: {alpha_files:?}"
    );
    let operations: Vec<(&str, u64)> = alpha
        .iter()
        .map(|e| {
            (
                e["operationName"].as_str().unwrap_or_default(),
                e["properties"]["httpStatusCode"]
                    .as_u64()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let position = |wanted: (&str, u64)| {
        operations
            .iter()
            .position(|found| *found == wanted)
            .unwrap_or_else(|| panic!("no {wanted:?} in {operations:?}"))
    };
    // Newest first: the last GET, then the 401, the 403, the GET, the set.
    let last_get = position(("SecretGet", 200));
    let unauthenticated = position(("VaultRequest", 401));
    let forbidden = position(("SecretGet", 403));
    let set_at = position(("SecretSet", 200));
    assert!(
        last_get < unauthenticated && unauthenticated < forbidden && forbidden < set_at,
        "{operations:?}"
    );
    let created = alpha.iter().find(|e| {
        e["properties"]["httpMethod"] == "PUT"
            && e["properties"]["id"]
                .as_str()
                .is_some_and(|id| id.ends_with("/providers/Microsoft.KeyVault/vaults/alpha"))
    });
    let created = created.unwrap_or_else(|| {
        panic!("the management request that created alpha is alpha's: {operations:?}")
    });
    // A management request names its caller, as a data-plane request does.
    assert_eq!(
        created["identity"]["claim"][OBJECT_ID_CLAIM],
        server.admin_credential()["objectId"],
        "{created}"
    );
    assert!(
        !alpha.iter().any(|e| e["operationName"] == "TokenIssue"),
        "a token names no vault"
    );
    assert_eq!(
        all(&server, &admin_token, "vault=ALPHA").await.len(),
        alpha.len(),
        "the name in any case"
    );
    let by_id = format!(
        "vault=/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/alpha",
        server.subscription_id
    );
    assert_eq!(all(&server, &admin_token, &by_id).await.len(), alpha.len());

    // Filters.
    let failures = all(&server, &admin_token, "vault=alpha&result=failure").await;
    assert_eq!(
        failures
            .iter()
            .map(|e| e["properties"]["httpStatusCode"]
                .as_u64()
                .unwrap_or_default())
            .collect::<Vec<_>>(),
        [401, 403]
    );
    assert!(failures.iter().all(|e| e["resultType"] == "Failure"));
    let successes = all(&server, &admin_token, "vault=alpha&result=Success").await;
    assert_eq!(successes.len() + failures.len(), alpha.len());
    let beta_failures = all(&server, &admin_token, "vault=beta&result=failure").await;
    assert_eq!(beta_failures.len(), 1, "{beta_failures:?}");
    assert_eq!(beta_failures[0]["properties"]["httpStatusCode"], 404);
    let sets = all(&server, &admin_token, "vault=alpha&operation=SecretSet").await;
    assert_eq!(sets.len(), 1);
    let reads_and_sets = all(
        &server,
        &admin_token,
        "vault=alpha&operation=secretget,SecretSet",
    )
    .await;
    assert_eq!(reads_and_sets.len(), 4, "two reads, a refused read, a set");
    let outsiders = all(
        &server,
        &admin_token,
        &format!("vault=alpha&caller={}", outsider.object_id.to_uppercase()),
    )
    .await;
    assert_eq!(outsiders.len(), 1);
    assert_eq!(outsiders[0]["properties"]["httpStatusCode"], 403);
    assert_eq!(
        outsiders[0]["identity"]["claim"][OBJECT_ID_CLAIM],
        outsider.object_id.as_str()
    );
    let outsider_anywhere = all(
        &server,
        &admin_token,
        &format!("caller={}", outsider.object_id),
    )
    .await;
    assert!(
        outsider_anywhere
            .iter()
            .any(|e| e["operationName"] == "TokenIssue"),
        "without vault, the outsider's token issue too"
    );
    let admins = all(
        &server,
        &admin_token,
        &format!("vault=alpha&caller={admin_oid}"),
    )
    .await;
    let by_admin: Vec<&Value> = alpha
        .iter()
        .filter(|e| e["identity"]["claim"][OBJECT_ID_CLAIM] == admin_oid.as_str())
        .collect();
    assert_eq!(admins.len(), by_admin.len());
    assert!(admins.len() >= 3, "the set and both reads: {admins:?}");
    // Time: from is inclusive, to exclusive, on the events' own times.
    let forbidden_time = alpha[forbidden]["time"].as_str().expect("time");
    let since = all(
        &server,
        &admin_token,
        &format!("vault=alpha&from={forbidden_time}"),
    )
    .await;
    assert!(
        since
            .iter()
            .all(|e| e["time"].as_str() >= Some(forbidden_time))
    );
    assert!(
        hashes(&since).contains(
            &alpha[forbidden]["hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        )
    );
    assert!(
        !hashes(&since).contains(
            &alpha[set_at]["hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        )
    );
    let before = all(
        &server,
        &admin_token,
        &format!("vault=alpha&to={forbidden_time}"),
    )
    .await;
    assert!(
        before
            .iter()
            .all(|e| e["time"].as_str() < Some(forbidden_time))
    );
    assert_eq!(since.len() + before.len(), alpha.len());
    let future = all(&server, &admin_token, "from=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());

    // Paging: top=2 pages through alpha's events across the files, and add up to the list.
    let (first, mut next) = page(&server, &admin_token, "vault=alpha&top=2").await;
    assert_eq!(first.len(), 2);
    let mut paged = first;
    let origin = format!("https://localhost:{}", server.port);
    let mut pages = 1;
    while let Some(link) = next {
        let query = link
            .strip_prefix(&format!("{origin}/strongroom/audit/events?"))
            .unwrap_or_else(|| panic!("a nextLink on this host and route: {link}"));
        assert!(
            query.contains("vault=alpha")
                && query.contains("top=2")
                && query.contains("skipToken="),
            "{link}"
        );
        let (more, after) = page(&server, &admin_token, query).await;
        assert!(!more.is_empty() && more.len() <= 2);
        paged.extend(more);
        next = after;
        pages += 1;
    }
    assert_eq!(pages, alpha.len().div_ceil(2));
    assert_eq!(
        hashes(&paged),
        hashes(&alpha),
        "the pages add up to the list"
    );
    let (exact, none) = page(
        &server,
        &admin_token,
        &format!("vault=alpha&top={}", alpha.len()),
    )
    .await;
    assert_eq!(exact.len(), alpha.len());
    assert!(none.is_none(), "no nextLink when nothing more matches");

    // Bad parameters: 400 with an Azure-shaped body.
    for query in [
        "top=0",
        "top=1001",
        "from=yesterday",
        "result=maybe",
        "vault=no_such_name!",
        "vaultName=alpha",
        "skipToken=garbage",
        "from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z",
    ] {
        let answer = events(&server, &admin_token, query).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        let (code, message) = answer.azure_error();
        assert_eq!(code, "BadRequest", "{query}");
        assert!(!message.is_empty());
    }

    // Only administrators: another principal's management token gets 403; none at all 401.
    let outsider_management = server
        .client_token(&outsider.app_id, &outsider.secret, MANAGEMENT_SCOPE)
        .await;
    let answer = events(&server, &outsider_management, "vault=alpha").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer.azure_error().0, "AuthorizationFailed");
    let answer = server
        .client()
        .request("GET", "localhost", "/strongroom/audit/events")
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Reading the log is audited too, and refusals are.
    let reads = all(&server, &admin_token, "result=failure").await;
    assert!(
        reads
            .iter()
            .any(|e| e["properties"]["httpStatusCode"] == 403
                && e["properties"]["id"]
                    .as_str()
                    .is_some_and(|id| id.ends_with("/strongroom/audit/events"))),
        "the refused read is in the log"
    );

    // The secret's value is in no answer (and in no line).
    let whole = events(&server, &admin_token, "top=1000").await;
    assert!(!whole.text().contains(SECRET_VALUE));
    assert!(!whole.text().contains(&outsider.secret));
    for n in 0..=20 {
        let file = path.with_file_name(if n == 0 {
            "audit.log".to_owned()
        } else {
            format!("audit.log.{n}")
        });
        if let Ok(text) = std::fs::read_to_string(file) {
            assert!(!text.contains(SECRET_VALUE));
        }
    }

    // The CLI: the same events, as a JSON array.
    let printed = server.cli(&[
        "audit",
        "list",
        "--vault-name",
        "alpha",
        "--result",
        "failure",
        "--top",
        "5",
    ]);
    let printed: Vec<Value> = serde_json::from_str(&printed).expect("a JSON array");
    assert_eq!(hashes(&printed), hashes(&failures));
    let printed = server.cli(&["audit", "list", "--vault-name", "alpha", "--top", "3"]);
    let printed: Vec<Value> = serde_json::from_str(&printed).expect("a JSON array");
    assert_eq!(hashes(&printed), hashes(&alpha[..3]));
    let printed = server.cli(&[
        "audit",
        "list",
        "-n",
        "alpha",
        "--operation",
        "SecretSet",
        "--caller",
        &admin_oid,
        "--from",
        "2000-01-01T00:00:00Z",
        "--to",
        "2999-01-01T00:00:00Z",
    ]);
    let printed: Vec<Value> = serde_json::from_str(&printed).expect("a JSON array");
    assert_eq!(hashes(&printed), hashes(&sets));
}

#[tokio::test]
async fn without_a_readable_audit_log_the_route_is_404() {
    for (args, message) in [
        (
            &[][..],
            "This deployment keeps no audit log (serve --audit-log).",
        ),
        (
            &["--audit-log", "-"][..],
            "This deployment writes its audit log to standard output, which cannot be read back (serve --audit-log PATH).",
        ),
    ] {
        let server = TestServer::start_with(args);
        let token = server.admin_token(MANAGEMENT_SCOPE).await;
        let answer = events(&server, &token, "vault=alpha").await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{args:?}: {answer}");
        assert_eq!(
            answer.json(),
            json!({"error": {"code": "AuditLogNotEnabled", "message": message}}),
            "{args:?}"
        );
    }
}
