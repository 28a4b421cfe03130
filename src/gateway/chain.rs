//! The gateway's in-memory chain: minted blocks, the tamper hooks tests use to make it
//! misbehave, and the clock that stamps blocks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use crate::chain::devnet::{DevnetMinter, MintParams};
use crate::chain::wire::encode_block;
use crate::chain::{Block, BlockHash, BlockNumber, ChainAdapter};

/// How the gateway misbehaves when serving one block (test hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Serve bytes that are not a block.
    Garbage,
    /// Flip a byte in the first transaction (commitment mismatch).
    Transaction,
    /// Flip a byte of the signature (bad signature).
    Signature,
    /// Append an extra event (count mismatch).
    ExtraEvent,
    /// Answer 503 Service Unavailable.
    Unavailable,
}

/// What `GET /blocks/{number}` answers.
pub(crate) enum Served {
    /// The framed block (possibly tampered) or garbage bytes.
    Bytes(Bytes),
    /// Service unavailable.
    Unavailable,
}

/// Minted blocks plus the minter. Clone shares the same chain, so a stopped gateway's
/// chain can be handed to a restarted one.
#[derive(Clone)]
pub struct DevnetChain {
    minter: Arc<DevnetMinter>,
    blocks: Arc<RwLock<Vec<(BlockHash, Block)>>>,
    tampered: Arc<Mutex<HashMap<BlockNumber, Tamper>>>,
    genesis_time_ms: u64,
    block_time_ms: u64,
}

impl DevnetChain {
    /// An empty chain; block `n` will be stamped `genesis_time_ms + n * block_time_ms`.
    pub fn new(minter: DevnetMinter, genesis_time_ms: u64, block_time_ms: u64) -> Self {
        DevnetChain {
            minter: Arc::new(minter),
            blocks: Arc::default(),
            tampered: Arc::default(),
            genesis_time_ms,
            block_time_ms,
        }
    }

    /// Parameters the blocks are minted with.
    pub fn minter(&self) -> &DevnetMinter {
        &self.minter
    }

    /// Mints the next block and returns its number and hash.
    pub fn mint_next(&self) -> (BlockNumber, BlockHash) {
        let mut blocks = self.blocks.write().expect("chain lock poisoned");
        let parent = blocks.last().map(|(_, b)| &b.header);
        let number = parent.map_or(0, |p| p.number + 1);
        let stamp = self.genesis_time_ms + number * self.block_time_ms;
        let block = self.minter.mint(parent, stamp);
        let hash = self.minter.adapter().block_hash(&block.header);
        blocks.push((hash, block));
        (number, hash)
    }

    /// Number, hash and timestamp of the newest block.
    pub fn head(&self) -> Option<(BlockNumber, BlockHash, u64)> {
        let blocks = self.blocks.read().expect("chain lock poisoned");
        blocks
            .last()
            .map(|(h, b)| (b.number(), *h, b.header.timestamp_ms))
    }

    /// The honest block `number`, if minted.
    pub fn block(&self, number: BlockNumber) -> Option<Block> {
        let blocks = self.blocks.read().expect("chain lock poisoned");
        let index = usize::try_from(number).ok()?;
        blocks.get(index).map(|(_, b)| b.clone())
    }

    /// Makes the gateway serve block `number` tampered (`None` restores it).
    pub fn set_tamper(&self, number: BlockNumber, tamper: Option<Tamper>) {
        let mut map = self.tampered.lock().expect("tamper lock poisoned");
        match tamper {
            Some(t) => map.insert(number, t),
            None => map.remove(&number),
        };
    }

    /// What to serve for `number`: the block, with any tamper applied.
    pub(crate) fn serve(&self, number: BlockNumber) -> Option<Served> {
        let block = self.block(number)?;
        let tamper = self
            .tampered
            .lock()
            .expect("tamper lock poisoned")
            .get(&number)
            .copied();
        let adapter = self.minter.adapter();
        Some(match tamper {
            None => Served::Bytes(encode_block(adapter, &block)),
            Some(Tamper::Garbage) => Served::Bytes(Bytes::from_static(GARBAGE)),
            Some(Tamper::Unavailable) => Served::Unavailable,
            Some(t) => Served::Bytes(encode_block(adapter, &apply(block, t))),
        })
    }
}

/// A frame length that overruns the body: what [`Tamper::Garbage`] serves.
const GARBAGE: &[u8] = b"\x00\x00\x10\x00garbage";

/// Applies a content tamper to an honest block.
fn apply(mut block: Block, tamper: Tamper) -> Block {
    match tamper {
        Tamper::Transaction => block.bodies[0] = flip(&block.bodies[0], 8),
        Tamper::Signature => block.header.signature = flip(&block.header.signature, 0),
        Tamper::ExtraEvent => {
            let mut events = block.bodies[2].to_vec();
            events.extend_from_slice(&[0, 0, 0, 1, 0xee]);
            block.bodies[2] = Bytes::from(events);
        }
        Tamper::Garbage | Tamper::Unavailable => {}
    }
    block
}

fn flip(bytes: &Bytes, at: usize) -> Bytes {
    let mut v = bytes.to_vec();
    if let Some(b) = v.get_mut(at) {
        *b ^= 0xff;
    }
    Bytes::from(v)
}

/// Builds the mint parameters from config values.
pub(crate) fn params(seed: u64, txs_per_block: u32, tx_size: u32) -> MintParams {
    MintParams {
        seed,
        txs_per_block,
        tx_size,
    }
}
