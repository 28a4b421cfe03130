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

/// Ready when the swarm task answers within 2 s, the ban/score store is reachable, and (with a
/// block store) the local head is within `api.ready_max_lag_blocks` of the best known head.
pub async fn readyz(State(st): State<ApiState>) -> impl IntoResponse {
    let probe = tokio::time::timeout(SWARM_PROBE, st.p2p.info()).await;
    let swarm = matches!(probe, Ok(Ok(_)));
    let store = st.control.store_healthy();
    let head = st
        .chain
        .store
        .as_ref()
        .and_then(|s| s.head())
        .map_or(0, |h| h.0);
    let lag = st.chain.best_known.borrow().saturating_sub(head);
    let synced = st.chain.store.is_none() || lag <= st.ready_max_lag;
    let ready = swarm && store && synced;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"swarm": swarm, "store": store, "synced": synced},
    });
    (status, Json(body))
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
