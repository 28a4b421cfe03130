//! Chain state: local head, best known head, lag, and stored headers.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::api::extract::ApiPath;
use crate::api::{ApiError, ApiState};
use crate::chain::{BlockNumber, Header};

#[derive(Serialize)]
pub struct ChainView {
    mode: &'static str,
    /// The chain rules blocks are verified with: `devnet` or `starknet`.
    chain: crate::chain::ChainKind,
    /// Last committed block number and hash; absent on an empty store.
    head: Option<HeadView>,
    /// Highest block announced (validly signed) over gossip.
    best_known: BlockNumber,
    /// The upstream gateway's head (feeders only).
    gateway_head: Option<BlockNumber>,
    /// `best_known - head`, in blocks.
    lag_blocks: u64,
    /// `synced`, `syncing`, or `disabled` (no upstream key: bootstrap only).
    sync_state: &'static str,
    /// The first block this relay holds: its trusted checkpoint's number, else 0 (genesis).
    /// Earlier blocks are answered as not found.
    history_from: BlockNumber,
}

#[derive(Serialize)]
pub struct HeadView {
    number: BlockNumber,
    hash: String,
}

pub async fn get_chain(State(st): State<ApiState>) -> Json<ChainView> {
    let head = st.chain.store.as_ref().and_then(|s| s.head());
    let best = *st.chain.best_known.borrow();
    let local = head.map_or(0, |h| h.0);
    let lag = best.saturating_sub(local);
    let sync_state = match (&st.chain.store, lag) {
        (None, _) => "disabled",
        (Some(_), 0) => "synced",
        _ => "syncing",
    };
    Json(ChainView {
        mode: st.mode,
        chain: st.chain.kind,
        head: head.map(|(number, hash)| HeadView {
            number,
            hash: hash.to_string(),
        }),
        best_known: best,
        gateway_head: (st.mode == "feeder")
            .then(|| st.chain.metrics.gateway_head.get().max(0) as u64),
        lag_blocks: lag,
        sync_state,
        history_from: st.chain.store.as_ref().map_or(0, |s| s.history_from()),
    })
}

#[derive(Serialize)]
pub struct HeaderView {
    number: BlockNumber,
    hash: String,
    parent_hash: String,
    timestamp_ms: u64,
    /// Per body component: its commitment (hex) and item count.
    bodies: Vec<BodyView>,
    signature: String,
}

#[derive(Serialize)]
pub struct BodyView {
    component: &'static str,
    commitment: String,
    count: u32,
}

fn view(header: Header, hash: String) -> HeaderView {
    let bodies = crate::chain::BODY_COMPONENTS
        .iter()
        .zip(header.bodies.iter())
        .map(|(c, b)| BodyView {
            component: c.name(),
            commitment: hex::encode(b.commitment),
            count: b.count,
        })
        .collect();
    HeaderView {
        number: header.number,
        hash,
        parent_hash: header.parent_hash.to_string(),
        timestamp_ms: header.timestamp_ms,
        bodies,
        signature: hex::encode(&header.signature),
    }
}

pub async fn get_block(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<HeaderView>, ApiError> {
    let number: BlockNumber = raw
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("path: number `{raw}` is not a block number")))?;
    let store = st
        .chain
        .store
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this relay stores no blocks".into()))?;
    let missing = || ApiError::NotFound(format!("block {number} is not stored here"));
    let header = store
        .header(number)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(missing)?;
    let hash = store
        .hash(number)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(missing)?;
    Ok(Json(view(header, hash.to_string())))
}
