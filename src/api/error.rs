//! One error type for the whole API, and one JSON shape for every error — extractor rejections
//! included: `{"error": {"code": "...", "message": "..."}}`. 5xx details are logged, not returned.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Every way an API call can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad JSON, bad parameter); the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// The body is well-formed but a value is invalid; the message names the field.
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Missing, malformed, expired or otherwise invalid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid token without the scope the route needs.
    #[error("this route needs the `{0}` scope")]
    Forbidden(&'static str),
    #[error("too many requests; retry after {0} s")]
    RateLimited(u64),
    /// A dependency (the store, the swarm task) is down; reads of memory still work.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "API internal error");
        }
        let body = Json(json!({"error": {"code": code, "message": self.to_string()}}));
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        match &self {
            ApiError::Unauthorized(msg) => {
                let v = format!(
                    "Bearer realm=\"wharf\", error=\"invalid_token\", error_description=\"{}\"",
                    msg.replace('"', "'")
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            ApiError::Forbidden(scope) => {
                let v = format!(
                    "Bearer realm=\"wharf\", error=\"insufficient_scope\", scope=\"{scope}\""
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            ApiError::RateLimited(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        resp
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let text = r.body_text();
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(format!("body: {text}")),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
                "body: expected `Content-Type: application/json`".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Unprocessable(format!("body: {text}")),
            _ => ApiError::BadRequest(format!("body: {text}")),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(format!("path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("query: {}", r.body_text()))
    }
}

impl From<crate::control::ControlError> for ApiError {
    fn from(e: crate::control::ControlError) -> Self {
        use crate::control::ControlError as C;
        match e {
            C::StoreUnavailable(_) => {
                ApiError::Unavailable("the ban and score store is unreachable; retry later".into())
            }
            C::Expiry(e) => ApiError::Unprocessable(format!("expiry: {e}")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::p2p::P2pError> for ApiError {
    fn from(e: crate::p2p::P2pError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}
