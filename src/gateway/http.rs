//! HTTP face of the devnet gateway (formats documented in the parent module).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::chain::{DevnetChain, Served};
use crate::chain::{BlockHash, BlockNumber};

/// Body of `GET /head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadResponse {
    /// Newest block number.
    pub number: BlockNumber,
    /// Its block hash, 64 hex digits.
    pub hash: BlockHash,
    /// Its timestamp in Unix milliseconds.
    pub timestamp_ms: u64,
}

/// Body of `GET /public-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyResponse {
    /// Always `ed25519` on devnet.
    pub key_type: String,
    /// The 32-byte public key, 64 hex digits.
    pub public_key: String,
}

/// The gateway's routes over its chain.
pub(crate) fn router(chain: DevnetChain) -> Router {
    Router::new()
        .route("/head", get(head))
        .route("/blocks/{number}", get(block))
        .route("/public-key", get(public_key))
        .with_state(chain)
}

async fn head(State(chain): State<DevnetChain>) -> Response {
    match chain.head() {
        Some((number, hash, timestamp_ms)) => Json(HeadResponse {
            number,
            hash,
            timestamp_ms,
        })
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn block(State(chain): State<DevnetChain>, Path(number): Path<BlockNumber>) -> Response {
    let octets = [(header::CONTENT_TYPE, "application/octet-stream")];
    match chain.serve(number) {
        None => (StatusCode::NOT_FOUND, "no such block").into_response(),
        Some(Served::Unavailable) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Some(Served::Bytes(bytes)) => (octets, bytes).into_response(),
    }
}

async fn public_key(State(chain): State<DevnetChain>) -> Json<PublicKeyResponse> {
    let key = chain.minter().adapter().public_key().to_bytes();
    Json(PublicKeyResponse {
        key_type: "ed25519".into(),
        public_key: hex::encode(key),
    })
}
