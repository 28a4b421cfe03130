//! Feeder mode: follows the upstream gateway's head, fetches missing blocks with
//! bounded concurrency, verifies each fully with the pinned key and commits them in
//! order. Nothing unverified is ever stored and a diverging upstream (reorg) is
//! reported, never written over. A block is committed with the contract classes it brings
//! (fetched once, each verified against its hash; see `classes`), or not at all.
//!
//! Wiring: `pin_gateway_key` → build the adapter with that key → open the
//! [`crate::store::BlockStore`] → [`Feeder::spawn`] → announce
//! [`FeederHandle::subscribe`]'s heads over gossip.

mod backoff;
mod classes;
mod client;
mod config;
mod follow;
mod pin;
mod starknet;
mod upstream;

pub use client::{FetchError, GatewayClient};
pub use config::FeederConfig;
pub use pin::{known_gateway_key, pin_gateway_key, upstream_key, GATEWAY_KEY_FILE};
pub use starknet::{felt_hash, StarknetRaw};
pub use upstream::{fetch_public_key, RawBlock, Upstream};

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chain::{BlockHash, BlockNumber, ChainAdapter, ChainMetrics, Header, VerifyError};
use crate::store::{BlockStore, StoreError};

/// Why a feeder round (or start) failed.
#[derive(Debug, thiserror::Error)]
pub enum FeederError {
    /// The gateway request failed.
    #[error("gateway: {0}")]
    Gateway(#[from] FetchError),
    /// A fetched block failed verification.
    #[error("block {number} refused ({}): {source}", source.reason())]
    Verify {
        /// Height of the refused block.
        number: BlockNumber,
        /// Why it was refused.
        source: VerifyError,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Reading or writing the pinned key file failed.
    #[error("gateway key file {path}: {source}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configured, pinned or fetched key is not hex.
    #[error("gateway public key is not hex: {0}")]
    BadKey(String),
    /// A blocking verify/commit task panicked or was cancelled.
    #[error("verify/commit task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// A block just committed by the feeder, for gossip announcements and API events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedHead {
    /// Its height.
    pub number: BlockNumber,
    /// Its block hash.
    pub hash: BlockHash,
    /// Its header, signature included.
    pub header: Header,
}

/// Everything a feeder needs besides its config.
#[derive(Clone, Debug)]
pub struct FeederDeps {
    /// Chain rules, built with the pinned gateway key.
    pub adapter: Arc<dyn ChainAdapter>,
    /// Where verified blocks go.
    pub store: BlockStore,
    /// Chain-progress metrics.
    pub metrics: ChainMetrics,
    /// The gateway to follow (devnet or Starknet feeder gateway).
    pub upstream: Upstream,
}

/// Entry point of feeder mode.
pub struct Feeder;

/// A running feeder: subscribe to its committed heads. It stops with the token.
#[derive(Debug, Clone)]
pub struct FeederHandle {
    heads: watch::Receiver<Option<CommittedHead>>,
}

impl FeederHandle {
    /// Newest committed head (each committed batch updates it; intermediate blocks of a
    /// batch are not announced individually).
    pub fn subscribe(&self) -> watch::Receiver<Option<CommittedHead>> {
        self.heads.clone()
    }
}

impl Feeder {
    /// Spawns the follow loop on `tracker`; it runs until `cancel` fires.
    pub fn spawn(
        cfg: FeederConfig,
        deps: FeederDeps,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> Result<FeederHandle, FeederError> {
        let initial = follow::initial_head(&deps)?;
        let (tx, heads) = watch::channel(initial);
        let follower = follow::Follower::new(cfg, deps, tx);
        tracker.spawn(follower.run(cancel));
        Ok(FeederHandle { heads })
    }
}
