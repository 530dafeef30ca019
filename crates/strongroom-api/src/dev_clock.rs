//! `POST /strongroom/dev/clock?advanceSeconds=N` (only with `serve --dev-clock`): moves the
//! deployment's clock forward and runs the janitor, so tests can reach expiry, purge dates and
//! certificate lifetime actions without waiting.

use crate::arm::arm_error;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

pub(crate) async fn advance(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let Some(clock) = &state.config.dev_clock else {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The dev clock is disabled; start the server with --dev-clock.".to_owned(),
        ));
    };
    let seconds = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "advanceSeconds")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .filter(|s| *s >= 0)
        .ok_or_else(|| {
            arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "advanceSeconds must be a non-negative integer.".to_owned(),
            )
        })?;
    clock.advance_seconds(seconds);
    // Every node runs the same clock: the others catch up when they see the write.
    state
        .store
        .put_meta(
            crate::coherence::DEV_CLOCK_META,
            clock.offset_seconds().to_string().as_bytes(),
        )
        .await
        .map_err(ApiError::internal)?;
    let purged = strongroom_vault::janitor::run_once(&state.vaults).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"offsetSeconds": clock.offset_seconds(), "purged": purged}),
    ))
}
