//! Head discovery: every relay with blocks answers the head protocol; a relay that syncs over
//! P2P asks each new peer for its newest header and, once the signature verifies, raises its
//! sync target to it (a peer answering a bad header is reported and logged).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::head::{ask_head, serve_head, HeadSource};
use super::limits::Limiter;
use super::report::{PeerReport, PeerReporter};
use super::server::SyncServerError;
use super::SyncConfig;
use crate::chain::{BlockNumber, ChainAdapter, Component, VerifyError};
use crate::p2p::P2pHandle;
use crate::store::BlockStore;

/// What serving and discovering heads need from the node.
#[derive(Clone)]
pub struct HeadDeps {
    /// Network name; scopes the head protocol id.
    pub network: String,
    pub p2p: P2pHandle,
    pub adapter: Arc<dyn ChainAdapter>,
    /// Told about peers that answer a bad head.
    pub reporter: Arc<dyn PeerReporter>,
    /// Raised to every verified head a peer reports.
    pub best: Arc<watch::Sender<BlockNumber>>,
}

/// Raises the best known block number to `number` if it is higher.
pub fn raise_best(best: &watch::Sender<BlockNumber>, number: BlockNumber) {
    best.send_if_modified(|b| {
        let newer = number > *b;
        if newer {
            *b = number;
        }
        newer
    });
}

/// Starts answering `/wharf/<network>/head/1.0.0` from the store.
pub fn serve(
    cfg: &SyncConfig,
    deps: &HeadDeps,
    store: BlockStore,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) -> Result<(), SyncServerError> {
    let source: HeadSource = Arc::new(move || {
        let (number, _) = store.head()?;
        store.range(Component::Headers, number, 1).ok()?.pop()
    });
    let limiter = Limiter::new(Arc::new(cfg.server.clone()), Arc::new(deps.p2p.peer_ips()));
    let mut control = deps.p2p.stream_control();
    let timeout = cfg.server.write_timeout;
    let network = &deps.network;
    serve_head(
        &mut control,
        network,
        source,
        limiter,
        timeout,
        tracker,
        cancel.clone(),
    )
}

/// Asks every peer that joins the sync peer set (again after a reconnect) for its head.
pub fn discover(
    cfg: &SyncConfig,
    deps: HeadDeps,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) {
    let peers = deps.p2p.sync_peers();
    let asker = Asker {
        control: deps.p2p.stream_control(),
        timeout: cfg.client.request_timeout,
        deps,
    };
    tracker.spawn(discover_loop(asker, peers, tracker.clone(), cancel.clone()));
}

/// What asking one peer needs.
#[derive(Clone)]
struct Asker {
    deps: HeadDeps,
    control: libp2p_stream::Control,
    timeout: Duration,
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
        let network = &self.deps.network;
        let answer = ask_head(&mut self.control, peer, network, self.timeout).await;
        let bytes = match answer {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(e) => return tracing::debug!(%peer, error = %e, "peer head not learned"),
        };
        match self.check(&bytes) {
            Ok(number) => {
                tracing::debug!(%peer, number, "peer head learned");
                raise_best(&self.deps.best, number);
            }
            Err(e) => {
                tracing::warn!(%peer, reason = e.reason(), error = %e, "peer answered an invalid head");
                let report = match e {
                    VerifyError::BadSignature => PeerReport::BadSignature,
                    _ => PeerReport::InvalidData,
                };
                self.deps.reporter.report(peer, report);
            }
        }
    }

    /// Decodes the header and verifies its signature; returns its number.
    fn check(&self, bytes: &[u8]) -> Result<BlockNumber, VerifyError> {
        let header = self.deps.adapter.decode_header(bytes)?;
        self.deps.adapter.verify_header_signature(&header)?;
        Ok(header.number)
    }
}
