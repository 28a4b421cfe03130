//! Contract classes: a stored class's definition, byte for byte as the gateway served it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::extract::ApiPath;
use crate::api::{ApiError, ApiState};
use crate::chain::classes::{class_hash_hex, parse_class_hash};

/// `GET /api/v1/classes/{class_hash}`: the definition (JSON), or 404.
pub async fn get_class(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Response, ApiError> {
    let hash = parse_class_hash(&raw).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "path: class_hash `{raw}` is not 0x followed by 1 to 64 hex digits"
        ))
    })?;
    let store = st
        .chain
        .store
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this relay stores no blocks".into()))?;
    let definition = store
        .class(&hash)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "class {} is not stored here",
                class_hash_hex(&hash)
            ))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], definition).into_response())
}
