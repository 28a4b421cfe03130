//! A Sybil on the real relay: fresh peer ids from one address, each sending malformed sync
//! requests over real libp2p connections. The penalties must carry the address the gate saw,
//! and greylisting must turn repeated peer bans into one IP ban. Run against both stores.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::{Swarm, SwarmEvent};
use tokio::time::Instant;
use wharf::chain::Component;
use wharf::control::{BanFilter, BanKind, BanTarget};
use wharf::App;

use super::common::{eventually, Backend, Env};

const ATTACKERS: usize = 50;
const LIMIT: Duration = Duration::from_secs(20);

fn attacker() -> Swarm<libp2p_stream::Behaviour> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("tcp transport")
        .with_behaviour(|_| libp2p_stream::Behaviour::new())
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// Connects to `relay` under a fresh peer id; `None` if the relay refuses the connection.
async fn connect(relay: &App) -> Option<Swarm<libp2p_stream::Behaviour>> {
    let mut swarm = attacker();
    swarm.dial(relay.join_addrs()[0].clone()).expect("dial");
    let target = relay.peer_id();
    let outcome = tokio::time::timeout(LIMIT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == target => {
                    return true
                }
                SwarmEvent::OutgoingConnectionError { .. } => return false,
                _ => {}
            }
        }
    });
    outcome.await.expect("dial settles").then_some(swarm)
}

/// Sends malformed requests from `swarm` until the relay bans its peer id.
async fn misbehave(relay: &App, swarm: Swarm<libp2p_stream::Behaviour>) {
    let me = *swarm.local_peer_id();
    let mut control = swarm.behaviour().new_control();
    let mut swarm = swarm;
    let driver = tokio::spawn(async move {
        loop {
            swarm.select_next_some().await;
        }
    });
    let protocol = wharf::sync::protocol_id("devnet", Component::Headers);
    let deadline = Instant::now() + LIMIT;
    while !relay.control.gatekeeper().is_peer_banned(&me) {
        assert!(Instant::now() < deadline, "attacker {me} never banned");
        let Ok(mut stream) = control.open_stream(relay.peer_id(), protocol.clone()).await else {
            continue;
        };
        // a 5-byte message that is not a protobuf: Malformed on the relay
        let _ = stream.write_all(&[5, 0xff, 0xff, 0xff, 0xff, 0xff]).await;
        let _ = stream.close().await;
        let _ = stream.read_to_end(&mut Vec::new()).await;
    }
    driver.abort();
}

pub async fn fifty_fresh_peer_ids_from_one_ip_end_in_one_ip_ban(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let mut cfg = crate::node::config(env.dir.path());
    cfg.control = env.config();
    let key = wharf::chain::devnet::keypair_from_seed(7)
        .public()
        .to_bytes();
    cfg.feeder.gateway_public_key = Some(hex::encode(key)); // serves the sync protocols
    let relay = App::start(cfg).await.expect("relay starts");
    let (mut banned, mut refused) = (0, 0);
    for _ in 0..ATTACKERS {
        match connect(&relay).await {
            Some(swarm) => {
                misbehave(&relay, swarm).await;
                banned += 1;
            }
            None => refused += 1,
        }
    }
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    assert!(relay.control.gatekeeper().is_ip_banned(localhost));
    assert_eq!((banned, refused), (3, ATTACKERS - 3), "ip_ban_after = 3");
    let c = &relay.control;
    let of_kind = |kind| BanFilter {
        kind: Some(kind),
        ..BanFilter::default()
    };
    let ips = eventually(Duration::from_secs(10), || async {
        let ips = c.list_bans(&of_kind(BanKind::Ip)).await.ok()?;
        let peers = c.list_bans(&of_kind(BanKind::Peer)).await.ok()?;
        (peers.total == 3 && ips.total == 1).then_some(ips)
    })
    .await;
    assert_eq!(ips.bans[0].target, BanTarget::Ip(localhost));
    assert_eq!(ips.bans[0].created_by, "auto");
    relay.shutdown().await;
    env.cleanup().await;
}
