//! Serves Starknet's five sync protocols from the block store, with the Wharf sync server's
//! admission control (the same [`Limiter`]: per-peer, per-IP, per-subnet and total streams,
//! the request token bucket), timeouts and penalties. One request per stream, read until the
//! requester closes its side; then each block's messages and exactly one `Fin`, at the first
//! block we lack or after the last one asked for. The exchange rules and how bad requests are
//! answered are in `proto/starknet/README.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::io::{AsyncWriteExt, BufWriter};
use libp2p::{PeerId, Stream};
use libp2p_stream::Control;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::protocol::{block_messages, Protocol};
use super::request::{self, Plan, RequestError};
use super::source::{block_parts, first_block, StarknetSource};
use crate::sync::config::SyncServerConfig;
use crate::sync::limits::Limiter;
use crate::sync::metrics::{Outcome, Side, SyncMetrics};
use crate::sync::report::{PeerReport, PeerReporter};
use crate::sync::server::accept_each;
use crate::sync::wire::{self, WireError};
use crate::sync::SyncServerError;

/// Buffer that batches small messages into fewer transport frames.
const WRITE_BUFFER: usize = 64 * 1024;

/// Blocks read ahead of the writer (backpressure on the store reader).
const READ_AHEAD: usize = 2;

struct Ctx {
    source: Arc<dyn StarknetSource>,
    reporter: Arc<dyn PeerReporter>,
    metrics: SyncMetrics,
    cfg: Arc<SyncServerConfig>,
    limiter: Limiter,
}

/// The Starknet protocols' server side. Build with [`StarknetServer::new`], start with
/// [`StarknetServer::spawn`].
pub struct StarknetServer {
    ctx: Arc<Ctx>,
}

impl StarknetServer {
    /// A server answering from `source`; `limiter` is shared with the Wharf sync server so the
    /// stream limits count both protocol families together.
    pub fn new(
        source: Arc<dyn StarknetSource>,
        reporter: Arc<dyn PeerReporter>,
        metrics: SyncMetrics,
        cfg: SyncServerConfig,
        limiter: Limiter,
    ) -> Self {
        let cfg = Arc::new(cfg);
        let ctx = Ctx {
            source,
            reporter,
            metrics,
            cfg,
            limiter,
        };
        StarknetServer { ctx: Arc::new(ctx) }
    }

    /// Accepts the five protocols on `control`; the tasks live on `tracker` until `cancel`.
    pub fn spawn(
        self,
        control: &mut Control,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> Result<(), SyncServerError> {
        for p in Protocol::ALL {
            let ctx = self.ctx.clone();
            let handle = move |peer, stream| handle_stream(ctx.clone(), p, peer, stream);
            accept_each(control, p.id(), tracker, &cancel, handle)?;
        }
        Ok(())
    }
}

/// Admits, serves and accounts for one stream, all within `response_timeout`.
async fn handle_stream(ctx: Arc<Ctx>, p: Protocol, peer: PeerId, stream: Stream) {
    let mut io = BufWriter::with_capacity(WRITE_BUFFER, stream);
    let work = async {
        match ctx.limiter.admit(peer) {
            Ok(_permit) => serve(&ctx, p, peer, &mut io).await,
            Err(refusal) => {
                // Not reported: Pathfinder re-requests at once after a short answer, and an
                // honest node must not be penalised for that; the bucket alone slows it.
                tracing::debug!(%peer, ?refusal, protocol = p.name(), "starknet sync stream refused");
                let _ = send(&mut io, &p.fin(), ctx.cfg.write_timeout).await;
                Outcome::Refused
            }
        }
    };
    let outcome = match tokio::time::timeout(ctx.cfg.response_timeout, work).await {
        Ok(outcome) => outcome,
        Err(_) => {
            ctx.reporter.report(peer, PeerReport::Timeout);
            Outcome::Timeout
        }
    };
    let _ = wire::close(&mut io, ctx.cfg.write_timeout).await;
    ctx.metrics.request_on(Side::Server, p.label(), outcome);
}

/// Reads and checks the request, then answers it.
async fn serve(ctx: &Ctx, p: Protocol, peer: PeerId, io: &mut BufWriter<Stream>) -> Outcome {
    let plan = match request::read(io, ctx.cfg.read_timeout).await {
        Ok(bytes) => request::decode(&bytes, ctx.cfg.max_blocks_per_request),
        Err(e) => Err(e),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => return refuse(ctx, p, peer, e, io).await,
    };
    match respond(ctx, p, plan, io).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::debug!(%peer, protocol = p.name(), error = %e, "starknet sync response failed");
            if matches!(e, WireError::Timeout(_)) {
                ctx.reporter.report(peer, PeerReport::Timeout);
                return Outcome::Timeout;
            }
            Outcome::Error
        }
    }
}

/// Answers a bad request with a lone `Fin` (when the stream still works) and reports it.
async fn refuse(
    ctx: &Ctx,
    p: Protocol,
    peer: PeerId,
    e: RequestError,
    io: &mut BufWriter<Stream>,
) -> Outcome {
    tracing::debug!(%peer, protocol = p.name(), error = %e, "starknet sync request refused");
    let (report, outcome) = match e {
        RequestError::Oversized => (PeerReport::Oversized, Outcome::Refused),
        RequestError::Garbage(_) => (PeerReport::Malformed, Outcome::Refused),
        RequestError::SecondMessage => (PeerReport::ProtocolViolation, Outcome::Refused),
        RequestError::Timeout(_) => (PeerReport::Timeout, Outcome::Timeout),
        RequestError::Io(_) => return Outcome::Error,
    };
    ctx.reporter.report(peer, report);
    let _ = send(io, &p.fin(), ctx.cfg.write_timeout).await;
    outcome
}

/// How the store reader ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Produced {
    /// Every block asked for was sent (or the numbers ran out at genesis).
    Complete,
    /// A block is not stored (or cannot be sent): `Fin` there.
    Missing,
}

/// Streams each block's messages as the reader produces them, then the `Fin`.
async fn respond(
    ctx: &Ctx,
    p: Protocol,
    plan: Plan,
    io: &mut BufWriter<Stream>,
) -> Result<Outcome, WireError> {
    let (tx, mut rx) = mpsc::channel(READ_AHEAD);
    let source = ctx.source.clone();
    let reader = tokio::task::spawn_blocking(move || produce(&*source, p, plan, &tx));
    let (started, mut sent) = (Instant::now(), 0usize);
    while let Some(messages) = rx.recv().await {
        let messages: Vec<Bytes> = messages;
        let len = messages.iter().map(Bytes::len).sum::<usize>();
        for m in &messages {
            send(io, m, ctx.cfg.write_timeout).await?;
        }
        ctx.metrics.served_on(p.label(), len);
        sent += len;
        check_rate(&ctx.cfg, started, sent)?;
    }
    let produced = reader.await.unwrap_or(Produced::Missing);
    send(io, &p.fin(), ctx.cfg.write_timeout).await?;
    Ok(match produced {
        Produced::Complete => Outcome::Ok,
        Produced::Missing => Outcome::NotFound,
    })
}

/// A peer must read at `min_send_rate` on average (after a `write_timeout` grace).
fn check_rate(cfg: &SyncServerConfig, started: Instant, sent: usize) -> Result<(), WireError> {
    if cfg.min_send_rate == 0 {
        return Ok(());
    }
    let allowed =
        cfg.write_timeout + Duration::from_secs_f64(sent as f64 / cfg.min_send_rate as f64);
    match started.elapsed() > allowed {
        true => Err(WireError::Timeout(allowed)),
        false => Ok(()),
    }
}

/// Reads the blocks of `plan` in order (blocking thread), handing each block's framed messages
/// to the writer; stops at the first block not stored, not mappable or too large to send.
fn produce(
    src: &dyn StarknetSource,
    p: Protocol,
    plan: Plan,
    tx: &mpsc::Sender<Vec<Bytes>>,
) -> Produced {
    let first = match first_block(src, plan.start) {
        Ok(Some(n)) => n,
        Ok(None) => return Produced::Missing,
        Err(e) => {
            tracing::warn!(error = %e, "block source failed while serving starknet sync");
            return Produced::Missing;
        }
    };
    for number in plan.numbers(first) {
        let parts = match block_parts(src, p, number) {
            Ok(Some(parts)) => parts,
            Ok(None) => return Produced::Missing,
            Err(e) => {
                tracing::warn!(number, error = %e, "block source failed while serving starknet sync");
                return Produced::Missing;
            }
        };
        let messages = match block_messages(p, &parts) {
            Ok(messages) => messages,
            Err(e) => {
                tracing::error!(number, protocol = p.name(), error = %e, "stored block has no wire form");
                return Produced::Missing;
            }
        };
        if let Some(big) = messages.iter().find(|m| m.len() > p.max_message()) {
            let len = big.len();
            tracing::warn!(
                number,
                protocol = p.name(),
                len,
                "message over the protocol's limit; not served"
            );
            return Produced::Missing;
        }
        if tx.blocking_send(messages).is_err() {
            return Produced::Missing;
        }
    }
    Produced::Complete
}

/// Writes one framed message within `timeout`.
async fn send(
    io: &mut BufWriter<Stream>,
    framed: &[u8],
    timeout: Duration,
) -> Result<(), WireError> {
    match tokio::time::timeout(timeout, io.write_all(framed)).await {
        Ok(done) => Ok(done?),
        Err(_) => Err(WireError::Timeout(timeout)),
    }
}
