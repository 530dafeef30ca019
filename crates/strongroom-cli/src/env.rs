//! `strongroom env`: shell `export` lines that let an unmodified Azure SDK program use this
//! server (`DefaultAzureCredential` via `EnvironmentCredential`, plus the CA bundle).
//!
//! Needs only the data directory (`admin.json`, `server.json`, `ca.pem`), not a running server.

use std::fmt::Write as _;

use strongroom_model::VaultName;

use crate::datadir::DataDir;
use crate::endpoints::Endpoints;

/// The `export NAME='value'` lines, in a fixed order, each ending in a newline.
pub(crate) fn export_lines(data: &DataDir, vault: Option<&VaultName>) -> String {
    let endpoints = Endpoints::new(&data.server);
    let ca_file = data.ca_file.to_string_lossy();
    // `adfs` makes azure-identity skip the AAD instance discovery that would otherwise go to
    // login.microsoftonline.com; the server treats it as its default tenant.
    let mut variables: Vec<(&str, &str)> = vec![
        ("AZURE_TENANT_ID", "adfs"),
        ("AZURE_CLIENT_ID", &data.admin.client_id),
        ("AZURE_CLIENT_SECRET", data.admin.client_secret.expose()),
        ("AZURE_AUTHORITY_HOST", &data.server.authority_host),
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
    let mut lines = String::new();
    for (name, value) in variables {
        // Writing to a String cannot fail.
        let _ = writeln!(lines, "export {name}={}", shell_quote(value));
    }
    lines
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
}
