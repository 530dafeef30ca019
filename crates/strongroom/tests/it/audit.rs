//! `serve --audit-log`: one AuditEvent-shaped line per request and per token issued, with who,
//! what and how it ended but never a value or a token; hash-chained so `strongroom audit
//! verify` catches an edited or removed line; the chain continuing across a restart.

use crate::admin_only::create_principal;
use crate::harness::TestServer;
use http::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const SECRET_VALUE: &str = "correct-horse-battery-staple-7741";

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("reading the audit log")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn verify(paths: &[&Path]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .arg("audit")
        .arg("verify")
        .args(paths)
        .output()
        .expect("running strongroom audit verify");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn every_request_and_token_leaves_a_chained_line_without_values() {
    let logs = tempfile::tempdir().expect("a directory for the log");
    let path = logs.path().join("audit.log");
    let path_arg = path.to_str().expect("a UTF-8 path").to_owned();
    let mut server = TestServer::start_with(&["--audit-log", &path_arg]);
    let admin = server.admin_credential();
    let admin_oid = admin["objectId"].as_str().expect("objectId").to_owned();

    server.create_vault("audited").await;
    let set = server
        .vault_call(
            "PUT",
            "audited",
            "/secrets/db?api-version=7.5",
            Some(&json!({"value": SECRET_VALUE})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    let version = set.json()["id"]
        .as_str()
        .and_then(|id| id.rsplit('/').next())
        .expect("a version")
        .to_owned();
    let got = server
        .vault_call(
            "GET",
            "audited",
            &format!("/secrets/db/{version}?api-version=7.5"),
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{got}");
    let missing = server
        .vault_call("GET", "audited", "/secrets/absent?api-version=7.5", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A principal with no access policy: refused, and the refusal is audited too.
    let outsider = create_principal(&server, "outsider").await;
    let token = server
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
            "audited.vault.localhost",
            "/secrets/db?api-version=7.5",
        )
        .bearer(&token)
        .send()
        .await
        .expect("a response");
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A long request URI is kept only in part: one request adds a bounded line.
    let long_path = format!("/secrets/{}?api-version=7.5", "a".repeat(6000));
    server.vault_call("GET", "audited", &long_path, None).await;

    let events = lines(&path);
    let text = std::fs::read_to_string(&path).expect("the log");
    let longest = text.lines().map(str::len).max().unwrap_or_default();
    assert!(longest < 8 * 1024, "an audit line of {longest} bytes");
    assert!(
        !text.contains(SECRET_VALUE),
        "a secret value reached the audit log"
    );
    assert!(!text.contains(&token), "a token reached the audit log");
    assert!(!text.contains(admin["clientSecret"].as_str().expect("secret")));
    assert!(!text.contains(&outsider.secret));

    let find = |operation: &str, status: u16| {
        events
            .iter()
            .find(|e| {
                e["operationName"] == operation && e["properties"]["httpStatusCode"] == status
            })
            .unwrap_or_else(|| panic!("no {operation} {status} line in\n{text}"))
    };
    let set_line = find("SecretSet", 200);
    assert_eq!(set_line["category"], "AuditEvent");
    assert_eq!(set_line["resultType"], "Success");
    assert_eq!(set_line["resultSignature"], "OK");
    assert_eq!(set_line["operationVersion"], "7.5");
    assert_eq!(set_line["callerIpAddress"], "127.0.0.1");
    assert!(
        set_line["resourceId"]
            .as_str()
            .is_some_and(|id| id.ends_with("/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/AUDITED")),
        "{set_line}"
    );
    assert_eq!(
        set_line["identity"]["claim"]["http://schemas.microsoft.com/identity/claims/objectidentifier"],
        admin_oid.as_str()
    );
    assert!(set_line["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(
        set_line["durationMs"]
            .as_str()
            .is_some_and(|d| d.parse::<u64>().is_ok())
    );
    assert!(
        set_line["properties"]["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let get_line = find("SecretGet", 200);
    assert!(
        get_line["properties"]["id"]
            .as_str()
            .is_some_and(|id| id.ends_with(&format!("/secrets/db/{version}"))),
        "the object and its version: {get_line}"
    );
    let missing_line = find("SecretGet", 404);
    assert_eq!(missing_line["resultType"], "Failure");
    let refused_line = find("SecretGet", 403);
    assert_eq!(
        refused_line["identity"]["claim"]["appid"],
        outsider.app_id.as_str()
    );
    assert!(
        events.iter().any(|e| e["operationName"] == "TokenIssue"
            && e["identity"]["claim"]["appid"] == outsider.app_id.as_str()
            && e["properties"]["grant"] == "client_credentials"),
        "the outsider's token was logged as issued"
    );

    // The chain holds, and survives a restart.
    let (ok, report) = verify(&[&path]);
    assert!(ok, "{report}");
    server.restart();
    let again = server
        .vault_call("GET", "audited", "/secrets/db?api-version=7.5", None)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let (ok, report) = verify(&[&path]);
    assert!(ok, "{report}");
    assert!(lines(&path).len() > events.len());

    // An edited line breaks it, at that line.
    let edited = logs.path().join("edited.log");
    std::fs::write(&edited, text.replacen("\"SecretSet\"", "\"SecretGet\"", 1))
        .expect("writing the edited copy");
    let (ok, report) = verify(&[&edited]);
    assert!(!ok && report.contains("edited"), "{report}");
    // So does a removed one.
    let removed = logs.path().join("removed.log");
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&removed, kept.join("\n") + "\n").expect("writing the shortened copy");
    let (ok, report) = verify(&[&removed]);
    assert!(!ok && report.contains("line 3"), "{report}");
}
