//! Deterministic devnet block production: the same seed and parameters always give
//! the same items, so runs (and benchmarks) are reproducible.

use bytes::Bytes;
use libp2p::identity::ed25519;
use sha2::{Digest, Sha256};

use super::{encode_items, merkle_root, DevnetAdapter};
use crate::chain::{Block, BlockHash, BodySummary, ChainAdapter, Header};

/// What a minted block contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintParams {
    /// Seed of every pseudo-random byte.
    pub seed: u64,
    /// Transactions (and receipts and events) per block.
    pub txs_per_block: u32,
    /// Size of one transaction in bytes.
    pub tx_size: u32,
}

/// The gateway key derived from a seed: `SHA-256("wharf-devnet-key" || seed as u64 BE)`
/// as the Ed25519 secret key.
pub fn keypair_from_seed(seed: u64) -> ed25519::Keypair {
    let secret: [u8; 32] = Sha256::new()
        .chain_update(b"wharf-devnet-key")
        .chain_update(seed.to_be_bytes())
        .finalize()
        .into();
    let secret = ed25519::SecretKey::try_from_bytes(secret).expect("32 bytes is a valid secret");
    ed25519::Keypair::from(secret)
}

/// Signs deterministic devnet blocks.
#[derive(Debug, Clone)]
pub struct DevnetMinter {
    keypair: ed25519::Keypair,
    params: MintParams,
    adapter: DevnetAdapter,
}

impl DevnetMinter {
    /// A minter signing with `keypair`.
    pub fn new(keypair: ed25519::Keypair, params: MintParams) -> Self {
        let adapter = DevnetAdapter::new(keypair.public());
        DevnetMinter {
            keypair,
            params,
            adapter,
        }
    }

    /// The adapter that verifies this minter's blocks.
    pub fn adapter(&self) -> &DevnetAdapter {
        &self.adapter
    }

    /// The block after `parent` (genesis when `None`), stamped `timestamp_ms`.
    pub fn mint(&self, parent: Option<&Header>, timestamp_ms: u64) -> Block {
        let number = parent.map_or(0, |p| p.number + 1);
        let parent_hash = parent.map_or(BlockHash::ZERO, |p| self.adapter.block_hash(p));
        let items = self.items(number);
        let mut header = Header {
            number,
            parent_hash,
            timestamp_ms,
            bodies: items.each_ref().map(|i| BodySummary {
                commitment: merkle_root(i),
                count: i.len() as u32,
            }),
            extra: Bytes::new(),
            signature: Bytes::new(),
        };
        self.sign(&mut header);
        let bodies = items.each_ref().map(|i| encode_items(i));
        Block {
            header,
            bodies,
            classes: Bytes::new(),
        }
    }

    /// (Re)signs `header` over its current block hash.
    pub fn sign(&self, header: &mut Header) {
        let hash = self.adapter.block_hash(header);
        header.signature = Bytes::from(self.keypair.sign(hash.as_bytes()));
    }

    fn items(&self, number: u64) -> [Vec<Vec<u8>>; 4] {
        let n = self.params.txs_per_block as usize;
        let txs: Vec<Vec<u8>> = (0..n)
            .map(|i| self.bytes(number, 0, i, self.params.tx_size as usize))
            .collect();
        let receipts = txs.iter().map(|tx| receipt(tx)).collect();
        let events = (0..n).map(|i| self.bytes(number, 2, i, 64)).collect();
        let diffs = (0..n / 4 + 1)
            .map(|i| self.bytes(number, 3, i, 64))
            .collect();
        [txs, receipts, events, diffs]
    }

    /// `len` bytes of SHA-256 counter-mode output keyed by (seed, block, component, item).
    fn bytes(&self, number: u64, component: u8, item: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        let mut counter = 0u32;
        while out.len() < len {
            let block: [u8; 32] = Sha256::new()
                .chain_update(self.params.seed.to_be_bytes())
                .chain_update(number.to_be_bytes())
                .chain_update([component])
                .chain_update((item as u64).to_be_bytes())
                .chain_update(counter.to_be_bytes())
                .finalize()
                .into();
            out.extend_from_slice(&block);
            counter += 1;
        }
        out.truncate(len);
        out
    }
}

/// A receipt: the transaction's SHA-256, a fee (u64) and a success status byte.
fn receipt(tx: &[u8]) -> Vec<u8> {
    let hash: [u8; 32] = Sha256::digest(tx).into();
    let mut out = hash.to_vec();
    out.extend_from_slice(&(tx.len() as u64 * 10).to_be_bytes());
    out.push(1);
    out
}
