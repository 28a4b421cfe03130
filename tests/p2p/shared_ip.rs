//! Shared addresses: many honest peers behind one IP (a NAT, a cloud egress) join the block
//! topic and are not banned: a transport-level score (gossipsub's IP colocation) never reaches
//! the ban score.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use libp2p::gossipsub;
use libp2p::Multiaddr;
use prometheus_client::registry::Registry;
use wharf::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
use wharf::chain::ChainAdapter;
use wharf::config::GossipConfig;
use wharf::p2p::gossip;
use wharf::App;

use crate::common::{config, eventually};
use crate::swarms::{run, swarm, Running};

const SEED: u64 = 11;

/// A peer on the relay's block topic; with `forged`, it publishes that announcement once.
fn gossip_peer(network: &str, target: &Multiaddr, forged: Option<Bytes>) -> Running {
    let net = network.to_string();
    let s = swarm(|key| {
        gossip::behaviour(
            key,
            &net,
            &GossipConfig::default(),
            &mut Registry::default(),
        )
    });
    let topic = gossip::topic(network);
    let sent = Arc::new(AtomicBool::new(forged.is_none()));
    run(
        s,
        target.clone(),
        move |s: &mut libp2p::Swarm<gossipsub::Behaviour>| {
            if sent.load(Ordering::Relaxed) {
                return;
            }
            let data = forged.clone().expect("only unsent with a message").to_vec();
            if s.behaviour_mut().publish(topic.clone(), data).is_ok() {
                sent.store(true, Ordering::Relaxed);
            }
        },
    )
}

/// 30 honest peers and one that sends a forged announcement all connect from 127.0.0.1. The
/// forger's gossipsub penalty reaching the relay's scores proves the score feed ran with all of
/// them connected; by then no honest peer may have a gossip penalty or a ban. (Before, the
/// colocation penalty, -5 x (31 - 10)^2, banned all 31 on the first feed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_peers_behind_one_ip_on_the_gossip_topic_are_not_banned() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.feeder.gateway_public_key = Some(hex::encode(keypair_from_seed(SEED).public().to_bytes()));
    let l = &mut cfg.p2p.limits;
    (l.max_per_ip, l.max_per_subnet) = (64, 64);
    (l.max_pending_per_ip, l.max_pending_per_subnet) = (64, 64);
    let network = cfg.node.network.clone();
    let relay = App::start(cfg).await.unwrap();
    let target = relay.join_addrs()[0].clone();

    let mut honest = Vec::new();
    for _ in 0..30 {
        honest.push(gossip_peer(&network, &target, None));
    }
    for peer in &mut honest {
        assert!(
            peer.dialed.take().unwrap().await.unwrap(),
            "honest peer connects"
        );
    }
    let minter = DevnetMinter::new(
        keypair_from_seed(SEED),
        MintParams {
            seed: SEED,
            txs_per_block: 1,
            tx_size: 32,
        },
    );
    let mut header = minter.mint(None, 1_000_000).header;
    header.signature = Bytes::from(vec![0u8; 64]);
    let forged = Bytes::from(minter.adapter().encode_header(&header));
    let forger = gossip_peer(&network, &target, Some(forged));

    eventually(
        Duration::from_secs(40),
        "the forger's gossip penalty reaches the scores",
        || async {
            relay
                .control
                .score(&forger.peer)
                .is_some_and(|s| s.history.iter().any(|e| e.event == "gossip"))
        },
    )
    .await;
    let gate = relay.control.gatekeeper();
    for peer in &honest {
        let score = relay.control.score(&peer.peer);
        let penalised = score
            .iter()
            .flat_map(|s| &s.history)
            .find(|e| e.event == "gossip");
        assert!(
            penalised.is_none(),
            "honest peer {} penalised: {penalised:?}",
            peer.peer
        );
        assert!(
            !gate.is_peer_banned(&peer.peer),
            "honest peer {} banned",
            peer.peer
        );
    }
    drop((honest, forger));
    relay.shutdown().await;
}
