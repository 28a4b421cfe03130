//! Stage 2: a chunk of up to `chunk_size` blocks being assembled from its six components.

use std::time::Instant;

use bytes::Bytes;
use libp2p::PeerId;

use crate::chain::{BlockNumber, Component};
use crate::sync::pipeline::VerifiedBlock;
use crate::sync::source::component_index;

/// Progress of one component of a chunk.
#[derive(Debug, Default)]
pub struct Slot {
    /// The component's bytes per block, once a peer delivered all of them.
    pub data: Option<Vec<Bytes>>,
    /// Peer that delivered `data`, or is being asked for it.
    pub peer: Option<PeerId>,
    /// A request is running.
    pub in_flight: bool,
    /// Peers that failed or lacked this slot (not asked again until everyone was).
    pub tried: Vec<PeerId>,
    /// Don't ask anyone before this instant (all peers were tried).
    pub not_before: Option<Instant>,
    /// A stream of this slot was dropped before any response (the server's libp2p-stream
    /// queue was full): the first such drop is retried at once, with the same peer if need be.
    pub dropped: bool,
    /// `data` came over Starknet's protocols, split by other parts of the chunk (dropped with
    /// them when they are blamed).
    pub starknet: bool,
}

/// Where a chunk is in stages 2-5.
#[derive(Debug)]
pub enum Phase<H> {
    /// Waiting for components.
    Assembling,
    /// All components are being verified.
    Verifying,
    /// Verified, waiting for its turn to be committed.
    Verified(Vec<VerifiedBlock<H>>),
    /// Handed to the sink.
    Committing,
}

/// A contiguous run of blocks fetched together.
#[derive(Debug)]
pub struct Chunk<H> {
    /// First block number.
    pub start: BlockNumber,
    /// Number of blocks.
    pub len: u64,
    /// One slot per component, in `Component::ALL` order.
    pub slots: [Slot; 6],
    /// Current stage.
    pub phase: Phase<H>,
}

impl<H> Chunk<H> {
    /// An empty chunk of `len` blocks from `start`.
    pub fn new(start: BlockNumber, len: u64) -> Self {
        Chunk {
            start,
            len,
            slots: Default::default(),
            phase: Phase::Assembling,
        }
    }

    /// The slot of `component`.
    pub fn slot(&mut self, component: Component) -> &mut Slot {
        &mut self.slots[component_index(component)]
    }

    /// Every component has arrived and verification has not started.
    pub fn is_complete(&self) -> bool {
        matches!(self.phase, Phase::Assembling) && self.slots.iter().all(|s| s.data.is_some())
    }

    /// Peers currently serving or asked for any component of this chunk.
    pub fn peers_in_use(&self) -> Vec<PeerId> {
        self.slots.iter().filter_map(|s| s.peer).collect()
    }

    /// Takes all six components' data out for verification.
    pub fn take_parts(&mut self) -> [Vec<Bytes>; 6] {
        self.phase = Phase::Verifying;
        self.slots
            .each_mut()
            .map(|s| s.data.take().unwrap_or_default())
    }

    /// Puts parts back after a failed verification, dropping the blamed component's data.
    pub fn restore(&mut self, parts: [Vec<Bytes>; 6], blamed: Component) {
        self.phase = Phase::Assembling;
        for (slot, data) in self.slots.iter_mut().zip(parts) {
            slot.data = Some(data);
        }
        let bad = self.slot(blamed);
        bad.data = None;
        if let Some(peer) = bad.peer.take() {
            bad.tried.push(peer);
        }
        for component in Component::ALL {
            let slot = self.slot(component);
            if slot.starknet && crate::sync::starknet::client::needs(component).contains(&blamed) {
                slot.data = None;
                slot.peer = None;
            }
        }
    }

    /// Turns verified blocks back into parts (a later check failed) and blames `blamed`.
    pub fn unverify(&mut self, blocks: Vec<VerifiedBlock<H>>, blamed: Component) {
        let mut parts: [Vec<Bytes>; 6] = Default::default();
        for block in blocks {
            for (part, bytes) in parts.iter_mut().zip(block.parts) {
                part.push(bytes);
            }
        }
        self.restore(parts, blamed);
    }
}
