//! The admin API's accept loop: hyper's HTTP/1 server with a timer, so a client that does not
//! finish its request headers within `header_read_timeout` is disconnected (`axum::serve` has
//! no timer: half-sent requests stayed open for ever), and at most `max_connections` open
//! connections (more wait in the listen backlog until one closes).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

/// How the API listener treats connections (from `[api]`).
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A client must send its complete request headers within this time.
    pub header_read_timeout: Duration,
    /// Open connections at most; further ones queue in the listen backlog.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `cancel` fires, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let conns = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            _ = cancel.cancelled() => break,
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let conn = connection(stream, peer, router.clone(), limits, cancel.clone());
                conns.spawn(with_permit(permit, conn));
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning
                tracing::warn!(error = %e, "API accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    conns.close();
    conns.wait().await;
}

async fn with_permit(permit: OwnedSemaphorePermit, conn: impl std::future::Future<Output = ()>) {
    conn.await;
    drop(permit);
}

/// Serves one connection; on cancellation, finishes the request in flight and closes.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServeLimits,
    cancel: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let res = tokio::select! {
        res = conn.as_mut() => res,
        _ = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = res {
        tracing::debug!(%peer, error = %e, "API connection ended with an error");
    }
}
