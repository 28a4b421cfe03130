//! Sync protocols and pipeline over real libp2p swarms on 127.0.0.1.

#[path = "common/child.rs"]
mod child;
#[path = "sync/crash.rs"]
mod crash;
#[path = "sync/devnet.rs"]
mod devnet;
#[path = "sync/fixtures.rs"]
mod fixtures;
#[path = "sync/garbage.rs"]
mod garbage;
#[path = "sync/malicious.rs"]
mod malicious;
#[path = "starknet/mock.rs"]
#[allow(dead_code)]
mod mock;
#[path = "sync/net.rs"]
mod net;
#[path = "sync/pipeline.rs"]
mod pipeline;
#[path = "sync/protocol.rs"]
mod protocol;
#[path = "sync/slow_readers.rs"]
mod slow_readers;
#[path = "sync/starknet.rs"]
mod starknet;
#[path = "sync/starknet_encode.rs"]
mod starknet_encode;
#[path = "sync/starknet_peer.rs"]
mod starknet_peer;
#[path = "sync/starknet_wire.rs"]
mod starknet_wire;
#[path = "p2p/swarms.rs"]
mod swarms;
#[path = "sync/throughput.rs"]
mod throughput;

use std::sync::Arc;

use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wharf::sync::{BlockSource, PeerReporter, SyncMetrics, SyncServer, SyncServerConfig};

use net::Node;

/// Network name used in every test's protocol ids.
pub const NETWORK: &str = "testnet";

/// A node serving `source` with `cfg`, reporting to `reporter`; returns it and its registry.
pub async fn serving(
    source: Arc<dyn BlockSource>,
    reporter: Arc<dyn PeerReporter>,
    cfg: SyncServerConfig,
) -> (Node, Registry) {
    let node = Node::spawn(&[]).await.unwrap();
    let mut registry = Registry::default();
    let metrics = SyncMetrics::register(&mut registry);
    let server = SyncServer::new(NETWORK, source, reporter, metrics, cfg);
    let mut control = node.control.clone();
    server
        .spawn(&mut control, &TaskTracker::new(), CancellationToken::new())
        .unwrap();
    (node, registry)
}

/// The registry's text exposition.
pub fn exposition(registry: &Registry) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry).unwrap();
    out
}
