//! Restarts: the PeerID and the peer book survive; static peers are re-dialed when they return.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::{config, config_with_peers, eventually, peer_addr};
use wharf::p2p::identity::KEY_FILE;
use wharf::App;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_peer_id_and_key_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let first = App::start(config(dir.path())).await.unwrap();
    let id = first.peer_id();
    first.shutdown().await;
    let mode = std::fs::metadata(dir.path().join(KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    let second = App::start(config(dir.path())).await.unwrap();
    assert_eq!(second.peer_id(), id);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_peer_that_goes_down_and_comes_back_is_reconnected() {
    let (relay_dir, node_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let relay = App::start(config(relay_dir.path())).await.unwrap();
    let relay_addr = peer_addr(&relay);
    let node = App::start(config_with_peers(
        node_dir.path(),
        std::slice::from_ref(&relay_addr),
    ))
    .await
    .unwrap();
    let connected = || async { node.p2p.peer(relay_addr.peer_id).await.unwrap().is_some() };
    eventually(
        Duration::from_secs(10),
        "node connects to its static peer",
        connected,
    )
    .await;

    relay.shutdown().await;
    eventually(
        Duration::from_secs(10),
        "node notices the relay is gone",
        || async { node.p2p.peer(relay_addr.peer_id).await.unwrap().is_none() },
    )
    .await;

    // Same data dir (same key) and same port.
    let mut cfg = config(relay_dir.path());
    cfg.p2p.listen = vec![strip_p2p(&relay_addr.addr)];
    let relay = App::start(cfg).await.unwrap();
    assert_eq!(relay.peer_id(), relay_addr.peer_id);
    eventually(
        Duration::from_secs(15),
        "node re-dials the returning relay",
        connected,
    )
    .await;
    node.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_book_lets_a_restarted_node_rejoin_without_static_peers() {
    let (relay_dir, node_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let relay = App::start(config(relay_dir.path())).await.unwrap();
    let relay_addr = peer_addr(&relay);
    let node = App::start(config_with_peers(
        node_dir.path(),
        std::slice::from_ref(&relay_addr),
    ))
    .await
    .unwrap();
    eventually(
        Duration::from_secs(10),
        "relay in the node's routing table",
        || async {
            node.p2p
                .routing_table()
                .await
                .unwrap()
                .contains(&relay_addr.peer_id)
        },
    )
    .await;
    node.shutdown().await;

    let node = App::start(config(node_dir.path())).await.unwrap();
    assert!(node
        .p2p
        .routing_table()
        .await
        .unwrap()
        .contains(&relay_addr.peer_id));
    eventually(
        Duration::from_secs(15),
        "node reconnects from its peer book",
        || async {
            let _ = node.p2p.closest_peers(libp2p::PeerId::random()).await;
            node.p2p.peer(relay_addr.peer_id).await.unwrap().is_some()
        },
    )
    .await;
    node.shutdown().await;
    relay.shutdown().await;
}

fn strip_p2p(addr: &libp2p::Multiaddr) -> libp2p::Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
        .collect()
}
