//! The coordinator: owns the chunks of one `sync_to` call and moves them through the stages.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libp2p::PeerId;
use tokio::sync::watch;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::chain::{BlockNumber, Component};
use crate::sync::client::{fetch, FetchError};
use crate::sync::pipeline::chunk::{Chunk, Phase, Slot};
use crate::sync::pipeline::peers::PeerBook;
use crate::sync::pipeline::starknet;
use crate::sync::pipeline::verify::{verify_chunk, Verified};
use crate::sync::pipeline::{
    BlockHash, BlockSink, BlockVerifier, PipelineError, SyncPipeline, VerifiedBlock,
};
use crate::sync::starknet::client::{self, Hints, WireCheck};
use crate::sync::SyncProtocol;

pub(super) type Fetched = Result<Vec<(BlockNumber, Bytes)>, FetchError>;
pub(super) type Committed = Result<(BlockNumber, Vec<BlockNumber>), String>;

/// State of one `sync_to` call.
pub struct Coordinator<'a, V: BlockVerifier, S: BlockSink<V::Header>> {
    pub(super) p: &'a mut SyncPipeline<V, S>,
    pub(super) target: BlockNumber,
    pub(super) peers: watch::Receiver<Vec<PeerId>>,
    pub(super) peers_open: bool,
    pub(super) chunks: BTreeMap<BlockNumber, Chunk<V::Header>>,
    pub(super) book: PeerBook,
    pub(super) next_start: BlockNumber,
    /// Last block committed or being committed: the parent of the next chunk.
    pub(super) tip: Option<(BlockNumber, BlockHash)>,
    pub(super) head: Option<BlockNumber>,
    pub(super) fetches: JoinSet<Fetched>,
    pub(super) fetch_meta: HashMap<Id, (BlockNumber, Component, PeerId)>,
    pub(super) verifies: JoinSet<(BlockNumber, Verified<V::Header>)>,
    pub(super) commits: JoinSet<Committed>,
    pub(super) salt: usize,
}

impl<'a, V: BlockVerifier, S: BlockSink<V::Header>> Coordinator<'a, V, S> {
    /// A coordinator syncing `p`'s sink up to `target` from `peers`.
    pub fn new(
        p: &'a mut SyncPipeline<V, S>,
        target: BlockNumber,
        peers: watch::Receiver<Vec<PeerId>>,
    ) -> Self {
        Coordinator {
            p,
            target,
            peers,
            peers_open: true,
            chunks: BTreeMap::new(),
            book: PeerBook::default(),
            next_start: 0,
            tip: None,
            head: None,
            fetches: JoinSet::new(),
            fetch_meta: HashMap::new(),
            verifies: JoinSet::new(),
            commits: JoinSet::new(),
            salt: 0,
        }
    }

    /// Runs until the sink's head reaches the target; returns that head.
    pub async fn run(mut self, cancel: &CancellationToken) -> Result<BlockNumber, PipelineError> {
        self.tip = self
            .p
            .sink
            .head()
            .map_err(|e| PipelineError::Sink(e.to_string()))?;
        self.head = self.tip.map(|(n, _)| n);
        self.next_start = self.head.map_or(self.first(), |n| n + 1);
        loop {
            self.fill();
            self.dispatch();
            self.start_verifies();
            self.start_commit();
            if self.next_start > self.target && self.chunks.is_empty() {
                return Ok(self.head.unwrap_or(self.target));
            }
            self.wait(cancel).await?;
        }
    }

    /// Opens new chunks while the window has room (stage 1 input). Chunks handed to the sink
    /// don't count, so fetching overlaps a slow commit; they are at most one window's worth.
    fn fill(&mut self) {
        let size = self.p.cfg.pipeline.chunk_size.max(1);
        let window = self.p.cfg.pipeline.max_chunks_in_flight.max(1);
        let committing = |c: &Chunk<V::Header>| matches!(c.phase, Phase::Committing);
        let mut open = self.chunks.values().filter(|c| !committing(c)).count();
        while open < window && self.next_start <= self.target {
            let len = size.min(self.target - self.next_start + 1);
            let chunk = Chunk::new(self.next_start, len);
            self.chunks.insert(self.next_start, chunk);
            self.next_start += len;
            open += 1;
        }
    }

    /// Stage 1: asks a peer for every missing component of every assembling chunk.
    fn dispatch(&mut self) {
        let peers = self.peers.borrow().clone();
        if peers.is_empty() {
            return;
        }
        let now = Instant::now();
        let cap = self.p.cfg.pipeline.max_requests_per_peer.max(1);
        let mut jobs = Vec::new();
        for chunk in self
            .chunks
            .values_mut()
            .filter(|c| matches!(c.phase, Phase::Assembling))
        {
            for (i, component) in Component::ALL.into_iter().enumerate() {
                let avoid = chunk.peers_in_use();
                let ready = starknet::ready(chunk, component);
                let hints = match self.p.cfg.protocol {
                    SyncProtocol::Wharf => Hints::default(),
                    _ => starknet::hints(chunk, component),
                };
                let slot = chunk.slot(component);
                if slot.data.is_some() || slot.in_flight || slot.not_before.is_some_and(|t| t > now)
                {
                    continue;
                }
                self.salt = self.salt.wrapping_add(1);
                let retry_delay = self.p.cfg.pipeline.retry_delay;
                let choice = choose(&self.book, &peers, slot, &avoid, cap, self.salt + i);
                match choice {
                    // Starknet's streams are split by other parts: wait for them.
                    Choice::Peer(peer) if self.p.starknet(&peer) && !ready => {}
                    Choice::Peer(peer) => {
                        slot.in_flight = true;
                        slot.peer = Some(peer);
                        slot.starknet = self.p.starknet(&peer);
                        self.book.started(peer);
                        jobs.push((chunk.start, chunk.len, component, peer, hints));
                    }
                    Choice::Later => slot.not_before = Some(now + retry_delay),
                    Choice::Wait => {}
                }
            }
        }
        for (start, len, component, peer, hints) in jobs {
            self.spawn_fetch(start, len, component, peer, hints);
        }
    }

    /// Starts one fetch task, over Starknet's protocols when `peer` is asked over them.
    fn spawn_fetch(
        &mut self,
        start: BlockNumber,
        len: u64,
        component: Component,
        peer: PeerId,
        hints: Hints,
    ) {
        let mut control = self.p.control.clone();
        let network = self.p.network.clone();
        let cfg = self.p.cfg.client.clone();
        let over_starknet = self.p.starknet(&peer);
        let check: Arc<dyn WireCheck> = Arc::new(starknet::Checker(self.p.verifier.clone()));
        let task = async move {
            if over_starknet {
                let (c, h) = (&mut control, &hints);
                return client::fetch(c, peer, component, start, len, h, check, &cfg).await;
            }
            fetch(&mut control, peer, &network, component, start, len, 1, &cfg).await
        };
        let handle = self.fetches.spawn(task);
        self.fetch_meta
            .insert(handle.id(), (start, component, peer));
    }

    /// Stage 3: verifies every complete chunk on a blocking thread.
    fn start_verifies(&mut self) {
        for chunk in self.chunks.values_mut().filter(|c| c.is_complete()) {
            let (start, parts) = (chunk.start, chunk.take_parts());
            let verifier = self.p.verifier.clone();
            self.verifies
                .spawn_blocking(move || (start, verify_chunk(&*verifier, start, parts)));
        }
    }

    /// Stages 4-5: hands the verified chunks that extend the tip, in order, to the sink.
    fn start_commit(&mut self) {
        if !self.commits.is_empty() {
            return;
        }
        let mut batch: Vec<VerifiedBlock<V::Header>> = Vec::new();
        let mut starts = Vec::new();
        let mut expected = self.tip.map_or(self.first(), |(n, _)| n + 1);
        while let Some(chunk) = self.chunks.get_mut(&expected) {
            if !matches!(chunk.phase, Phase::Verified(_)) {
                break;
            }
            let Phase::Verified(blocks) = std::mem::replace(&mut chunk.phase, Phase::Committing)
            else {
                unreachable!("checked above");
            };
            if !self.extends_tip(&blocks) {
                self.blame(
                    expected,
                    Component::Headers,
                    "first block does not extend the tip".into(),
                );
                self.chunks
                    .get_mut(&expected)
                    .expect("present")
                    .unverify(blocks, Component::Headers);
                break;
            }
            let last = blocks.last().expect("chunks are never empty");
            self.tip = Some((last.number, last.hash));
            starts.push(expected);
            expected = last.number + 1;
            batch.extend(blocks);
        }
        if !batch.is_empty() {
            self.spawn_commit(batch, starts);
        }
    }
}

/// What to do about one slot this round.
enum Choice {
    /// Ask this peer.
    Peer(PeerId),
    /// Every peer failed or lacked it: ask again after the retry delay.
    Later,
    /// Wait for a peer to come off its request cap or cooldown.
    Wait,
}

/// Picks a peer for `slot`, preferring peers that have not failed it. When the only peers left
/// untried are resting, the failed ones are given another chance at once; when everyone was
/// tried, the slot backs off instead of hammering peers that lack the blocks.
fn choose(
    book: &PeerBook,
    peers: &[PeerId],
    slot: &mut Slot,
    avoid: &[PeerId],
    cap: usize,
    salt: usize,
) -> Choice {
    if let Some(peer) = book.pick(peers, &slot.tried, avoid, cap, salt) {
        return Choice::Peer(peer);
    }
    if book.any_awake(peers, &slot.tried) {
        return Choice::Wait;
    }
    let everyone_tried = peers.iter().all(|p| slot.tried.contains(p));
    slot.tried.clear();
    if everyone_tried {
        return Choice::Later;
    }
    book.pick(peers, &[], avoid, cap, salt)
        .map_or(Choice::Wait, Choice::Peer)
}
