//! Peer scores: list (paged), one with its event history, reset.

use axum::extract::State;
use axum::{Extension, Json};

use crate::api::audit::AuditDetail;
use crate::api::extract::{ApiPath, ApiQuery, Page, Paging};
use crate::api::routes::peers::parse_peer_id;
use crate::api::{ApiError, ApiState};
use crate::control::PeerScore;

/// Events returned with one peer's score.
const HISTORY: u32 = 100;

pub async fn list(
    State(st): State<ApiState>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<Page<PeerScore>>, ApiError> {
    let paging = paging.check()?;
    let mut scores = st.control.scores();
    scores.sort_by(|a, b| a.score.total_cmp(&b.score));
    let total = scores.len() as u64;
    Ok(Json(Page {
        items: paging.page(scores),
        total,
        offset: paging.offset,
        limit: paging.limit,
    }))
}

pub async fn get_one(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<PeerScore>, ApiError> {
    let peer = parse_peer_id(&raw)?;
    let Some(mut score) = st.control.score(&peer) else {
        return Err(ApiError::NotFound(format!(
            "no score recorded for peer {peer}"
        )));
    };
    // The stored history outlives restarts and the in-memory window; prefer it when reachable.
    if let Ok(history) = st.control.score_history(&peer, HISTORY).await {
        if !history.is_empty() {
            score.history = history;
        }
    }
    Ok(Json(score))
}

pub async fn reset(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<(Extension<AuditDetail>, Json<serde_json::Value>), ApiError> {
    let peer = parse_peer_id(&raw)?;
    st.control.reset_score(&peer).await?;
    let body = serde_json::json!({ "peer": peer.to_string(), "score": 0.0 });
    Ok((AuditDetail::peer(&peer), Json(body)))
}
