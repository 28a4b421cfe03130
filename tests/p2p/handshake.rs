//! Handshake slots: idle half-open connections from a few addresses cannot lock honest peers out,
//! and concurrent handshakes cannot push the established count past its limit.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use libp2p::swarm::dummy;
use libp2p::Multiaddr;

use crate::common::{config, eventually, scrape};
use crate::swarms::{idle_tcp, run, socket_addr, swarm};
use wharf::App;

/// Sum of `wharf_connections_refused_total` over every reason.
fn refused(page: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with("wharf_connections_refused_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn tcp_addr(app: &App) -> Multiaddr {
    app.join_addrs()
        .into_iter()
        .find(|a| a.to_string().contains("/tcp/"))
        .unwrap()
}

/// With the default limits, 160 TCP connections that never speak — 20 from each of eight
/// addresses in 127.0.1.0/24 (the eight IPv4 addresses) and 16 from each of eight other
/// /24s — are held open while an honest node dials from 127.0.0.1: it must be connected within
/// 2 s. (Before per-IP/subnet pending limits, the first 128 took every pending slot for the 20 s
/// handshake timeout.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_handshakes_from_a_few_addresses_do_not_lock_out_an_honest_peer() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let relay = App::start(config(dirs[0].path())).await.unwrap();
    let target = socket_addr(&tcp_addr(&relay));
    let mut sources = Vec::new();
    for host in 2..=9u8 {
        sources.extend([Ipv4Addr::new(127, 0, 1, host); 20]);
    }
    for net in 1..=8u8 {
        sources.extend([Ipv4Addr::new(127, net, 0, 1); 16]);
    }
    let mut held = Vec::new();
    for from in &sources {
        held.push(idle_tcp(*from, target).await.unwrap());
    }
    // At least the 32 connections past the 128 pending slots are refused: the gate has seen all.
    eventually(
        Duration::from_secs(10),
        "the gate saw every idle connection",
        || async { refused(&scrape(&relay).await) >= 32.0 },
    )
    .await;

    let honest = App::start(config(dirs[1].path())).await.unwrap();
    let started = Instant::now();
    let dial =
        tokio::time::timeout(Duration::from_secs(2), honest.p2p.dial(tcp_addr(&relay))).await;
    assert!(
        matches!(dial, Ok(Ok(peer)) if peer == relay.peer_id()),
        "honest peer not connected within 2 s ({:?}): {dial:?}",
        started.elapsed()
    );
    drop(held);
    honest.shutdown().await;
    relay.shutdown().await;
}

/// 48 peers finish their handshakes at about the same time against a relay that allows 4
/// established inbound connections (and 64 pending): at most 4 are established. (Checking the
/// limit only when a handshake starts let every handshake that started below it complete.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handshakes_never_exceed_max_established_inbound() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    let l = &mut cfg.p2p.limits;
    l.max_established_inbound = 4;
    (
        l.max_pending_inbound,
        l.max_pending_per_ip,
        l.max_pending_per_subnet,
    ) = (64, 64, 64);
    (l.max_per_ip, l.max_per_subnet) = (64, 64);
    let relay = App::start(cfg).await.unwrap();
    let target = tcp_addr(&relay);
    let swarms: Vec<_> = (0..48).map(|_| swarm(|_| dummy::Behaviour)).collect();
    let mut running: Vec<_> = swarms
        .into_iter()
        .map(|s| run(s, target.clone(), |_| {}))
        .collect();
    for r in &mut running {
        let _ = r.dialed.take().unwrap().await;
    }
    let inbound = || async {
        let peers = relay.p2p.peers().await.unwrap();
        peers.iter().filter(|p| p.direction == "inbound").count() as f64
    };
    eventually(
        Duration::from_secs(10),
        "the relay decided on every dial",
        || async { inbound().await + refused(&scrape(&relay).await) >= 48.0 },
    )
    .await;
    let established = inbound().await;
    assert!(
        established <= 4.0,
        "{established} established inbound connections with a limit of 4"
    );
    drop(running);
    relay.shutdown().await;
}
