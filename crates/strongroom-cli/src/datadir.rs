//! What the CLI reads from the data directory: `admin.json`, `server.json` and `ca.pem`.
//!
//! These three files are the CLI's whole view of a deployment (see CONTRACTS.md, "Data
//! directory"). The CLI never opens the store, the keys or anything else in the directory.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};
use strongroom_model::SecretValue;

use crate::error::CliError;

/// `admin.json`: the deployment administrator's client credentials.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminCredential {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    #[serde(deserialize_with = "secret_value")]
    pub(crate) client_secret: SecretValue,
    pub(crate) object_id: String,
}

/// `server.json`: where the running server listens and what it calls itself.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerInfo {
    /// The socket the CLI connects to, whatever host name it then presents.
    pub(crate) listen: SocketAddr,
    pub(crate) port: u16,
    pub(crate) domain: String,
    /// `https://DOMAIN:PORT`, exported as `AZURE_AUTHORITY_HOST`.
    pub(crate) authority_host: String,
    pub(crate) subscription_id: String,
}

impl ServerInfo {
    /// The address to connect to: a server bound to `0.0.0.0` / `::` is reached on loopback.
    pub(crate) fn connect_address(&self) -> SocketAddr {
        let ip = match self.listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.listen.port())
    }
}

/// The three files, read and checked.
#[derive(Debug)]
pub(crate) struct DataDir {
    pub(crate) admin: AdminCredential,
    pub(crate) server: ServerInfo,
    /// Absolute path of `ca.pem`: the only certificate the CLI trusts, and what `env` exports.
    pub(crate) ca_file: PathBuf,
}

/// For a missing `admin.json` or `ca.pem`: most likely the wrong directory.
const DATA_DIR_HINT: &str =
    "is this the directory `strongroom serve` uses? (pass --data-dir or set STRONGROOM_DATA_DIR)";
/// For a missing `server.json` next to an `admin.json`.
const SERVER_HINT: &str = "has `strongroom serve` run with this data directory yet?";

impl DataDir {
    pub(crate) fn load(dir: &Path) -> Result<Self, CliError> {
        let admin_path = dir.join("admin.json");
        // The file holds the client secret, so its text is wiped once parsed.
        let admin_text = SecretValue::new(read_data_file(dir, "admin.json", DATA_DIR_HINT)?);
        let admin: AdminCredential =
            serde_json::from_str(admin_text.expose()).map_err(|source| {
                CliError::InvalidDataFile {
                    path: admin_path,
                    source,
                }
            })?;

        let server_path = dir.join("server.json");
        let server_text = read_data_file(dir, "server.json", SERVER_HINT)?;
        let server: ServerInfo =
            serde_json::from_str(&server_text).map_err(|source| CliError::InvalidDataFile {
                path: server_path,
                source,
            })?;

        let ca_path = dir.join("ca.pem");
        let ca_file = std::fs::canonicalize(&ca_path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                CliError::MissingDataFile {
                    file: "ca.pem",
                    dir: dir.to_path_buf(),
                    hint: DATA_DIR_HINT,
                }
            } else {
                CliError::ReadDataFile {
                    path: ca_path,
                    source,
                }
            }
        })?;

        Ok(Self {
            admin,
            server,
            ca_file,
        })
    }
}

fn read_data_file(dir: &Path, file: &'static str, hint: &'static str) -> Result<String, CliError> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            CliError::MissingDataFile {
                file,
                dir: dir.to_path_buf(),
                hint,
            }
        } else {
            CliError::ReadDataFile { path, source }
        }
    })
}

fn secret_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretValue, D::Error> {
    String::deserialize(deserializer).map(SecretValue::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_JSON: &str = r#"{"listen":"0.0.0.0:4443","port":4443,"domain":"localhost","authorityHost":"https://localhost:4443","tenantId":"t","subscriptionId":"s","caFile":"/x/ca.pem","pid":7}"#;
    const ADMIN_JSON: &str =
        r#"{"tenantId":"t","clientId":"c","clientSecret":"hunter2","objectId":"o"}"#;

    fn write(dir: &Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).unwrap();
    }

    fn load_error(dir: &Path) -> String {
        DataDir::load(dir)
            .unwrap_err()
            .to_string()
            .replace(&dir.display().to_string(), "DIR")
    }

    #[test]
    fn loads_the_three_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "admin.json", ADMIN_JSON);
        write(dir.path(), "server.json", SERVER_JSON);
        write(dir.path(), "ca.pem", "pem");
        let data = DataDir::load(dir.path()).unwrap();
        assert_eq!(data.admin.client_secret.expose(), "hunter2");
        assert_eq!(data.server.connect_address().to_string(), "127.0.0.1:4443");
        assert!(data.ca_file.is_absolute());
        assert!(data.ca_file.ends_with("ca.pem"));
        // The secret never shows in Debug.
        assert!(!format!("{data:?}").contains("hunter2"));
    }

    #[test]
    fn missing_and_broken_files_name_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        expect_test::expect!["admin.json not found in the data directory DIR: is this the directory `strongroom serve` uses? (pass --data-dir or set STRONGROOM_DATA_DIR)"].assert_eq(&load_error(dir.path()));
        write(dir.path(), "admin.json", ADMIN_JSON);
        expect_test::expect!["server.json not found in the data directory DIR: has `strongroom serve` run with this data directory yet?"].assert_eq(&load_error(dir.path()));
        write(dir.path(), "server.json", "{}");
        expect_test::expect![[
            r#"DIR/server.json is not valid: missing field `listen` at line 1 column 2"#
        ]]
        .assert_eq(&load_error(dir.path()));
        write(dir.path(), "server.json", SERVER_JSON);
        expect_test::expect!["ca.pem not found in the data directory DIR: is this the directory `strongroom serve` uses? (pass --data-dir or set STRONGROOM_DATA_DIR)"].assert_eq(&load_error(dir.path()));
    }
}
