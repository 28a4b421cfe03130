//! What the Starknet protocols read: stored parts by block number, block hashes both ways.

use bytes::Bytes;

use super::protocol::{BlockParts, Protocol};
use super::request::Start;
use crate::chain::{BlockHash, BlockNumber, Component};
use crate::store::BlockStore;
use crate::sync::source::SourceError;

/// Read access to a Starknet relay's verified blocks (called from a blocking thread).
pub trait StarknetSource: Send + Sync + 'static {
    /// One stored part of block `number` (the class bundle for `Classes`, empty when the
    /// block brings none); `None` when the block is not stored.
    fn part(&self, number: BlockNumber, c: Component) -> Result<Option<Bytes>, SourceError>;
    /// The hash of block `number`, if stored.
    fn hash(&self, number: BlockNumber) -> Result<Option<BlockHash>, SourceError>;
    /// The number of the block with `hash`, if stored.
    fn number_of(&self, hash: &BlockHash) -> Result<Option<BlockNumber>, SourceError>;
}

fn failed(e: crate::store::StoreError) -> SourceError {
    SourceError(e.to_string())
}

impl StarknetSource for BlockStore {
    fn part(&self, number: BlockNumber, c: Component) -> Result<Option<Bytes>, SourceError> {
        self.body(number, c).map_err(failed)
    }

    fn hash(&self, number: BlockNumber) -> Result<Option<BlockHash>, SourceError> {
        BlockStore::hash(self, number).map_err(failed)
    }

    fn number_of(&self, hash: &BlockHash) -> Result<Option<BlockNumber>, SourceError> {
        BlockStore::number_of(self, hash).map_err(failed)
    }
}

/// The block a request starts at, if stored.
pub fn first_block(
    src: &dyn StarknetSource,
    start: Start,
) -> Result<Option<BlockNumber>, SourceError> {
    match start {
        Start::Number(n) => Ok(Some(n)),
        Start::Hash(h) => src.number_of(&h),
    }
}

/// Everything `p` needs of block `number`; `None` when the block is not stored.
pub fn block_parts(
    src: &dyn StarknetSource,
    p: Protocol,
    number: BlockNumber,
) -> Result<Option<BlockParts>, SourceError> {
    let Some(hash) = src.hash(number)? else {
        return Ok(None);
    };
    let mut parts = Vec::with_capacity(2);
    for c in p.parts() {
        match src.part(number, *c)? {
            Some(bytes) => parts.push(bytes),
            None => return Ok(None),
        }
    }
    let legacy = match p {
        Protocol::Headers if super::map::is_pre_0_13_2(&parts[0]).unwrap_or(false) => {
            let receipts = src.part(number, Component::Receipts)?;
            let diff = src.part(number, Component::StateDiffs)?;
            receipts.zip(diff)
        }
        _ => None,
    };
    Ok(Some(BlockParts {
        hash,
        parts,
        legacy,
    }))
}
