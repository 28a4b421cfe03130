//! Connection limits enforced by the gate before the handshake.

use std::time::Duration;

use crate::common::{config, eventually, sample, scrape};
use wharf::App;

/// The relay listens on TCP and QUIC at 127.0.0.1 and allows two inbound connections per IP.
/// Three nodes on 127.0.0.1 dial it over TCP: the third is refused. A node whose QUIC socket is
/// bound to 127.0.0.2 (QUIC dials from its listen socket) still gets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit_refuses_the_connection_past_it_and_accepts_other_ips() {
    let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut cfg = config(dirs[0].path());
    cfg.p2p.limits.max_per_ip = 2;
    cfg.p2p
        .listen
        .push("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap());
    let relay = App::start(cfg).await.unwrap();
    let joins = relay.join_addrs();
    let tcp = joins
        .iter()
        .find(|a| a.to_string().contains("/tcp/"))
        .unwrap()
        .clone();
    let quic = joins
        .iter()
        .find(|a| a.to_string().contains("/quic-v1"))
        .unwrap()
        .clone();

    let mut nodes = Vec::new();
    for dir in &dirs[1..4] {
        nodes.push(App::start(config(dir.path())).await.unwrap());
    }
    assert_eq!(
        nodes[0].p2p.dial(tcp.clone()).await.unwrap(),
        relay.peer_id()
    );
    assert_eq!(
        nodes[1].p2p.dial(tcp.clone()).await.unwrap(),
        relay.peer_id()
    );
    let third = nodes[2].p2p.dial(tcp.clone()).await;
    assert!(
        third.is_err(),
        "third connection from 127.0.0.1 was accepted: {third:?}"
    );

    let mut other_ip = config(dirs[4].path());
    other_ip.p2p.listen = vec!["/ip4/127.0.0.2/udp/0/quic-v1".parse().unwrap()];
    let other = App::start(other_ip).await.unwrap();
    assert_eq!(other.p2p.dial(quic).await.unwrap(), relay.peer_id());

    eventually(
        Duration::from_secs(5),
        "refusal counted in metrics",
        || async {
            let page = scrape(&relay).await;
            sample(
                &page,
                r#"wharf_connections_refused_total{reason="limit_per_ip"}"#,
            ) == Some(1.0)
        },
    )
    .await;
    let peers = relay.p2p.peers().await.unwrap();
    assert_eq!(peers.len(), 3, "two from 127.0.0.1 and one from 127.0.0.2");
    assert!(!peers.iter().any(|p| p.peer_id == nodes[2].peer_id()));
    for app in nodes.into_iter().chain([other, relay]) {
        app.shutdown().await;
    }
}
