//! Pre-minting: seeded devnet blocks committed straight into every relay's store (no HTTP).

use std::path::Path;
use std::sync::Arc;

use prometheus_client::registry::Registry;

use super::{BenchError, SyncBenchParams};
use crate::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
use crate::chain::{Block, BlockHash, BlockNumber, ChainAdapter};
use crate::store::{BlockStore, StoreMetrics};

/// Blocks per pre-mint transaction.
const BATCH: usize = 1_000;
/// Timestamp of block 0 (Unix ms); block `n` is `n` seconds later.
const GENESIS_MS: u64 = 1_700_000_000_000;

/// The pre-minted chain, held by every relay's store.
pub struct Minted {
    /// Verifies the chain (the upstream key derived from the seed).
    pub adapter: Arc<dyn ChainAdapter>,
    /// One store per relay, each holding the whole chain.
    pub relays: Vec<BlockStore>,
    /// Number and hash of the last block.
    pub head: (BlockNumber, BlockHash),
    /// Wire size of each block's six parts (encoded header, the four bodies, its classes).
    pub sizes: Vec<[usize; 6]>,
    /// Sum of `sizes`: the bytes a sync moves.
    pub bytes: usize,
}

/// Mints `params.blocks` blocks from `params.seed` and commits them into `params.relays` stores
/// under `dir`.
pub fn premint(params: &SyncBenchParams, dir: &Path) -> Result<Minted, BenchError> {
    let mint = MintParams {
        seed: params.seed,
        txs_per_block: params.txs_per_block,
        tx_size: params.tx_size,
    };
    let minter = DevnetMinter::new(keypair_from_seed(params.seed), mint);
    let adapter: Arc<dyn ChainAdapter> = Arc::new(minter.adapter().clone());
    let relays = (0..params.relays)
        .map(|i| {
            let metrics = StoreMetrics::register(&mut Registry::default());
            BlockStore::open(&dir.join(format!("relay-{i}")), adapter.clone(), metrics)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut sizes = Vec::with_capacity(params.blocks as usize);
    let mut batch: Vec<Block> = Vec::with_capacity(BATCH);
    let mut parent = None;
    for number in 0..params.blocks {
        let block = minter.mint(parent.as_ref(), GENESIS_MS + number * 1000);
        sizes.push(wire_sizes(&*adapter, &block));
        parent = Some(block.header.clone());
        batch.push(block);
        if batch.len() == BATCH || number + 1 == params.blocks {
            for store in &relays {
                store.commit_batch(&batch)?;
            }
            batch.clear();
        }
    }
    let head = relays[0].head().expect("at least one block committed");
    let bytes = sizes.iter().flatten().sum();
    Ok(Minted {
        adapter,
        relays,
        head,
        sizes,
        bytes,
    })
}

/// Bytes of each part of `block` as the sync protocols carry them.
fn wire_sizes(adapter: &dyn ChainAdapter, block: &Block) -> [usize; 6] {
    let [t, r, e, s] = block.bodies.each_ref().map(|b| b.len());
    let header = adapter.encode_header(&block.header).len();
    [header, t, r, e, s, block.classes.len()]
}
