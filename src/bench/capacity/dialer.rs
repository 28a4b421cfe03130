//! Cheap dialers: one raw TCP + Noise + Yamux handshake per connection, each with a fresh
//! identity and a source address on 127.x.y.z, held by one small task (no swarm per identity).
//! What each connection answers is in [`super::peer`].

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use libp2p::core::muxing::{StreamMuxerBox, StreamMuxerExt};
use libp2p::core::upgrade::OutboundConnectionUpgrade;
use libp2p::identity::Keypair;
use libp2p::{noise, yamux};
use multistream_select::{dialer_select_proto, Version};
use tokio::net::TcpSocket;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest time one handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Tries of one connection the relay refused or dropped during its handshake.
const ATTEMPTS: u32 = 5;
/// Pause before a retry, times the attempt.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Handshakes in flight per /24 at most (the relay admits 8 pending per /24 by default).
const PENDING_PER_SUBNET: usize = 4;

/// How the connections spread over source addresses: `per_ip` from each address, `per_subnet`
/// from each /24 (127.a.b.0/24, a >= 1: never 127.0.0.x, the joiner's and the probes').
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// Connections from one source address.
    pub per_ip: u32,
    /// Connections from one /24 (a multiple of `per_ip`).
    pub per_subnet: u32,
}

impl Spread {
    /// The source address of connection `i` of `n`: consecutive connections come from
    /// different /24s, so concurrent handshakes never pile up on one subnet.
    pub fn source(&self, i: usize, n: usize) -> Ipv4Addr {
        let subnets = self.subnets(n);
        let (subnet, slot) = (i % subnets, i / subnets);
        let ips = (self.per_subnet / self.per_ip).max(1) as usize;
        let host = slot % ips;
        Ipv4Addr::new(
            127,
            1 + (subnet / 256) as u8,
            (subnet % 256) as u8,
            1 + host as u8,
        )
    }

    /// /24s needed for `n` connections.
    pub fn subnets(&self, n: usize) -> usize {
        n.div_ceil(self.per_subnet.max(1) as usize).max(1)
    }
}

/// Held connections: dropping this closes them all.
pub struct Held {
    /// Connections established and still open.
    pub live: Arc<AtomicUsize>,
    /// Connections that could not be established (after retries), with the last reason.
    pub failed: usize,
    /// One reason a connection failed, if any did.
    pub last_error: Option<String>,
    /// Seconds taken to establish them all.
    pub dial_secs: f64,
    cancel: CancellationToken,
    _tracker: TaskTracker,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Opens `n` connections to `target`, `concurrency` handshakes at a time, and holds them.
pub async fn dial_all(target: SocketAddr, n: usize, spread: Spread, concurrency: usize) -> Held {
    let (live, cancel, tracker) = (
        Arc::new(AtomicUsize::new(0)),
        CancellationToken::new(),
        TaskTracker::new(),
    );
    let started = Instant::now();
    let concurrency = concurrency
        .min(spread.subnets(n) * PENDING_PER_SUBNET)
        .max(1);
    let mut pending = FuturesUnordered::new();
    let (mut failed, mut last_error) = (0, None);
    for i in 0..n {
        if pending.len() >= concurrency {
            if let Some(Err(e)) = pending.next().await {
                failed += 1;
                last_error = Some(e);
            }
        }
        pending.push(connect_and_hold(
            target,
            spread.source(i, n),
            &live,
            &cancel,
            &tracker,
        ));
    }
    while let Some(done) = pending.next().await {
        if let Err(e) = done {
            failed += 1;
            last_error = Some(e);
        }
    }
    drop(pending);
    Held {
        live,
        failed,
        last_error,
        dial_secs: started.elapsed().as_secs_f64(),
        cancel,
        _tracker: tracker,
    }
}

/// Establishes one connection (retrying a refusal) and leaves a task holding it.
async fn connect_and_hold(
    target: SocketAddr,
    source: Ipv4Addr,
    live: &Arc<AtomicUsize>,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<(), String> {
    let mut attempt = 0;
    let (key, muxer) = loop {
        attempt += 1;
        let key = Keypair::generate_ed25519();
        let timed = tokio::time::timeout(HANDSHAKE_TIMEOUT, connect(target, source, &key));
        match timed.await {
            Ok(Ok(muxer)) => break (key, muxer),
            Ok(Err(e)) if attempt >= ATTEMPTS => return Err(format!("from {source}: {e}")),
            Err(_) if attempt >= ATTEMPTS => return Err(format!("from {source}: timed out")),
            _ => tokio::time::sleep(RETRY_PAUSE * attempt).await,
        }
    };
    live.fetch_add(1, Ordering::Relaxed);
    let (live, cancel) = (live.clone(), cancel.clone());
    tracker.spawn(async move {
        cancel
            .run_until_cancelled(super::peer::serve(muxer, key.public()))
            .await;
        live.fetch_sub(1, Ordering::Relaxed);
    });
    Ok(())
}

/// TCP from `source`, then multistream-select, Noise (as `key`) and Yamux, as a libp2p dialer.
async fn connect(
    target: SocketAddr,
    source: Ipv4Addr,
    key: &Keypair,
) -> Result<StreamMuxerBox, String> {
    let err = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let socket = TcpSocket::new_v4().map_err(|e| err("socket", &e))?;
    socket.set_nodelay(true).map_err(|e| err("nodelay", &e))?;
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .map_err(|e| err("bind", &e))?;
    let tcp = socket
        .connect(target)
        .await
        .map_err(|e| err("connect", &e))?;
    let io = libp2p::tcp::tokio::TcpStream(tcp);
    let (proto, io) = dialer_select_proto(io, ["/noise"], Version::V1)
        .await
        .map_err(|e| err("multistream /noise", &e))?;
    let noise = noise::Config::new(key).map_err(|e| err("noise key", &e))?;
    let (_, io) = noise
        .upgrade_outbound(io, proto)
        .await
        .map_err(|e| err("noise", &e))?;
    let (proto, io) = dialer_select_proto(io, ["/yamux/1.0.0"], Version::V1)
        .await
        .map_err(|e| err("multistream /yamux", &e))?;
    let muxer = yamux::Config::default()
        .upgrade_outbound(io, proto)
        .await
        .map_err(|e| err("yamux", &e))?;
    Ok(StreamMuxerBox::new(muxer))
}

/// Drives `muxer` until the connection ends, handing each inbound stream to `answer`.
pub async fn drive<F>(
    mut muxer: StreamMuxerBox,
    answer: impl Fn(libp2p::core::muxing::SubstreamBox) -> F,
) where
    F: std::future::Future<Output = ()>,
{
    let mut streams = FuturesUnordered::new();
    std::future::poll_fn(|cx| {
        use std::task::Poll;
        loop {
            match muxer.poll_inbound_unpin(cx) {
                Poll::Ready(Ok(s)) => streams.push(answer(s)),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        loop {
            match muxer.poll_unpin(cx) {
                Poll::Ready(Ok(_)) => continue,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        while let Poll::Ready(Some(())) = streams.poll_next_unpin(cx) {}
        Poll::Pending
    })
    .await
}
