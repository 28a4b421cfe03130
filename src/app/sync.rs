//! Block sync of a relay: every relay with a store serves the Wharf sync protocols (and, on
//! Starknet networks, Starknet's own five); a relay that
//! is not a feeder also runs the P2P sync pipeline towards the best announced head.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chain::{BlockNumber, ChainAdapter, ChainKind};
use crate::config::Config;
use crate::control::Control;
use crate::p2p::P2pHandle;
use crate::store::BlockStore;
use crate::sync::starknet::client::PeerProtocols;
use crate::sync::starknet::StarknetServer;
use crate::sync::{
    ChainVerifier, SyncMetrics, SyncPipeline, SyncProtocol, SyncServer, SyncServerError,
};
use libp2p::PeerId;

/// Pause before the pipeline is rebuilt after a failure (a store error, a verifier bug).
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// What sync needs from the rest of the node.
pub struct SyncDeps {
    pub p2p: P2pHandle,
    pub store: BlockStore,
    pub adapter: Arc<dyn ChainAdapter>,
    pub control: Control,
    pub metrics: SyncMetrics,
    pub best_known: watch::Receiver<BlockNumber>,
    /// Raised by the heads peers report.
    pub best_tx: Arc<watch::Sender<BlockNumber>>,
}

/// Starts serving, and (not in feeder mode) following the best announced head.
pub fn spawn(
    config: &Config,
    deps: SyncDeps,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<(), SyncServerError> {
    let network = config.node.network.clone();
    let server = SyncServer::new(
        network.clone(),
        Arc::new(deps.store.clone()),
        Arc::new(deps.control.clone()),
        deps.metrics.clone(),
        config.sync.server.clone(),
    )
    .with_addresses(Arc::new(deps.p2p.peer_ips()));
    if config.node.chain_kind() == ChainKind::Starknet {
        let starknet = StarknetServer::new(
            Arc::new(deps.store.clone()),
            Arc::new(deps.control.clone()),
            deps.metrics.clone(),
            config.sync.server.clone(),
            server.limiter(),
        );
        starknet.spawn(&mut deps.p2p.stream_control(), tracker, cancel.clone())?;
    }
    server.spawn(&mut deps.p2p.stream_control(), tracker, cancel.clone())?;
    super::heads::serve(config, &deps, tracker, cancel)?;
    if !config.feeder.enabled {
        super::heads::discover(config, &deps, tracker, cancel);
        tracker.spawn(follow(network, config.sync.clone(), deps, cancel.clone()));
    }
    Ok(())
}

/// Runs the pipeline until cancelled, rebuilding it after a failure.
async fn follow(
    network: String,
    cfg: crate::sync::SyncConfig,
    d: SyncDeps,
    cancel: CancellationToken,
) {
    let (peers, wharf_peers) = sync_peers(&d.p2p, cfg.protocol, &cancel);
    loop {
        let pipeline = SyncPipeline::new(
            d.p2p.stream_control(),
            network.clone(),
            Arc::new(ChainVerifier(d.adapter.clone())),
            Arc::new(d.store.clone()),
            Arc::new(d.control.clone()),
            d.metrics.clone(),
            cfg.clone(),
        )
        .with_peer_protocols(Arc::new(WharfPeers(wharf_peers.clone())));
        match pipeline
            .run(d.best_known.clone(), peers.clone(), cancel.clone())
            .await
        {
            Ok(()) => return,
            Err(e) => tracing::error!(error = %e, "P2P sync failed; restarting"),
        }
        if cancel
            .run_until_cancelled(tokio::time::sleep(RESTART_DELAY))
            .await
            .is_none()
        {
            return;
        }
    }
}

/// The peers the pipeline syncs from under `sync.protocol` (for `auto`, those announcing either
/// protocol family, kept up to date by a task), and those announcing Wharf's.
fn sync_peers(
    p2p: &P2pHandle,
    protocol: SyncProtocol,
    cancel: &CancellationToken,
) -> (watch::Receiver<Vec<PeerId>>, watch::Receiver<Vec<PeerId>>) {
    let (wharf, starknet) = (p2p.sync_peers(), p2p.starknet_sync_peers());
    let peers = match protocol {
        SyncProtocol::Wharf => wharf.clone(),
        SyncProtocol::Starknet => starknet,
        SyncProtocol::Auto => union(wharf.clone(), starknet, cancel.clone()),
    };
    (peers, wharf)
}

/// A watch of the sorted union of two peer lists, until `cancel`.
fn union(
    mut a: watch::Receiver<Vec<PeerId>>,
    mut b: watch::Receiver<Vec<PeerId>>,
    cancel: CancellationToken,
) -> watch::Receiver<Vec<PeerId>> {
    let (tx, rx) = watch::channel(Vec::new());
    tokio::spawn(async move {
        loop {
            let mut all: Vec<PeerId> = a.borrow_and_update().clone();
            all.extend(b.borrow_and_update().iter().copied());
            all.sort();
            all.dedup();
            tx.send_if_modified(|old| std::mem::replace(old, all.clone()) != all);
            tokio::select! {
                _ = cancel.cancelled() => return,
                r = a.changed() => if r.is_err() { return },
                r = b.changed() => if r.is_err() { return },
            }
        }
    });
    rx
}

/// `sync.protocol = "auto"`: a peer announcing Wharf's sync protocols is asked over them.
struct WharfPeers(watch::Receiver<Vec<PeerId>>);

impl PeerProtocols for WharfPeers {
    fn speaks_wharf(&self, peer: &PeerId) -> Option<bool> {
        Some(self.0.borrow().binary_search(peer).is_ok())
    }
}
