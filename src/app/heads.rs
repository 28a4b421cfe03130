//! Head discovery: every relay with blocks answers the head protocol; a relay that syncs over
//! P2P asks each new peer for its newest header and, once the signature verifies, raises its
//! sync target to it (a peer answering a bad header is penalised and logged).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::chain::raise_best;
use super::sync::SyncDeps;
use crate::chain::{BlockNumber, ChainAdapter, Component, VerifyError};
use crate::config::Config;
use crate::control::{Control, ScoreEvent};
use crate::sync::limits::Limiter;
use crate::sync::{ask_head, serve_head, HeadSource, SyncServerError};

/// Starts answering `/wharf/<network>/head/1.0.0` from the store.
pub fn serve(
    config: &Config,
    deps: &SyncDeps,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) -> Result<(), SyncServerError> {
    let store = deps.store.clone();
    let source: HeadSource = Arc::new(move || {
        let (number, _) = store.head()?;
        store.range(Component::Headers, number, 1).ok()?.pop()
    });
    let timeout = config.sync.server.write_timeout;
    let limiter = Limiter::new(
        Arc::new(config.sync.server.clone()),
        Arc::new(deps.p2p.peer_ips()),
    );
    let mut control = deps.p2p.stream_control();
    serve_head(
        &mut control,
        &config.node.network,
        source,
        limiter,
        timeout,
        tracker,
        cancel.clone(),
    )
}

/// What asking one peer needs.
#[derive(Clone)]
struct Asker {
    network: String,
    control: libp2p_stream::Control,
    adapter: Arc<dyn ChainAdapter>,
    scores: Control,
    best: Arc<watch::Sender<BlockNumber>>,
    timeout: Duration,
}

/// Asks every peer that joins the sync peer set (again after a reconnect) for its head.
pub fn discover(
    config: &Config,
    deps: &SyncDeps,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) {
    let asker = Asker {
        network: config.node.network.clone(),
        control: deps.p2p.stream_control(),
        adapter: deps.adapter.clone(),
        scores: deps.control.clone(),
        best: deps.best_tx.clone(),
        timeout: config.sync.client.request_timeout,
    };
    let peers = deps.p2p.sync_peers();
    tracker.spawn(discover_loop(asker, peers, tracker.clone(), cancel.clone()));
}

async fn discover_loop(
    asker: Asker,
    mut peers: watch::Receiver<Vec<PeerId>>,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    let mut asked: HashSet<PeerId> = HashSet::new();
    loop {
        let current = peers.borrow_and_update().clone();
        asked.retain(|p| current.contains(p));
        for peer in current {
            if asked.insert(peer) {
                let asker = asker.clone();
                tracker.spawn(cancel.clone().run_until_cancelled_owned(asker.learn(peer)));
            }
        }
        match cancel.run_until_cancelled(peers.changed()).await {
            Some(Ok(())) => continue,
            _ => return,
        }
    }
}

impl Asker {
    async fn learn(mut self, peer: PeerId) {
        let answer = ask_head(&mut self.control, peer, &self.network, self.timeout).await;
        let bytes = match answer {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(e) => return tracing::debug!(%peer, error = %e, "peer head not learned"),
        };
        match self.check(&bytes) {
            Ok(number) => {
                tracing::debug!(%peer, number, "peer head learned");
                raise_best(&self.best, number);
            }
            Err(e) => {
                tracing::warn!(%peer, reason = e.reason(), error = %e, "peer answered an invalid head");
                let event = match e {
                    VerifyError::BadSignature => ScoreEvent::BadSignature,
                    _ => ScoreEvent::InvalidData,
                };
                self.scores.penalise(peer, None, event);
            }
        }
    }

    /// Decodes the header and verifies its signature; returns its number.
    fn check(&self, bytes: &[u8]) -> Result<BlockNumber, VerifyError> {
        let header = self.adapter.decode_header(bytes)?;
        self.adapter.verify_header_signature(&header)?;
        Ok(header.number)
    }
}
