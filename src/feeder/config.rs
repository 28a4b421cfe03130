//! `[feeder]` config section: which upstream gateway to follow and how hard to pull.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Feeder-mode settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeederConfig {
    /// Run as a feeder relay: follow the gateway and verify, store and announce its blocks.
    /// Default false (the relay syncs over P2P instead).  CLI: `--feeder`
    pub enabled: bool,
    /// Base URL of the upstream gateway. Default `http://127.0.0.1:9080`.
    pub gateway_url: String,
    /// Pinned gateway public key as hex. Default none: read `<data_dir>/gateway.pub`, or (feeders
    /// only) fetch it on first start and pin it there (trust on first use, logged as a warning).
    /// Relays that sync over P2P verify with this key too.
    pub gateway_public_key: Option<String>,
    /// Sent as `X-Throttling-Bypass` on every gateway request (the Starknet feeder gateway's API
    /// key, as pathfinder's `--gateway-api-key` and juno's `--gw-api-key`). Default none.
    /// Env: `WHARF_FEEDER__GATEWAY_API_KEY`.
    pub gateway_api_key: Option<crate::secret::Secret>,
    /// How often to ask for the gateway head once caught up (humantime). Default `500ms`.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Blocks fetched in parallel while catching up. Default 8.
    pub fetch_concurrency: usize,
    /// Blocks fetched, verified and committed per round (one store transaction). Default 64.
    pub batch_size: u64,
    /// Timeout of one HTTP request, connection included (humantime). Default `10s`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Timeout to establish a connection (humantime). Default `3s`.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// First retry delay after an error; doubles per consecutive error (humantime). Default `200ms`.
    #[serde(with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Cap of the retry delay (humantime). Default `10s`.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Lag, in blocks, above which a warning is logged (at most every `lag_warn_interval`). Default 100.
    pub lag_warn_blocks: u64,
    /// Largest gateway response body read, in bytes; a larger one is refused (error kind
    /// `too_large`) before it is buffered whole. Default 67108864 (64 MiB): the largest real
    /// Starknet answers (Sierra classes of a few MiB, blocks with thousands of transactions)
    /// fit several times over, while a hostile or broken gateway cannot exhaust memory with
    /// `fetch_concurrency` endless bodies.
    pub max_response_bytes: usize,
    /// Minimum time between two lag warnings (humantime). Default `30s`.
    #[serde(with = "humantime_serde")]
    pub lag_warn_interval: Duration,
    /// Trusted checkpoint `<number>:<block hash>`: an empty relay starts its chain at this block
    /// (its hash on the operator's word, its parent unchecked) instead of genesis, and holds
    /// nothing before it; a relay whose stored chain contradicts it refuses to start. Default
    /// none (genesis).  CLI: `--checkpoint`
    pub checkpoint: Option<crate::chain::Checkpoint>,
}

impl Default for FeederConfig {
    fn default() -> Self {
        FeederConfig {
            enabled: false,
            gateway_url: "http://127.0.0.1:9080".into(),
            gateway_public_key: None,
            gateway_api_key: None,
            poll_interval: Duration::from_millis(500),
            fetch_concurrency: 8,
            batch_size: 64,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            backoff_initial: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            lag_warn_blocks: 100,
            lag_warn_interval: Duration::from_secs(30),
            checkpoint: None,
            max_response_bytes: 64 << 20,
        }
    }
}
