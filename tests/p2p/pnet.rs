//! Private networks: only nodes holding the same pre-shared key can connect.

use std::time::Duration;

use crate::common::{config, config_with_peers, eventually, peer_addr, sample, scrape};
use wharf::config::Secret;
use wharf::p2p::psk;
use wharf::App;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_key_joins_wrong_key_cannot_connect() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let key_file = dirs[0].path().join("swarm.key");
    std::fs::write(&key_file, psk::generate()).unwrap();
    let key_hex = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();

    let mut relay_cfg = config(dirs[0].path());
    relay_cfg
        .p2p
        .listen
        .push("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap());
    relay_cfg.p2p.shared_key = Some(Secret::new(key_file.to_str().unwrap()));
    let relay = App::start(relay_cfg).await.unwrap();
    assert!(
        relay
            .listen_addrs
            .iter()
            .all(|a| !a.to_string().contains("quic")),
        "QUIC must be off with a pre-shared key: {:?}",
        relay.listen_addrs
    );

    let mut good_cfg = config_with_peers(dirs[1].path(), &[peer_addr(&relay)]);
    good_cfg.p2p.shared_key = Some(Secret::new(key_hex));
    let good = App::start(good_cfg).await.unwrap();
    eventually(
        Duration::from_secs(15),
        "node with the right key in the relay's table",
        || async {
            relay
                .p2p
                .routing_table()
                .await
                .unwrap()
                .contains(&good.peer_id())
        },
    )
    .await;

    let mut bad_cfg = config(dirs[2].path());
    bad_cfg.p2p.shared_key = Some(Secret::new(hex::encode([7u8; 32])));
    let bad = App::start(bad_cfg).await.unwrap();
    let res = bad.p2p.dial(relay.join_addrs()[0].clone()).await;
    assert!(res.is_err(), "a wrong key connected: {res:?}");
    eventually(
        Duration::from_secs(5),
        "relay counts the pnet failure",
        || async {
            sample(
                &scrape(&relay).await,
                r#"wharf_connections_refused_total{reason="pnet"}"#,
            )
            .is_some_and(|v| v >= 1.0)
        },
    )
    .await;
    let peers = relay.p2p.peers().await.unwrap();
    assert!(!peers.iter().any(|p| p.peer_id == bad.peer_id()));
    for app in [good, bad, relay] {
        app.shutdown().await;
    }
}
