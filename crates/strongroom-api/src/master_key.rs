//! `POST /strongroom/master-key/rotate` (deployment administrators only, like the rest of the
//! management API): the master key replaced while the server runs. Where the key lives is the
//! binary's business, so the route calls a `MasterKeyRotator` the binary installs; the
//! re-sealing itself is `strongroom_vault::master_key::rotate`.

use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use strongroom_vault::VaultCtx;
use zeroize::Zeroizing;

use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;

/// What a rotation did, for the response.
#[derive(Debug, Clone)]
pub struct MasterKeyRotated {
    pub vaults: usize,
    pub deployment_values: usize,
    /// `"file"` or `"passphrase"`.
    pub key_source: &'static str,
    /// The key file, or the passphrase parameters file, now current.
    pub location: String,
}

/// Why a rotation did not happen (or did not finish).
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyRotationError {
    /// The request does not fit the deployment (a passphrase for a key file, none for a
    /// passphrase, one too short): 400.
    #[error("{0}")]
    Invalid(String),
    /// 500, with what state the deployment is in (the administrator needs it).
    #[error("{0}")]
    Failed(String),
}

/// A rotation's outcome, as a boxed future (the trait is object-safe without `async_trait`).
pub type RotationFuture<'a> =
    Pin<Box<dyn Future<Output = Result<MasterKeyRotated, MasterKeyRotationError>> + Send + 'a>>;

/// Replaces the master key where it lives, re-sealing `vaults`' deployment.
pub trait MasterKeyRotator: Send + Sync {
    fn rotate<'a>(
        &'a self,
        vaults: &'a VaultCtx,
        new_passphrase: Option<Zeroizing<String>>,
    ) -> RotationFuture<'a>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateRequest {
    new_passphrase: Option<String>,
}

pub(crate) async fn rotate(state: &AppState, body: &[u8]) -> Result<Response, ApiError> {
    let Some(rotator) = &state.master_key_rotator else {
        return Err(ApiError::Custom {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            message: "This server cannot rotate its master key.".to_owned(),
        });
    };
    let request: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest {
            new_passphrase: None,
        }
    } else {
        parse_json(body)?
    };
    let new_passphrase = request.new_passphrase.map(Zeroizing::new);
    match rotator.rotate(&state.vaults, new_passphrase).await {
        Ok(rotated) => Ok(json_response(
            StatusCode::OK,
            &json!({
                "vaults": rotated.vaults,
                "deploymentValues": rotated.deployment_values,
                "keySource": rotated.key_source,
                "location": rotated.location,
            }),
        )),
        Err(MasterKeyRotationError::Invalid(message)) => Err(ApiError::Custom {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequest",
            message,
        }),
        Err(MasterKeyRotationError::Failed(message)) => {
            tracing::error!(%message, "master-key rotation failed");
            Err(ApiError::Custom {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "MasterKeyRotationFailed",
                message,
            })
        }
    }
}
