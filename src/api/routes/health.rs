//! `/healthz` (the process answers), `/readyz` (its dependencies answer), `/openapi.json`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::api::ApiState;

/// How long readiness waits for the swarm task.
const SWARM_PROBE: Duration = Duration::from_secs(2);

/// The OpenAPI document, compiled in.
pub const OPENAPI: &str = include_str!("../../../openapi/openapi.json");

pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready when the swarm task answers within 2 s.
pub async fn readyz(State(st): State<ApiState>) -> impl IntoResponse {
    let swarm_ok = matches!(
        tokio::time::timeout(SWARM_PROBE, st.p2p.info()).await,
        Ok(Ok(_))
    );
    let status = if swarm_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if swarm_ok { "ready" } else { "not_ready" },
        "checks": {"swarm": swarm_ok},
    });
    (status, Json(body))
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
