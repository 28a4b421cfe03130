//! A Starknet node's view of a relay on a Starknet network, as Pathfinder decides it: the
//! relay's identify answer lists the chain's Kademlia id and a listen address, and the relay
//! answers Kademlia queries under that id, with the chain id written as text (Pathfinder,
//! Madara, Apollo) or as hex (older Pathfinder).

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, kad, noise, tcp, yamux, PeerId, StreamProtocol, SwarmBuilder};
use wharf::App;

use crate::common::{config, peer_addr};

#[derive(NetworkBehaviour)]
struct StarknetNode {
    identify: identify::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
}

fn node(kad_id: &'static str) -> libp2p::Swarm<StarknetNode> {
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
            let cfg = kad::Config::new(StreamProtocol::new(kad_id));
            StarknetNode {
                identify: identify::Behaviour::new(identify::Config::new(
                    "/ipfs/id/1.0.0".into(),
                    key.public(),
                )),
                kad: kad::Behaviour::with_config(id, kad::store::MemoryStore::new(id), cfg),
            }
        })
        .unwrap()
        .build()
}

/// Identifies the relay and asks it for the peers closest to a random id under `kad_id`.
async fn discover(relay: &App, kad_id: &'static str) {
    let mut swarm = node(kad_id);
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let target = peer_addr(relay);
    swarm.dial(target.addr.clone()).unwrap();
    let mut seen = Vec::new();
    let identified =
        async {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(StarknetNodeEvent::Identify(
                        identify::Event::Received { peer_id, info, .. },
                    )) if peer_id == target.peer_id => {
                        return info;
                    }
                    other => seen.push(format!("{other:?}")),
                }
            }
        };
    let info = tokio::time::timeout(Duration::from_secs(30), identified).await;
    let info = info.unwrap_or_else(|_| panic!("{kad_id}: no identify answer; events: {seen:#?}"));
    let listed = |id: &str| info.protocols.iter().any(|p| p.as_ref() == id);
    assert!(
        listed(kad_id),
        "identify lists {kad_id}: {:?}",
        info.protocols
    );
    assert!(
        listed("/starknet/headers/0.1.0-rc.0"),
        "and the sync protocols"
    );
    assert!(!info.listen_addrs.is_empty(), "and a listen address");
    for addr in &info.listen_addrs {
        swarm
            .behaviour_mut()
            .kad
            .add_address(&target.peer_id, addr.clone());
    }
    swarm
        .behaviour_mut()
        .kad
        .get_closest_peers(PeerId::random());
    let answered = async {
        loop {
            if let SwarmEvent::Behaviour(StarknetNodeEvent::Kad(
                kad::Event::OutboundQueryProgressed {
                    result: kad::QueryResult::GetClosestPeers(result),
                    ..
                },
            )) = swarm.select_next_some().await
            {
                return result;
            }
        }
    };
    let result = tokio::time::timeout(Duration::from_secs(30), answered)
        .await
        .expect("query ends");
    let peers: Vec<PeerId> = result
        .expect("the relay answered")
        .peers
        .into_iter()
        .map(|p| p.peer_id)
        .collect();
    assert!(
        peers.contains(&target.peer_id),
        "{kad_id}: the relay answered FIND_NODE: {peers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starknet_nodes_find_the_relay_under_both_spellings_of_the_chain_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.node.network = "sepolia".into();
    cfg.feeder.enabled = false;
    let relay = App::start(cfg).await.unwrap();
    discover(&relay, "/starknet/kad/SN_SEPOLIA/1.0.0").await;
    discover(&relay, "/starknet/kad/0x534e5f5345504f4c4941/1.0.0").await;
    relay.shutdown().await;
}
