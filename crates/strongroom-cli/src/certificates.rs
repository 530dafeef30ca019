//! `--create-cert` of `ad sp create-for-rbac` and `ad sp credential reset`: a self-signed
//! RSA-2048 certificate made here, written with its private key to a PEM file (0600) the way
//! `az` does, and registered with the server (`addCertificate`, public certificate only). The
//! private key never leaves this machine; `ClientCertificateCredential` reads the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use serde_json::json;
use strongroom_model::{SecretValue, UnixTime};

use crate::error::CliError;
use crate::session::Session;

/// How long a new certificate is valid (as `az … --create-cert`: one year).
const CERT_VALIDITY_DAYS: i64 = 365;
/// Certificates start an hour in the past, so a server whose clock lags ours accepts them.
const BACKDATE_SECONDS: i64 = 3600;

/// A new certificate and its private key, both PEM.
struct NewCertificate {
    cert_pem: String,
    key_pem: SecretValue,
}

fn generate(name: &str, now: UnixTime) -> Result<NewCertificate, CliError> {
    let failed = |error: rcgen::Error| CliError::Certificate(error.to_string());
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(failed)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let seconds = |time: UnixTime| Duration::from_secs(u64::try_from(time.0).unwrap_or(0));
    params.not_before = epoch + seconds(now.plus_seconds(-BACKDATE_SECONDS));
    params.not_after = epoch + seconds(now.plus_days(CERT_VALIDITY_DAYS));
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok(NewCertificate {
        cert_pem: cert.pem(),
        key_pem: SecretValue::new(key.serialize_pem()),
    })
}

/// Makes a certificate for the principal, writes `{dir}/{appId}-{n}.pem` (private key, then
/// certificate) and registers the certificate. Returns the file's absolute path.
pub(crate) async fn add_certificate(
    session: &Session,
    token: &SecretValue,
    object_id: &str,
    app_id: &str,
    display_name: &str,
    cert_dir: Option<&Path>,
) -> Result<String, CliError> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = UnixTime(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX));
    let certificate = generate(display_name, now)?;

    let dir = match cert_dir {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    let dir = std::path::absolute(&dir).map_err(|source| CliError::CertFile {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(format!("{app_id}-{}.pem", since_epoch.as_nanos()));
    let contents = SecretValue::new(format!(
        "{}{}",
        certificate.key_pem.expose(),
        certificate.cert_pem
    ));
    crate::workload::write_private_file(&path, contents.expose().as_bytes()).map_err(|source| {
        CliError::CertFile {
            path: path.clone(),
            source,
        }
    })?;

    let target = session.endpoints.add_certificate(object_id);
    session
        .call_json(
            Method::POST,
            &target,
            token,
            &json!({ "certificate": certificate.cert_pem }),
        )
        .await?;
    Ok(path.display().to_string())
}
