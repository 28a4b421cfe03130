//! The five-stage P2P sync of a non-feeder relay: (1) fetch each component of a chunk from a
//! different peer concurrently, (2) assemble partial blocks as components arrive, (3) verify
//! complete blocks, (4) order them, (5) commit them.
//!
//! One coordinator task owns all state (no locks): fetches, verifications and commits run as
//! tasks whose results come back to it. A peer that times out, breaks the protocol or sends
//! data failing verification is reported and the chunk's component is fetched again elsewhere.

mod chunk;
mod events;
mod peers;
mod run;
mod starknet;
mod verify;

use std::sync::Arc;

use bytes::Bytes;
use libp2p::PeerId;
use libp2p_stream::Control;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::chain::{BlockHash, BlockNumber, Component};
use crate::sync::config::SyncConfig;
use crate::sync::metrics::SyncMetrics;
use crate::sync::report::PeerReporter;
use crate::sync::starknet::client::{uses_starknet, PeerProtocols};

/// Checks blocks received from untrusted peers (stage 3). The chain adapter implements it.
///
/// Split by component so a failure blames exactly the peer that sent the bad part.
pub trait BlockVerifier: Send + Sync + 'static {
    /// A decoded, verified header.
    type Header: Send + Sync + 'static;
    /// Why something failed verification.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Decodes header bytes and checks them alone: block number and upstream signature.
    fn verify_header(
        &self,
        number: BlockNumber,
        bytes: &Bytes,
    ) -> Result<Self::Header, Self::Error>;
    /// Decodes and checks the headers of consecutive blocks from `start`, as
    /// [`BlockVerifier::verify_header`] on each would (an implementation may check their
    /// signatures in one batch). On failure: the index of the first bad header and why.
    fn verify_headers(
        &self,
        start: BlockNumber,
        raw: &[Bytes],
    ) -> Result<Vec<Self::Header>, (usize, Self::Error)> {
        (start..)
            .zip(raw)
            .enumerate()
            .map(|(i, (number, bytes))| self.verify_header(number, bytes).map_err(|e| (i, e)))
            .collect()
    }
    /// The header's block hash (what the next block's parent hash must be).
    fn block_hash(&self, header: &Self::Header) -> BlockHash;
    /// The header's parent hash.
    fn parent_hash(&self, header: &Self::Header) -> BlockHash;
    /// Checks one body component against its verified header (commitment and item count).
    fn verify_body(
        &self,
        header: &Self::Header,
        component: Component,
        body: &Bytes,
    ) -> Result<(), Self::Error>;
    /// Checks that a complete block's components (each verified alone) agree with each other;
    /// the error names the component at fault. Default: nothing to check.
    fn verify_links(
        &self,
        header: &Self::Header,
        parts: &[Bytes; 6],
    ) -> Result<(), (Component, Self::Error)> {
        let _ = (header, parts);
        Ok(())
    }
}

/// A block that passed verification, with its raw parts in `Component::ALL` order.
#[derive(Debug, Clone)]
pub struct VerifiedBlock<H> {
    /// Block number.
    pub number: BlockNumber,
    /// Block hash computed by the verifier.
    pub hash: BlockHash,
    /// Decoded header.
    pub header: H,
    /// Raw bytes of every component as received (index = position in `Component::ALL`).
    pub parts: [Bytes; 6],
}

/// Where verified blocks go (stage 5). The block store implements it.
pub trait BlockSink<H>: Send + Sync + 'static {
    /// Why a commit failed (fatal for the pipeline).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number and hash of the last committed block, `None` for an empty chain.
    fn head(&self) -> Result<Option<(BlockNumber, BlockHash)>, Self::Error>;
    /// The trusted checkpoint an empty chain starts at (number and hash of its first block);
    /// `None`: the chain starts at genesis.
    fn anchor(&self) -> Option<(BlockNumber, BlockHash)> {
        None
    }
    /// Commits contiguous blocks following the head, in order; each block atomically (a batch
    /// may share one transaction). Called from a blocking thread.
    fn commit(&self, blocks: Vec<VerifiedBlock<H>>) -> Result<(), Self::Error>;
}

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The sink refused a commit or could not report its head.
    #[error("block sink failed: {0}")]
    Sink(String),
    /// The verifier panicked (a bug in the chain adapter).
    #[error("verifier failed: {0}")]
    Verifier(String),
    /// The peer list is empty and its sender is gone: nobody to sync from, ever.
    #[error("no peers to sync from")]
    NoPeers,
    /// The cancellation token fired.
    #[error("cancelled")]
    Cancelled,
}

/// The P2P sync pipeline. Build once, then [`SyncPipeline::sync_to`] or [`SyncPipeline::run`].
pub struct SyncPipeline<V: BlockVerifier, S: BlockSink<V::Header>> {
    control: Control,
    network: String,
    verifier: Arc<V>,
    sink: Arc<S>,
    reporter: Arc<dyn PeerReporter>,
    metrics: SyncMetrics,
    cfg: SyncConfig,
    protocols: Option<Arc<dyn PeerProtocols>>,
}

impl<V: BlockVerifier, S: BlockSink<V::Header>> SyncPipeline<V, S> {
    /// Tells the pipeline which protocols each peer announced (`sync.protocol = "auto"`).
    pub fn with_peer_protocols(mut self, protocols: Arc<dyn PeerProtocols>) -> Self {
        self.protocols = Some(protocols);
        self
    }

    /// Whether `peer` is asked over Starknet's protocols (`sync.protocol`).
    fn starknet(&self, peer: &PeerId) -> bool {
        uses_starknet(self.cfg.protocol, self.protocols.as_deref(), peer)
    }

    /// A pipeline fetching over `control` on `network`, verifying with `verifier` into `sink`.
    pub fn new(
        control: Control,
        network: impl Into<String>,
        verifier: Arc<V>,
        sink: Arc<S>,
        reporter: Arc<dyn PeerReporter>,
        metrics: SyncMetrics,
        cfg: SyncConfig,
    ) -> Self {
        let network = network.into();
        SyncPipeline {
            control,
            network,
            verifier,
            sink,
            reporter,
            metrics,
            cfg,
            protocols: None,
        }
    }

    /// Syncs from the sink's head up to `target` (inclusive) from `peers`; returns the new head.
    pub async fn sync_to(
        &mut self,
        target: BlockNumber,
        peers: &watch::Receiver<Vec<PeerId>>,
        cancel: &CancellationToken,
    ) -> Result<BlockNumber, PipelineError> {
        run::Coordinator::new(self, target, peers.clone())
            .run(cancel)
            .await
    }

    /// Follows `target` (e.g. the head announced over gossip) until `cancel`.
    pub async fn run(
        mut self,
        mut target: watch::Receiver<BlockNumber>,
        peers: watch::Receiver<Vec<PeerId>>,
        cancel: CancellationToken,
    ) -> Result<(), PipelineError> {
        loop {
            let goal = *target.borrow_and_update();
            match self.sync_to(goal, &peers, &cancel).await {
                Ok(_) => {}
                Err(PipelineError::Cancelled) => return Ok(()),
                Err(e) => return Err(e),
            }
            match cancel.run_until_cancelled(target.changed()).await {
                Some(Ok(())) => continue,
                _ => return Ok(()),
            }
        }
    }
}
