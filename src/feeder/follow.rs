//! The feeder's follow loop: poll head, fetch a window in parallel, verify and commit
//! the valid prefix in order, report and back off on anything else.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::{CommittedHead, FeederConfig, FeederDeps, FeederError, FetchError, RawBlock};
use crate::chain::{
    check_number, par, Block, BlockHash, BlockNumber, ChainAdapter, Checkpoint, Header,
    VerifiedBlock, VerifyError,
};
use crate::gateway::HeadResponse;
use crate::store::StoreError;

/// What a round achieved.
enum Progress {
    /// Committed at least one block; go again at once.
    Advanced,
    /// Nothing new upstream; wait a poll interval.
    CaughtUp,
}

/// The committed head the store reopened at, for the initial watch value.
pub(super) fn initial_head(deps: &FeederDeps) -> Result<Option<CommittedHead>, FeederError> {
    let Some((number, hash)) = deps.store.head() else {
        return Ok(None);
    };
    let header = deps
        .store
        .header(number)?
        .ok_or_else(|| StoreError::Corrupt(format!("head {number} has no header")))?;
    Ok(Some(CommittedHead {
        number,
        hash,
        header,
    }))
}

/// State of the follow loop.
pub(super) struct Follower {
    cfg: FeederConfig,
    deps: FeederDeps,
    heads: watch::Sender<Option<CommittedHead>>,
    /// Header of our committed head: the parent of the next block.
    tip: Option<Header>,
    /// Last reorg reported, so a persisting divergence is counted once.
    last_reorg: Option<(BlockNumber, BlockHash)>,
    last_lag_warning: Option<Instant>,
    /// Blocks fetched per round: `batch_size`, halved after each rate-limited round and doubled
    /// back after each round that advanced, so a gateway's per-second budget is spent on a
    /// prefix that can complete (with its classes) instead of on blocks a 429 then discards.
    window: u64,
}

impl Follower {
    pub(super) fn new(
        cfg: FeederConfig,
        deps: FeederDeps,
        heads: watch::Sender<Option<CommittedHead>>,
    ) -> Self {
        let tip = heads.borrow().as_ref().map(|h| h.header.clone());
        let cfg_batch = cfg.batch_size.max(1);
        Follower {
            cfg,
            deps,
            heads,
            tip,
            last_reorg: None,
            last_lag_warning: None,
            window: cfg_batch,
        }
    }

    /// Runs rounds until cancelled, backing off after failures.
    pub(super) async fn run(mut self, cancel: CancellationToken) {
        let mut backoff = Backoff::new(self.cfg.backoff_initial, self.cfg.backoff_max);
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                outcome = self.round() => outcome,
            };
            let delay = match outcome {
                Ok(progress) => {
                    backoff.reset();
                    self.window = (self.window * 2).min(self.cfg.batch_size.max(1));
                    match progress {
                        Progress::Advanced => continue,
                        Progress::CaughtUp => self.cfg.poll_interval,
                    }
                }
                Err(e) => {
                    self.report(&e);
                    let delay = backoff.next_delay();
                    match &e {
                        FeederError::Gateway(f @ FetchError::RateLimited { .. }) => {
                            self.window = (self.window / 2).max(1);
                            f.retry_after().map_or(delay, |r| r.max(delay))
                        }
                        FeederError::Gateway(f) => f.retry_after().map_or(delay, |r| r.max(delay)),
                        _ => delay,
                    }
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn round(&mut self) -> Result<Progress, FeederError> {
        let head = self.deps.upstream.head().await?;
        self.deps.metrics.gateway_head.set(head.number as i64);
        let first = self.deps.store.history_from();
        let next = self.tip.as_ref().map_or(first, |h| h.number + 1);
        self.update_lag(head.number);
        if head.number < next {
            self.check_same_chain(&head)?;
            return Ok(Progress::CaughtUp);
        }
        let end = head.number.min(next + self.window - 1);
        let (raws, fetch_error) = self.fetch(next, end).await;
        let refusal = self.verify_and_commit(next, raws, head).await?;
        match (refusal, fetch_error) {
            (Some(refused), _) => Err(refused),
            (None, Some(e)) => Err(e.into()),
            (None, None) => Ok(Progress::Advanced),
        }
    }

    /// Fetches `start..=end` with bounded concurrency, in order, up to the first failure.
    async fn fetch(
        &self,
        start: BlockNumber,
        end: BlockNumber,
    ) -> (Vec<RawBlock>, Option<FetchError>) {
        let upstream = &self.deps.upstream;
        let mut stream = futures::stream::iter(start..=end)
            .map(|n| upstream.block(n))
            .buffered(self.cfg.fetch_concurrency.max(1));
        let mut raws = Vec::new();
        while let Some(result) = stream.next().await {
            match result {
                Ok(raw) => raws.push(raw),
                Err(e) => return (raws, Some(e)),
            }
        }
        (raws, None)
    }

    /// Verifies fetched blocks in order, fetches and verifies the classes they bring, and
    /// commits the valid prefix (blocks with their classes) in one transaction. Returns the
    /// refusal or failure that stopped the prefix, if any.
    async fn verify_and_commit(
        &mut self,
        start: BlockNumber,
        raws: Vec<RawBlock>,
        head: HeadResponse,
    ) -> Result<Option<FeederError>, FeederError> {
        let deps = self.deps.clone();
        let parent = self.tip.clone();
        let (blocks, refusal) =
            tokio::task::spawn_blocking(move || verify_prefix(&deps, parent, start, &raws, &head))
                .await?;
        let refusal = refusal.map(|(number, source)| FeederError::Verify { number, source });
        let concurrency = self.cfg.fetch_concurrency;
        let (blocks, class_error) = super::classes::attach(&self.deps, concurrency, blocks).await;
        let deps = self.deps.clone();
        let blocks = tokio::task::spawn_blocking(move || {
            deps.store.commit_verified(&blocks).map(|_| blocks)
        })
        .await??;
        if let Some(last) = blocks.last() {
            self.on_committed(blocks.len() as u64, last);
        }
        Ok(class_error.or(refusal))
    }

    /// Moves the tip and announces the new head (`wharf_chain_head` is the store's watcher's).
    fn on_committed(&mut self, count: u64, last: &VerifiedBlock) {
        let (number, hash, header) = (last.number(), last.hash, last.header.clone());
        self.deps.metrics.blocks_committed.inc_by(count);
        tracing::debug!(number, %hash, count, "committed upstream blocks");
        self.tip = Some(header.clone());
        self.heads.send_replace(Some(CommittedHead {
            number,
            hash,
            header,
        }));
    }

    /// When caught up, checks that the gateway's head is a block we hold with the same hash.
    fn check_same_chain(&mut self, head: &HeadResponse) -> Result<(), FeederError> {
        let ours = self.deps.store.hash(head.number)?;
        if let Some(ours) = ours.filter(|ours| *ours != head.hash) {
            let source = VerifyError::HashMismatch {
                expected: ours,
                actual: head.hash,
            };
            self.report_reorg(head.number, head.hash, &source);
        }
        Ok(())
    }

    fn report(&mut self, error: &FeederError) {
        match error {
            FeederError::Gateway(e) => {
                self.deps.metrics.gateway_error(e.kind());
                tracing::warn!(error = %e, kind = e.kind(), "gateway request failed; retrying");
            }
            FeederError::Verify { number, source } => {
                self.deps.metrics.verification_failed(source.reason());
                if let VerifyError::ParentMismatch { actual, .. } = source {
                    self.report_reorg(*number, *actual, source);
                }
                tracing::error!(number, reason = source.reason(), error = %source,
                    "upstream block refused; not stored, progress stopped at this height");
            }
            other => tracing::error!(error = %other, "feeder round failed; retrying"),
        }
    }

    fn report_reorg(&mut self, number: BlockNumber, upstream: BlockHash, source: &VerifyError) {
        if self.last_reorg == Some((number, upstream)) {
            return;
        }
        self.last_reorg = Some((number, upstream));
        self.deps.metrics.reorgs_detected.inc();
        tracing::error!(number, %upstream, error = %source,
            "REORG: upstream chain diverges from the stored chain; stored blocks are kept, not overwritten");
    }

    fn update_lag(&mut self, gateway_head: BlockNumber) {
        let ours = self.tip.as_ref().map(|h| h.number);
        let lag = ours.map_or(gateway_head + 1, |n| gateway_head.saturating_sub(n));
        let metrics = &self.deps.metrics;
        metrics.lag_blocks.set(lag as i64);
        if let Some(tip) = &self.tip {
            let age_ms = unix_ms().saturating_sub(tip.timestamp_ms);
            metrics.lag_seconds.set(age_ms as f64 / 1000.0);
        }
        let due = self
            .last_lag_warning
            .is_none_or(|t| t.elapsed() >= self.cfg.lag_warn_interval);
        if lag > self.cfg.lag_warn_blocks && due {
            self.last_lag_warning = Some(Instant::now());
            tracing::warn!(lag, gateway_head, ?ours, "feeder is behind the gateway");
        }
    }
}

/// Decodes and verifies `raws` (blocks `start..`) against their parents, blocks spread over
/// the cores. Returns the valid prefix and the refusal that ended it.
fn verify_prefix(
    deps: &FeederDeps,
    parent: Option<Header>,
    start: BlockNumber,
    raws: &[RawBlock],
    head: &HeadResponse,
) -> (Vec<VerifiedBlock>, Option<(BlockNumber, VerifyError)>) {
    let anchor = deps.store.checkpoint();
    let adapter = &*deps.adapter;
    let threads = par::cores();
    let decoded: Vec<Result<Block, VerifyError>> = par::map_slices(raws, threads, |_, slice| {
        slice
            .iter()
            .map(|raw| deps.upstream.decode(adapter, raw))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let verified = par::map_slices(&decoded, threads, |offset, slice| {
        let one = |(i, block): (usize, &Result<Block, VerifyError>)| {
            let parent = match i {
                0 => parent.as_ref(),
                _ => decoded[i - 1].as_ref().ok().map(|b| &b.header),
            };
            let number = start + i as u64;
            let block = block.as_ref().map_err(Clone::clone);
            block.and_then(|b| verify_one(adapter, parent, anchor, number, b, head))
        };
        (offset..).zip(slice).map(one).collect::<Vec<_>>()
    });
    let mut blocks = Vec::with_capacity(raws.len());
    for (number, result) in (start..).zip(verified.into_iter().flatten()) {
        match result {
            Ok(block) => blocks.push(block),
            Err(e) => return (blocks, Some((number, e))),
        }
    }
    (blocks, None)
}

fn verify_one(
    adapter: &dyn ChainAdapter,
    parent: Option<&Header>,
    anchor: Option<Checkpoint>,
    number: BlockNumber,
    block: &Block,
    head: &HeadResponse,
) -> Result<VerifiedBlock, VerifyError> {
    check_number(number, block.number())?;
    match (parent, anchor) {
        // The first block of a checkpointed chain: its hash is the operator's, its parent unknown.
        (None, Some(cp)) => adapter.verify_hash(&block.header, &cp.hash)?,
        (None, None) if block.header.parent_hash != BlockHash::ZERO => {
            let (expected, actual) = (BlockHash::ZERO, block.header.parent_hash);
            return Err(VerifyError::ParentMismatch {
                number,
                expected,
                actual,
            });
        }
        _ => {}
    }
    let verified = adapter.verify_block(block, parent)?;
    if number == head.number && verified.hash != head.hash {
        let (expected, actual) = (head.hash, verified.hash);
        return Err(VerifyError::HashMismatch { expected, actual });
    }
    Ok(verified)
}

fn unix_ms() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    now.as_millis() as u64
}
