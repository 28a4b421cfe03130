//! The chain data path of a relay: the adapter built with the pinned upstream key, the block
//! store, feeder mode, and block announcements (published by feeders, judged by everyone).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chain::devnet::DevnetAdapter;
use crate::chain::starknet::StarknetAdapter;
use crate::chain::{BlockNumber, ChainAdapter, ChainKind, ChainMetrics, Checkpoint};
use crate::config::Config;
use crate::events::{Event, EventBus};
use crate::feeder::{self, Feeder, FeederDeps, FeederError, Upstream};
use crate::p2p::{GossipMessage, P2pHandle};
use crate::store::{BlockStore, Head, StoreError, StoreMetrics};
use crate::sync::announce::{self, Judge};

/// Why the chain data path could not start.
#[derive(Debug, thiserror::Error)]
pub enum ChainStartError {
    #[error(transparent)]
    Feeder(#[from] FeederError),
    #[error("block store: {0}")]
    Store(#[from] StoreError),
    #[error("gateway public key: {0}")]
    Key(String),
    #[error("checkpoint: feeder.checkpoint {0} and sync.checkpoint {1} differ")]
    Checkpoints(Checkpoint, Checkpoint),
}

/// What the rest of the app needs from the chain data path.
pub struct ChainPath {
    /// Chain rules with the pinned key; `None` on a relay with no upstream key (bootstrap only).
    pub adapter: Option<Arc<dyn ChainAdapter>>,
    /// Verified blocks; `None` without an adapter.
    pub store: Option<BlockStore>,
    /// Highest block number announced (validly signed) over gossip or by a peer's head.
    pub best_known: watch::Receiver<BlockNumber>,
    /// Raises `best_known` (see [`crate::sync::discovery::raise_best`]).
    pub best_tx: Arc<watch::Sender<BlockNumber>>,
    pub metrics: ChainMetrics,
}

/// Shared pieces the chain data path registers into or publishes to.
pub struct ChainDeps<'a> {
    pub registry: &'a mut prometheus_client::registry::Registry,
    pub store_metrics: StoreMetrics,
    pub events: &'a EventBus,
}

/// Opens the store, starts the feeder (feeder mode), the announcer and the gossip validator.
pub async fn start(
    config: &Config,
    p2p: &P2pHandle,
    gossip: mpsc::Receiver<GossipMessage>,
    deps: ChainDeps<'_>,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<ChainPath, ChainStartError> {
    let (registry, events) = (deps.registry, deps.events);
    let metrics = ChainMetrics::register(registry);
    let rules = rules(config).await?;
    if let Some(ChainRules::Starknet(a)) = &rules {
        a.unverifiable().register(registry);
    }
    let adapter = rules.as_ref().map(ChainRules::adapter);
    let store = open_store(config, adapter.as_ref(), deps.store_metrics)?;
    if let Some(s) = &store {
        apply_checkpoint(config, s, &metrics)?;
        let (events, metrics) = (events.clone(), metrics.clone());
        tracker.spawn(report_commits(
            s.subscribe_head(),
            events,
            metrics,
            cancel.clone(),
        ));
    }
    let (best_tx, best_known) =
        watch::channel(store.as_ref().and_then(|s| s.head()).map_or(0, |h| h.0));
    let best_tx = Arc::new(best_tx);
    if let (true, Some(r), Some(a), Some(s)) = (config.feeder.enabled, &rules, &adapter, &store) {
        let deps = FeederDeps {
            adapter: a.clone(),
            store: s.clone(),
            metrics: metrics.clone(),
            upstream: r.upstream(&config.feeder).map_err(FeederError::from)?,
        };
        let handle = Feeder::spawn(config.feeder.clone(), deps, cancel.clone(), tracker)?;
        tracker.spawn(announce::publish(
            handle.subscribe(),
            p2p.clone(),
            a.clone(),
            cancel.clone(),
        ));
    }
    let judge = Judge {
        adapter: adapter.clone(),
        store: store.clone(),
        best: best_tx.clone(),
    };
    tracker.spawn(judge.run(gossip, p2p.clone(), cancel.clone()));
    Ok(ChainPath {
        adapter,
        store,
        best_known,
        best_tx,
        metrics,
    })
}

/// The block store, when there are chain rules to verify blocks with.
fn open_store(
    config: &Config,
    adapter: Option<&Arc<dyn ChainAdapter>>,
    metrics: StoreMetrics,
) -> Result<Option<BlockStore>, StoreError> {
    let Some(adapter) = adapter else {
        tracing::warn!("no upstream gateway key (--gateway-public-key): this relay only bootstraps; it neither syncs nor serves blocks");
        return Ok(None);
    };
    BlockStore::open(&config.node.data_dir, adapter.clone(), metrics).map(Some)
}

/// Starts the store's chain at the configured checkpoint (refused if the stored chain
/// contradicts it), says once what is trusted, and publishes `wharf_chain_history_from`.
fn apply_checkpoint(
    config: &Config,
    store: &BlockStore,
    metrics: &ChainMetrics,
) -> Result<(), ChainStartError> {
    let checkpoint = match (config.feeder.checkpoint, config.sync.checkpoint) {
        (Some(f), Some(s)) if f != s => return Err(ChainStartError::Checkpoints(f, s)),
        (f, s) => f.or(s),
    };
    if let Some(cp) = checkpoint {
        store.set_checkpoint(cp)?;
        tracing::warn!(number = cp.number, hash = %format_args!("0x{}", cp.hash),
            "TRUSTED CHECKPOINT: block {} is taken to have hash 0x{} on the operator's word; its parent and every earlier block are neither held nor verified, and requests for them are answered not found; every block after it is verified as usual",
            cp.number, cp.hash);
    }
    metrics.history_from.set(store.history_from() as i64);
    Ok(())
}

/// The network's chain rules, built with the upstream key.
enum ChainRules {
    Devnet(Arc<DevnetAdapter>),
    Starknet(Arc<StarknetAdapter>),
}

impl ChainRules {
    fn adapter(&self) -> Arc<dyn ChainAdapter> {
        match self {
            ChainRules::Devnet(a) => a.clone(),
            ChainRules::Starknet(a) => a.clone(),
        }
    }

    /// The gateway a feeder follows, speaking this chain's upstream protocol.
    fn upstream(&self, cfg: &feeder::FeederConfig) -> Result<Upstream, feeder::FetchError> {
        match self {
            ChainRules::Devnet(_) => Upstream::devnet(cfg),
            ChainRules::Starknet(a) => Upstream::starknet(cfg, a.clone()),
        }
    }
}

/// The chain rules with the upstream key; `None` when no key is known (bootstrap-only relay).
async fn rules(config: &Config) -> Result<Option<ChainRules>, ChainStartError> {
    let (cfg, node) = (&config.feeder, &config.node);
    let key = feeder::upstream_key(cfg, node.chain_kind(), &node.network, &node.data_dir);
    let Some(key) = key.await? else {
        return Ok(None);
    };
    let bad_key = |e: crate::chain::VerifyError| ChainStartError::Key(e.to_string());
    let rules = match config.node.chain_kind() {
        ChainKind::Devnet => ChainRules::Devnet(Arc::new(
            DevnetAdapter::from_key_bytes(&key).map_err(bad_key)?,
        )),
        ChainKind::Starknet => {
            let chain_id = config
                .starknet_chain_id()
                .ok_or_else(|| ChainStartError::Key("starknet.chain_id is not set".into()))?;
            ChainRules::Starknet(Arc::new(
                StarknetAdapter::new(&chain_id, &key).map_err(bad_key)?,
            ))
        }
    };
    Ok(Some(rules))
}

/// Publishes a `block_committed` event and `wharf_chain_head` for every new head of the store,
/// whoever committed it (feeder or P2P sync).
async fn report_commits(
    mut head: watch::Receiver<Head>,
    events: EventBus,
    metrics: ChainMetrics,
    cancel: CancellationToken,
) {
    while let Some(Ok(())) = cancel.run_until_cancelled(head.changed()).await {
        if let Some((number, hash)) = *head.borrow_and_update() {
            metrics.chain_head.set(number as i64);
            events.publish(Event::BlockCommitted {
                number,
                hash: hash.to_string(),
            });
        }
    }
}
