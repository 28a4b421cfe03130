//! The coordinator's reactions: fetch, verification and commit results, peer blame, waiting.

use std::time::{Duration, Instant};

use tokio::task::{Id, JoinError};
use tokio_util::sync::CancellationToken;

use crate::chain::{BlockNumber, Component};
use crate::sync::client::FetchError;
use crate::sync::config::PipelineConfig;
use crate::sync::metrics::{Outcome, Side};
use crate::sync::pipeline::chunk::Phase;
use crate::sync::pipeline::run::{Committed, Coordinator, Fetched};
use crate::sync::pipeline::verify::{Rejected, Verified};
use crate::sync::pipeline::{BlockSink, BlockVerifier, PipelineError, VerifiedBlock};
use crate::sync::report::PeerReport;

impl<V: BlockVerifier, S: BlockSink<V::Header>> Coordinator<'_, V, S> {
    /// Sleeps until some task finishes, the peer list changes, a cooldown ends or `cancel`.
    pub(super) async fn wait(&mut self, cancel: &CancellationToken) -> Result<(), PipelineError> {
        if !self.peers_open && self.peers.borrow().is_empty() {
            return Err(PipelineError::NoPeers);
        }
        let wake = self.next_wake();
        let sleep = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now).into());
        tokio::select! {
            _ = cancel.cancelled() => return Err(PipelineError::Cancelled),
            Some(done) = self.fetches.join_next_with_id() => self.on_fetched(done),
            Some(done) = self.verifies.join_next() => self.on_verified(done)?,
            Some(done) = self.commits.join_next() => self.on_committed(done)?,
            changed = self.peers.changed(), if self.peers_open => self.peers_open = changed.is_ok(),
            _ = sleep, if wake.is_some() => {}
        }
        Ok(())
    }

    /// Earliest instant at which a cooling peer or a delayed slot becomes available.
    fn next_wake(&self) -> Option<Instant> {
        let slots = self
            .chunks
            .values()
            .flat_map(|c| c.slots.iter().filter_map(|s| s.not_before));
        slots
            .chain(self.book.next_wake())
            .filter(|t| *t > Instant::now())
            .min()
    }

    /// Stage 2: stores a component that arrived, or frees its slot for another peer.
    fn on_fetched(&mut self, done: Result<(Id, Fetched), JoinError>) {
        let (id, result) = match done {
            Ok((id, result)) => (id, result.map_err(Some)),
            Err(e) => (e.id(), Err(None)),
        };
        let Some((start, component, peer)) = self.fetch_meta.remove(&id) else {
            return;
        };
        self.book.finished(peer);
        let Some(chunk) = self.chunks.get_mut(&start) else {
            return;
        };
        let len = chunk.len;
        let slot = chunk.slot(component);
        slot.in_flight = false;
        let retry_now = matches!(result, Err(Some(FetchError::NoResponse))) && !slot.dropped;
        let outcome = match result {
            Ok(items) if items.len() as u64 == len => {
                slot.data = Some(items.into_iter().map(|(_, data)| data).collect());
                self.p.reporter.report(peer, PeerReport::Useful);
                self.p.metrics.request(Side::Client, component, Outcome::Ok);
                return;
            }
            Ok(_) => Outcome::NotFound,
            Err(Some(e)) => {
                tracing::debug!(%peer, %component, start, error = %e, "sync fetch failed");
                if let Some(kind) = e.kind() {
                    self.p.reporter.report(peer, kind);
                }
                if let Some(cooldown) = cooldown_after(&self.p.cfg.pipeline, &e) {
                    self.book.cool_down(peer, cooldown);
                }
                e.outcome()
            }
            Err(None) => Outcome::Error,
        };
        slot.peer = None;
        if retry_now {
            slot.dropped = true;
        } else {
            slot.tried.push(peer);
        }
        self.p.metrics.request(Side::Client, component, outcome);
        self.p.metrics.retried(component);
    }

    /// Stage 3 result: keeps the verified blocks, or blames the peer and refetches its part.
    fn on_verified(
        &mut self,
        done: Result<(BlockNumber, Verified<V::Header>), JoinError>,
    ) -> Result<(), PipelineError> {
        let (start, result) = done.map_err(|e| PipelineError::Verifier(e.to_string()))?;
        let Some(chunk) = self.chunks.get_mut(&start) else {
            return Ok(());
        };
        match result {
            Ok(blocks) => chunk.phase = Phase::Verified(blocks),
            Err(rejected) => {
                let Rejected { blame, parts } = *rejected;
                let reason = format!("block {}: {}", blame.number, blame.reason);
                self.blame(start, blame.component, reason);
                self.chunks
                    .get_mut(&start)
                    .expect("present")
                    .restore(parts, blame.component);
            }
        }
        Ok(())
    }

    /// Stage 5 result: drops committed chunks and moves the head.
    fn on_committed(&mut self, done: Result<Committed, JoinError>) -> Result<(), PipelineError> {
        let (last, starts) = done
            .map_err(|e| PipelineError::Sink(e.to_string()))?
            .map_err(PipelineError::Sink)?;
        let blocks = last + 1 - starts.first().copied().unwrap_or(last);
        for start in starts {
            self.chunks.remove(&start);
        }
        self.head = Some(last);
        self.p.metrics.synced(blocks);
        Ok(())
    }

    /// Stage 4 check: the first block of a chunk must extend the tip (unchecked on an empty
    /// chain). The first block of a checkpointed chain is checked by the sink against the
    /// checkpoint instead: a mismatch is the operator's checkpoint, not the peer's fault, so no
    /// peer is blamed for it.
    pub(super) fn extends_tip(&self, blocks: &[VerifiedBlock<V::Header>]) -> bool {
        let (Some((_, tip)), Some(first)) = (self.tip, blocks.first()) else {
            return true;
        };
        self.p.verifier.parent_hash(&first.header) == tip
    }

    /// The first block number of the chain: the sink's checkpoint, else genesis.
    pub(super) fn first(&self) -> BlockNumber {
        self.p.sink.anchor().map_or(0, |(n, _)| n)
    }

    /// Reports the peer that sent `component` of chunk `start` as sending invalid data.
    pub(super) fn blame(&mut self, start: BlockNumber, component: Component, reason: String) {
        let Some(chunk) = self.chunks.get_mut(&start) else {
            return;
        };
        let peer = chunk.slot(component).peer;
        tracing::warn!(?peer, %component, start, %reason, "peer sent data that failed verification");
        if let Some(peer) = peer {
            self.p.reporter.report(peer, PeerReport::InvalidData);
            self.book.cool_down(peer, self.p.cfg.pipeline.peer_cooldown);
        }
        self.p.metrics.retried(component);
    }

    /// Commits `blocks` (the chunks starting at `starts`) on a blocking thread.
    pub(super) fn spawn_commit(
        &mut self,
        blocks: Vec<VerifiedBlock<V::Header>>,
        starts: Vec<BlockNumber>,
    ) {
        let sink = self.p.sink.clone();
        self.commits.spawn_blocking(move || {
            let last = blocks.last().map_or(0, |b| b.number);
            sink.commit(blocks).map_err(|e| e.to_string())?;
            Ok((last, starts))
        });
    }
}

/// How long to rest a peer after `e`: long after misbehaviour, short when it is unreachable
/// or says it is overloaded, not at all for a dropped stream (the slot moves on anyway).
fn cooldown_after(cfg: &PipelineConfig, e: &FetchError) -> Option<Duration> {
    match e {
        _ if e.kind().is_some() => Some(cfg.peer_cooldown),
        FetchError::Open(_) | FetchError::Refused(_) => Some(cfg.retry_delay),
        _ => None,
    }
}
