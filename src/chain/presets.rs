//! Which chain rules a network runs (devnet or Starknet) and the pinned facts of the public
//! Starknet networks, so `network = "sepolia"` is all an operator has to configure.

use serde::{Deserialize, Serialize};

/// The chain adapter a network uses. Config key `node.chain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    /// Wharf's reference chain (`wharf gateway`): SHA-256 Merkle commitments, Ed25519 signatures.
    #[default]
    Devnet,
    /// Starknet: feeder-gateway JSON, Pedersen/Poseidon commitments, the sequencer's ECDSA signature.
    Starknet,
}

/// Pinned facts of one public Starknet network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StarknetPreset {
    /// Wharf network name that selects the preset (`node.network`).
    pub network: &'static str,
    /// Chain id short string, part of every transaction hash.
    pub chain_id: &'static str,
    /// The sequencer's public key (a felt, hex), which signs every block hash.
    pub public_key: &'static str,
    /// Base URL of the network's feeder gateway.
    pub gateway_url: &'static str,
}

/// Mainnet, Sepolia and Sepolia-integration. Keys are the values each feeder gateway's
/// `get_public_key` answers, as pinned by pathfinder and juno; the Sepolia ones verify the real
/// signatures in `tests/fixtures/starknet/`.
pub const STARKNET_PRESETS: [StarknetPreset; 3] = [
    StarknetPreset {
        network: "mainnet",
        chain_id: "SN_MAIN",
        public_key: "0x48253ff2c3bed7af18bde0b611b083b39445959102d4947c51c4db6aa4f4e58",
        gateway_url: "https://feeder.alpha-mainnet.starknet.io/feeder_gateway",
    },
    StarknetPreset {
        network: "sepolia",
        chain_id: "SN_SEPOLIA",
        public_key: "0x1252b6bce1351844c677869c6327e80eae1535755b611c66b8f46e595b40eea",
        gateway_url: "https://feeder.alpha-sepolia.starknet.io/feeder_gateway",
    },
    StarknetPreset {
        network: "sepolia-integration",
        chain_id: "SN_INTEGRATION_SEPOLIA",
        public_key: "0x4e4856eb36dbd5f4a7dca29f7bb5232974ef1fb7eb5b597c58077174c294da1",
        gateway_url: "https://feeder.integration-sepolia.starknet.io/feeder_gateway",
    },
];

/// The preset a Starknet network name selects, if it is one of the public networks.
pub fn starknet_preset(network: &str) -> Option<&'static StarknetPreset> {
    STARKNET_PRESETS.iter().find(|p| p.network == network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_found_by_network_name_and_keys_are_felts() {
        assert_eq!(starknet_preset("sepolia").unwrap().chain_id, "SN_SEPOLIA");
        assert_eq!(starknet_preset("mainnet").unwrap().chain_id, "SN_MAIN");
        assert!(starknet_preset("devnet").is_none());
        for p in STARKNET_PRESETS {
            let hex = p.public_key.strip_prefix("0x").unwrap();
            assert!(hex.len() <= 64 && hex.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }
}
