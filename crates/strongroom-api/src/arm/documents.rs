//! Deployment documents (resource groups, role definitions, role assignments) as typed values:
//! the store keeps bytes; these read and write them as JSON, with the name as first written.

use crate::error::ApiError;
use crate::state::AppState;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The document `kind`/`name` (any case) and its name as first written.
pub(super) async fn get<T: DeserializeOwned>(
    state: &AppState,
    kind: &str,
    name: &str,
) -> Result<Option<(String, T)>, ApiError> {
    let stored = state
        .store
        .get_deployment_document(kind, name)
        .await
        .map_err(ApiError::internal)?;
    stored
        .map(|(name, document)| {
            serde_json::from_slice(&document)
                .map(|value| (name, value))
                .map_err(ApiError::internal)
        })
        .transpose()
}

/// Every document of `kind`, by name.
pub(super) async fn list<T: DeserializeOwned>(
    state: &AppState,
    kind: &str,
) -> Result<Vec<(String, T)>, ApiError> {
    state
        .store
        .list_deployment_documents(kind)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|(name, document)| {
            serde_json::from_slice(&document)
                .map(|value| (name, value))
                .map_err(ApiError::internal)
        })
        .collect()
}

/// Creates or replaces the document.
pub(super) async fn put<T: Serialize>(
    state: &AppState,
    kind: &str,
    name: &str,
    value: &T,
) -> Result<(), ApiError> {
    let document = serde_json::to_vec(value).map_err(ApiError::internal)?;
    state
        .store
        .put_deployment_document(kind, name, document)
        .await
        .map_err(ApiError::internal)
}

/// `false` if there was no such document.
pub(super) async fn delete(state: &AppState, kind: &str, name: &str) -> Result<bool, ApiError> {
    state
        .store
        .delete_deployment_document(kind, name)
        .await
        .map_err(ApiError::internal)
}
