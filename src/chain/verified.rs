//! The one form a block takes once it passed verification, whoever checked it (the feeder
//! from the gateway, the P2P sync from peers): its hash and its canonical encoded parts, so the
//! store writes it without re-encoding or re-hashing anything.

use bytes::Bytes;

use super::{BlockHash, BlockNumber, Header, VerifyError};

/// A block that passed every check of [`super::ChainAdapter::verify_block`] (or the sync
/// pipeline's split checks), with what the store needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBlock {
    /// The decoded header (the next block's parent; what a feeder announces).
    pub header: Header,
    /// The block hash verification computed (what the signature covers).
    pub hash: BlockHash,
    /// The adapter's canonical header bytes, signature included: what is stored and served.
    pub encoded_header: Bytes,
    /// The four bodies in [`super::BODY_COMPONENTS`] order, in canonical form.
    pub bodies: [Bytes; 4],
    /// The class bundle ([`super::classes`]); empty when the block brings none, or before a
    /// feeder attached its verified classes.
    pub classes: Bytes,
}

impl VerifiedBlock {
    /// Height of the block.
    pub fn number(&self) -> BlockNumber {
        self.header.number
    }

    /// Hash of its parent.
    pub fn parent_hash(&self) -> BlockHash {
        self.header.parent_hash
    }
}

/// The one numbering check: `actual` is the block at height `expected`.
pub fn check_number(expected: BlockNumber, actual: BlockNumber) -> Result<(), VerifyError> {
    if actual != expected {
        return Err(VerifyError::WrongNumber { expected, actual });
    }
    Ok(())
}

/// Refuses a part over `limit` bytes before it is decoded.
pub fn check_size(what: &'static str, len: usize, limit: usize) -> Result<(), VerifyError> {
    if len > limit {
        let detail = format!("{len} bytes, limit {limit}");
        return Err(VerifyError::malformed(what, detail));
    }
    Ok(())
}
