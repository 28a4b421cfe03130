//! `wharf bench sync`: P2P sync of pre-minted devnet blocks from relays into a fresh node over
//! loopback, measured against a bare libp2p stream transfer of the same bytes in the same run.
//!
//! Everything runs in one process: the relays and the node are real swarms with the production
//! TCP transport (Noise, Yamux, `TCP_NODELAY`) on 127.0.0.1, the relays serve from redb stores
//! on the caller's Tokio runtime and the joining node syncs with the real pipeline (every header
//! signature, body commitment and parent link checked) into a fresh redb store on a runtime of
//! its own, whose threads' CPU time is the joiner's cost per block (`cpu.rs`).

mod bare;
mod capacity;
mod chain;
mod cpu;
mod net;
mod profile;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chain::{BlockHash, BlockNumber, ChainAdapter};
use crate::store::{BlockStore, StoreError, StoreMetrics};
use crate::sync::{
    ChainVerifier, NoopReporter, PipelineError, SyncConfig, SyncMetrics, SyncPipeline, SyncServer,
};

pub use capacity::{run_bare, run_connections, ConnBenchParams, ConnBenchReport, Spread};
pub use net::BenchNode;
pub use report::{LoadAverage, SyncBenchReport, Transfer};

/// Network name of the benchmark's protocol ids.
const NETWORK: &str = "bench";

/// What one `wharf bench sync` run does.
#[derive(Debug, Clone)]
pub struct SyncBenchParams {
    /// Blocks to pre-mint and sync.
    pub blocks: u64,
    /// Transactions (and receipts and events) per block.
    pub txs_per_block: u32,
    /// Bytes per transaction.
    pub tx_size: u32,
    /// Relays serving the blocks (each with its own store and swarm).
    pub relays: usize,
    /// Seed of the block contents and of the upstream key.
    pub seed: u64,
    /// Also time verification and commits alone, on one thread.
    pub profile: bool,
    /// Where the stores go (a temporary directory, removed afterwards, when `None`).
    pub dir: Option<PathBuf>,
    /// Sync configuration of the node (and limits of the relays).
    pub sync: SyncConfig,
}

impl Default for SyncBenchParams {
    fn default() -> Self {
        SyncBenchParams {
            blocks: 20_000,
            txs_per_block: 16,
            tx_size: 400,
            relays: 2,
            seed: 1,
            profile: false,
            dir: None,
            sync: SyncConfig::default(),
        }
    }
}

/// Why the benchmark could not run (or its result is wrong).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad parameters.
    #[error("invalid parameters: {0}")]
    Params(&'static str),
    /// A block store failed.
    #[error("block store: {0}")]
    Store(#[from] StoreError),
    /// Creating the work directory failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A swarm could not be built, listen or connect.
    #[error("network: {0}")]
    Net(String),
    /// The sync pipeline stopped.
    #[error("sync: {0}")]
    Sync(#[from] PipelineError),
    /// The synced chain differs from the minted one, or the bare transfer came up short.
    #[error("wrong result: {0}")]
    Wrong(String),
}

/// Runs one benchmark: pre-mint, serve, sync, bare transfer.
pub async fn run_sync(params: SyncBenchParams) -> Result<SyncBenchReport, BenchError> {
    if params.blocks == 0 || params.relays == 0 {
        return Err(BenchError::Params(
            "--blocks and --relays must be at least 1",
        ));
    }
    let (_tmp, dir) = work_dir(&params)?;
    let load_before = LoadAverage::read();
    let started = Instant::now();
    let minted = chain::premint(&params, &dir)?;
    let premint_secs = started.elapsed().as_secs_f64();
    let profile = match params.profile {
        true => Some(profile::run(&minted, &dir.join("profile"))?),
        false => None,
    };
    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    let relays = start_relays(&params, &minted, &tracker, &cancel).await?;
    let joiner = cpu::Joiner::new()?;
    let dial: Vec<_> = relays.iter().map(|r| (r.peer, r.addr.clone())).collect();
    let node = joiner
        .run(async move { net::BenchNode::spawn_dialing(&dial).await })
        .await??;
    let fresh = FreshSync {
        params: params.clone(),
        expect: (minted.adapter.clone(), minted.head, minted.bytes),
        control: node.control.clone(),
        peers: relays.iter().map(|r| r.peer).collect(),
        dir: dir.join("node"),
    };
    let cpu_before = cpu::threads_cpu(cpu::JOINER_THREAD);
    let sync = joiner.run(fresh.run()).await??;
    let joiner_cpu = cpu::threads_cpu(cpu::JOINER_THREAD).saturating_sub(cpu_before);
    let plan = bare::Plan::mirroring(&minted.sizes, &params.sync.pipeline, relays.len());
    let bare = bare::transfer(&node, &relays, &plan).await?;
    cancel.cancel();
    tracker.close();
    Ok(SyncBenchReport {
        blocks: params.blocks,
        block_bytes: minted.bytes as f64 / params.blocks as f64,
        relays: params.relays,
        premint_secs,
        sync,
        joiner_cpu,
        bare,
        profile,
        load_before,
        load_after: LoadAverage::read(),
    })
}

/// The directory the stores go in, and the temporary directory guard that removes it.
fn work_dir(params: &SyncBenchParams) -> Result<(Option<tempfile::TempDir>, PathBuf), BenchError> {
    match &params.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            if std::fs::read_dir(d)?.next().is_some() {
                return Err(BenchError::Params(
                    "--dir must be empty: the node's store must be fresh",
                ));
            }
            Ok((None, d.clone()))
        }
        None => {
            let tmp = tempfile::Builder::new().prefix("wharf-bench-").tempdir()?;
            let path = tmp.path().to_path_buf();
            Ok((Some(tmp), path))
        }
    }
}

/// Starts one swarm per relay store, serving the sync protocols and the bare protocol.
async fn start_relays(
    params: &SyncBenchParams,
    minted: &chain::Minted,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) -> Result<Vec<net::BenchNode>, BenchError> {
    let mut relays = Vec::with_capacity(minted.relays.len());
    for store in &minted.relays {
        let relay = net::BenchNode::spawn(&[]).await?;
        let metrics = SyncMetrics::register(&mut Registry::default());
        let server = SyncServer::new(
            NETWORK,
            Arc::new(store.clone()),
            Arc::new(NoopReporter),
            metrics,
            params.sync.server.clone(),
        );
        let mut control = relay.control.clone();
        server
            .spawn(&mut control, tracker, cancel.clone())
            .map_err(|e| BenchError::Net(e.to_string()))?;
        bare::serve(&mut control, tracker, cancel)?;
        relays.push(relay);
    }
    Ok(relays)
}

/// Syncs the whole chain from `relays` into a fresh store under `dir`; checks the head against
/// the minted one (on the caller's runtime).
async fn sync_into_fresh_store(
    params: &SyncBenchParams,
    minted: &chain::Minted,
    node: &net::BenchNode,
    relays: &[libp2p::PeerId],
    dir: &std::path::Path,
) -> Result<Transfer, BenchError> {
    let fresh = FreshSync {
        params: params.clone(),
        expect: (minted.adapter.clone(), minted.head, minted.bytes),
        control: node.control.clone(),
        peers: relays.to_vec(),
        dir: dir.join("node"),
    };
    fresh.run().await
}

/// The joining node's sync, moved onto its own runtime.
struct FreshSync {
    params: SyncBenchParams,
    /// The chain's rules, and the head and bytes the sync must end with.
    expect: (Arc<dyn ChainAdapter>, (BlockNumber, BlockHash), usize),
    control: libp2p_stream::Control,
    peers: Vec<libp2p::PeerId>,
    dir: PathBuf,
}

impl FreshSync {
    /// Syncs the whole chain from the relays into a fresh store; checks the head against the
    /// minted one.
    async fn run(self) -> Result<Transfer, BenchError> {
        let (adapter, minted_head, bytes) = self.expect;
        let metrics = StoreMetrics::register(&mut Registry::default());
        let store = Arc::new(BlockStore::open(&self.dir, adapter.clone(), metrics)?);
        let mut pipeline = SyncPipeline::new(
            self.control,
            NETWORK,
            Arc::new(ChainVerifier(adapter)),
            store.clone(),
            Arc::new(NoopReporter),
            SyncMetrics::register(&mut Registry::default()),
            self.params.sync.clone(),
        );
        let relays = self.peers.len();
        let (_keep, peers) = watch::channel(self.peers);
        let started = Instant::now();
        let head = pipeline
            .sync_to(self.params.blocks - 1, &peers, &CancellationToken::new())
            .await?;
        let secs = started.elapsed().as_secs_f64();
        if store.head() != Some(minted_head) || head != minted_head.0 {
            return Err(BenchError::Wrong(format!(
                "synced head {:?}, minted {:?}",
                store.head(),
                minted_head
            )));
        }
        Ok(Transfer {
            bytes,
            secs,
            streams: bare::max_streams(&self.params.sync.pipeline, relays),
        })
    }
}
