//! The historical eras of a Starknet chain: which block-hash rule a block follows and what its
//! era lets a verifier check. Mainnet is the only public chain with exceptions (Sepolia and
//! Sepolia-integration started at 0.12.3 and 0.13.x), the same two that Pathfinder
//! (`crates/block-commitments`, `BlockHashMetaInfo`) and Juno (`core/block.go`) carry:
//!
//! - blocks below 833 were hashed before Starknet 0.7: the chain id is hashed in, and the
//!   timestamp, sequencer address, event count and event commitment are hashed as zero;
//! - blocks of 0.7.0 to 0.8.2 were hashed with a sequencer address the gateway does not always
//!   state (none on the 0.7.0 block 2240): when the stated one (or zero) does not give the
//!   block's hash, the fallback address `0x021f4b90…88bc5` does.
//!
//! Transactions need no per-block list: every mainnet transaction hash is given by one of the
//! formulas in `transaction.rs` (current, pre-0.8 legacy, 0.7 L1 handler), as Pathfinder's
//! strict mainnet sync shows.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::felt::Felt;
use super::version::Version;

/// Mainnet's chain id.
pub const MAINNET: &str = "SN_MAIN";
/// The first mainnet block hashed with the 0.7 rule.
pub const MAINNET_FIRST_0_7_BLOCK: u64 = 833;
/// The sequencer address 0.7.0–0.8.2 mainnet blocks were hashed with when the gateway states
/// another (or none).
pub const MAINNET_FALLBACK_SEQUENCER: Felt =
    Felt::from_hex_unchecked("0x021f4b90b0377c82bf330b7b5295820769e72d79d8acd0effa0ebde6e9988bc5");

/// A chain's era boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eras {
    /// Blocks below this number use the pre-0.7 block hash (0: none do).
    pub first_0_7_block: u64,
    /// Sequencer address to retry a pre-0.13.2 block hash with.
    pub fallback_sequencer: Option<Felt>,
}

impl Eras {
    /// The eras of the chain with this chain id (exceptions only on mainnet).
    pub fn for_chain(chain_id: &str) -> Eras {
        match chain_id {
            MAINNET => Eras {
                first_0_7_block: MAINNET_FIRST_0_7_BLOCK,
                fallback_sequencer: Some(MAINNET_FALLBACK_SEQUENCER),
            },
            _ => Eras {
                first_0_7_block: 0,
                fallback_sequencer: None,
            },
        }
    }

    /// The era block `number` of protocol `version` belongs to.
    pub fn era(&self, number: u64, version: Version) -> Era {
        if number < self.first_0_7_block {
            Era::Pre0_7
        } else if version.is_poseidon() {
            Era::Poseidon
        } else {
            Era::Pedersen
        }
    }
}

/// The hashing era of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Mainnet blocks below 833: chain id in the block hash; no timestamp, sequencer address or
    /// events in it.
    Pre0_7,
    /// 0.7 to 0.13.1: Pedersen block hash over the header, transactions and events.
    Pedersen,
    /// 0.13.2 on: Poseidon block hash over every component.
    Poseidon,
}

/// `what` label of [`Unverifiable`]: the part of a block that was trusted, not checked.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WhatLabel {
    /// `events` (pre-0.7: not in the block hash), `header_fields` (pre-0.7: timestamp and
    /// sequencer address not in the block hash), `receipts` (before 0.13.2: no commitment),
    /// `state_diff` (before 0.13.2 without a legacy signature), `transaction` (kind or version
    /// without a known hash formula), `sequencer_fallback` (0.7.0–0.8.2 blocks hashed with the
    /// fallback sequencer address: verified, counted so operators see how often).
    pub what: &'static str,
}

/// `wharf_starknet_unverifiable_total{what}`: what the chain's rules did not let the adapter
/// verify, trusted through the pinned sequencer signature over the block hash only.
#[derive(Debug, Clone, Default)]
pub struct Unverifiable(Family<WhatLabel, Counter>);

impl Unverifiable {
    /// Counts `n` occurrences of `what`.
    pub fn add(&self, what: &'static str, n: u64) {
        if n > 0 {
            self.0.get_or_create(&WhatLabel { what }).inc_by(n);
        }
    }

    /// The count of `what` so far.
    pub fn get(&self, what: &'static str) -> u64 {
        self.0.get_or_create(&WhatLabel { what }).get()
    }

    /// Registers the family in the shared registry.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "wharf_starknet_unverifiable",
            "Parts of Starknet blocks the chain's rules do not let a verifier check (trusted by the pinned sequencer signature only), by what",
            self.0.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mainnet_has_exceptions() {
        let main = Eras::for_chain("SN_MAIN");
        assert_eq!(main.era(832, Version::default()), Era::Pre0_7);
        assert_eq!(main.era(833, Version::default()), Era::Pedersen);
        assert_eq!(main.era(900_000, Version::V0_13_2), Era::Poseidon);
        let sepolia = Eras::for_chain("SN_SEPOLIA");
        assert_eq!(sepolia.era(0, Version::default()), Era::Pedersen);
        assert_eq!(sepolia.fallback_sequencer, None);
    }
}
