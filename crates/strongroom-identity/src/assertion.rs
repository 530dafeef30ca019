//! Client assertions (RFC 7523): a service principal proves itself with a JWT signed by the
//! private key of a certificate registered as one of its credentials
//! (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`), as MSAL
//! and `ClientCertificateCredential` send it.
//!
//! Checks, in order: the JWT's shape (`AADSTS50027`); `iss` and `sub` are the client id
//! (`AADSTS700021`); `aud` is one of the token endpoints the caller may have posted to
//! (`AADSTS50027`); the header's `x5t#S256` or `x5t` names a registered certificate
//! (`AADSTS700027`), which has not expired (`AADSTS700027`) and whose key verifies the
//! signature, `RS256` or `PS256` (`AADSTS700027`); `exp` and `nbf` hold now, with
//! `CLOCK_SKEW_SECONDS` of tolerance, and `exp` is at most `MAX_ASSERTION_LIFETIME_SECONDS`
//! (MSAL's ten minutes) plus the skew ahead (`AADSTS700024`); its `jti` has not been seen
//! before (`AADSTS50027`). The replay guard remembers each accepted `jti` until the assertion
//! expires, which the lifetime bound keeps short, and holds at most `MAX_REMEMBERED_JTIS`: when
//! full of live ones it refuses new assertions rather than forget one (a replay window). On a
//! store several nodes share, the `jti` is also claimed in the store (`Store::claim_once`), so a
//! replay to another node is refused too.

use crate::credentials::find_client;
use crate::{CLOCK_SKEW_SECONDS, IdentityError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use strongroom_crypto::{AssertionAlgorithm, CertificateInfo, parse_client_certificate};
use strongroom_model::UnixTime;
use strongroom_store::Store;

use crate::AuthenticatedClient;

/// The longest an assertion may be valid for from now: MSAL makes them for ten minutes.
pub const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 600;
/// Accepted `jti`s remembered at most (each until its assertion expires).
const MAX_REMEMBERED_JTIS: usize = 100_000;
/// Longest `jti` accepted (MSAL sends a GUID).
const MAX_JTI_LENGTH: usize = 256;

/// Remembers the `jti` of every accepted client assertion until the assertion expires, so an
/// intercepted assertion cannot be presented again.
#[derive(Default)]
pub struct AssertionReplayGuard {
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl AssertionReplayGuard {
    /// Records `jti` for `app_id` until `expires` (Unix seconds); `false` if it was already
    /// recorded and has not expired, or if the guard is full of live entries.
    fn first_use(&self, app_id: &str, jti: &str, expires: i64, now: UnixTime) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (app_id.to_ascii_lowercase(), jti.to_owned());
        if seen.get(&key).is_some_and(|until| *until >= now.seconds()) {
            return false;
        }
        if seen.len() >= MAX_REMEMBERED_JTIS {
            seen.retain(|_, until| *until >= now.seconds());
            if seen.len() >= MAX_REMEMBERED_JTIS {
                return false;
            }
        }
        seen.insert(key, expires);
        true
    }
}

/// The `client_assertion_type` of a JWT client assertion.
pub const CLIENT_ASSERTION_TYPE_JWT: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    x5t: Option<String>,
    #[serde(default, rename = "x5t#S256")]
    x5t_s256: Option<String>,
}

/// `aud` is a string or, as JWT allows, a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: f64,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
}

fn malformed(detail: &str) -> IdentityError {
    IdentityError::ClientAssertion {
        code: 50_027,
        message: format!("JWT token is invalid or malformed. {detail}"),
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str, what: &str) -> Result<T, IdentityError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| malformed(&format!("The {what} is not base64url.")))?;
    serde_json::from_slice(&bytes).map_err(|_| malformed(&format!("The {what} is not valid.")))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Azure's thumbprint of a certificate: hex SHA-1 of its DER, upper case.
pub fn certificate_thumbprint(info: &CertificateInfo) -> String {
    hex_upper(&info.sha1)
}

/// The same thumbprint, of a certificate's DER as stored with a credential.
pub fn certificate_der_thumbprint(der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// Checks a client-credentials request that carries a client assertion instead of a secret.
/// `audiences` are the token endpoint URLs the request may have been meant for (the API
/// layer knows under which names it was reached); they compare ASCII case-insensitively.
pub async fn authenticate_client_assertion(
    store: &dyn Store,
    replay: &AssertionReplayGuard,
    tenant_id: &str,
    client_id: &str,
    assertion: &str,
    audiences: &[String],
    now: UnixTime,
) -> Result<AuthenticatedClient, IdentityError> {
    let principal = find_client(store, tenant_id, client_id).await?;
    if assertion.is_empty() {
        return Err(IdentityError::MissingParameter {
            name: "client_assertion".to_owned(),
        });
    }
    let mut parts = assertion.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("The assertion is not a signed JWT."));
    };
    let header: Header = decode_json(header_b64, "header")?;
    let claims: Claims = decode_json(claims_b64, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| malformed("The signature is not base64url."))?;
    let algorithm = match header.alg.as_str() {
        "RS256" => AssertionAlgorithm::Rs256,
        "PS256" => AssertionAlgorithm::Ps256,
        other => {
            return Err(malformed(&format!(
                "The algorithm '{other}' is not supported; use RS256 or PS256."
            )));
        }
    };

    let app_id = &principal.app_id;
    if !claims.iss.eq_ignore_ascii_case(app_id) || !claims.sub.eq_ignore_ascii_case(app_id) {
        return Err(IdentityError::ClientAssertion {
            code: 700_021,
            message: "Client assertion application identifier doesn't match 'client_id' \
                      parameter. Review the documentation at \
                      https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
                .to_owned(),
        });
    }
    let presented = match &claims.aud {
        Audience::One(one) => vec![one.as_str()],
        Audience::Many(many) => many.iter().map(String::as_str).collect(),
    };
    let audience_ok = presented.iter().any(|aud| {
        audiences
            .iter()
            .any(|accepted| accepted.eq_ignore_ascii_case(aud.trim_end_matches('/')))
    });
    if !audience_ok {
        return Err(malformed(&format!(
            "The audience '{}' of the client assertion is not this token endpoint.",
            presented.join(" ")
        )));
    }

    // The thumbprint the client named: `x5t#S256` (SHA-256) first, else `x5t` (SHA-1).
    let decode_thumbprint = |value: &str| URL_SAFE_NO_PAD.decode(value.trim_end_matches('='));
    let wanted: Option<(bool, Vec<u8>)> = match (&header.x5t_s256, &header.x5t) {
        (Some(s256), _) => decode_thumbprint(s256).ok().map(|t| (true, t)),
        (None, Some(sha1)) => decode_thumbprint(sha1).ok().map(|t| (false, t)),
        (None, None) => None,
    };
    let Some((is_sha256, thumbprint)) = wanted else {
        return Err(malformed(
            "The assertion's header names no certificate (x5t or x5t#S256).",
        ));
    };
    let registered = principal
        .credentials
        .iter()
        .filter_map(|credential| {
            let der = credential.certificate.as_deref()?;
            let info = parse_client_certificate(der).ok()?;
            let matches = if is_sha256 {
                info.sha256.as_slice() == thumbprint.as_slice()
            } else {
                info.sha1.as_slice() == thumbprint.as_slice()
            };
            matches.then_some((credential, info))
        })
        .next();
    let client_thumbprint = hex_upper(&thumbprint);
    let Some((credential, info)) = registered else {
        return Err(IdentityError::ClientAssertion {
            code: 700_027,
            message: format!(
                "Client assertion contains an invalid signature. [Reason - The key was not \
                 found., Thumbprint of key used by client: '{client_thumbprint}', Please visit \
                 the Azure Portal, Graph Explorer or directly use MS Graph to see configured \
                 keys for app Id '{app_id}'.]"
            ),
        });
    };
    let expired = credential.expires.is_some_and(|expires| expires <= now)
        || info.not_after <= now
        || info.not_before.plus_seconds(-CLOCK_SKEW_SECONDS) > now;
    if expired {
        return Err(IdentityError::ClientAssertion {
            code: 700_027,
            message: format!(
                "Client assertion contains an invalid signature. [Reason - The key used is \
                 expired., Thumbprint of key used by client: '{client_thumbprint}', Found key \
                 'Start={}, End={}']",
                info.not_before.seconds(),
                info.not_after.seconds()
            ),
        });
    }
    let signed = &assertion[..header_b64.len() + 1 + claims_b64.len()];
    if !info.verifies(algorithm, signed.as_bytes(), &signature) {
        return Err(IdentityError::ClientAssertion {
            code: 700_027,
            message: format!(
                "Client assertion contains an invalid signature. [Reason - The provided \
                 signature value did not match the expected signature value., Thumbprint of \
                 key used by client: '{client_thumbprint}']"
            ),
        });
    }

    let now_seconds = now.seconds() as f64;
    let skew = CLOCK_SKEW_SECONDS as f64;
    let not_yet = claims.nbf.is_some_and(|nbf| nbf > now_seconds + skew);
    let too_long = claims.exp > now_seconds + (MAX_ASSERTION_LIFETIME_SECONDS as f64) + skew;
    if too_long {
        return Err(IdentityError::ClientAssertion {
            code: 700_024,
            message: format!(
                "Client assertion is not within its valid time range. Current time: {}, \
                 expiry time of assertion {:.0}: an assertion may be valid for at most {} \
                 seconds. Review the documentation at \
                 https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                now.seconds(),
                claims.exp,
                MAX_ASSERTION_LIFETIME_SECONDS
            ),
        });
    }
    if claims.exp + skew <= now_seconds || not_yet {
        return Err(IdentityError::ClientAssertion {
            code: 700_024,
            message: format!(
                "Client assertion is not within its valid time range. Current time: {}, \
                 assertion valid from {}, expiry time of assertion {}. Review the \
                 documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                now.seconds(),
                claims
                    .nbf
                    .map_or_else(|| "-".to_owned(), |nbf| format!("{nbf:.0}")),
                format_args!("{:.0}", claims.exp),
            ),
        });
    }
    let jti = claims
        .jti
        .as_deref()
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LENGTH)
        .ok_or_else(|| malformed("The assertion has no usable jti claim."))?;
    // Remembered until the assertion could no longer be accepted anyway (expiry plus skew).
    let remember_until = (claims.exp + skew).ceil() as i64;
    let replayed = || malformed("The client assertion was already used: its jti must be unique.");
    if !replay.first_use(app_id, jti, remember_until, now) {
        return Err(replayed());
    }
    // Several nodes on one database: the jti must be new to the deployment, not only to this
    // node, so it is claimed in the store too.
    if store.cache_generation().await?.is_some() {
        let scope = format!("jti:{}", app_id.to_ascii_lowercase());
        if !store
            .claim_once(&scope, jti, now, UnixTime(remember_until))
            .await?
        {
            return Err(replayed());
        }
    }
    let credential_id = credential.key_id.clone();
    Ok(AuthenticatedClient {
        principal,
        credential_id,
    })
}
