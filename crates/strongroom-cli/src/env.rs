//! `strongroom env`: shell `export` lines that let an unmodified Azure SDK program use this
//! server (`DefaultAzureCredential` via `EnvironmentCredential`, plus the CA bundle).
//!
//! Needs only the data directory (`admin.json`, `server.json`, `ca.pem`), not a running server,
//! except `--proxy --identity`, which makes a new client secret for the identity, valid for a day.
//!
//! - `env --agent`: `ManagedIdentityCredential` through `strongroom agent` (App Service:
//!   `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, read from the agent's `agent.json`; with `--arc`,
//!   Azure Arc: `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`).
//! - `env --proxy [--identity N]`: transparent mode, `HTTPS_PROXY`/`HTTP_PROXY` with the
//!   identity's client id and secret as proxy credentials, `NO_PROXY` empty.

use std::fmt::Write as _;

use strongroom_model::VaultName;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use std::path::Path;

use crate::datadir::{DataDir, ServerInfo};
use crate::endpoints::Endpoints;
use crate::workload::AgentInfo;

/// Userinfo in a proxy URL: everything but RFC 3986 unreserved characters is encoded.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where the agent serves each protocol, relative to `http://127.0.0.1:PORT`.
pub const APP_SERVICE_PATH: &str = "/msi/token";
pub const ARC_PATH: &str = "/metadata/identity/oauth2/token";

/// The `export NAME='value'` lines, in a fixed order, each ending in a newline.
pub(crate) fn export_lines(data: &DataDir, vault: Option<&VaultName>) -> String {
    client_lines(
        &data.server,
        &data.ca_file,
        (&data.admin.client_id, data.admin.client_secret.expose()),
        vault,
    )
}

/// `EnvironmentCredential`'s variables for the client `(client_id, secret)` of the server
/// `server`, then the vault URL and the CA variables.
pub(crate) fn client_lines(
    server: &ServerInfo,
    ca_file: &Path,
    (client_id, secret): (&str, &str),
    vault: Option<&VaultName>,
) -> String {
    let endpoints = Endpoints::new(server);
    let ca_file = ca_file.to_string_lossy();
    // `adfs` makes azure-identity skip the AAD instance discovery that would otherwise go to
    // login.microsoftonline.com; the server treats it as its default tenant.
    let mut variables: Vec<(&str, &str)> = vec![
        ("AZURE_TENANT_ID", "adfs"),
        ("AZURE_CLIENT_ID", client_id),
        ("AZURE_CLIENT_SECRET", secret),
        ("AZURE_AUTHORITY_HOST", &server.authority_host),
    ];
    let vault_url = vault.map(|vault| endpoints.vault_url(vault));
    if let Some(vault_url) = &vault_url {
        variables.push(("AZURE_KEYVAULT_URL", vault_url));
    }
    variables.extend([
        ("REQUESTS_CA_BUNDLE", &*ca_file),
        ("SSL_CERT_FILE", &*ca_file),
        ("NODE_EXTRA_CA_CERTS", &*ca_file),
    ]);
    render(&variables)
}

fn render(variables: &[(&str, &str)]) -> String {
    let mut lines = String::new();
    for (name, value) in variables {
        // Writing to a String cannot fail.
        let _ = writeln!(lines, "export {name}={}", shell_quote(value));
    }
    lines
}

/// `env --agent`: the managed-identity variables for `agent` on `port` (its own by default),
/// then the vault URL and the CA variables.
pub(crate) fn agent_lines(
    data: &DataDir,
    agent: &AgentInfo,
    port: Option<u16>,
    arc: bool,
    vault: Option<&VaultName>,
) -> String {
    let port = port.unwrap_or(agent.listen.port());
    let origin = format!("http://127.0.0.1:{port}");
    let mut variables: Vec<(&str, String)> = if arc {
        vec![
            ("IDENTITY_ENDPOINT", format!("{origin}{ARC_PATH}")),
            ("IMDS_ENDPOINT", origin),
        ]
    } else {
        vec![
            ("IDENTITY_ENDPOINT", format!("{origin}{APP_SERVICE_PATH}")),
            ("IDENTITY_HEADER", agent.identity_header.expose().to_owned()),
        ]
    };
    variables.extend(common_tail(&data.server, &data.ca_file, vault));
    let borrowed: Vec<(&str, &str)> = variables.iter().map(|(n, v)| (*n, v.as_str())).collect();
    render(&borrowed)
}

/// `env --proxy`: the proxy variables, with `client_id:secret` as proxy credentials when given.
pub(crate) fn proxy_lines(
    server: &ServerInfo,
    ca_file: &Path,
    credentials: Option<(&str, &str)>,
    vault: Option<&VaultName>,
) -> String {
    let userinfo = credentials.map_or_else(String::new, |(user, password)| {
        format!(
            "{}:{}@",
            utf8_percent_encode(user, USERINFO),
            utf8_percent_encode(password, USERINFO)
        )
    });
    // Off loopback the server takes proxy credentials only inside TLS: an https:// proxy.
    let scheme = if server.listen.ip().is_loopback() {
        "http"
    } else {
        "https"
    };
    let proxy = format!("{scheme}://{userinfo}{}", server.connect_address());
    let mut variables: Vec<(&str, String)> = vec![
        ("HTTPS_PROXY", proxy.clone()),
        ("HTTP_PROXY", proxy),
        ("NO_PROXY", String::new()),
        ("no_proxy", String::new()),
    ];
    variables.extend(common_tail(server, ca_file, vault));
    let borrowed: Vec<(&str, &str)> = variables.iter().map(|(n, v)| (*n, v.as_str())).collect();
    render(&borrowed)
}

fn common_tail(
    server: &ServerInfo,
    ca_file: &Path,
    vault: Option<&VaultName>,
) -> Vec<(&'static str, String)> {
    let endpoints = Endpoints::new(server);
    let ca_file = ca_file.to_string_lossy().into_owned();
    let mut variables = Vec::new();
    if let Some(vault) = vault {
        variables.push(("AZURE_KEYVAULT_URL", endpoints.vault_url(vault)));
    }
    variables.extend([
        ("REQUESTS_CA_BUNDLE", ca_file.clone()),
        ("SSL_CERT_FILE", ca_file.clone()),
        ("NODE_EXTRA_CA_CERTS", ca_file),
    ]);
    variables
}

/// POSIX single quoting: everything is literal inside `'…'`, and a `'` is written `'\''`.
pub(crate) fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use expect_test::expect;
    use strongroom_model::SecretValue;

    use super::*;
    use crate::datadir::{AdminCredential, ServerInfo};

    #[test]
    fn quoting() {
        let quoted = ["", "plain", "it's", "''", "$HOME `x` \"y\" \\\n z", "a'b'c"]
            .map(shell_quote)
            .join("\n");
        expect![[r#"
            ''
            'plain'
            'it'\''s'
            ''\'''\'''
            '$HOME `x` "y" \
             z'
            'a'\''b'\''c'"#]]
        .assert_eq(&quoted);
    }

    #[test]
    fn quoting_round_trips_through_sh() {
        for value in [
            "it's",
            "''",
            "$HOME `x` \"y\" \\\n z",
            "-n",
            "a'b'c",
            "ünïcødé",
        ] {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(value)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(output.stdout).unwrap(), value);
        }
    }

    #[test]
    fn export_lines_with_and_without_a_vault() {
        let data = DataDir {
            admin: AdminCredential {
                tenant_id: "tid".to_owned(),
                client_id: "cid".to_owned(),
                client_secret: SecretValue::new("se'cret".to_owned()),
                object_id: "oid".to_owned(),
            },
            server: ServerInfo {
                listen: "127.0.0.1:4443".parse().unwrap(),
                port: 4443,
                domain: "localhost".to_owned(),
                authority_host: "https://localhost:4443".to_owned(),
                subscription_id: "sub".to_owned(),
            },
            ca_file: PathBuf::from("/data/ca.pem"),
        };
        expect![[r#"
            export AZURE_TENANT_ID='adfs'
            export AZURE_CLIENT_ID='cid'
            export AZURE_CLIENT_SECRET='se'\''cret'
            export AZURE_AUTHORITY_HOST='https://localhost:4443'
            export REQUESTS_CA_BUNDLE='/data/ca.pem'
            export SSL_CERT_FILE='/data/ca.pem'
            export NODE_EXTRA_CA_CERTS='/data/ca.pem'
        "#]]
        .assert_eq(&export_lines(&data, None));
        let vault = VaultName::parse("App-Vault").unwrap();
        expect![[r#"
            export AZURE_TENANT_ID='adfs'
            export AZURE_CLIENT_ID='cid'
            export AZURE_CLIENT_SECRET='se'\''cret'
            export AZURE_AUTHORITY_HOST='https://localhost:4443'
            export AZURE_KEYVAULT_URL='https://app-vault.vault.localhost:4443'
            export REQUESTS_CA_BUNDLE='/data/ca.pem'
            export SSL_CERT_FILE='/data/ca.pem'
            export NODE_EXTRA_CA_CERTS='/data/ca.pem'
        "#]]
        .assert_eq(&export_lines(&data, Some(&vault)));
    }

    #[test]
    fn agent_and_proxy_lines() {
        let data = DataDir {
            admin: AdminCredential {
                tenant_id: "tid".to_owned(),
                client_id: "cid".to_owned(),
                client_secret: SecretValue::new("s".to_owned()),
                object_id: "oid".to_owned(),
            },
            server: ServerInfo {
                listen: "0.0.0.0:4443".parse().unwrap(),
                port: 4443,
                domain: "localhost".to_owned(),
                authority_host: "https://localhost:4443".to_owned(),
                subscription_id: "sub".to_owned(),
            },
            ca_file: PathBuf::from("/data/ca.pem"),
        };
        let agent = AgentInfo {
            listen: "127.0.0.1:5000".parse().unwrap(),
            identity: "web".to_owned(),
            client_id: "mi-cid".to_owned(),
            principal_id: "mi-oid".to_owned(),
            identity_header: SecretValue::new("hdr".to_owned()),
            pid: 1,
        };
        expect![[r#"
            export IDENTITY_ENDPOINT='http://127.0.0.1:5000/msi/token'
            export IDENTITY_HEADER='hdr'
            export REQUESTS_CA_BUNDLE='/data/ca.pem'
            export SSL_CERT_FILE='/data/ca.pem'
            export NODE_EXTRA_CA_CERTS='/data/ca.pem'
        "#]]
        .assert_eq(&agent_lines(&data, &agent, None, false, None));
        let vault = VaultName::parse("v1x").unwrap();
        expect![[r#"
            export IDENTITY_ENDPOINT='http://127.0.0.1:6000/metadata/identity/oauth2/token'
            export IMDS_ENDPOINT='http://127.0.0.1:6000'
            export AZURE_KEYVAULT_URL='https://v1x.vault.localhost:4443'
            export REQUESTS_CA_BUNDLE='/data/ca.pem'
            export SSL_CERT_FILE='/data/ca.pem'
            export NODE_EXTRA_CA_CERTS='/data/ca.pem'
        "#]]
        .assert_eq(&agent_lines(&data, &agent, Some(6000), true, Some(&vault)));
        expect![[r#"
            export HTTPS_PROXY='https://mi-cid:a%2Fb%2Bc%3D@127.0.0.1:4443'
            export HTTP_PROXY='https://mi-cid:a%2Fb%2Bc%3D@127.0.0.1:4443'
            export NO_PROXY=''
            export no_proxy=''
            export REQUESTS_CA_BUNDLE='/data/ca.pem'
            export SSL_CERT_FILE='/data/ca.pem'
            export NODE_EXTRA_CA_CERTS='/data/ca.pem'
        "#]]
        .assert_eq(&proxy_lines(
            &data.server,
            &data.ca_file,
            Some(("mi-cid", "a/b+c=")),
            None,
        ));
    }
}
