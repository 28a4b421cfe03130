//! DHT bootstrap: nodes that know only the relay find each other; foreign DHTs stay out.

use std::collections::HashSet;
use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, noise, tcp, yamux, PeerId, StreamProtocol, SwarmBuilder};

use crate::common::{config, config_with_peers, eventually, peer_addr};
use wharf::App;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_nodes_find_each_other_through_one_relay() {
    let dirs: Vec<_> = (0..7).map(|_| tempfile::tempdir().unwrap()).collect();
    let relay = App::start(config(dirs[0].path())).await.unwrap();
    let relay_addr = peer_addr(&relay);
    let mut nodes = Vec::new();
    for dir in &dirs[1..] {
        let cfg = config_with_peers(dir.path(), std::slice::from_ref(&relay_addr));
        nodes.push(App::start(cfg).await.unwrap());
    }
    let all: HashSet<PeerId> = nodes
        .iter()
        .map(|n| n.peer_id())
        .chain([relay.peer_id()])
        .collect();
    for node in &nodes {
        let me = node.peer_id();
        let want: HashSet<PeerId> = all.iter().copied().filter(|p| *p != me).collect();
        eventually(
            Duration::from_secs(30),
            "closest-peers query finds every other node",
            || async {
                let found: HashSet<PeerId> = node
                    .p2p
                    .closest_peers(PeerId::random())
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                want.is_subset(&found)
            },
        )
        .await;
    }
    let table: HashSet<PeerId> = relay
        .p2p
        .routing_table()
        .await
        .unwrap()
        .into_iter()
        .collect();
    for node in &nodes {
        assert!(
            table.contains(&node.peer_id()),
            "relay routing table lacks {}",
            node.peer_id()
        );
    }
    for n in nodes {
        n.shutdown().await;
    }
    relay.shutdown().await;
}

/// A bare libp2p node speaking the public IPFS DHT protocol.
#[derive(NetworkBehaviour)]
struct IpfsNode {
    identify: identify::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
}

fn ipfs_swarm() -> libp2p::Swarm<IpfsNode> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| {
            let id = key.public().to_peer_id();
            let cfg = kad::Config::new(StreamProtocol::new("/ipfs/kad/1.0.0"));
            let mut kad = kad::Behaviour::with_config(id, kad::store::MemoryStore::new(id), cfg);
            kad.set_mode(Some(kad::Mode::Server));
            IpfsNode {
                identify: identify::Behaviour::new(identify::Config::new(
                    "/ipfs/0.1.0".into(),
                    key.public(),
                )),
                kad,
            }
        })
        .unwrap()
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_networks_and_ipfs_never_enter_the_routing_table() {
    use futures::StreamExt;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let relay = App::start(config(dirs[0].path())).await.unwrap();
    let relay_addr = peer_addr(&relay);
    let mut other_cfg = config_with_peers(dirs[1].path(), std::slice::from_ref(&relay_addr));
    other_cfg.node.network = "othernet".into();
    let other = App::start(other_cfg).await.unwrap();
    let mut ipfs = ipfs_swarm();
    ipfs.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    ipfs.dial(relay_addr.addr.clone()).unwrap();
    let ipfs_id = *ipfs.local_peer_id();
    tokio::spawn(async move {
        loop {
            ipfs.select_next_some().await;
        }
    });
    // A same-network node joins last: once it is in the table, the earlier ones were judged.
    let same = App::start(config_with_peers(
        dirs[2].path(),
        std::slice::from_ref(&relay_addr),
    ))
    .await
    .unwrap();
    eventually(
        Duration::from_secs(20),
        "relay identified all three peers",
        || async {
            let peers = relay.p2p.peers().await.unwrap();
            [other.peer_id(), ipfs_id, same.peer_id()]
                .iter()
                .all(|id| peers.iter().any(|p| p.peer_id == *id && p.agent.is_some()))
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "same-network node enters the table",
        || async {
            relay
                .p2p
                .routing_table()
                .await
                .unwrap()
                .contains(&same.peer_id())
        },
    )
    .await;
    let table = relay.p2p.routing_table().await.unwrap();
    assert!(
        !table.contains(&other.peer_id()),
        "a node of another network entered the table"
    );
    assert!(
        !table.contains(&ipfs_id),
        "an IPFS DHT node entered the table"
    );
    assert!(!other
        .p2p
        .routing_table()
        .await
        .unwrap()
        .contains(&relay.peer_id()));
    for app in [other, same, relay] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_peer_given_as_dns4_multiaddr_is_dialed() {
    let (relay_dir, node_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let relay = App::start(config(relay_dir.path())).await.unwrap();
    let port = crate::common::tcp_port(&relay);
    let dns: wharf::config::PeerAddr =
        format!("/dns4/localhost/tcp/{port}/p2p/{}", relay.peer_id())
            .parse()
            .unwrap();
    let node = App::start(config_with_peers(node_dir.path(), &[dns]))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "node connects through the dns4 address",
        || async { node.p2p.peer(relay.peer_id()).await.unwrap().is_some() },
    )
    .await;
    node.shutdown().await;
    relay.shutdown().await;
}
