//! `GET /api/v1/node`: who this relay is and the addresses joining peers should use.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::api::{ApiError, ApiState};
use crate::p2p::NodeInfo;

#[derive(Serialize)]
pub struct NodeView {
    #[serde(flatten)]
    info: NodeInfo,
    mode: &'static str,
    version: &'static str,
    uptime_seconds: u64,
}

pub async fn get_node(State(st): State<ApiState>) -> Result<Json<NodeView>, ApiError> {
    // The published snapshot: a GET never waits on the swarm task (only right after start).
    let info = match st.p2p.snapshot() {
        Some(info) => info,
        None => st.p2p.info().await?,
    };
    Ok(Json(NodeView {
        info,
        mode: st.mode,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: st.started.elapsed().as_secs(),
    }))
}
