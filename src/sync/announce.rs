//! Block announcements over gossip: a feeder publishes every head it commits; every relay
//! judges each announcement it receives (decodes the header, checks the upstream signature)
//! before gossipsub forwards it, and raises its sync target to a valid one.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::discovery::raise_best;
use crate::chain::{BlockNumber, ChainAdapter};
use crate::feeder::CommittedHead;
use crate::p2p::{GossipMessage, P2pHandle, Verdict};
use crate::store::BlockStore;

/// Publishes every head the feeder commits (header with the upstream signature).
pub async fn publish(
    mut heads: watch::Receiver<Option<CommittedHead>>,
    p2p: P2pHandle,
    adapter: Arc<dyn ChainAdapter>,
    cancel: CancellationToken,
) {
    while let Some(Ok(())) = cancel.run_until_cancelled(heads.changed()).await {
        let Some(head) = heads.borrow_and_update().clone() else {
            continue;
        };
        let bytes = adapter.encode_header(&head.header);
        if let Err(e) = p2p.publish(bytes.into()).await {
            tracing::debug!(block = head.number, error = %e, "announcement not published");
        }
    }
}

/// Decides what to do with one announcement.
pub struct Judge {
    /// The chain rules with the upstream key; without them nothing is forwarded.
    pub adapter: Option<Arc<dyn ChainAdapter>>,
    /// The local chain: announcements at or below its head are not forwarded.
    pub store: Option<BlockStore>,
    /// Raised to every validly signed announcement.
    pub best: Arc<watch::Sender<BlockNumber>>,
}

impl Judge {
    /// The verdict on one announcement.
    pub fn verdict(&self, msg: &GossipMessage) -> Verdict {
        // Without the upstream key we cannot tell good from bad: never forward.
        let Some(adapter) = &self.adapter else {
            return Verdict::Ignore;
        };
        let header = match adapter.decode_header(&msg.data) {
            Ok(h) => h,
            Err(e) => return reject(msg, &e.to_string()),
        };
        if let Err(e) = adapter.verify_header_signature(&header) {
            return reject(msg, &e.to_string());
        }
        let local = self.store.as_ref().and_then(|s| s.head()).map(|h| h.0);
        raise_best(&self.best, header.number);
        match local {
            Some(n) if header.number <= n => Verdict::Ignore,
            _ => Verdict::Accept,
        }
    }

    /// Judges every received announcement until `cancel` (or the swarm stops).
    pub async fn run(
        self,
        mut rx: mpsc::Receiver<GossipMessage>,
        p2p: P2pHandle,
        cancel: CancellationToken,
    ) {
        while let Some(Some(msg)) = cancel.run_until_cancelled(rx.recv()).await {
            let verdict = self.verdict(&msg);
            if p2p.validate(msg.id, msg.source, verdict).await.is_err() {
                return;
            }
        }
    }
}

fn reject(msg: &GossipMessage, reason: &str) -> Verdict {
    tracing::warn!(peer = %msg.source, %reason, "invalid block announcement");
    Verdict::Reject
}
