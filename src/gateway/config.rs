//! `[gateway]` config section: what the devnet upstream mints and where it listens.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Devnet gateway settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// HTTP listen address. Default `127.0.0.1:9080`; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Time between minted blocks (humantime). Default `1s`.
    #[serde(with = "humantime_serde")]
    pub block_time: Duration,
    /// Transactions per block (also receipts and events per block). Default 16.
    pub txs_per_block: u32,
    /// Size of one transaction in bytes. Default 400 (about 8 KiB per block in total).
    pub tx_size: u32,
    /// Seed of all block contents and, unless `key` is set, of the signing key. Default 0.
    pub seed: u64,
    /// Blocks minted at start, before serving (for benchmarks). Default 0.
    pub premint: u64,
    /// Ed25519 secret key as 64 hex digits. Default: derived from `seed` (reproducible).
    pub key: Option<String>,
    /// Timestamp of block 0 in Unix milliseconds; block `n` is stamped
    /// `genesis_time_ms + n * block_time`. Default: chosen at start so the last
    /// pre-minted block is stamped "now". Set it for byte-identical runs.
    pub genesis_time_ms: Option<u64>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9080)),
            block_time: Duration::from_secs(1),
            txs_per_block: 16,
            tx_size: 400,
            seed: 0,
            premint: 0,
            key: None,
            genesis_time_ms: None,
        }
    }
}
