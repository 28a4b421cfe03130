//! `wharf bench connections`: how many idle inbound connections the relay holds, and at what
//! cost. N connections from distinct identities on 127.x.y.z source addresses are opened to the
//! relay (a `wharf run` child serving a pre-minted chain) and held: its resident memory per
//! connection, memory growth, idle CPU and `/healthz` latency are read, and a joiner syncs the
//! chain before and while they are held. Then the same N connections go to a bare rust-libp2p
//! node (same transport, identify, ping, Kademlia) in another child, for comparison.

mod dialer;
mod nodes;
mod peer;
mod process;
mod report;
mod sample;

use std::path::Path;
use std::time::Duration;

use crate::bench::{BenchError, LoadAverage, SyncBenchParams, Transfer};
use crate::sync::SyncConfig;

pub use dialer::Spread;
pub use nodes::run_bare;
pub use report::{ConnBenchReport, NodeFigures};

/// Handshakes the dialers run at once (the relay admits 128 pending by default).
const DIAL_CONCURRENCY: usize = 64;
/// Pause before the "before" reading, so start-up and the first sync settle.
const SETTLE: Duration = Duration::from_secs(2);

/// What one `wharf bench connections` run does.
#[derive(Debug, Clone)]
pub struct ConnBenchParams {
    /// Connections to hold.
    pub connections: usize,
    /// Seconds to hold them before the joiner syncs.
    pub hold_secs: f64,
    /// How they spread over source addresses.
    pub spread: Spread,
    /// Blocks the joiner syncs (before, and while the connections are held).
    pub sync_blocks: u64,
}

/// Runs the benchmark: relay, then bare node.
pub async fn run_connections(params: ConnBenchParams) -> Result<ConnBenchReport, BenchError> {
    if params.connections == 0 || params.sync_blocks == 0 || params.spread.per_ip == 0 {
        return Err(BenchError::Params(
            "--connections, --sync-blocks and --per-ip must be at least 1",
        ));
    }
    if params.spread.subnets(params.connections) > 250 * 256 {
        return Err(BenchError::Params("too many /24s: raise --per-subnet"));
    }
    crate::p2p::fd_limit::raise();
    let tmp = tempfile::Builder::new()
        .prefix("wharf-bench-conns-")
        .tempdir()?;
    let sync_params = SyncBenchParams {
        blocks: params.sync_blocks,
        relays: 1,
        ..SyncBenchParams::default()
    };
    let mut minted = super::chain::premint(&sync_params, tmp.path())?;
    minted.relays.clear(); // the relay child opens the store
    let key = crate::chain::devnet::keypair_from_seed(sync_params.seed);
    let key_hex = hex::encode(key.public().to_bytes());
    let data_dir = tmp.path().join("relay-0");
    let relay = nodes::start_relay(&data_dir, &key_hex, params.connections, params.spread).await?;
    let joiner = |i: usize| Joiner {
        params: &sync_params,
        minted: &minted,
        relay: &relay,
        dir: tmp.path().join(format!("joiner-{i}")),
    };
    let sync_before = joiner(0).sync().await?;
    tokio::time::sleep(SETTLE).await;
    let before = relay.node.stats()?;
    let prober = sample::Prober::start(relay.api);
    let held = dialer::dial_all(
        relay.p2p,
        params.connections,
        params.spread,
        DIAL_CONCURRENCY,
    )
    .await;
    let readings = sample::hold(&relay.node, before, params.hold_secs).await?;
    let sync_held = joiner(1).sync().await?;
    let (healthz_ms, healthz_failed) = prober.stop().await;
    let relay_figures = figures(&params, &held, readings);
    drop((held, relay));
    let bare = measure_bare(&params, tmp.path()).await?;
    Ok(ConnBenchReport {
        relay: relay_figures,
        bare,
        healthz_ms,
        healthz_failed,
        sync_before,
        sync_held,
        sync_blocks: params.sync_blocks,
        load: LoadAverage::read(),
    })
}

/// The same connections, held by the bare node.
async fn measure_bare(params: &ConnBenchParams, work: &Path) -> Result<NodeFigures, BenchError> {
    let (node, addr) = nodes::start_bare(work).await?;
    tokio::time::sleep(SETTLE).await;
    let before = node.stats()?;
    let held = dialer::dial_all(addr, params.connections, params.spread, DIAL_CONCURRENCY).await;
    let readings = sample::hold(&node, before, params.hold_secs).await?;
    Ok(figures(params, &held, readings))
}

fn figures(
    params: &ConnBenchParams,
    held: &dialer::Held,
    readings: sample::Readings,
) -> NodeFigures {
    NodeFigures {
        asked: params.connections,
        live: held.live.load(std::sync::atomic::Ordering::Relaxed),
        failed: held.failed,
        last_error: held.last_error.clone(),
        dial_secs: held.dial_secs,
        readings,
    }
}

/// A fresh node syncing the minted chain from the relay child.
struct Joiner<'a> {
    params: &'a SyncBenchParams,
    minted: &'a super::chain::Minted,
    relay: &'a nodes::Relay,
    dir: std::path::PathBuf,
}

impl Joiner<'_> {
    async fn sync(self) -> Result<Transfer, BenchError> {
        let addr: libp2p::Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", self.relay.p2p.port())
            .parse()
            .expect("valid multiaddr");
        let node = super::net::BenchNode::spawn_dialing(&[(self.relay.peer, addr)]).await?;
        let params = SyncBenchParams {
            sync: SyncConfig::default(),
            ..self.params.clone()
        };
        super::sync_into_fresh_store(&params, self.minted, &node, &[self.relay.peer], &self.dir)
            .await
    }
}
