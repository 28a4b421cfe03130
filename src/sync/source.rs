//! Where the sync server reads blocks from: the block store in production, memory in tests.

use std::collections::BTreeMap;
use std::sync::RwLock;

use bytes::Bytes;

use crate::chain::{BlockNumber, Component};

/// Error a [`BlockSource`] may return; the server answers `Fin{BUSY}` and logs it.
#[derive(Debug, thiserror::Error)]
#[error("block source failed: {0}")]
pub struct SourceError(pub String);

/// Read access to stored block components, by range.
///
/// Called from a blocking thread, so implementations may do synchronous I/O.
pub trait BlockSource: Send + Sync + 'static {
    /// Returns the `component` bytes of blocks `start, start+step, ...` (at most `limit`),
    /// stopping before the first block it does not have. `start + (limit-1)*step` never overflows.
    fn range(
        &self,
        component: Component,
        start: BlockNumber,
        limit: u64,
        step: u64,
    ) -> Result<Vec<(BlockNumber, Bytes)>, SourceError>;
}

/// An in-memory [`BlockSource`] (tests, benchmarks).
#[derive(Debug, Default)]
pub struct MemorySource {
    blocks: RwLock<BTreeMap<BlockNumber, [Bytes; 6]>>,
}

impl MemorySource {
    /// Stores (or replaces) block `number` as its six components in `Component::ALL` order.
    pub fn insert(&self, number: BlockNumber, parts: [Bytes; 6]) {
        self.blocks
            .write()
            .expect("not poisoned")
            .insert(number, parts);
    }

    /// Removes block `number`, if present.
    pub fn remove(&self, number: BlockNumber) {
        self.blocks.write().expect("not poisoned").remove(&number);
    }
}

impl BlockSource for MemorySource {
    fn range(
        &self,
        component: Component,
        start: BlockNumber,
        limit: u64,
        step: u64,
    ) -> Result<Vec<(BlockNumber, Bytes)>, SourceError> {
        let blocks = self.blocks.read().expect("not poisoned");
        let index = component_index(component);
        let mut out = Vec::with_capacity(limit.min(1024) as usize);
        for i in 0..limit {
            let n = start + i * step;
            match blocks.get(&n) {
                Some(parts) => out.push((n, parts[index].clone())),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Position of `component` in `Component::ALL`.
pub fn component_index(component: Component) -> usize {
    Component::ALL
        .iter()
        .position(|c| *c == component)
        .expect("ALL lists every component")
}
