//! Chain model: what a block is, independent of any one chain's hashing rules.
//!
//! The transport and the store treat components as opaque bytes; a chain adapter
//! (devnet, starknet, ...) knows how to hash, commit to and verify them.

mod adapter;
mod block;
mod checkpoint;
pub mod classes;
mod component;
pub mod devnet;
mod hash;
pub mod metrics;
pub mod par;
pub mod presets;
pub mod starknet;
mod verified;
pub mod wire;

pub use adapter::{ChainAdapter, VerifyError, MAX_BODY_BYTES, MAX_HEADER_BYTES};
pub use block::{body_index, Block, BodySummary, Header, BODY_COMPONENTS};
pub use checkpoint::{Checkpoint, ParseCheckpointError};
pub use classes::{ClassEntry, ClassHash, ClassNeeds};
pub use component::Component;
pub use hash::{BlockHash, ParseHashError};
pub use metrics::ChainMetrics;
pub use presets::{starknet_preset, ChainKind, StarknetPreset, STARKNET_PRESETS};
pub use verified::{check_number, check_size, VerifiedBlock};

/// Height of a block in its chain (genesis is 0).
pub type BlockNumber = u64;
