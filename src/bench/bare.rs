//! The baseline: the same bytes over bare libp2p streams between the same swarms, with the
//! sync protocols' request sizes, write sizes, buffers and concurrency, but no framing,
//! decoding, verification or storage.
//!
//! Protocol `/wharf/bench/bare/1.0.0`: the client sends `total: u64 BE | writes: u64 BE` and
//! closes its side; the server writes `total` bytes in `writes` writes, closes, and waits for the
//! client's end of stream.

use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use futures::StreamExt;
use libp2p::{Stream, StreamProtocol};
use libp2p_stream::Control;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::net::BenchNode;
use super::report::Transfer;
use super::BenchError;
use crate::chain::Component;
use crate::sync::PipelineConfig;

const PROTOCOL: StreamProtocol = StreamProtocol::new("/wharf/bench/bare/1.0.0");
/// The sync server's write buffer and the sync client's read buffer.
const BUFFER: usize = 64 * 1024;
/// Tries of one request whose stream the relay dropped before answering.
const MAX_ATTEMPTS: u32 = 10;
/// Longest wait for any single read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One bare request: like one sync request, `bytes` in `writes` writes.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    bytes: u64,
    writes: u64,
}

/// The requests of a sync of the same blocks, and how many may be in flight at once.
#[derive(Debug, Clone)]
pub struct Plan {
    requests: Vec<Request>,
    concurrency: usize,
}

impl Plan {
    /// One request per component per chunk, as the pipeline would make for blocks of `sizes`
    /// from `relays` relays; as many in flight as the pipeline allows.
    pub fn mirroring(sizes: &[[usize; 6]], cfg: &PipelineConfig, relays: usize) -> Plan {
        let chunk = cfg.chunk_size.max(1) as usize;
        let mut requests = Vec::new();
        for blocks in sizes.chunks(chunk) {
            for c in 0..Component::ALL.len() {
                let bytes = blocks.iter().map(|b| b[c] as u64).sum();
                let writes = blocks.len() as u64;
                requests.push(Request { bytes, writes });
            }
        }
        let concurrency = max_streams(cfg, relays);
        Plan {
            requests,
            concurrency,
        }
    }
}

/// Most requests the pipeline has in flight: its window's, capped per peer.
pub fn max_streams(cfg: &PipelineConfig, relays: usize) -> usize {
    let window = cfg.max_chunks_in_flight.max(1) * Component::ALL.len();
    window.min(relays * cfg.max_requests_per_peer.max(1))
}

/// Accepts the bare protocol on `control` until `cancel`.
pub fn serve(
    control: &mut Control,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) -> Result<(), BenchError> {
    let mut incoming = control
        .accept(PROTOCOL)
        .map_err(|e| BenchError::Net(e.to_string()))?;
    let (tasks, cancel) = (tracker.clone(), cancel.clone());
    tracker.spawn(async move {
        while let Some(Some((_, stream))) = cancel.run_until_cancelled(incoming.next()).await {
            tasks.spawn(cancel.clone().run_until_cancelled_owned(answer(stream)));
        }
    });
    Ok(())
}

/// Reads one request and writes its bytes.
async fn answer(mut stream: Stream) -> std::io::Result<()> {
    let mut request = [0u8; 16];
    timed(stream.read_exact(&mut request)).await?;
    let bytes = u64::from_be_bytes(request[..8].try_into().expect("8 bytes"));
    let writes = u64::from_be_bytes(request[8..].try_into().expect("8 bytes")).max(1);
    let size = bytes / writes;
    let data = vec![0x5a; (size + bytes % writes) as usize];
    let mut io = BufWriter::with_capacity(BUFFER, stream);
    for i in 0..writes {
        let len = if i + 1 == writes {
            data.len()
        } else {
            size as usize
        };
        timed(io.write_all(&data[..len])).await?;
    }
    timed(io.close()).await?;
    // Like the sync server: wait for the client's end of stream before dropping ours, or the
    // stream is reset under the client's last reads.
    timed(io.read(&mut request)).await.map(|_| ())
}

/// Runs `plan` against `relays` round-robin from `node`; fails if any byte is missing.
pub async fn transfer(
    node: &BenchNode,
    relays: &[BenchNode],
    plan: &Plan,
) -> Result<Transfer, BenchError> {
    let started = Instant::now();
    let mut running = JoinSet::new();
    let mut total = 0u64;
    for (i, request) in plan.requests.iter().copied().enumerate() {
        if running.len() >= plan.concurrency {
            total += joined(running.join_next().await)?;
        }
        let peer = relays[i % relays.len()].peer;
        let control = node.control.clone();
        running.spawn(fetch(control, peer, request));
    }
    while let Some(done) = running.join_next().await {
        total += joined(Some(done))?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Transfer {
        bytes: total as usize,
        secs,
        streams: plan.concurrency,
    })
}

fn joined(
    done: Option<Result<std::io::Result<u64>, tokio::task::JoinError>>,
) -> Result<u64, BenchError> {
    let wrong = |e: String| BenchError::Wrong(format!("bare transfer: {e}"));
    match done {
        Some(Ok(Ok(n))) => Ok(n),
        Some(Ok(Err(e))) => Err(wrong(e.to_string())),
        Some(Err(e)) => Err(wrong(e.to_string())),
        None => Ok(0),
    }
}

/// Makes one request, again while the relay drops the stream unanswered (libp2p-stream drops
/// inbound streams its acceptor cannot take at once; the sync client retries those too).
async fn fetch(control: Control, peer: libp2p::PeerId, req: Request) -> std::io::Result<u64> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(control.clone(), peer, req).await {
            Err((0, _)) if attempts < MAX_ATTEMPTS => continue,
            result => return result.map_err(|(_, e)| e),
        }
    }
}

/// One request; on failure, how many bytes had arrived.
async fn attempt(
    control: Control,
    peer: libp2p::PeerId,
    req: Request,
) -> Result<u64, (u64, std::io::Error)> {
    let mut read = 0u64;
    exchange(control, peer, req, &mut read)
        .await
        .map_err(|e| (read, e))
}

/// Sends the request and reads the whole answer, counting bytes into `read`.
async fn exchange(
    mut control: Control,
    peer: libp2p::PeerId,
    req: Request,
    read: &mut u64,
) -> std::io::Result<u64> {
    let mut stream = timed(async {
        control
            .open_stream(peer, PROTOCOL)
            .await
            .map_err(std::io::Error::other)
    })
    .await?;
    let mut request = req.bytes.to_be_bytes().to_vec();
    request.extend_from_slice(&req.writes.to_be_bytes());
    timed(stream.write_all(&request)).await?;
    timed(stream.close()).await?;
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = timed(stream.read(&mut buf)).await?;
        if n == 0 {
            break;
        }
        *read += n as u64;
    }
    if *read != req.bytes {
        let msg = format!("read {read} of {} bytes", req.bytes);
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, msg));
    }
    Ok(*read)
}

/// Runs `io` within [`IO_TIMEOUT`].
async fn timed<T>(io: impl std::future::Future<Output = std::io::Result<T>>) -> std::io::Result<T> {
    tokio::time::timeout(IO_TIMEOUT, io)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "bare stream stalled"))?
}
