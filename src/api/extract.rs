//! Extractors whose rejections use the API's JSON error shape instead of axum's plain text.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

/// `Json<T>` with JSON errors (400 malformed, 415 content type, 413 size, 422 bad field).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Paging parameters shared by list routes: `offset` (default 0) and `limit` (1..=1000, default 100).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    #[serde(default)]
    pub offset: u64,
    #[serde(default = "default_limit")]
    pub limit: u64,
}

fn default_limit() -> u64 {
    100
}

/// Largest page a list route returns.
pub const MAX_PAGE: u64 = 1000;

impl Paging {
    /// Checks the range; the error names the parameter.
    pub fn check(self) -> Result<Self, ApiError> {
        if self.offset > i64::MAX as u64 {
            return Err(ApiError::BadRequest(format!(
                "query: offset must be at most {}, got {}",
                i64::MAX,
                self.offset
            )));
        }
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(ApiError::BadRequest(format!(
                "query: limit must be between 1 and {MAX_PAGE}, got {}",
                self.limit
            )));
        }
        Ok(self)
    }

    /// This page of `items`.
    pub fn page<T>(self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset as usize)
            .take(self.limit as usize)
            .collect()
    }
}

/// A page of a list, with the total count before paging.
#[derive(Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}
