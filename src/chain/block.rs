//! Header and block as the rest of Wharf sees them: numbers, hashes, commitments and
//! opaque component bytes. Only an adapter gives the bytes meaning.

use bytes::Bytes;

use super::{BlockHash, BlockNumber, Component};

/// The four body components, in protocol order; index `i` of [`Header::bodies`] and
/// [`Block::bodies`] is `BODY_COMPONENTS[i]`.
pub const BODY_COMPONENTS: [Component; 4] = [
    Component::Transactions,
    Component::Receipts,
    Component::Events,
    Component::StateDiffs,
];

/// Index of a body component in [`Header::bodies`] / [`Block::bodies`]; `None` for headers.
pub fn body_index(component: Component) -> Option<usize> {
    BODY_COMPONENTS.iter().position(|c| *c == component)
}

/// What a header commits to for one body component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodySummary {
    /// Commitment over the component's items (devnet: a SHA-256 Merkle root).
    pub commitment: [u8; 32],
    /// Number of items in the component.
    pub count: u32,
}

/// A block header plus the upstream's signature over the block hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Height of the block.
    pub number: BlockNumber,
    /// Hash of the previous block ([`BlockHash::ZERO`] for genesis).
    pub parent_hash: BlockHash,
    /// Unix time of the block in milliseconds.
    pub timestamp_ms: u64,
    /// Commitment and item count per body component, indexed like [`BODY_COMPONENTS`].
    pub bodies: [BodySummary; 4],
    /// Adapter-specific header fields the block hash also covers (empty on devnet; a
    /// Starknet adapter keeps state root, sequencer address, version... here).
    pub extra: Bytes,
    /// The upstream's signature over the block hash (devnet: 64-byte Ed25519).
    pub signature: Bytes,
}

impl Header {
    /// The summary of one body component; `None` for [`Component::Headers`].
    pub fn body(&self, component: Component) -> Option<&BodySummary> {
        body_index(component).map(|i| &self.bodies[i])
    }
}

/// A whole block: a header and one opaque byte string per body component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The signed header.
    pub header: Header,
    /// Encoded items of each body component, indexed like [`BODY_COMPONENTS`].
    pub bodies: [Bytes; 4],
    /// The contract classes the block brings, as a class bundle ([`crate::chain::classes`]);
    /// empty when it brings none (always on devnet).
    pub classes: Bytes,
}

impl Block {
    /// The bytes of one body component; `None` for [`Component::Headers`].
    pub fn body(&self, component: Component) -> Option<&Bytes> {
        body_index(component).map(|i| &self.bodies[i])
    }

    /// Height of the block.
    pub fn number(&self) -> BlockNumber {
        self.header.number
    }
}
