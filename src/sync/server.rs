//! Serves the six sync protocols: one request per stream, an item per block, then `Fin`.
//!
//! Every incoming stream is admitted by the [`Limiter`] (per peer, IP, subnet, fair share), read
//! under a deadline with a tiny maximum request size, validated, answered from the
//! [`BlockSource`] and closed. The response must be read at `min_send_rate` on average and the
//! whole stream ends within `response_timeout`, so a slow reader cannot hold a slot for ever.
//! Anything a peer does wrong is answered with the matching `Fin` (when the stream still works)
//! and reported, never with a panic or an allocation sized by the peer.

use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncReadExt, BufWriter};
use futures::StreamExt;
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::Control;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chain::Component;
use crate::sync::config::SyncServerConfig;
use crate::sync::limits::{Limiter, NoAddresses, PeerAddresses, Refusal};
use crate::sync::metrics::{Outcome, Side, SyncMetrics};
use crate::sync::proto::{FinReason, SyncRequest};
use crate::sync::report::{PeerReport, PeerReporter};
use crate::sync::source::BlockSource;
use crate::sync::wire::{self, WireError};
use crate::sync::{classes, fin, item, protocol_id};

/// Largest request accepted: three varints fit in 33 bytes, so 64 leaves room and no more.
pub const MAX_REQUEST_SIZE: usize = 64;

/// Upper bound of an item message's size beyond its data (tags, lengths, block number).
const ITEM_OVERHEAD: usize = 32;

/// Buffer that batches small items into fewer transport frames.
const WRITE_BUFFER: usize = 64 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum SyncServerError {
    /// Another handler already accepts this protocol on the same `Control`.
    #[error("protocol {0} is already being accepted")]
    AlreadyRegistered(StreamProtocol),
}

/// Everything a stream handler needs, shared by all handlers.
struct Ctx {
    source: Arc<dyn BlockSource>,
    reporter: Arc<dyn PeerReporter>,
    metrics: SyncMetrics,
    cfg: Arc<SyncServerConfig>,
    limiter: Limiter,
}

/// The sync protocols' server side. Build with [`SyncServer::new`], start with [`SyncServer::spawn`].
pub struct SyncServer {
    network: String,
    ctx: Ctx,
}

impl SyncServer {
    /// A server for `network` answering from `source`, reporting misbehaviour to `reporter`.
    pub fn new(
        network: impl Into<String>,
        source: Arc<dyn BlockSource>,
        reporter: Arc<dyn PeerReporter>,
        metrics: SyncMetrics,
        cfg: SyncServerConfig,
    ) -> Self {
        let cfg = Arc::new(cfg);
        let limiter = Limiter::new(cfg.clone(), Arc::new(NoAddresses));
        let ctx = Ctx {
            source,
            reporter,
            metrics,
            cfg,
            limiter,
        };
        SyncServer {
            network: network.into(),
            ctx,
        }
    }

    /// Counts streams per IP and subnet with the peers' addresses from `addrs` (without it,
    /// each peer counts as its own source).
    pub fn with_addresses(mut self, addrs: Arc<dyn PeerAddresses>) -> Self {
        self.ctx.limiter = Limiter::new(self.ctx.cfg.clone(), addrs);
        self
    }

    /// The admission control of this server, to share with another protocol family's server
    /// (the Starknet protocols) so the stream limits count all streams together.
    pub fn limiter(&self) -> Limiter {
        self.ctx.limiter.clone()
    }

    /// Accepts the six protocols on `control`; the tasks live on `tracker` until `cancel`.
    pub fn spawn(
        self,
        control: &mut Control,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> Result<(), SyncServerError> {
        let ctx = Arc::new(self.ctx);
        for component in Component::ALL {
            let protocol = protocol_id(&self.network, component);
            let ctx = ctx.clone();
            let handle = move |peer, stream| handle_stream(ctx.clone(), component, peer, stream);
            accept_each(control, protocol, tracker, &cancel, handle)?;
        }
        Ok(())
    }
}

/// Accepts `protocol` on `control` and hands each incoming stream to `handle` on its own task
/// of `tracker`, until `cancel` (shared by the Wharf and the Starknet servers).
pub(crate) fn accept_each<F, Fut>(
    control: &mut Control,
    protocol: StreamProtocol,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    handle: F,
) -> Result<(), SyncServerError>
where
    F: Fn(PeerId, Stream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut incoming = control
        .accept(protocol.clone())
        .map_err(|_| SyncServerError::AlreadyRegistered(protocol))?;
    let (tasks, cancel) = (tracker.clone(), cancel.clone());
    tracker.spawn(async move {
        while let Some(Some((peer, stream))) = cancel.run_until_cancelled(incoming.next()).await {
            let handler = handle(peer, stream);
            let cancel = cancel.clone();
            tasks.spawn(async move { cancel.run_until_cancelled(handler).await });
        }
    });
    Ok(())
}

/// Admits, serves and accounts for one stream, all within `response_timeout`.
async fn handle_stream(ctx: Arc<Ctx>, component: Component, peer: PeerId, stream: Stream) {
    let mut io = BufWriter::with_capacity(WRITE_BUFFER, stream);
    let work = async {
        match ctx.limiter.admit(peer) {
            Ok(_permit) => serve(&ctx, component, peer, &mut io).await,
            Err(refusal) => refuse(&ctx, peer, refusal, &mut io).await,
        }
    };
    let outcome = match tokio::time::timeout(ctx.cfg.response_timeout, work).await {
        Ok(outcome) => {
            let _ = wire::close(&mut io, ctx.cfg.write_timeout).await;
            outcome
        }
        Err(_) => wire_failure(&ctx, peer, &WireError::Timeout(ctx.cfg.response_timeout)),
    };
    ctx.metrics.request(Side::Server, component, outcome);
}

/// Answers a stream that was not admitted with `Fin{BUSY|RATE_LIMITED}`.
async fn refuse(ctx: &Ctx, peer: PeerId, refusal: Refusal, io: &mut BufWriter<Stream>) -> Outcome {
    let reason = match refusal {
        Refusal::Busy => FinReason::Busy,
        Refusal::PeerBusy | Refusal::SourceBusy => FinReason::Busy,
        Refusal::RateLimited => FinReason::RateLimited,
    };
    // Only what the peer itself exceeded counts against it, not what its neighbours hold.
    if matches!(refusal, Refusal::PeerBusy | Refusal::RateLimited) {
        ctx.reporter.report(peer, PeerReport::RateLimited);
    }
    tracing::debug!(%peer, ?refusal, "sync stream refused");
    let _ = finish(ctx, io, reason, 0).await;
    Outcome::Refused
}

/// Reads, checks and answers the request on an admitted stream.
async fn serve(
    ctx: &Ctx,
    component: Component,
    peer: PeerId,
    io: &mut BufWriter<Stream>,
) -> Outcome {
    let request = match wire::read_message::<SyncRequest, _>(
        io,
        MAX_REQUEST_SIZE,
        ctx.cfg.read_timeout,
    )
    .await
    {
        Ok(Some(request)) => request,
        Ok(None) => {
            ctx.reporter.report(peer, PeerReport::ProtocolViolation);
            return Outcome::Refused;
        }
        Err(e) => return wire_failure(ctx, peer, &e),
    };
    if let Err(reason) = validate(&ctx.cfg, &request) {
        ctx.reporter.report(peer, PeerReport::ProtocolViolation);
        let _ = finish(ctx, io, reason, 0).await;
        return Outcome::Refused;
    }
    let outcome = match respond(ctx, component, &request, io).await {
        Ok(outcome) => outcome,
        Err(e) => return wire_failure(ctx, peer, &e),
    };
    check_trailing(ctx, peer, io).await;
    outcome
}

/// Reports a wire error when it is the peer's fault and returns the request's outcome.
fn wire_failure(ctx: &Ctx, peer: PeerId, e: &WireError) -> Outcome {
    tracing::debug!(%peer, error = %e, "sync stream failed");
    let (report, outcome) = match e {
        WireError::Truncated | WireError::Decode(_) => (PeerReport::Malformed, Outcome::Refused),
        WireError::Oversized { .. } => (PeerReport::Oversized, Outcome::Refused),
        WireError::Timeout(_) => (PeerReport::Timeout, Outcome::Timeout),
        WireError::Io(_) => return Outcome::Error,
    };
    ctx.reporter.report(peer, report);
    outcome
}

/// Checks a request against the limits; the error is the `Fin` reason to answer with.
fn validate(cfg: &SyncServerConfig, req: &SyncRequest) -> Result<(), FinReason> {
    if req.limit == 0 || req.step == 0 {
        return Err(FinReason::BadRequest);
    }
    if req.limit > cfg.max_blocks_per_request {
        return Err(FinReason::LimitExceeded);
    }
    let span = (req.limit - 1).checked_mul(req.step);
    match span.and_then(|s| req.start_block.checked_add(s)) {
        Some(_) => Ok(()),
        None => Err(FinReason::BadRequest),
    }
}

/// Sends the items the source has, then the matching `Fin`, at no less than `min_send_rate`.
async fn respond(
    ctx: &Ctx,
    component: Component,
    req: &SyncRequest,
    io: &mut BufWriter<Stream>,
) -> Result<Outcome, WireError> {
    let source = ctx.source.clone();
    let (start, limit, step) = (req.start_block, req.limit, req.step);
    let read =
        tokio::task::spawn_blocking(move || source.range(component, start, limit, step)).await;
    let mut items = match read {
        Ok(Ok(items)) => items,
        failed => {
            tracing::warn!(?failed, %component, "block source failed while serving");
            finish(ctx, io, FinReason::Busy, 0).await?;
            return Ok(Outcome::Error);
        }
    };
    items.truncate(limit as usize);
    let deadline = send_deadline(&ctx.cfg, &items);
    let sending = send(ctx, component, req, items, io);
    match tokio::time::timeout(deadline, sending).await {
        Ok(sent) => sent,
        Err(_) => Err(WireError::Timeout(deadline)),
    }
}

/// How long a response may take: `write_timeout` plus its size at `min_send_rate` (0: no rate).
fn send_deadline(cfg: &SyncServerConfig, items: &[(u64, bytes::Bytes)]) -> Duration {
    let bytes: usize = items.iter().map(|(_, d)| d.len() + ITEM_OVERHEAD).sum();
    match cfg.min_send_rate {
        0 => cfg.response_timeout,
        rate => cfg.write_timeout + Duration::from_secs_f64(bytes as f64 / rate as f64),
    }
}

/// Writes `items` (classes with their per-block lists for the classes component), then the
/// matching `Fin`.
async fn send(
    ctx: &Ctx,
    component: Component,
    req: &SyncRequest,
    items: Vec<(u64, bytes::Bytes)>,
    io: &mut BufWriter<Stream>,
) -> Result<Outcome, WireError> {
    let limit = req.limit;
    let served = if component == Component::Classes {
        let (max, timeout) = (ctx.cfg.max_message_size, ctx.cfg.write_timeout);
        classes::write_items(io, items, limit, max, timeout, &ctx.metrics).await?
    } else {
        write_items(ctx, component, io, items, limit).await?
    };
    if served < limit {
        let missing = req.start_block + served * req.step;
        finish(ctx, io, FinReason::NotFound, missing).await?;
        return Ok(Outcome::NotFound);
    }
    finish(ctx, io, FinReason::Complete, 0).await?;
    Ok(Outcome::Ok)
}

/// Writes one item per block, in order; returns how many (stops before an oversized one).
async fn write_items(
    ctx: &Ctx,
    component: Component,
    io: &mut BufWriter<Stream>,
    items: Vec<(u64, bytes::Bytes)>,
    limit: u64,
) -> Result<u64, WireError> {
    let mut buf = Vec::new();
    let mut served = 0;
    for (number, data) in items.into_iter().take(limit as usize) {
        if data.len() + ITEM_OVERHEAD > ctx.cfg.max_message_size {
            tracing::warn!(number, %component, len = data.len(), "item exceeds max_message_size; not served");
            break;
        }
        ctx.metrics.served(component, data.len());
        wire::write_message(io, &item(number, data), &mut buf, ctx.cfg.write_timeout).await?;
        served += 1;
    }
    Ok(served)
}

/// Writes the `Fin` and closes our side of the stream.
async fn finish(
    ctx: &Ctx,
    io: &mut BufWriter<Stream>,
    reason: FinReason,
    missing: u64,
) -> Result<(), WireError> {
    wire::write_message(
        io,
        &fin(reason, missing),
        &mut Vec::new(),
        ctx.cfg.write_timeout,
    )
    .await?;
    wire::close(io, ctx.cfg.write_timeout).await
}

/// After `Fin`, the client must have closed its side: anything more is a second request.
async fn check_trailing(ctx: &Ctx, peer: PeerId, io: &mut BufWriter<Stream>) {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(ctx.cfg.read_timeout, io.read(&mut byte)).await;
    if let Ok(Ok(n)) = read {
        if n > 0 {
            tracing::debug!(%peer, "bytes after the request (second request on a stream)");
            ctx.reporter.report(peer, PeerReport::ProtocolViolation);
        }
    }
}
