//! Chain model: what a block is, independent of any one chain's hashing rules.
//!
//! The transport and the store treat components as opaque bytes; a chain adapter
//! (devnet, starknet, ...) knows how to hash, commit to and verify them.

mod component;

pub use component::Component;

/// Height of a block in its chain (genesis is 0).
pub type BlockNumber = u64;
