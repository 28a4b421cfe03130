//! Connected peers: list (paged, filtered), one, and disconnect.

use axum::extract::State;
use axum::{Extension, Json};
use libp2p::PeerId;
use serde::Deserialize;

use crate::api::audit::AuditDetail;
use crate::api::extract::{ApiPath, ApiQuery, Page, Paging};
use crate::api::{ApiError, ApiState};
use crate::p2p::PeerInfo;

/// Filters of `GET /api/v1/peers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerFilter {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
    /// `inbound` or `outbound`.
    direction: Option<String>,
    /// Substring of the identify agent version.
    agent: Option<String>,
    /// A protocol the peer announced.
    protocol: Option<String>,
}

fn default_limit() -> u64 {
    100
}

impl PeerFilter {
    fn check(&self) -> Result<Paging, ApiError> {
        if let Some(d) = &self.direction {
            if d != "inbound" && d != "outbound" {
                return Err(ApiError::BadRequest(format!(
                    "query: direction must be `inbound` or `outbound`, got `{d}`"
                )));
            }
        }
        Paging {
            offset: self.offset,
            limit: self.limit,
        }
        .check()
    }

    fn keeps(&self, p: &PeerInfo) -> bool {
        self.direction.as_deref().is_none_or(|d| p.direction == d)
            && self
                .agent
                .as_deref()
                .is_none_or(|a| p.agent.as_deref().is_some_and(|x| x.contains(a)))
            && self
                .protocol
                .as_deref()
                .is_none_or(|want| p.protocols.iter().any(|x| x == want))
    }
}

pub fn parse_peer_id(raw: &str) -> Result<PeerId, ApiError> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("path: peer_id `{raw}` is not a peer id: {e}")))
}

pub async fn list(
    State(st): State<ApiState>,
    ApiQuery(filter): ApiQuery<PeerFilter>,
) -> Result<Json<Page<PeerInfo>>, ApiError> {
    let paging = filter.check()?;
    let mut peers: Vec<PeerInfo> = st
        .p2p
        .peers()
        .await?
        .into_iter()
        .filter(|p| filter.keeps(p))
        .collect();
    peers.sort_by_key(|p| p.peer_id.to_string());
    let total = peers.len() as u64;
    Ok(Json(Page {
        items: paging.page(peers),
        total,
        offset: paging.offset,
        limit: paging.limit,
    }))
}

/// One peer with its control-plane score.
#[derive(serde::Serialize)]
pub struct PeerDetail {
    #[serde(flatten)]
    info: PeerInfo,
    /// Its score (absent while it has none).
    score: Option<f64>,
}

pub async fn get_one(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<PeerDetail>, ApiError> {
    let peer = parse_peer_id(&raw)?;
    let info = st.p2p.peer(peer).await?;
    let info = info.ok_or_else(|| ApiError::NotFound(format!("peer {peer} is not connected")))?;
    let score = st.control.score(&peer).map(|s| s.score);
    Ok(Json(PeerDetail { info, score }))
}

pub async fn disconnect(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<(Extension<AuditDetail>, Json<serde_json::Value>), ApiError> {
    let peer = parse_peer_id(&raw)?;
    if st.p2p.disconnect(peer).await? {
        let body = serde_json::json!({"peer_id": peer.to_string(), "disconnected": true});
        Ok((AuditDetail::peer(&peer), Json(body)))
    } else {
        Err(ApiError::NotFound(format!("peer {peer} is not connected")))
    }
}
