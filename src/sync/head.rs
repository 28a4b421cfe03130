//! `/wharf/<network>/head/1.0.0`: a node asks each new peer for its newest signed header, so a
//! joining relay learns how far to sync at once instead of waiting for the next gossip
//! announcement (a quiet chain, or an upstream that is down, may not announce for a long time).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use libp2p::{PeerId, StreamProtocol};
use libp2p_stream::Control;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::sync::limits::Limiter;
use crate::sync::proto::Head;
use crate::sync::wire::{self, WireError};

/// Largest `Head` message read: a header with its signature is a few KiB on every chain.
pub const MAX_HEAD_SIZE: usize = 64 * 1024;

/// Where the server reads its newest header from (the block store in production).
pub type HeadSource = Arc<dyn Fn() -> Option<Bytes> + Send + Sync>;

/// Why asking a peer for its head failed.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The stream could not be opened (peer gone, protocol not supported).
    #[error("cannot open a head stream: {0}")]
    Open(String),
    /// The answer was missing, too big, undecodable or too slow.
    #[error("head answer: {0}")]
    Wire(#[from] WireError),
    /// The stream ended without a `Head`.
    #[error("stream ended without a head")]
    Missing,
}

/// The head protocol id on `network`.
pub fn head_protocol_id(network: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/wharf/{network}/head/1.0.0"))
        .expect("starts with a slash")
}

/// Answers every head stream `limiter` admits with the newest header from `source` until
/// `cancel` (a refused stream is dropped: the per-peer stream and rate limits of `[sync.server]`).
pub fn serve_head(
    control: &mut Control,
    network: &str,
    source: HeadSource,
    limiter: Limiter,
    timeout: Duration,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Result<(), crate::sync::SyncServerError> {
    let protocol = head_protocol_id(network);
    let mut incoming = control
        .accept(protocol.clone())
        .map_err(|_| crate::sync::SyncServerError::AlreadyRegistered(protocol))?;
    let streams = tracker.clone();
    tracker.spawn(async move {
        while let Some(Some((peer, mut stream))) = cancel.run_until_cancelled(incoming.next()).await
        {
            let permit = match limiter.admit(peer) {
                Ok(permit) => permit,
                Err(refusal) => {
                    tracing::debug!(%peer, ?refusal, "head stream refused");
                    continue;
                }
            };
            let head = Head {
                header: source().unwrap_or_default(),
            };
            streams.spawn(async move {
                let _permit = permit;
                let sent = wire::write_message(&mut stream, &head, &mut Vec::new(), timeout).await;
                if let Err(e) = sent.and(wire::close(&mut stream, timeout).await) {
                    tracing::debug!(%peer, error = %e, "head answer not delivered");
                }
            });
        }
    });
    Ok(())
}

/// Asks `peer` for its newest header; `Ok(None)` when it has no block yet.
pub async fn ask_head(
    control: &mut Control,
    peer: PeerId,
    network: &str,
    timeout: Duration,
) -> Result<Option<Bytes>, HeadError> {
    let open = control.open_stream(peer, head_protocol_id(network));
    let mut stream = tokio::time::timeout(timeout, open)
        .await
        .map_err(|_| HeadError::Wire(WireError::Timeout(timeout)))?
        .map_err(|e| HeadError::Open(e.to_string()))?;
    wire::close(&mut stream, timeout).await?;
    let head: Head = wire::read_message(&mut stream, MAX_HEAD_SIZE, timeout)
        .await?
        .ok_or(HeadError::Missing)?;
    Ok((!head.header.is_empty()).then_some(head.header))
}
