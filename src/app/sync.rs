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
use crate::sync::discovery::{self, HeadDeps};
use crate::sync::starknet::StarknetServer;
use crate::sync::{ChainVerifier, SyncMetrics, SyncPipeline, SyncServer, SyncServerError};

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
    let heads = HeadDeps {
        network: network.clone(),
        p2p: deps.p2p.clone(),
        adapter: deps.adapter.clone(),
        reporter: Arc::new(deps.control.clone()),
        best: deps.best_tx.clone(),
    };
    discovery::serve(&config.sync, &heads, deps.store.clone(), tracker, cancel)?;
    if !config.feeder.enabled {
        discovery::discover(&config.sync, heads, tracker, cancel);
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
    loop {
        let pipeline = SyncPipeline::new(
            d.p2p.stream_control(),
            network.clone(),
            Arc::new(ChainVerifier(d.adapter.clone())),
            Arc::new(d.store.clone()),
            Arc::new(d.control.clone()),
            d.metrics.clone(),
            cfg.clone(),
        );
        match pipeline
            .run(d.best_known.clone(), d.p2p.sync_peers(), cancel.clone())
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
