//! Helpers shared by the integration tests: configs bound to 127.0.0.1 port 0, and waiting on a
//! condition with a deadline (never a fixed sleep).
#![allow(dead_code)]

mod wait;

#[allow(unused_imports)]
pub use wait::{wait_for, wait_until_true};

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use wharf::config::PeerAddr;
use wharf::{App, Config};

/// A relay config on 127.0.0.1 with ephemeral ports, its state in `dir`.
pub fn config(dir: &Path) -> Config {
    let mut c = Config::default();
    c.node.data_dir = dir.to_path_buf();
    c.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    c.metrics.listen = "127.0.0.1:0".parse().unwrap();
    c.api.listen = "127.0.0.1:0".parse().unwrap();
    c.p2p.redial_initial_backoff = Duration::from_millis(100);
    c.p2p.redial_max_backoff = Duration::from_secs(1);
    c
}

/// The same, with `peers` as static peers.
pub fn config_with_peers(dir: &Path, peers: &[PeerAddr]) -> Config {
    let mut c = config(dir);
    c.p2p.peers = peers.to_vec();
    c
}

/// The first join address of `app` as a static-peer entry.
pub fn peer_addr(app: &App) -> PeerAddr {
    app.join_addrs()[0].to_string().parse().unwrap()
}

/// The TCP port of `app`'s first listen address.
pub fn tcp_port(app: &App) -> u16 {
    app.listen_addrs[0]
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .expect("a TCP listen address")
}

/// Polls `cond` until it holds; panics naming `what` after `limit`. Kept for the tests that
/// call it: new tests use [`wait_for`].
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(limit, what, || {
        let fut = cond();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// Reads the relay's `/metrics` page.
pub async fn scrape(app: &App) -> String {
    let url = format!("http://{}/metrics", app.metrics_addr);
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// The value of one sample line (`name{labels}`) on a metrics page, if present.
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
