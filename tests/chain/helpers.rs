//! Shared fixtures: deterministic chains, gateways on port 0, feeders in temp dirs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wharf::chain::devnet::{keypair_from_seed, DevnetAdapter, DevnetMinter, MintParams};
use wharf::chain::{Block, ChainAdapter, ChainMetrics};
use wharf::feeder::{pin_gateway_key, Feeder, FeederConfig, FeederDeps, FeederHandle};
use wharf::gateway::{Gateway, GatewayConfig, RunningGateway};
use wharf::store::{BlockStore, StoreMetrics};

/// Generous deadline for conditions on this 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn params() -> MintParams {
    MintParams {
        seed: 7,
        txs_per_block: 8,
        tx_size: 200,
    }
}

pub fn minter() -> DevnetMinter {
    DevnetMinter::new(keypair_from_seed(7), params())
}

/// `n` consecutive blocks from genesis.
pub fn mint_chain(minter: &DevnetMinter, n: usize) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::with_capacity(n);
    for i in 0..n {
        let parent = blocks.last().map(|b| &b.header);
        blocks.push(minter.mint(parent, 1_700_000_000_000 + i as u64 * 1000));
    }
    blocks
}

pub fn adapter(minter: &DevnetMinter) -> Arc<dyn ChainAdapter> {
    Arc::new(minter.adapter().clone())
}

pub fn open_store(dir: &Path, adapter: Arc<dyn ChainAdapter>) -> BlockStore {
    BlockStore::open(
        dir,
        adapter,
        StoreMetrics::register(&mut Registry::default()),
    )
    .unwrap()
}

/// A gateway on port 0 with `premint` blocks that mints every `block_time`.
pub async fn gateway(premint: u64, block_time: Duration) -> RunningGateway {
    let cfg = gateway_config(premint, block_time);
    Gateway::start(cfg, CancellationToken::new()).await.unwrap()
}

pub fn gateway_config(premint: u64, block_time: Duration) -> GatewayConfig {
    GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_time,
        premint,
        txs_per_block: 8,
        tx_size: 200,
        seed: 7,
        ..GatewayConfig::default()
    }
}

pub fn feeder_config(url: String) -> FeederConfig {
    FeederConfig {
        gateway_url: url,
        poll_interval: Duration::from_millis(50),
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_millis(500),
        batch_size: 16,
        ..FeederConfig::default()
    }
}

/// A running feeder with everything a test inspects.
pub struct TestFeeder {
    pub handle: FeederHandle,
    pub store: BlockStore,
    pub metrics: ChainMetrics,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

impl TestFeeder {
    /// Pins the key in `dir`, opens the store there and spawns the feeder.
    pub async fn start(cfg: FeederConfig, dir: &Path) -> TestFeeder {
        let key = pin_gateway_key(&cfg, wharf::chain::ChainKind::Devnet, dir)
            .await
            .unwrap();
        let adapter: Arc<dyn ChainAdapter> = Arc::new(DevnetAdapter::from_key_bytes(&key).unwrap());
        let store = open_store(dir, adapter.clone());
        let metrics = ChainMetrics::register(&mut Registry::default());
        let deps = FeederDeps {
            adapter,
            store: store.clone(),
            metrics: metrics.clone(),
            upstream: wharf::feeder::Upstream::devnet(&cfg).unwrap(),
        };
        let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
        let handle = Feeder::spawn(cfg, deps, cancel.clone(), &tracker).unwrap();
        TestFeeder {
            handle,
            store,
            metrics,
            cancel,
            tracker,
        }
    }

    /// Stops the feeder and waits for its task to end.
    pub async fn stop(self) -> BlockStore {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(DEADLINE, self.tracker.wait())
            .await
            .unwrap();
        self.store
    }

    /// Waits until the store's head is `number`.
    pub async fn wait_head(&self, number: u64) {
        let mut heads = self.handle.subscribe();
        let reached = heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number >= number));
        tokio::time::timeout(DEADLINE, reached)
            .await
            .unwrap_or_else(|_| panic!("head {number} not reached; at {:?}", self.store.head()))
            .unwrap();
        assert_eq!(
            self.store.head().unwrap().0,
            number,
            "overshot the expected head"
        );
    }
}

/// Polls `cond` until it holds, failing after [`DEADLINE`].
pub async fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    crate::wait::wait_until_true(DEADLINE, what, cond).await
}

/// Asserts that the store holds exactly the gateway's blocks `0..=head`.
pub fn assert_same_chain(store: &BlockStore, gateway: &RunningGateway, head: u64) {
    for n in 0..=head {
        let ours = store
            .block(n)
            .unwrap()
            .unwrap_or_else(|| panic!("block {n} missing"));
        assert_eq!(Some(ours), gateway.chain().block(n), "block {n} differs");
    }
    assert_eq!(store.block(head + 1).unwrap(), None);
}
